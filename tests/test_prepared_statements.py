"""The hot statements run as server-side prepared statements (devskyy/db.py): PostgreSQL plans a
checkpoint's get and put once per connection, not on every call; and not at all with
``DB_PREPARED_STATEMENTS`` off (a pooler that does not keep them)."""

from __future__ import annotations

import pytest
from django.db import connection

from devskyy.db import PREPARE_THRESHOLD
from tests.agents_audit.checkpoint_api import get_tuple, put

# Each test on a connection of its own (closed first: nothing prepared by an earlier test), so
# outside a test transaction.
pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def new_connection() -> None:
    connection.close()


def prepared(fragment: str) -> int:
    """Statements prepared on this connection whose text holds ``fragment``."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_prepared_statements WHERE statement LIKE %s",
            [f"%{fragment}%"],
        )
        return int(cursor.fetchone()[0])


TUPLE = "'pending_writes', coalesce"
PUT = "INSERT INTO checkpoints"


def test_a_checkpoints_get_and_put_are_planned_once_per_connection(agent_client):
    assert (prepared(TUPLE), prepared(PUT)) == (0, 0)
    for n in range(1, PREPARE_THRESHOLD + 3):
        assert put(agent_client, "t-prepared", n).status_code == 201
        assert get_tuple(agent_client, "t-prepared").status_code == 200

    # one statement each, however often it ran
    assert (prepared(TUPLE), prepared(PUT)) == (1, 1)


def test_nothing_is_prepared_with_prepared_statements_off(agent_client, settings):
    settings.DB_PREPARED_STATEMENTS = False
    for n in range(1, PREPARE_THRESHOLD + 3):
        assert put(agent_client, "t-plain", n).status_code == 201
        assert get_tuple(agent_client, "t-plain").json()["checkpoint_id"]

    assert (prepared(TUPLE), prepared(PUT)) == (0, 0)
