"""Run each client test through the sync methods and through their async twins; the live
server and agents' keys for the tests that talk to a real devskyy."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from commerce.services import api_key_create
from devskyy_langgraph import DevskyyCheckpointSaver
from tests.commerce.factories import AgentUserFactory

BASE_URL = "http://devskyy.test/prefix"
API_KEY = "agent-key-123"
Handler = Callable[[httpx.Request], httpx.Response]


class Waits(list[float]):
    """The retries' waits, recorded instead of slept."""

    def sleep(self, seconds: float) -> None:
        self.append(seconds)

    async def async_sleep(self, seconds: float) -> None:
        self.append(seconds)


class Mode:
    """Calls a saver method by its sync name, through the sync method or its async twin."""

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return self.name

    def __call__(self, saver: DevskyyCheckpointSaver, method: str, *args: Any, **kw: Any) -> Any:
        if self.name == "sync":
            result = getattr(saver, method)(*args, **kw)
            return list(result) if method == "list" else result

        async def call() -> Any:
            if method == "list":
                return [item async for item in saver.alist(*args, **kw)]
            return await getattr(saver, f"a{method}")(*args, **kw)

        return asyncio.run(call())


@pytest.fixture(params=["sync", "async"])
def run(request: pytest.FixtureRequest) -> Mode:
    return Mode(request.param)


@pytest.fixture
def waits() -> Waits:
    return Waits()


@pytest.fixture
def make_saver(waits: Waits) -> Callable[..., DevskyyCheckpointSaver]:
    """A saver whose requests (sync and async) are answered by ``handler``."""

    def make(handler: Handler, **options: Any) -> DevskyyCheckpointSaver:
        return DevskyyCheckpointSaver(
            base_url=BASE_URL,
            api_key=API_KEY,
            transport=httpx.MockTransport(handler),
            async_transport=httpx.MockTransport(handler),
            sleep=waits.sleep,
            async_sleep=waits.async_sleep,
            **options,
        )

    return make


@pytest.fixture
def live_url(live_server: Any, transactional_db: None) -> Iterator[str]:
    """pytest-django's live server (a thread of this process), by its address, answering without
    Nagle's delay while the test runs.

    Django's test server sends a response's status line, its headers and its body in separate
    writes; with Nagle's algorithm on, the later writes wait for the client's delayed ACK (40 ms
    on Linux), and every request took about 55 ms instead of 6. Accepted sockets inherit
    TCP_NODELAY from the listening one; it is restored after the test, for the suite's other
    users of the session's live server.
    """
    listening = live_server.thread.httpd.socket
    host, port = live_server.thread.httpd.server_address[:2]
    listening.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    try:
        yield f"http://{host}:{port}"
    finally:
        listening.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 0)


@pytest.fixture
def agent_key(transactional_db: None) -> Callable[[], str]:
    """Makes a new agent and returns its API key."""

    def make() -> str:
        _, key = api_key_create(user=AgentUserFactory.create(), name="langgraph")
        return key

    return make
