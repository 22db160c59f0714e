"""Deployers review SQL before running it (seed 000's ``alembic upgrade head --sql``):
``manage.py sqlmigrate`` prints every migration's SQL, ours (custom operations included) and the
third-party apps', for a database that has no tables yet, and runs none of it. Reversals print
theirs for the database they would reverse (Django's own operations that drop a constraint look
its name up there)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import psycopg
import pytest
from django.db import connection
from psycopg import sql

# On the test database: without a test that uses it, pytest-django would not create it, and the
# reversals would be printed for the development database (empty: the run failed alone).
pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parent.parent
PROJECT_APPS = {"devskyy", "commerce", "agents_audit", "knowledge"}

# In a fresh process (as a deployer runs it), for every migration on disk, in the direction given:
# sqlmigrate's output.
SQLMIGRATE_ALL = """
import io, json, sys, traceback
import django
django.setup()
from django.core.management import call_command
from django.db import connection
from django.db.migrations.loader import MigrationLoader

connection.settings_dict["NAME"] = sys.argv[1]
direction = sys.argv[2:]
report = {}
for app_label, name in sorted(MigrationLoader(connection).disk_migrations):
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("sqlmigrate", app_label, name, *direction, stdout=out, stderr=err)
        outcome = {"sql": out.getvalue(), "note": err.getvalue()}
    except BaseException:
        outcome = {"error": traceback.format_exc()}
    report[f"{app_label} {name}"] = outcome
print(json.dumps(report))
"""


def _admin_connection() -> psycopg.Connection[Any]:
    params = connection.get_connection_params()
    params["dbname"] = "postgres"
    params.pop("cursor_factory", None)
    params.pop("context", None)
    admin = psycopg.connect(**params, autocommit=True)
    # A DROP DATABASE waits for a checkpoint of the whole server: longer than the statement
    # timeout of the test settings when the server is busy.
    admin.execute("SET statement_timeout = 0")
    return admin


@pytest.fixture(scope="module")
def empty_database(django_db_blocker) -> Any:
    with django_db_blocker.unblock():
        name = f"{connection.settings_dict['NAME']}_sqlmigrate"
    with _admin_connection() as admin:
        admin.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(name)))
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield name
    finally:
        with _admin_connection() as admin:
            admin.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


def sqlmigrate_all(database: str, *direction: str) -> dict[str, dict[str, str]]:
    result = subprocess.run(  # noqa: S603
        [sys.executable, "-c", SQLMIGRATE_ALL, database, *direction],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.splitlines()[-1])


@pytest.fixture(scope="module")
def report(empty_database) -> dict[str, dict[str, str]]:
    return sqlmigrate_all(empty_database)


@pytest.fixture(scope="module")
def backwards_report(django_db_setup: None) -> dict[str, dict[str, str]]:
    return sqlmigrate_all(connection.settings_dict["NAME"], "--backwards")


def statements(output: str) -> list[str]:
    return [line for line in output.splitlines() if line and not line.startswith("--")]


@pytest.mark.parametrize("direction", ["forwards", "backwards"])
def test_every_migration_of_every_app_prints_its_sql(request, direction):
    report = request.getfixturevalue("report" if direction == "forwards" else "backwards_report")
    errors = {key: outcome["error"] for key, outcome in report.items() if "error" in outcome}
    assert errors == {}
    for key, outcome in report.items():
        # a migration that changes only Django's state says so instead of printing SQL
        assert statements(outcome["sql"]) or outcome["note"].strip() == "No operations found.", key


def test_the_report_covers_project_and_third_party_apps(report):
    apps = {key.split()[0] for key in report}
    assert apps >= PROJECT_APPS | {"auth", "admin", "sessions", "axes", "rest_framework_api_key"}


def test_every_forward_migration_of_ours_prints_sql(report):
    ours = {k: v for k, v in report.items() if k.split()[0] in PROJECT_APPS}
    assert ours
    for key, outcome in ours.items():
        assert statements(outcome["sql"]), key


@pytest.mark.parametrize(
    ("migration", "statement"),
    [
        (
            "commerce 0002_order_user_on_delete_set_null",
            'ALTER TABLE "orders" ADD CONSTRAINT "orders_user_id_7e2523fb_fk_users_id" '
            'FOREIGN KEY ("user_id") REFERENCES "users" ("id") ON DELETE SET NULL '
            "DEFERRABLE INITIALLY DEFERRED;",
        ),
        (
            "commerce 0001_initial",
            'CREATE TRIGGER "update_users_updated_at" BEFORE UPDATE ON "users" '
            "FOR EACH ROW EXECUTE FUNCTION update_updated_at_column();",
        ),
    ],
)
def test_the_custom_operations_print_the_sql_they_run(report, migration, statement):
    assert statement in report[migration]["sql"]


def test_the_set_null_reversal_restores_djangos_plain_constraint(backwards_report):
    assert (
        'ALTER TABLE "orders" ADD CONSTRAINT "orders_user_id_7e2523fb_fk_users_id" '
        'FOREIGN KEY ("user_id") REFERENCES "users" ("id") DEFERRABLE INITIALLY DEFERRED;'
    ) in backwards_report["commerce 0002_order_user_on_delete_set_null"]["sql"]


def test_printing_sql_runs_none_of_it(report, empty_database):
    params = connection.get_connection_params()
    params["dbname"] = empty_database
    params.pop("cursor_factory", None)
    params.pop("context", None)
    with psycopg.connect(**params) as empty:
        tables = empty.execute(
            "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'"
        ).fetchone()
    assert tables == (0,)
