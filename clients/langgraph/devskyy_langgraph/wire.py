"""LangGraph objects ⇄ devskyy's JSON, in one place for the sync and the async methods.

Nothing here does I/O: a saver call becomes an ``ApiCall`` (method, path, body), a response body
a ``CheckpointTuple``. The saver only sends the calls.

The storage follows ``langgraph-checkpoint-postgres``, with one difference: every channel value
is a blob written with ``serde.dumps_typed`` (the official saver keeps primitives inline in the
checkpoint), so the checkpoint sent never holds ``channel_values``. A blob is sent for each
channel in ``new_versions``: its value, or type ``"empty"`` when the channel has none. Bytes
travel as standard base64.
"""

from __future__ import annotations

import base64
import random
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, cast
from urllib.parse import quote

from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.base import (
    WRITES_IDX_MAP,
    ChannelVersions,
    Checkpoint,
    CheckpointMetadata,
    CheckpointTuple,
    PendingWrite,
    get_checkpoint_id,
    get_serializable_checkpoint_metadata,
    writes_sort_key,
)
from langgraph.checkpoint.serde.base import SerializerProtocol

API = "api/v1"
MAX_PAGE = 100  # the server's largest search page
MAX_IDS = 1000  # the most thread or run ids one prune / delete-for-runs request takes
MAX_THREAD_ID = 255
PRUNE_STRATEGIES = ("keep_latest", "delete")
# The server's thread id rules (besides the length): control characters and lone surrogates (no
# URL carries them) and "/" are refused, and so are the ids that name other routes.
FORBIDDEN_IN_THREAD_IDS = re.compile(r"[/\x00-\x1f\x7f-\x9f\ud800-\udfff]")
RESERVED_THREAD_IDS = frozenset({".", "..", "prune", "delete-for-runs"})


@dataclass(frozen=True)
class ApiCall:
    """One request to devskyy. ``missing_ok``: a 404 means "nothing there", not an error."""

    method: str
    path: str
    json: dict[str, Any] | None = None
    params: dict[str, str] = field(default_factory=dict)
    missing_ok: bool = False


def thread_path(thread_id: object) -> str:
    """``api/v1/threads/<id>``: the id checked against the server's rules and percent-encoded.

    Refused here, with a ``ValueError``, rather than sent to a URL that is not the thread's: an
    id with ``/`` would reach another route, ``.``/``..`` are removed by URL normalisation, and
    ``prune``/``delete-for-runs`` are the names of routes.
    """
    text = str(thread_id)
    if (
        not 1 <= len(text) <= MAX_THREAD_ID
        or FORBIDDEN_IN_THREAD_IDS.search(text)
        or text in RESERVED_THREAD_IDS
    ):
        raise ValueError(
            f"A thread id has 1 to {MAX_THREAD_ID} characters, no '/' and no control characters, "
            f"and is not one of {sorted(RESERVED_THREAD_IDS)}: {text!r}"
        )
    return f"{API}/threads/{quote(text, safe='')}"


def _b64(data: bytes | None) -> str | None:
    return None if data is None else base64.b64encode(data).decode("ascii")


def _unb64(data: str | None) -> bytes:
    return b"" if data is None else base64.b64decode(data, validate=True)


def next_version(current: str | int | float | None) -> str:
    """The official Postgres saver's versions: a zero-padded counter and a random fraction."""
    if current is None:
        current_v = 0
    elif isinstance(current, int | float):
        current_v = int(current)
    else:
        current_v = int(current.split(".")[0])
    next_h = random.random()  # noqa: S311 (a tie breaker, not a secret)
    return f"{current_v + 1:032}.{next_h:016}"


# --- put --------------------------------------------------------------------------------------


def encoded_blobs(
    serde: SerializerProtocol, checkpoint: Checkpoint, new_versions: ChannelVersions
) -> list[tuple[str, str | int | float, str, bytes | None]]:
    """The channel values a put stores, as (channel, version, type, data): each channel of
    ``new_versions`` serialized, or ``("empty", None)`` when the checkpoint has no value for it."""
    values = checkpoint["channel_values"]
    blobs = []
    for channel, version in new_versions.items():
        kind, data = serde.dumps_typed(values[channel]) if channel in values else ("empty", None)
        blobs.append((channel, version, kind, data))
    return blobs


