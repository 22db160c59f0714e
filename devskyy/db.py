"""Statements PostgreSQL plans once: server-side prepared statements for the hot paths.

Django's psycopg backend binds parameters on the client and turns psycopg's statement
preparation off (``prepare_threshold=None``), so PostgreSQL parses and plans every statement on
every call. For the few statements an agent sends many times a second (the job queue's claim
and complete, a checkpoint's put and get) planning costs as much as running them.

``prepared_cursor()`` is ``connection.cursor()`` with psycopg's own cursor, which binds on the
server: psycopg prepares a statement on a connection once it has run it ``PREPARE_THRESHOLD``
times there (keyed by its text and its parameters' types), and runs the prepared one after
that. Its errors are Django's and its statements are logged and counted like any other.
``prepared_connection()`` gives the raw connection, for code that drives psycopg itself
(``prepare=True``, pipeline mode).

``DB_PREPARED_STATEMENTS=0`` turns both off, for a pooler that does not keep prepared
statements across transactions (PgBouncer before 1.21 in transaction mode).

``run_checked_by_use()`` runs a request's first statement without the health check's round
trip (``CONN_HEALTH_CHECKS``: a ``SELECT 1`` before each request's first statement, which on the
checkpoint hot path is one of its two round trips): the statement itself finds a connection
that died while idle, which is then replaced and the statement run again, once.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

import psycopg
from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, InterfaceError, OperationalError, connection, connections
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.backends.utils import CursorWrapper

# Runs of a statement on a connection before psycopg prepares it (psycopg's own default).
PREPARE_THRESHOLD = 5

T = TypeVar("T")


def prepared_statements_enabled() -> bool:
    return bool(settings.DB_PREPARED_STATEMENTS)


def prepared_connection() -> Any:
    """The raw psycopg connection of this thread's Django connection (opened and health-checked
    as Django does for a cursor), with preparation turned on."""
    connection.close_if_health_check_failed()
    connection.ensure_connection()
    connection.validate_thread_sharing()
    raw = connection.connection
    if raw.prepare_threshold is None:
        raw.prepare_threshold = PREPARE_THRESHOLD
    return raw


@contextmanager
def prepared_cursor() -> Iterator[CursorWrapper]:
    """A Django cursor whose statements PostgreSQL prepares once they repeat (see above); a
    plain ``connection.cursor()`` when ``DB_PREPARED_STATEMENTS`` is off.

    Parameters are bound on the server, so each one has a type: a ``str`` is sent untyped and
    PostgreSQL infers it from where it stands. A parameter used in two places that infer
    different types (``varchar`` and ``text``) needs a cast."""
    if not prepared_statements_enabled():
        with connection.cursor() as cursor:
            yield cursor
        return
    raw = prepared_connection()
    inner = psycopg.Cursor(raw)
    # (django-stubs type the wrappers' argument as a wrapper: it is the DB-API cursor.)
    wrap = connection.make_debug_cursor if connection.queries_logged else connection.make_cursor
    wrapped = wrap(inner)  # type: ignore[arg-type]
    with wrapped:
        yield wrapped


@contextmanager
def pipeline() -> Iterator[Any]:
    """Statements run inside (on cursors of this connection) go to PostgreSQL together, in one
    round trip, in psycopg's pipeline mode: ``sync()`` on the yielded pipeline, or reading a
    result, waits for them. An error aborts the statements after it and is raised as Django's
    (``django.db.DatabaseError``), by ``sync()`` or at the block's end."""
    raw = prepared_connection()
    with connection.wrap_database_errors, raw.pipeline() as sent_together:
        yield sent_together


def _connection_lost() -> bool:
    """Whether this thread's connection is gone (closed, or broken by a failed exchange)."""
    raw = connection.connection
    return raw is None or bool(raw.closed) or bool(getattr(raw, "broken", False))


def run_checked_by_use(run: Callable[[CursorWrapper], T]) -> T:
    """``run(cursor)`` on a ``prepared_cursor()``, standing in for the request's health check.

    When Django would check the connection first (``CONN_HEALTH_CHECKS`` on, not yet checked in
    this request, a connection kept from an earlier one, no transaction open), it is not
    checked: ``run`` goes first, and if it fails because the connection is gone (the server
    restarted, or closed it while idle), the connection is replaced and ``run`` runs once more
    on the new one, as the health check would have arranged. Any other error is raised as is.
    For statements that may run twice: reads, and writes that are upserts (a statement whose
    answer was lost with its connection may have committed).

    Otherwise (checks off, already checked, inside a transaction, which a new connection could
    not continue) it is ``run`` on a ``prepared_cursor()``, health check as usual.
    """
    # (Django's health-check state, which django-stubs do not declare.)
    if (
        connection.connection is None
        or not connection.health_check_enabled  # type: ignore[attr-defined]
        or connection.health_check_done  # type: ignore[attr-defined]
        or connection.in_atomic_block
    ):
        with prepared_cursor() as cursor:
            return run(cursor)
    connection.health_check_done = True  # type: ignore[attr-defined]  # this statement checks it
    try:
        with prepared_cursor() as cursor:
            return run(cursor)
    except (OperationalError, InterfaceError):
        if not _connection_lost():
            raise
    connection.close()
    with prepared_cursor() as cursor:
        return run(cursor)


# --- connections of threads Django does not manage --------------------------------------------

_thread_connections: dict[threading.Thread, BaseDatabaseWrapper] = {}
_thread_connections_lock = threading.Lock()


def close_when_thread_ends() -> None:
    """Have this thread's connection closed once the thread has ended.

    Django closes a request's connection when the request ends. A thread that a library starts
    (LangGraph runs a graph's steps in a thread pool of its own for each run) opens a connection
    of its own on its first query, and nothing closes it: the thread ends, its connection object
    stays in a reference cycle, and its PostgreSQL session stays open until the garbage
    collector happens to free it. A worker that runs graphs in a loop runs out of connections.

    Code that such threads call calls this first: it notes the thread's connection, and closes
    those of the threads noted before that have ended since (their thread is gone, so nothing
    else uses them). A connection is therefore closed at the next call from any thread after
    its own thread ended, or by ``close_connections_of_ended_threads()``."""
    thread = threading.current_thread()
    with _thread_connections_lock:
        if thread not in _thread_connections:
            _thread_connections[thread] = connections[DEFAULT_DB_ALIAS]
    close_connections_of_ended_threads()


def close_connections_of_ended_threads() -> int:
    """Close the connections of the threads noted by ``close_when_thread_ends()`` that have
    ended; how many there were."""
    with _thread_connections_lock:
        ended = [thread for thread in _thread_connections if not thread.is_alive()]
        wrappers = [_thread_connections.pop(thread) for thread in ended]
    for wrapper in wrappers:
        wrapper.inc_thread_sharing()  # closed from another thread than the one that opened it
        try:
            wrapper.close()
        finally:
            wrapper.dec_thread_sharing()
    return len(wrappers)
