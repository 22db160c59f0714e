"""Waiting claims: a worker's claim that finds nothing to do may wait (long-poll) until a job of
its types becomes runnable, woken by PostgreSQL ``LISTEN/NOTIFY`` instead of polling.

A trigger on ``jobs`` (migration 0012) sends ``NOTIFY devskyy_jobs, '<job_type>'`` when a job
becomes runnable; PostgreSQL delivers it when that transaction commits. Each server process has
one listener: a daemon thread with its own database connection (autocommit, outside Django's
connection handling), started by the first waiting claim of the process (so in a server's
worker process, never in its parent). It sets the ``threading.Event`` of every waiting claim
whose job types include the notified one; the claim then tries again.

A waiting claim is registered *before* its first attempt, so a job committed between an empty
attempt and the wait still wakes it (no lost wake-up). It also wakes at the ``run_after`` of the
earliest scheduled job of its types (those are not notified when they fall due), and, while the
listener is down (database restarting), every ``JOB_CLAIM_POLL_SECONDS`` at most.

The serving model: a waiting claim holds one thread of its server process and that thread's idle
database connection, nothing else. Under the production server (``devskyy/serve.py``: granian,
32 blocking threads per process) that leaves the other threads to every other request; a
process never lets more than ``JOB_CLAIM_MAX_WAITERS`` claims wait at once, so waiting claims
cannot take all its threads (a claim over the limit answers at once, as if ``wait_seconds``
were 0).
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable, Generator, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import psycopg
from django.conf import settings
from django.db import connections
from django.utils import timezone

logger = logging.getLogger(__name__)

CHANNEL = "devskyy_jobs"
# psycopg.connect() arguments from Django's connection parameters; the rest (cursor factory,
# adapters context, prepared-statement threshold) are Django's own.
_CONNECT_KEYS = frozenset(
    {
        "dbname",
        "user",
        "password",
        "host",
        "port",
        "options",
        "connect_timeout",
        "sslmode",
        "sslrootcert",
        "sslcert",
        "sslkey",
        "passfile",
        "service",
        "target_session_attrs",
        "client_encoding",
    }
)


LISTENER_APPLICATION_NAME = "devskyy-job-wakeups"


def _listener_connect_params() -> dict[str, Any]:
    params = connections["default"].get_connection_params()
    return {
        **{key: value for key, value in params.items() if key in _CONNECT_KEYS},
        "application_name": LISTENER_APPLICATION_NAME,
        # A connection dropped without a reset (a NAT, a firewall) is noticed, not waited on.
        "keepalives": 1,
        "keepalives_idle": 30,
        "keepalives_interval": 10,
        "keepalives_count": 3,
    }


@dataclass(eq=False)
class Waiter:
    job_types: frozenset[str]
    event: threading.Event = field(default_factory=threading.Event)


class JobWakeups:
    """The per-process registry of waiting claims and its listener thread."""

    def __init__(self, connect_params: Callable[[], dict[str, Any]] = _listener_connect_params):
        self._connect_params = connect_params
        self._lock = threading.Lock()
        self._waiters: set[Waiter] = set()
        self._thread: threading.Thread | None = None
        self._pid: int | None = None
        self._stopping = threading.Event()
        self.listening = threading.Event()

    # -- the waiting side ------------------------------------------------------------------

    @property
    def waiting(self) -> int:
        """How many claims of this process are waiting now."""
        with self._lock:
            return len(self._waiters)

    @contextmanager
    def waiter(self, job_types: Iterable[str], *, limit: int) -> Iterator[Waiter | None]:
        """Register a waiting claim for ``job_types``; ``None`` when ``limit`` claims of this
        process already wait (the caller then does not wait)."""
        waiter: Waiter | None = Waiter(frozenset(job_types))
        with self._lock:
            if len(self._waiters) >= limit:
                waiter = None
            elif waiter is not None:
                self._waiters.add(waiter)
        if waiter is not None:
            self._ensure_listener()
        try:
            yield waiter
        finally:
            if waiter is not None:
                with self._lock:
                    self._waiters.discard(waiter)

    def notify_local(self, job_type: str) -> None:
        """Wake this process's claims waiting for ``job_type``."""
        with self._lock:
            for waiter in self._waiters:
                if job_type in waiter.job_types:
                    waiter.event.set()

    # -- the listener ----------------------------------------------------------------------

    def _ensure_listener(self) -> None:
        with self._lock:
            alive = self._thread is not None and self._thread.is_alive()
            if alive and self._pid == os.getpid():
                return
            # First waiting claim of this process (or the first after a fork: threads do not
            # survive fork()).
            self.listening.clear()
            self._stopping.clear()
            self._pid = os.getpid()
            self._thread = threading.Thread(
                target=self._listen_forever, name="devskyy-job-wakeups", daemon=True
            )
            self._thread.start()

    def stop(self) -> None:
        """Stop this process's listener and close its connection (tests; a server process's
        listener lives as long as the process). Its wake-up is an empty notification, which no
        claim waits for."""
        thread = self._thread
        if thread is None or not thread.is_alive():
            return
        self._stopping.set()
        try:
            with psycopg.connect(**self._connect_params(), autocommit=True) as conn:
                conn.execute("SELECT pg_notify(%s, '')", [CHANNEL])
        finally:
            thread.join(timeout=10)
            self.listening.clear()

    def _listen_forever(self) -> None:
        pause = 0.5
        while not self._stopping.is_set():
            try:
                with psycopg.connect(**self._connect_params(), autocommit=True) as conn:
                    conn.execute(f"LISTEN {CHANNEL}")
                    pause = 0.5
                    # Claims registered before LISTEN took effect may have missed a wake-up.
                    self._wake_all()
                    self.listening.set()
                    while not self._stopping.is_set():
                        for notification in conn.notifies(timeout=5.0):
                            if self._stopping.is_set():
                                return
                            self.notify_local(notification.payload)
                        # Five quiet seconds: is the connection still there? (An error goes to
                        # the reconnect below; waiting claims poll meanwhile.)
                        conn.execute("SELECT 1")
            except Exception:  # the database went away: keep waiting claims polling, retry
                self.listening.clear()
                self._wake_all()
                logger.warning("job wake-ups: listener lost its connection", exc_info=True)
                self._stopping.wait(pause)
                pause = min(pause * 2, 10.0)

    def _wake_all(self) -> None:
        with self._lock:
            for waiter in self._waiters:
                waiter.event.set()


