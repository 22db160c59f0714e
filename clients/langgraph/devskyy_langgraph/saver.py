"""``DevskyyCheckpointSaver``: a LangGraph checkpointer whose store is devskyy, over its API.

Each method builds its request with ``devskyy_langgraph.wire`` and sends it; the sync and the
async twin differ only in that send (``devskyy_langgraph.transport``: libcurl for the sync
calls, httpx for the async ones).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence
from types import TracebackType
from typing import Any, Self

import httpx
from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.base import (
    BaseCheckpointSaver,
    ChannelVersions,
    Checkpoint,
    CheckpointMetadata,
    CheckpointTuple,
)
from langgraph.checkpoint.serde.base import SerializerProtocol

from devskyy_langgraph import wire
from devskyy_langgraph.transport import RetryPolicy, Transport


class DevskyyCheckpointSaver(BaseCheckpointSaver[str]):
    """Stores LangGraph checkpoints in devskyy, authenticated with an agent's API key.

    ``base_url`` is the server's root (``https://devskyy.example.com``); ``timeout`` bounds
    connecting, and a call's time without a byte moving, in seconds; 429/503 answers and failed
    connections are retried ``max_retries`` times (see ``devskyy_langgraph.transport`` for the
    waits). ``transport``/``async_transport`` replace the network transports (by default libcurl
    for the sync calls, ``devskyy_langgraph.curl``, and httpx's for the async ones) with any
    httpx transport (a proxy, a test double); ``sleep``/``async_sleep`` are how the retries
    wait.

    Errors: a 413 raises ``CheckpointTooLarge`` (a ``ValueError``), keep_latest refusing a
    DeltaChannel thread ``PruneUnsupported`` (a ``NotImplementedError``), any other error answer
    ``DevskyyAPIError`` with the server's JSON body. A thread the key cannot see reads as empty:
    ``get_tuple`` returns None, ``list`` yields nothing, ``delete_thread`` does nothing.
    """

    def __init__(
        self,
        base_url: str,
        api_key: str,
        timeout: float = 10.0,
        max_retries: int = 5,
        serde: SerializerProtocol | None = None,
        *,
        max_wait: float = 30.0,
        transport: httpx.BaseTransport | None = None,
        async_transport: httpx.AsyncBaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
        async_sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        super().__init__(serde=serde)
        self._http = Transport(
            base_url=base_url,
            api_key=api_key,
            timeout=timeout,
            policy=RetryPolicy(max_retries=max_retries, max_wait=max_wait),
            transport=transport,
            async_transport=async_transport,
            sleep=sleep,
            async_sleep=async_sleep,
        )

    def __repr__(self) -> str:
        return f"{type(self).__name__}(base_url={self._http.base_url!r})"

    # --- connections --------------------------------------------------------------------------

    def close(self) -> None:
        """Close the sync client's connections (a later call opens new ones)."""
        self._http.close()

    async def aclose(self) -> None:
        """Close both clients' connections (a later call opens new ones)."""
        await self._http.aclose()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    # --- versions -----------------------------------------------------------------------------

    def get_next_version(self, current: str | None, channel: None) -> str:
        return wire.next_version(current)

    # --- sync ---------------------------------------------------------------------------------

    def put(
        self,
        config: RunnableConfig,
        checkpoint: Checkpoint,
        metadata: CheckpointMetadata,
        new_versions: ChannelVersions,
    ) -> RunnableConfig:
        call, next_config = wire.put(self.serde, config, checkpoint, metadata, new_versions)
        self._http.send(call)
        return next_config

    def put_writes(
        self,
        config: RunnableConfig,
        writes: Sequence[tuple[str, Any]],
        task_id: str,
        task_path: str = "",
    ) -> None:
        if call := wire.put_writes(self.serde, config, writes, task_id, task_path):
            self._http.send(call)

    def get_tuple(self, config: RunnableConfig) -> CheckpointTuple | None:
        body = self._http.send(wire.get_tuple(config))
        return None if body is None else wire.checkpoint_tuple(self.serde, body)

    def list(
        self,
        config: RunnableConfig | None,
        *,
        filter: dict[str, Any] | None = None,
        before: RunnableConfig | None = None,
        limit: int | None = None,
    ) -> Iterator[CheckpointTuple]:
        search = wire.Search(self.serde, config, filter=filter, before=before, limit=limit)
        while call := search.next_call():
            yield from search.read(self._http.send(call))

    def delete_thread(self, thread_id: str) -> None:
        self._http.send(wire.delete_thread(thread_id))

    def delete_for_runs(self, run_ids: Sequence[str]) -> None:
        for call in wire.delete_for_runs(run_ids):
            self._http.send(call)

    def copy_thread(self, source_thread_id: str, target_thread_id: str) -> None:
        self._http.send(wire.copy_thread(source_thread_id, target_thread_id))

    def prune(self, thread_ids: Sequence[str], *, strategy: str = "keep_latest") -> None:
        for call in wire.prune(thread_ids, strategy):
            self._http.send(call)

    # --- async --------------------------------------------------------------------------------

    async def aput(
        self,
        config: RunnableConfig,
        checkpoint: Checkpoint,
        metadata: CheckpointMetadata,
        new_versions: ChannelVersions,
    ) -> RunnableConfig:
        call, next_config = wire.put(self.serde, config, checkpoint, metadata, new_versions)
        await self._http.asend(call)
        return next_config

    async def aput_writes(
        self,
        config: RunnableConfig,
        writes: Sequence[tuple[str, Any]],
        task_id: str,
        task_path: str = "",
    ) -> None:
        if call := wire.put_writes(self.serde, config, writes, task_id, task_path):
            await self._http.asend(call)

    async def aget_tuple(self, config: RunnableConfig) -> CheckpointTuple | None:
        body = await self._http.asend(wire.get_tuple(config))
        return None if body is None else wire.checkpoint_tuple(self.serde, body)

    async def alist(
        self,
        config: RunnableConfig | None,
        *,
        filter: dict[str, Any] | None = None,
        before: RunnableConfig | None = None,
        limit: int | None = None,
    ) -> AsyncIterator[CheckpointTuple]:
        search = wire.Search(self.serde, config, filter=filter, before=before, limit=limit)
        while call := search.next_call():
            for item in search.read(await self._http.asend(call)):
                yield item

    async def adelete_thread(self, thread_id: str) -> None:
        await self._http.asend(wire.delete_thread(thread_id))

    async def adelete_for_runs(self, run_ids: Sequence[str]) -> None:
        for call in wire.delete_for_runs(run_ids):
            await self._http.asend(call)

    async def acopy_thread(self, source_thread_id: str, target_thread_id: str) -> None:
        await self._http.asend(wire.copy_thread(source_thread_id, target_thread_id))

    async def aprune(self, thread_ids: Sequence[str], *, strategy: str = "keep_latest") -> None:
        for call in wire.prune(thread_ids, strategy):
            await self._http.asend(call)
