"""``run_checked_by_use`` (devskyy/db.py): a request's first hot statement stands in for the
health check's ``SELECT 1``, and a connection that died while idle is replaced and the statement
run again, once, as the health check would have arranged."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from django.db import ProgrammingError, connection, connections, transaction

from devskyy.db import run_checked_by_use

pytestmark = pytest.mark.django_db(transaction=True)

# Django's health-check state (undeclared in django-stubs).
state: Any = connection


@pytest.fixture
def health_checks(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[int]]:
    """A kept connection at the start of a request (health checks on, not yet checked), and the
    health checks Django runs on it."""
    connection.ensure_connection()
    enabled = state.health_check_enabled
    state.health_check_enabled = True
    state.health_check_done = False
    checks: list[int] = []
    is_usable = connection.is_usable

    def counting() -> bool:
        checks.append(1)
        return is_usable()

    monkeypatch.setattr(connection, "is_usable", counting)
    yield checks
    state.health_check_enabled = enabled
    raw = connection.connection
    if raw is not None and (raw.closed or raw.broken):
        connection.close()  # for the database flush after the test


def backend_pid() -> int:
    return int(connection.connection.info.backend_pid)


def terminate(pid: int) -> None:
    """End a backend from another connection, and wait until it is gone."""
    other = connections.create_connection("default")
    try:
        with other.cursor() as cursor:
            cursor.execute("SELECT pg_terminate_backend(%s)", [pid])
            for _ in range(100):
                cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE pid = %s", [pid])
                if cursor.fetchone()[0] == 0:
                    return
                time.sleep(0.05)
        raise AssertionError(f"backend {pid} still there")
    finally:
        other.close()


def select(value: int, runs: list[int]) -> Any:
    def run(cursor: Any) -> Any:
        runs.append(value)
        cursor.execute("SELECT %s::int", [value])
        return cursor.fetchone()[0]

    return run


def test_a_live_connection_runs_the_statement_once_without_a_health_check(health_checks):
    runs: list[int] = []
    assert run_checked_by_use(select(7, runs)) == 7
    assert runs == [7]
    assert health_checks == []
    assert state.health_check_done  # the request's later statements do not check again


def test_a_connection_that_died_while_idle_is_replaced_and_the_statement_runs_again(
    health_checks,
):
    dead = backend_pid()
    terminate(dead)
    runs: list[int] = []
    assert run_checked_by_use(select(7, runs)) == 7
    assert runs == [7, 7]
    assert backend_pid() != dead
    assert health_checks == []


def test_an_error_of_the_statement_itself_is_raised_and_not_run_again(health_checks):
    runs: list[int] = []

    def wrong(cursor: Any) -> Any:
        runs.append(1)
        cursor.execute("SELECT no_such_column FROM checkpoint_threads")

    pid = backend_pid()
    with pytest.raises(ProgrammingError):
        run_checked_by_use(wrong)
    assert runs == [1]
    assert backend_pid() == pid  # the connection is kept


def test_a_connection_lost_again_on_the_second_run_is_an_error(health_checks, monkeypatch):
    terminate(backend_pid())
    runs: list[int] = []

    def run(cursor: Any) -> Any:
        runs.append(1)
        if len(runs) == 2:
            terminate(backend_pid())
        cursor.execute("SELECT 1")
        return cursor.fetchone()

    with pytest.raises(Exception, match=r"terminat|closed|connection"):
        run_checked_by_use(run)
    assert runs == [1, 1]


def test_inside_a_transaction_the_health_check_runs_as_usual(health_checks):
    runs: list[int] = []
    with transaction.atomic():
        assert run_checked_by_use(select(3, runs)) == 3
    assert runs == [3]
    assert health_checks == [1]


def test_with_the_request_already_checked_nothing_is_checked_again(health_checks):
    state.health_check_done = True
    runs: list[int] = []
    assert run_checked_by_use(select(5, runs)) == 5
    assert health_checks == []
