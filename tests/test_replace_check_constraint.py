"""ReplaceCheckConstraint (devskyy.migration_operations): a CHECK constraint is replaced without
a table scan under an exclusive lock, and ends validated."""

import pytest
from django.core.management import call_command
from django.db import connection

pytestmark = pytest.mark.django_db


def _validated(name: str) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT convalidated FROM pg_constraint WHERE conname = %s", [name])
        return cursor.fetchone()[0]


def test_the_replaced_event_constraints_end_validated():
    assert _validated("events_event_type_valid")
    assert _validated("events_subject_type_valid")


def test_the_swap_adds_the_constraint_not_valid_and_validates_it_afterwards(capsys):
    call_command("sqlmigrate", "agents_audit", "0010")
    sql = capsys.readouterr().out
    statements = [
        line
        for line in sql.splitlines()
        if "events_event_type_valid" in line and not line.startswith("--")
    ]

    assert statements[0].startswith('ALTER TABLE "events" DROP CONSTRAINT')
    assert statements[1].endswith("NOT VALID;")
    assert "job_enqueued" in statements[1]
    assert statements[2] == 'ALTER TABLE "events" VALIDATE CONSTRAINT "events_event_type_valid";'
    assert "BEGIN;" not in sql  # atomic = False: the validation is not inside the swap's lock
