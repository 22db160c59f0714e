"""HTTP to devskyy: one reused connection pool per saver, timeouts, retries.

A saver owns one ``httpx.Client`` and one ``httpx.AsyncClient``, each created on first use and
kept (connection reuse), closed by ``close()`` / ``aclose()``.

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
    """Sends ``ApiCall``s, sync or async, through the saver's two lazily created clients."""

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
        self._options: dict[str, Any] = {
            "base_url": base_url,
            "timeout": httpx.Timeout(timeout),
            "headers": {
                "Authorization": f"Api-Key {api_key}",
                "Accept": "application/json",
                "User-Agent": f"devskyy-langgraph/{__version__}",
            },
        }
        self._transport = transport
        self._async_transport = async_transport
        self._sleep = sleep
        self._async_sleep = async_sleep
        self._lock = threading.Lock()
        self._client: httpx.Client | None = None
        self._async_client: httpx.AsyncClient | None = None
        self._async_loop: asyncio.AbstractEventLoop | None = None

    # --- the clients --------------------------------------------------------------------------

    def client(self) -> httpx.Client:
        with self._lock:
            if self._client is None:
                self._client = httpx.Client(transport=self._transport, **self._options)
            return self._client

    def async_client(self) -> httpx.AsyncClient:
        loop = asyncio.get_running_loop()
        with self._lock:
            # An AsyncClient's connections belong to the event loop that opened them; a saver
            # used again under a new loop (a second asyncio.run) gets a new client. The old one
            # cannot be closed from here: its loop is gone, and so are its connections.
            if self._async_client is None or self._async_loop is not loop:
                self._async_client = httpx.AsyncClient(
                    transport=self._async_transport, **self._options
                )
                self._async_loop = loop
            return self._async_client

    def close(self) -> None:
        with self._lock:
            client, self._client = self._client, None
        if client is not None:
            client.close()

    async def aclose(self) -> None:
        self.close()
        loop = asyncio.get_running_loop()
        with self._lock:
            client, owner = self._async_client, self._async_loop
            self._async_client, self._async_loop = None, None
        if client is not None and owner is loop:  # another loop's client is dropped, see above
            await client.aclose()

    # --- sending ------------------------------------------------------------------------------

    def send(self, call: ApiCall) -> Any:
        attempt = 0
        while True:
            try:
                response = self.client().request(
                    call.method, call.path, params=call.params, json=call.json
                )
            except RETRY_ERRORS:
                if (wait := self.policy.wait(attempt, None)) is None:
                    raise
            else:
                if (wait := self.policy.wait(attempt, response)) is None:
                    return outcome(call, response)
            self._sleep(wait)
            attempt += 1

    async def asend(self, call: ApiCall) -> Any:
        attempt = 0
        while True:
            try:
                response = await self.async_client().request(
                    call.method, call.path, params=call.params, json=call.json
                )
            except RETRY_ERRORS:
                if (wait := self.policy.wait(attempt, None)) is None:
                    raise
            else:
                if (wait := self.policy.wait(attempt, response)) is None:
                    return outcome(call, response)
            await self._async_sleep(wait)
            attempt += 1
