"""Connections opened by threads Django does not manage (a library's thread pool) are closed once
their thread has ended (``devskyy.db.close_when_thread_ends``), not left to the garbage
collector with their PostgreSQL session open."""

from __future__ import annotations

import threading
import time

import pytest
from django.db import connection

from devskyy.db import close_connections_of_ended_threads, close_when_thread_ends

pytestmark = pytest.mark.django_db(transaction=True)


def sessions() -> set[int]:
    """The backend pids of the other sessions on the test database."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        return {pid for (pid,) in cursor.fetchall()}


def still_open(pids: set[int]) -> set[int]:
    """Which of these sessions are open, once those closed have had up to 5 s to go: a backend
    leaves pg_stat_activity shortly after its client closed the connection, not at once."""
    deadline = time.monotonic() + 5
    while (found := pids & sessions()) and time.monotonic() < deadline:
        time.sleep(0.02)
    return found


def backend_pid() -> int:
    """This thread's session (opening its connection)."""
    close_when_thread_ends()
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        (pid,) = cursor.fetchone()
    return int(pid)


def in_a_thread(release: threading.Event | None = None) -> tuple[threading.Thread, list[int]]:
    """A thread that opens a connection (its pid in the list), then waits for ``release``."""
    pids: list[int] = []
    opened = threading.Event()

    def run() -> None:
        pids.append(backend_pid())
        opened.set()
        if release is not None:
            release.wait(10)

    thread = threading.Thread(target=run)
    thread.start()
    assert opened.wait(10)
    return thread, pids


def test_the_connection_of_an_ended_thread_is_closed_by_the_next_call() -> None:
    before = sessions()
    ended, (ended_pid,) = in_a_thread()
    ended.join()
    assert ended_pid in sessions() - before  # the thread is gone, its session is not

    backend_pid()  # the next call, from any thread

    assert still_open({ended_pid}) == set()


def test_a_thread_that_is_still_running_keeps_its_connection() -> None:
    release = threading.Event()
    running, (running_pid,) = in_a_thread(release)
    ended, (ended_pid,) = in_a_thread()
    ended.join()

    closed = close_connections_of_ended_threads()

    assert closed >= 1
    assert still_open({ended_pid, running_pid}) == {running_pid}
    release.set()
    running.join()
    close_connections_of_ended_threads()
    assert still_open({running_pid}) == set()
