"""Run each client test through the sync methods and through their async twins; the live
server and agents' keys for the tests that talk to a real devskyy."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
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
def live_url(live_server: Any, transactional_db: None) -> str:
    """pytest-django's live server (a thread of this process, answering without Nagle's delay:
    see tests/conftest.py), by its address."""
    host, port = live_server.thread.httpd.server_address[:2]
    return f"http://{host}:{port}"


@pytest.fixture
def agent_key(transactional_db: None) -> Callable[[], str]:
    """Makes a new agent and returns its API key."""

    def make() -> str:
        _, key = api_key_create(user=AgentUserFactory.create(), name="langgraph")
        return key

    return make
