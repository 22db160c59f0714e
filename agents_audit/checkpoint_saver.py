"""``DatabaseCheckpointSaver``: LangGraph's checkpointer for code that runs inside devskyy.

Management commands and job workers run graphs in devskyy's own processes: they need no HTTP
hop and no API key. This saver stores through the same services the API calls
(``agents_audit.services.checkpoints``) and reads through the same statements
(``agents_audit.checkpoints``), as one user, the threads' owner: what it writes is what an agent
with that user's key would have written, visible to operators the same way, and the same
ownership rules hold (another user's thread is ``ThreadNotFound``, an operator writing to a
thread it does not own ``NotPermitted``). Values are serialized and decoded exactly as
``devskyy_langgraph.DevskyyCheckpointSaver`` does (its ``wire`` module), so either saver reads
the other's checkpoints.

It needs the client package (``pip install ./clients/langgraph``; ``make run`` and ``make test``
install it), which brings LangGraph's saver interface. The async methods run the sync ones in
Django's thread for sync code (``asgiref.sync_to_async``), as the ORM requires.

A sync graph calls the saver from LangGraph's own thread pool (one per run), whose threads each
open a connection: every method first notes its thread (``devskyy.db.close_when_thread_ends``),
so that the connections of those threads are closed once they have ended, at the next call.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator, Sequence
from contextlib import suppress
from typing import Any

from asgiref.sync import sync_to_async
from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.base import (
    BaseCheckpointSaver,
    ChannelVersions,
    Checkpoint,
    CheckpointMetadata,
    CheckpointTuple,
    get_checkpoint_id,
    get_serializable_checkpoint_metadata,
)
from langgraph.checkpoint.serde.base import SerializerProtocol

from agents_audit import checkpoints as reads
from agents_audit.errors import PruneUnsupported, ThreadNotFound
from agents_audit.services.checkpoints import (
    BlobInput,
    WriteInput,
    checkpoint_put,
    checkpoint_thread_copy,
    checkpoint_thread_delete,
    checkpoint_threads_prune,
    checkpoint_writes_put,
    checkpoints_delete_for_runs,
)
from commerce.models import User
from devskyy.db import close_when_thread_ends
from devskyy_langgraph import wire


class DatabaseCheckpointSaver(BaseCheckpointSaver[str]):
    """LangGraph's ``BaseCheckpointSaver`` over devskyy's checkpoint storage, as ``owner``."""

    def __init__(self, owner: User, *, serde: SerializerProtocol | None = None) -> None:
        super().__init__(serde=serde)
        self.owner = owner

    def __repr__(self) -> str:
        return f"{type(self).__name__}(owner={self.owner.username!r})"

    def get_next_version(self, current: str | None, channel: None) -> str:
        return wire.next_version(current)

    # --- writes -------------------------------------------------------------------------------

    def put(
        self,
        config: RunnableConfig,
        checkpoint: Checkpoint,
        metadata: CheckpointMetadata,
        new_versions: ChannelVersions,
    ) -> RunnableConfig:
        close_when_thread_ends()
        configurable = config["configurable"]
        thread_id = _thread_id(configurable["thread_id"])
        checkpoint_ns = configurable.get("checkpoint_ns") or ""
        checkpoint_put(
            thread_id=thread_id,
            by=self.owner,
            checkpoint={key: value for key, value in checkpoint.items() if key != "channel_values"},
            metadata=dict(get_serializable_checkpoint_metadata(config, metadata)),
            checkpoint_ns=checkpoint_ns,
            parent_checkpoint_id=configurable.get("checkpoint_id"),
            blobs=[
                BlobInput(channel, version, kind, data)
                for channel, version, kind, data in wire.encoded_blobs(
                    self.serde, checkpoint, new_versions
                )
            ],
        )
        return {
            "configurable": {
                "thread_id": thread_id,
                "checkpoint_ns": checkpoint_ns,
                "checkpoint_id": checkpoint["id"],
            }
        }

    def put_writes(
        self,
        config: RunnableConfig,
        writes: Sequence[tuple[str, Any]],
        task_id: str,
        task_path: str = "",
    ) -> None:
        close_when_thread_ends()
        if not writes:
            return
        configurable = config["configurable"]
        checkpoint_writes_put(
            thread_id=_thread_id(configurable["thread_id"]),
            by=self.owner,
            checkpoint_id=configurable["checkpoint_id"],
            task_id=task_id,
            task_path=task_path,
            checkpoint_ns=configurable.get("checkpoint_ns") or "",
            writes=[
                WriteInput(idx, channel, kind, data)
                for idx, channel, kind, data in wire.encoded_writes(self.serde, writes)
            ],
        )

    def delete_thread(self, thread_id: str) -> None:
        close_when_thread_ends()
        with suppress(ThreadNotFound):  # nothing to delete: no error, as for the official saver
            checkpoint_thread_delete(thread_id=_thread_id(thread_id), by=self.owner)

    def delete_for_runs(self, run_ids: Sequence[str]) -> None:
        close_when_thread_ends()
        checkpoints_delete_for_runs(run_ids=[str(run_id) for run_id in run_ids], by=self.owner)

    def copy_thread(self, source_thread_id: str, target_thread_id: str) -> None:
        close_when_thread_ends()
        checkpoint_thread_copy(
            source_thread_id=_thread_id(source_thread_id),
            target_thread_id=_thread_id(target_thread_id),
            by=self.owner,
        )

    def prune(self, thread_ids: Sequence[str], *, strategy: str = "keep_latest") -> None:
        close_when_thread_ends()
        wire.prune(thread_ids, strategy)  # the official saver's TypeError and ValueError
        try:
            checkpoint_threads_prune(
                thread_ids=[str(thread_id) for thread_id in thread_ids],
                strategy="delete" if strategy == "delete" else "keep_latest",
                by=self.owner,
            )
        except PruneUnsupported as error:
            raise NotImplementedError(str(error)) from error  # as the official saver raises

    # --- reads --------------------------------------------------------------------------------

    def get_tuple(self, config: RunnableConfig) -> CheckpointTuple | None:
        close_when_thread_ends()
        configurable = config["configurable"]
        found = reads.checkpoint_tuple_get(
            thread_id=_thread_id(configurable["thread_id"]),
            viewer=self.owner,
            checkpoint_ns=configurable.get("checkpoint_ns") or "",
            checkpoint_id=get_checkpoint_id(config),
        )
        return None if found is None else wire.checkpoint_tuple(self.serde, json.loads(found))

    def list(
        self,
        config: RunnableConfig | None,
        *,
        filter: dict[str, Any] | None = None,
        before: RunnableConfig | None = None,
        limit: int | None = None,
    ) -> Iterator[CheckpointTuple]:
        close_when_thread_ends()
        pages = _Pages(self, config, filter=filter, before=before, limit=limit)
        while (page := pages.next()) is not None:
            yield from page

    # --- async: the sync methods in Django's thread for sync code ------------------------------

    async def aput(
        self,
        config: RunnableConfig,
        checkpoint: Checkpoint,
        metadata: CheckpointMetadata,
        new_versions: ChannelVersions,
    ) -> RunnableConfig:
        return await sync_to_async(self.put)(config, checkpoint, metadata, new_versions)

    async def aput_writes(
        self,
        config: RunnableConfig,
        writes: Sequence[tuple[str, Any]],
        task_id: str,
        task_path: str = "",
    ) -> None:
        await sync_to_async(self.put_writes)(config, writes, task_id, task_path)

    async def aget_tuple(self, config: RunnableConfig) -> CheckpointTuple | None:
        return await sync_to_async(self.get_tuple)(config)

    async def alist(
        self,
        config: RunnableConfig | None,
        *,
        filter: dict[str, Any] | None = None,
        before: RunnableConfig | None = None,
        limit: int | None = None,
    ) -> AsyncIterator[CheckpointTuple]:
        pages = _Pages(self, config, filter=filter, before=before, limit=limit)
        while (page := await sync_to_async(pages.next)()) is not None:
            for item in page:
                yield item

    async def adelete_thread(self, thread_id: str) -> None:
        await sync_to_async(self.delete_thread)(thread_id)

    async def adelete_for_runs(self, run_ids: Sequence[str]) -> None:
        await sync_to_async(self.delete_for_runs)(run_ids)

    async def acopy_thread(self, source_thread_id: str, target_thread_id: str) -> None:
        await sync_to_async(self.copy_thread)(source_thread_id, target_thread_id)

    async def aprune(self, thread_ids: Sequence[str], *, strategy: str = "keep_latest") -> None:
        await sync_to_async(self.prune)(thread_ids, strategy=strategy)


def _thread_id(thread_id: object) -> str:
    """The thread id as text, held to the API's rules (``ValueError`` otherwise)."""
    wire.thread_path(thread_id)
    return str(thread_id)


