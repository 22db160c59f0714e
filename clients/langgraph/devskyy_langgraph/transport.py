"""HTTP to devskyy: one reused connection pool per saver, timeouts, retries.

A saver owns one sync and one async connection pool (``devskyy_langgraph.curl.CurlTransport``,
libcurl behind httpx's transport interface, and ``httpx.AsyncHTTPTransport``), each opened on
first use and kept (connection reuse), closed by ``close()`` / ``aclose()``.

Retried, up to ``max_retries`` times: 429 and 503 answers, and the connection failing (refused,
reset, timed out, closed before answering). Every call the saver makes is idempotent (puts are
upserts, writes are keyed by task and index, deletes and prunes converge), so a retry after a
lost answer is safe. A retry waits at least the server's ``Retry-After`` and at least an
exponential backoff with jitter (``0.5 s · 2^attempt``, capped at ``max_wait``); when the server
asks for more than ``max_wait``, the error is raised at once rather than waited out.
"""

from __future__ import annotations

import asyncio
import email.utils
import random
import threading
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from typing import Any

import httpx

from devskyy_langgraph.curl import CurlTransport
from devskyy_langgraph.errors import api_error
from devskyy_langgraph.wire import ApiCall

try:
    __version__ = version("devskyy-langgraph")
except PackageNotFoundError:  # imported from a source tree
    __version__ = "0"

RETRY_STATUSES = frozenset({httpx.codes.TOO_MANY_REQUESTS, httpx.codes.SERVICE_UNAVAILABLE})
# The connection failed before an answer came: connect/read/write/pool timeouts, refused or reset
# connections, and a kept-alive connection the server closed meanwhile.
RETRY_ERRORS = (httpx.TimeoutException, httpx.NetworkError, httpx.RemoteProtocolError)
BACKOFF_BASE = 0.5  # seconds before the first retry, doubled for each next one


def retry_after(response: httpx.Response) -> float | None:
    """The ``Retry-After`` header in seconds (delta-seconds or an HTTP date), if any."""
    value = response.headers.get("Retry-After", "").strip()
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


class RetryPolicy:
    def __init__(self, *, max_retries: int, max_wait: float) -> None:
        if max_retries < 0:
            raise ValueError("max_retries must be 0 or more")
        self.max_retries = max_retries
        self.max_wait = max_wait

    def backoff(self, attempt: int) -> float:
        """Capped exponential backoff, jittered over its upper half (never an instant retry)."""
        ceiling = min(self.max_wait, BACKOFF_BASE * 2**attempt)
        return ceiling / 2 + random.uniform(0, ceiling / 2)  # noqa: S311 (jitter, not a secret)

    def wait(self, attempt: int, response: httpx.Response | None) -> float | None:
        """Seconds to wait before retrying attempt number ``attempt`` (0 = the first request),
        or None to stop: the answer is final, the retries are spent, or the server asks for more
        than ``max_wait``. ``response`` is None when the connection failed."""
        if attempt >= self.max_retries:
            return None
        if response is None:
            return self.backoff(attempt)
        if response.status_code not in RETRY_STATUSES:
            return None
        asked = retry_after(response)
        if asked is not None and asked > self.max_wait:
            return None
        return max(asked or 0.0, self.backoff(attempt))


def outcome(call: ApiCall, response: httpx.Response) -> Any:
    """The JSON body of a success (None when there is none, or for an allowed 404), or the
    error raised."""
    if response.status_code == httpx.codes.NOT_FOUND and call.missing_ok:
        return None
    if response.is_error:
        raise api_error(response, retry_after=retry_after(response))
    if response.status_code == httpx.codes.NO_CONTENT or not response.content:
        return None
    return response.json()


