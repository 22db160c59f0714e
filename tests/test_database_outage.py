"""A database that cannot answer, or not in time: every API request is a 503 with a code and
Retry-After, the admin a plain 503 page, one warning line in the log and no traceback."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import OperationalError, connection, connections, transaction
from django.db.models.signals import pre_migrate
from django.test import Client, RequestFactory
from rest_framework.test import APIClient

from devskyy import middleware as outage
from devskyy.api.exceptions import exception_handler
from tests.commerce.factories import TEST_PASSWORD, AgentUserFactory, OperatorFactory
from tests.conftest import key_client

ROOT = Path(__file__).resolve().parent.parent
UNAVAILABLE = {"code": "database_unavailable", "detail": outage.DETAILS["database_unavailable"]}
TIMEOUT = {"code": "database_timeout", "detail": outage.DETAILS["database_timeout"]}


@pytest.fixture(autouse=True)
def fresh_outage_log() -> Iterator[None]:
    outage.outage_log.reset()
    yield
    outage.outage_log.reset()


@contextmanager
def unreachable_database() -> Iterator[None]:
    """This thread's connection pointed at a closed port until the block ends."""
    original = dict(connection.settings_dict)
    connection.close()
    connection.settings_dict.update(HOST="127.0.0.1", PORT="1")
    try:
        yield
    finally:
        connection.close()
        connection.settings_dict.clear()
        connection.settings_dict.update(original)


@contextmanager
def table_locked(table: str) -> Iterator[None]:
    """Another session holds an ACCESS EXCLUSIVE lock on ``table`` until the block ends."""
    other = connections.create_connection("default")
    other.set_autocommit(False)
    try:
        with other.cursor() as cursor:
            cursor.execute(f"LOCK TABLE {table} IN ACCESS EXCLUSIVE MODE")
        yield
    finally:
        other.rollback()
        other.close()


@contextmanager
def statement_timeout(value: str) -> Iterator[None]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT set_config('statement_timeout', %s, false)", [value])
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("RESET statement_timeout")


def no_traceback_and_one_warning(caplog: pytest.LogCaptureFixture) -> None:
    assert [r for r in caplog.records if r.exc_info] == []
    assert [r for r in caplog.records if r.levelno >= logging.ERROR] == []
    warnings = [r for r in caplog.records if r.name == "devskyy.middleware"]
    assert len(warnings) == 1, [r.getMessage() for r in warnings]
    assert warnings[0].levelno == logging.WARNING


@pytest.mark.django_db(transaction=True)
def test_with_the_database_unreachable_every_api_request_is_a_503_to_retry(caplog):
    # given an agent with a key and an operator with a session, made while the database answered
    agent_api = key_client(AgentUserFactory.create())
    session_api = APIClient()
    session_api.force_login(OperatorFactory.create())
    caplog.set_level(logging.INFO)

    with unreachable_database():
        responses = [
            agent_api.get("/api/v1/products/"),
            agent_api.get("/api/v1/tool-executions/?correlation_id=c"),
            agent_api.post(
                "/api/v1/orders/",
                {"items": [{"sku": "A", "quantity": 1}]},
                format="json",
                HTTP_IDEMPOTENCY_KEY="k-1",
            ),
            session_api.get("/api/v1/orders/"),
            agent_api.get("/api/v1/users/me/"),
        ]

    for response in responses:
        assert response.status_code == 503, response.content
        assert response.json() == UNAVAILABLE
        assert response["Retry-After"] == "5"
    no_traceback_and_one_warning(caplog)


@pytest.mark.django_db(transaction=True)
def test_with_the_database_unreachable_the_admin_shows_a_plain_503_page(caplog):
    operator = OperatorFactory.create(username="ops")
    signed_in = Client()
    signed_in.force_login(operator)
    caplog.set_level(logging.INFO)

    with unreachable_database():
        pages = [
            signed_in.get("/admin/"),
            signed_in.get("/admin/commerce/order/"),
            Client().post("/admin/login/", {"username": "ops", "password": TEST_PASSWORD}),
        ]
        health = Client().get("/healthz")

    for page in pages:
        assert page.status_code == 503
        assert page["Content-Type"].startswith("text/html")
        assert page["Retry-After"] == "5"
        assert b"Service unavailable" in page.content
        assert b"The database is unavailable" in page.content
    assert health.status_code == 503
    no_traceback_and_one_warning(caplog)
    # and once the database answers again, so does the admin
    assert signed_in.get("/admin/").status_code == 200


@pytest.mark.django_db(transaction=True)
def test_the_outage_warning_counts_the_requests_it_stands_for(caplog):
    agent_api = key_client(AgentUserFactory.create())
    caplog.set_level(logging.WARNING, logger="devskyy.middleware")
    with unreachable_database():
        for _ in range(3):
            assert agent_api.get("/api/v1/products/").status_code == 503
        outage.outage_log._last -= outage.LOG_INTERVAL_SECONDS  # the interval has passed
        assert agent_api.get("/api/v1/products/").status_code == 503

    messages = [r.getMessage() for r in caplog.records if r.name == "devskyy.middleware"]
    assert len(messages) == 2
    assert messages[0].startswith("database_unavailable (OperationalError: ")
    assert "on /api/v1/products/; 0 more request(s)" in messages[0]
    assert "; 2 more request(s) failed so since the last report" in messages[1]