class _Pages:
    """``list``'s pages (the API's search, newest first), ``limit`` tuples in all."""

    def __init__(
        self,
        saver: DatabaseCheckpointSaver,
        config: RunnableConfig | None,
        *,
        filter: dict[str, Any] | None,
        before: RunnableConfig | None,
        limit: int | None,
    ) -> None:
        self.saver = saver
        self.query: dict[str, Any] = {
            "filter": filter or None,
            "before": get_checkpoint_id(before) if before is not None else None,
        }
        if config is not None:
            configurable = config["configurable"]
            self.query.update(
                thread_id=_thread_id(configurable["thread_id"]),
                checkpoint_ns=configurable.get("checkpoint_ns"),  # None: every namespace
                checkpoint_id=get_checkpoint_id(config),
            )
        self.remaining = limit
        self.after: reads.Position | None = None
        self.done = limit is not None and limit <= 0

    def next(self) -> list[CheckpointTuple] | None:
        if self.done:
            return None
        size = reads.SEARCH_MAX_LIMIT
        if self.remaining is not None:
            size = min(size, self.remaining)
        page = reads.checkpoint_search(
            viewer=self.saver.owner, limit=size, after=self.after, **self.query
        )
        if self.remaining is not None:
            self.remaining -= len(page.tuples)
        self.after = None if page.next_cursor is None else reads.decode_cursor(page.next_cursor)
        self.done = self.after is None or self.remaining == 0
        return [wire.checkpoint_tuple(self.saver.serde, json.loads(text)) for text in page.tuples]