wakeups = JobWakeups()


def _release_pooled_connection() -> None:
    """With a connection pool (``DB_POOL_SIZE``), give this thread's connection back while the
    claim waits: twenty waiting claims must not hold twenty pooled connections that other
    requests wait for. (Without a pool each thread keeps its own connection, idle, bounded by
    the server's threads.) Between attempts there is no open transaction."""
    connection = connections["default"]
    if getattr(connection, "pool", None) is not None and not connection.in_atomic_block:
        connection.close()


def claim_attempts(
    *,
    job_types: Iterable[str],
    wait_seconds: float,
    next_due: Callable[[], datetime | None],
    registry: JobWakeups | None = None,
) -> Generator[None]:
    """Yield once per claim attempt until ``wait_seconds`` have passed; the caller stops
    iterating when an attempt claimed a job. Between attempts, wait for a wake-up: a
    notification for one of ``job_types``, the earliest scheduled job falling due
    (``next_due()``), the listener being down (poll), or the end of the wait.

    With ``wait_seconds`` 0, or when this process has ``JOB_CLAIM_MAX_WAITERS`` claims waiting
    already, there is exactly one attempt.
    """
    registry = registry or wakeups
    if wait_seconds <= 0:
        yield
        return
    deadline = time.monotonic() + wait_seconds
    with registry.waiter(job_types, limit=settings.JOB_CLAIM_MAX_WAITERS) as waiter:
        if waiter is None:
            yield
            return
        while True:
            waiter.event.clear()  # a wake-up from here on is for the attempt below or later
            yield
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return
            timeout = remaining
            due = next_due()
            if due is not None:
                # At least 50 ms: a job that is due but was not claimed (a concurrent claim
                # holds its lock) must not make this loop spin.
                timeout = min(timeout, max((due - timezone.now()).total_seconds(), 0.05))
            if not registry.listening.is_set():
                timeout = min(timeout, settings.JOB_CLAIM_POLL_SECONDS)
            _release_pooled_connection()
            waiter.event.wait(timeout)