def encoded_writes(
    serde: SerializerProtocol, writes: Sequence[tuple[str, Any]]
) -> list[tuple[int, str, str, bytes]]:
    """A task's writes as (idx, channel, type, data) rows.

    ``idx`` as the official saver computes it: the position, or the special channels' fixed
    negative index. Two writes with one index are one row there (its upsert keeps the last when
    every write is special, its insert the first otherwise); here each index is sent once, so
    the same one is kept.
    """
    all_special = all(channel in WRITES_IDX_MAP for channel, _ in writes)
    rows: dict[int, tuple[int, str, str, bytes]] = {}
    for i, (channel, value) in enumerate(writes):
        idx = WRITES_IDX_MAP.get(channel, i)
        if idx in rows and not all_special:
            continue
        kind, data = serde.dumps_typed(value)
        rows[idx] = (idx, channel, kind, data)
    return list(rows.values())


def put(
    serde: SerializerProtocol,
    config: RunnableConfig,
    checkpoint: Checkpoint,
    metadata: CheckpointMetadata,
    new_versions: ChannelVersions,
) -> tuple[ApiCall, RunnableConfig]:
    """The put request, and the config LangGraph gets back (the new checkpoint's)."""
    configurable = config["configurable"]
    thread_id = str(configurable["thread_id"])
    checkpoint_ns = configurable.get("checkpoint_ns") or ""
    blobs = [
        {"channel": channel, "version": version, "type": kind, "data": _b64(data)}
        for channel, version, kind, data in encoded_blobs(serde, checkpoint, new_versions)
    ]
    body = {
        "checkpoint_ns": checkpoint_ns,
        "checkpoint": {k: v for k, v in checkpoint.items() if k != "channel_values"},
        "metadata": get_serializable_checkpoint_metadata(config, metadata),
        "parent_checkpoint_id": configurable.get("checkpoint_id"),
        "blobs": blobs,
    }
    next_config: RunnableConfig = {
        "configurable": {
            "thread_id": thread_id,
            "checkpoint_ns": checkpoint_ns,
            "checkpoint_id": checkpoint["id"],
        }
    }
    return ApiCall("POST", f"{thread_path(thread_id)}/checkpoints/", json=body), next_config


def put_writes(
    serde: SerializerProtocol,
    config: RunnableConfig,
    writes: Sequence[tuple[str, Any]],
    task_id: str,
    task_path: str,
) -> ApiCall | None:
    """The put_writes request (``encoded_writes``); None when there is nothing to write."""
    if not writes:
        return None
    configurable = config["configurable"]
    body = {
        "checkpoint_ns": configurable.get("checkpoint_ns") or "",
        "checkpoint_id": configurable["checkpoint_id"],
        "task_id": task_id,
        "task_path": task_path,
        "writes": [
            {"idx": idx, "channel": channel, "type": kind, "data": _b64(data)}
            for idx, channel, kind, data in encoded_writes(serde, writes)
        ],
    }
    return ApiCall("POST", f"{thread_path(configurable['thread_id'])}/writes/", json=body)


# --- get_tuple and list -----------------------------------------------------------------------


def get_tuple(config: RunnableConfig) -> ApiCall:
    configurable = config["configurable"]
    params = {"checkpoint_ns": configurable.get("checkpoint_ns") or ""}
    if checkpoint_id := get_checkpoint_id(config):
        params["checkpoint_id"] = checkpoint_id
    path = f"{thread_path(configurable['thread_id'])}/checkpoint/"
    return ApiCall("GET", path, params=params, missing_ok=True)


def checkpoint_tuple(serde: SerializerProtocol, body: Mapping[str, Any]) -> CheckpointTuple:
    """A tuple object of the API (get and search results) as LangGraph's ``CheckpointTuple``."""

    def ids(checkpoint_id: str) -> RunnableConfig:
        return {
            "configurable": {
                "thread_id": body["thread_id"],
                "checkpoint_ns": body["checkpoint_ns"],
                "checkpoint_id": checkpoint_id,
            }
        }

    values = {
        blob["channel"]: serde.loads_typed((blob["type"], _unb64(blob["data"])))
        for blob in body["channel_values"]
        if blob["type"] != "empty"
    }
    writes = sorted(
        body["pending_writes"],
        key=lambda w: writes_sort_key(w["task_path"], w["task_id"], w["idx"]),
    )
    pending: list[PendingWrite] = [
        (w["task_id"], w["channel"], serde.loads_typed((w["type"], _unb64(w["data"]))))
        for w in writes
    ]
    parent = body["parent_checkpoint_id"]
    # The stored checkpoint, with the values the server joined to it (a dict that is one).
    checkpoint = cast(Checkpoint, {**body["checkpoint"], "channel_values": values})
    return CheckpointTuple(
        config=ids(body["checkpoint_id"]),
        checkpoint=checkpoint,
        metadata=body["metadata"],
        parent_config=ids(parent) if parent else None,
        pending_writes=pending,
    )