@pytest.mark.django_db(transaction=True)
def test_a_statement_over_the_statement_timeout_is_a_503_database_timeout(caplog):
    # given a key lookup that waits for a lock another session holds
    agent_api = key_client(AgentUserFactory.create())
    operator_page = Client()
    operator_page.force_login(OperatorFactory.create())
    caplog.set_level(logging.INFO)

    with statement_timeout("200ms"), table_locked("user_api_keys"):
        api = agent_api.get("/api/v1/products/")
    with statement_timeout("200ms"), table_locked("orders"):
        page = operator_page.get("/admin/commerce/order/")

    assert api.status_code == 503
    assert api.json() == TIMEOUT
    assert api["Retry-After"] == "5"
    assert page.status_code == 503
    assert b"did not answer in time" in page.content
    assert [r for r in caplog.records if r.exc_info] == []


def _raised_by(sql: str) -> pytest.ExceptionInfo[OperationalError]:
    """The error PostgreSQL raises for ``sql``, run in a savepoint that is then rolled back."""
    with transaction.atomic(), connection.cursor() as cursor:
        with pytest.raises(OperationalError) as raised:
            cursor.execute(sql)
        transaction.set_rollback(True)
    return raised


@pytest.mark.django_db
def test_the_api_handler_maps_a_real_query_cancel_to_database_timeout():
    raised = _raised_by("SET LOCAL statement_timeout = '10ms'; SELECT pg_sleep(1)")

    response = exception_handler(raised.value, {"request": RequestFactory().get("/api/v1/x/")})

    assert response is not None
    assert response.status_code == 503
    assert response.data == TIMEOUT
    assert response["Retry-After"] == "5"


@pytest.mark.django_db
def test_other_operational_errors_stay_bugs_not_outages():
    # a deadlock is a bug of lock ordering: a 500 with its traceback, not a 503 to retry
    raised = _raised_by("DO $$ BEGIN RAISE EXCEPTION USING ERRCODE = 'deadlock_detected'; END $$")

    assert outage.database_error_code(raised.value) is None
    assert exception_handler(raised.value, {"request": RequestFactory().get("/api/")}) is None


@pytest.mark.django_db
def test_an_outage_raised_in_a_middleware_reaches_the_500_handler_as_a_503():
    # Django answers an exception raised inside a middleware with the 500 handler, before any
    # outer middleware sees it: the handler must still answer 503.
    from devskyy.urls import handler500

    refused = _connection_refused()
    for path, content_type in [("/api/v1/orders/", "application/json"), ("/admin/", "text/html")]:
        try:
            raise refused
        except OperationalError:
            response = handler500(RequestFactory().get(path))
        assert response.status_code == 503
        assert response["Content-Type"].startswith(content_type)
        assert response["Retry-After"] == "5"


def _connection_refused() -> OperationalError:
    """The error Django raises for a server that refuses the connection, for real."""
    default = connections["default"]
    broken = type(default)({**default.settings_dict, "HOST": "127.0.0.1", "PORT": "1"})
    try:
        broken.ensure_connection()
    except OperationalError as exc:
        return exc
    finally:
        broken.close()
    raise AssertionError("a closed port accepted a connection")


# --- timeouts --------------------------------------------------------------------------------


def _env_without_db_settings() -> dict[str, str]:
    return {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DJANGO_", "DB_")) or k == "DJANGO_SETTINGS_MODULE"
    }


def test_by_default_every_session_has_a_30_second_statement_timeout():
    result = subprocess.run(
        [
            sys.executable,
            "manage.py",
            "shell",
            "-c",
            "from django.db import connection\n"
            "with connection.cursor() as c:\n"
            "    c.execute('SHOW statement_timeout'); print(c.fetchone()[0])",
        ],
        cwd=ROOT,
        env={**_env_without_db_settings(), "DJANGO_SETTINGS_MODULE": "devskyy.settings.test"},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split()[-1] == "30s"


@pytest.mark.django_db
def test_migrate_lifts_the_statement_timeout_and_sets_a_lock_timeout_while_it_runs(settings):
    settings.DB_MIGRATE_LOCK_TIMEOUT_MS = 7000
    seen: list[tuple[str, str]] = []

    def record(**kwargs: object) -> None:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT current_setting('statement_timeout'), current_setting('lock_timeout')"
            )
            seen.append(cursor.fetchone())

    with connection.cursor() as cursor:
        cursor.execute("SHOW statement_timeout")
        (before,) = cursor.fetchone()
    pre_migrate.connect(record, dispatch_uid="test-migrate-timeouts")
    try:
        call_command("migrate", verbosity=0)
    finally:
        pre_migrate.disconnect(dispatch_uid="test-migrate-timeouts")

    assert seen
    assert set(seen) == {("0", "7s")}
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT current_setting('statement_timeout'), current_setting('lock_timeout')"
        )
        assert cursor.fetchone() == (before, "0")
