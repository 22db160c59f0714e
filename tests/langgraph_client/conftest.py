"""Run each client test through the sync methods and through their async twins."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from devskyy_langgraph import DevskyyCheckpointSaver

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