class Search:
    """``list``: pages through the search endpoint with ``cursor`` until ``limit`` is reached.

    The sync and async ``list`` share it: ``next_call()`` is the next page's request (None when
    done), ``read(body)`` the page's tuples, at most the ones still wanted.
    """

    def __init__(
        self,
        serde: SerializerProtocol,
        config: RunnableConfig | None,
        *,
        filter: dict[str, Any] | None,
        before: RunnableConfig | None,
        limit: int | None,
    ) -> None:
        self._serde = serde
        self._remaining = limit
        query: dict[str, Any] = {
            "filter": filter or None,
            "before": get_checkpoint_id(before) if before is not None else None,
        }
        if config is None:
            self._path = f"{API}/checkpoints/search/"
        else:
            configurable = config["configurable"]
            self._path = f"{thread_path(configurable['thread_id'])}/checkpoints/search/"
            query["checkpoint_ns"] = configurable.get("checkpoint_ns")  # None: every namespace
            query["checkpoint_id"] = get_checkpoint_id(config)
        self._query = {key: value for key, value in query.items() if value is not None}
        self._cursor: str | None = None
        self._done = limit is not None and limit <= 0

    def next_call(self) -> ApiCall | None:
        if self._done:
            return None
        size = MAX_PAGE if self._remaining is None else min(MAX_PAGE, self._remaining)
        body = {**self._query, "limit": size}
        if self._cursor is not None:
            body["cursor"] = self._cursor
        return ApiCall("POST", self._path, json=body, missing_ok=True)

    def read(self, body: Mapping[str, Any] | None) -> list[CheckpointTuple]:
        if body is None:  # 404: a thread the caller cannot see has no checkpoints for it
            self._done = True
            return []
        results = body["results"]
        if self._remaining is not None:
            results = results[: self._remaining]
            self._remaining -= len(results)
        self._cursor = body["next_cursor"]
        self._done = self._cursor is None or self._remaining == 0
        return [checkpoint_tuple(self._serde, result) for result in results]


# --- threads ----------------------------------------------------------------------------------


def delete_thread(thread_id: str) -> ApiCall:
    return ApiCall("DELETE", f"{thread_path(thread_id)}/", missing_ok=True)


def copy_thread(source_thread_id: str, target_thread_id: str) -> ApiCall:
    thread_path(target_thread_id)  # the same rules; the server checks it too
    body = {"target_thread_id": str(target_thread_id)}
    return ApiCall("POST", f"{thread_path(source_thread_id)}/copy/", json=body)


def _batches(ids: Iterable[object]) -> list[list[str]]:
    texts = [str(i) for i in ids]
    return [texts[start : start + MAX_IDS] for start in range(0, len(texts), MAX_IDS)]


def delete_for_runs(run_ids: Sequence[str]) -> list[ApiCall]:
    """One request per thousand run ids; none for an empty list."""
    return [
        ApiCall("POST", f"{API}/threads/delete-for-runs/", json={"run_ids": batch})
        for batch in _batches(run_ids)
    ]


def prune(thread_ids: Sequence[str], strategy: str) -> list[ApiCall]:
    """One request per thousand thread ids; none for an empty list.

    Raises like the official saver: ``TypeError`` for a single string, ``ValueError`` for an
    unknown strategy.
    """
    if isinstance(thread_ids, str):
        raise TypeError("thread_ids must be a sequence of thread IDs, not a str")
    if strategy not in PRUNE_STRATEGIES:
        raise ValueError(f"Unknown prune strategy: {strategy!r}")
    return [
        ApiCall("POST", f"{API}/threads/prune/", json={"thread_ids": batch, "strategy": strategy})
        for batch in _batches(thread_ids)
    ]
