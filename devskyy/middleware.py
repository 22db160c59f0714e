"""A database that cannot answer is a 503 with ``Retry-After``, never a 500 with a traceback.

Three kinds of database error are not bugs of the request but a state of the database, and
each becomes a 503 that tells the client to come back (``DB_UNAVAILABLE_RETRY_AFTER`` seconds):

- ``database_unavailable``: no connection (refused, dropped, the server shutting down or out of
  connections, the pool exhausted, bad credentials);
- ``database_timeout``: a statement cancelled by ``statement_timeout`` (``DB_STATEMENT_TIMEOUT_MS``)
  or a lock not obtained within ``lock_timeout``.

Anything else (a deadlock, a syntax error, a violated constraint) is left alone: it is a bug or is
handled where it is expected. An outage is logged as one warning line, at most once per
``LOG_INTERVAL_SECONDS`` with the count of the requests it failed in between, instead of an error
with a traceback per request.

Where the error surfaces decides who answers:

- in a DRF view, including API-key and session authentication: the API's exception handler
  (``devskyy.api.exceptions``), in the one error format;
- in any other view (the admin, whose session and user are loaded there): this middleware's
  ``process_exception``;
- in a middleware (a session saved on the way out): ``devskyy.urls.handler500``. Django turns
  such an exception into a response in the middleware that raised it, before any outer
  middleware sees it, so only the 500 handler can still choose the status.

The admin's page is a static template rendered without a request context: rendering it reads no
session and no user, so it cannot fail on the database again.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import TypeVar

from django.conf import settings
from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template.loader import render_to_string

logger = logging.getLogger(__name__)

UNAVAILABLE = "database_unavailable"
TIMEOUT = "database_timeout"

DETAILS = {
    UNAVAILABLE: "The database is unavailable; retry later.",
    TIMEOUT: "The database did not answer in time; retry later.",
}

# SQLSTATEs: query_canceled (statement_timeout, or a cancel by an operator), lock_not_available.
_TIMEOUT_STATES = frozenset({"57014", "55P03"})
# SQLSTATE classes: connection exception, invalid authorization (credentials at connect),
# insufficient resources (too many connections, disk full), operator intervention (shutdown,
# cannot connect now), system error (I/O).
_UNAVAILABLE_CLASSES = frozenset({"08", "28", "53", "57", "58"})

LOG_INTERVAL_SECONDS = 10.0


def database_error_code(exc: BaseException) -> str | None:
    """``database_unavailable`` or ``database_timeout`` for a database outage, else None."""
    if isinstance(exc, InterfaceError):  # e.g. "connection already closed"
        return UNAVAILABLE
    if not isinstance(exc, OperationalError):
        return None
    # Django re-raises the driver's error as its own, with the driver's as the cause.
    sqlstate = getattr(exc.__cause__, "sqlstate", None)
    if sqlstate in _TIMEOUT_STATES:
        return TIMEOUT
    if sqlstate is None or sqlstate[:2] in _UNAVAILABLE_CLASSES:
        # No SQLSTATE: the client library's own failure (connection refused or lost, connect
        # timeout, pool timeout).
        return UNAVAILABLE
    return None


class _OutageLog:
    """One warning line per interval, counting the failures it stands for."""

    def __init__(self, interval: float) -> None:
        self.interval = interval
        self._lock = threading.Lock()
        self._last = -interval
        self._suppressed = 0

    def warn(self, code: str, exc: BaseException, path: str) -> None:
        now = time.monotonic()
        with self._lock:
            if now - self._last < self.interval:
                self._suppressed += 1
                return
            suppressed, self._suppressed, self._last = self._suppressed, 0, now
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        logger.warning(
            "%s (%s: %s) on %s; %d more request(s) failed so since the last report",
            code,
            type(exc).__name__,
            first_line,
            path,
            suppressed,
        )

    def reset(self) -> None:
        with self._lock:
            self._last, self._suppressed = -self.interval, 0


outage_log = _OutageLog(LOG_INTERVAL_SECONDS)


def retry_after() -> str:
    return str(settings.DB_UNAVAILABLE_RETRY_AFTER)


def report(code: str, exc: BaseException, request: HttpRequest) -> None:
    outage_log.warn(code, exc, request.path)


_Response = TypeVar("_Response", bound=HttpResponse)


def mark_logged(response: _Response) -> _Response:
    """Keep Django from logging the 503 again as an error (the outage log said it once)."""
    response._has_been_logged = True  # type: ignore[attr-defined]
    return response


def database_unavailable_response(
    request: HttpRequest, code: str, exc: BaseException
) -> HttpResponse:
    """The 503: JSON in the one error format under /api/, a plain page elsewhere."""
    report(code, exc, request)
    response: HttpResponse
    if request.path.startswith("/api/"):
        response = JsonResponse({"code": code, "detail": DETAILS[code]}, status=503)
    else:
        response = HttpResponse(
            render_to_string("devskyy/database_unavailable.html", {"detail": DETAILS[code]}),
            status=503,
        )
    response["Retry-After"] = retry_after()
    return mark_logged(response)


class DatabaseUnavailableMiddleware:
    """First in ``MIDDLEWARE``: a view that hits a database outage answers 503 (see above)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        code = database_error_code(exception)
        if code is None:
            return None
        return database_unavailable_response(request, code, exception)