class Transport:
    """Sends ``ApiCall``s, sync or async, through the saver's two lazily opened connection pools.

    Requests go straight to the transports (``CurlTransport`` for the sync calls,
    ``httpx.AsyncHTTPTransport`` for the async ones: connection pool, keep-alive, timeouts),
    without ``httpx.Client`` on top: this client needs none of its
    redirects, cookies, auth flows or hooks, and it parsed each request's URL three times and
    each answer's cookies, most of the client's CPU per call. The URL of a call is built and
    parsed once, then kept (a thread's calls repeat theirs)."""

    def __init__(
        self,
        *,
        base_url: str,
        api_key: str,
        timeout: float,
        policy: RetryPolicy,
        transport: httpx.BaseTransport | None = None,
        async_transport: httpx.AsyncBaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
        async_sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.base_url = base_url
        self.policy = policy
        root = httpx.URL(base_url)
        if root.is_relative_url:
            raise ValueError(f"base_url must be an absolute URL: {base_url!r}")
        self._root = str(root).rstrip("/") + "/"
        self._headers = httpx.Headers(
            {
                "Authorization": f"Api-Key {api_key}",
                "Accept": "application/json",
                "User-Agent": f"devskyy-langgraph/{__version__}",
            }
        )
        self._extensions = {"timeout": httpx.Timeout(timeout).as_dict()}
        self._urls: dict[tuple[str, tuple[tuple[str, str], ...]], httpx.URL] = {}
        self._given = transport
        self._async_given = async_transport
        self._sleep = sleep
        self._async_sleep = async_sleep
        self._lock = threading.Lock()
        self._sync: httpx.BaseTransport | None = None
        self._async: httpx.AsyncBaseTransport | None = None
        self._async_loop: asyncio.AbstractEventLoop | None = None

    # --- the connection pools -----------------------------------------------------------------

    def transport(self) -> httpx.BaseTransport:
        with self._lock:
            if self._sync is None:
                self._sync = self._given or CurlTransport()
            return self._sync

    def async_transport(self) -> httpx.AsyncBaseTransport:
        loop = asyncio.get_running_loop()
        with self._lock:
            # An async pool's connections belong to the event loop that opened them; a saver
            # used again under a new loop (a second asyncio.run) gets a new pool. The old one
            # cannot be closed from here: its loop is gone, and so are its connections.
            if self._async is None or self._async_loop is not loop:
                self._async = self._async_given or httpx.AsyncHTTPTransport()
                self._async_loop = loop
            return self._async

    def close(self) -> None:
        with self._lock:
            pool, self._sync = self._sync, None
        if pool is not None:
            pool.close()

    async def aclose(self) -> None:
        self.close()
        loop = asyncio.get_running_loop()
        with self._lock:
            pool, owner = self._async, self._async_loop
            self._async, self._async_loop = None, None
        if pool is not None and owner is loop:  # another loop's pool is dropped, see above
            await pool.aclose()

    # --- requests -----------------------------------------------------------------------------

    URLS_KEPT = 4096  # URLs remembered per saver (then forgotten all at once)

    def url(self, call: ApiCall) -> httpx.URL:
        """The call's URL under ``base_url``, with its query (encoded as httpx encodes it)."""
        key = (call.path, tuple(call.params.items()))
        found = self._urls.get(key)
        if found is None:
            query = str(httpx.QueryParams(call.params)) if call.params else ""
            found = httpx.URL(self._root + call.path.lstrip("/") + (f"?{query}" if query else ""))
            if len(self._urls) >= self.URLS_KEPT:
                self._urls.clear()
            self._urls[key] = found
        return found

    def request(self, call: ApiCall) -> httpx.Request:
        return httpx.Request(
            call.method,
            self.url(call),
            headers=self._headers,
            json=call.json,
            extensions=self._extensions,
        )

    def send(self, call: ApiCall) -> Any:
        attempt = 0
        while True:
            request = self.request(call)
            try:
                response = self.transport().handle_request(request)
                try:
                    response.read()
                finally:
                    response.close()
            except RETRY_ERRORS:
                if (wait := self.policy.wait(attempt, None)) is None:
                    raise
            else:
                response.request = request
                if (wait := self.policy.wait(attempt, response)) is None:
                    return outcome(call, response)
            self._sleep(wait)
            attempt += 1

    async def asend(self, call: ApiCall) -> Any:
        attempt = 0
        while True:
            request = self.request(call)
            try:
                response = await self.async_transport().handle_async_request(request)
                try:
                    await response.aread()
                finally:
                    await response.aclose()
            except RETRY_ERRORS:
                if (wait := self.policy.wait(attempt, None)) is None:
                    raise
            else:
                response.request = request
                if (wait := self.policy.wait(attempt, response)) is None:
                    return outcome(call, response)
            await self._async_sleep(wait)
            attempt += 1
