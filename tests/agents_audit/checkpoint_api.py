"""Speaking the checkpoint API the way the LangGraph client does, for the checkpoint tests."""

from __future__ import annotations

import base64
from typing import Any
from urllib.parse import quote

from rest_framework.test import APIClient

from agents_audit.models import Checkpoint, CheckpointBlob, CheckpointThread, CheckpointWrite
from tests.agents_audit.factories import checkpoint_id

SEARCH_ALL = "/api/v1/checkpoints/search/"
PRUNE = "/api/v1/threads/prune/"
DELETE_FOR_RUNS = "/api/v1/threads/delete-for-runs/"


def thread_url(thread_id: str, tail: str = "") -> str:
    return f"/api/v1/threads/{quote(thread_id, safe='')}/{tail}"


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def checkpoint_body(
    n: int,
    *,
    ns: str = "",
    channels: dict[str, bytes | None] | None = None,
    versions: dict[str, Any] | None = None,
    metadata: dict[str, Any] | None = None,
    parent: int | None = None,
) -> dict[str, Any]:
    """A put of checkpoint ``checkpoint_id(n)``: each of ``channels`` at version ``n`` with its
    value as a blob (plus ``versions`` of channels whose blobs were put before)."""
    channels = channels or {}
    channel_versions = {**(versions or {}), **dict.fromkeys(channels, n)}
    return {
        "checkpoint_ns": ns,
        "checkpoint": {
            "v": 4,
            "id": checkpoint_id(n),
            "ts": "2024-06-01T00:00:00+00:00",
            "channel_versions": channel_versions,
            "versions_seen": {},
            "updated_channels": sorted(channels),
        },
        "metadata": {"source": "loop", "step": n, **(metadata or {})},
        "parent_checkpoint_id": None if parent is None else checkpoint_id(parent),
        "blobs": [
            {
                "channel": name,
                "version": n,
                "type": "msgpack" if data else "empty",
                "data": None if data is None else b64(data),
            }
            for name, data in channels.items()
        ],
    }


def put(client: APIClient, thread_id: str, n: int, **kwargs: Any) -> Any:
    response = client.post(
        thread_url(thread_id, "checkpoints/"), checkpoint_body(n, **kwargs), format="json"
    )
    assert response.status_code in (200, 201), response.json()
    return response


def put_writes(
    client: APIClient,
    thread_id: str,
    n: int,
    writes: list[tuple[int, str, bytes]],
    *,
    task_id: str = "task-1",
    task_path: str = "",
    ns: str = "",
) -> Any:
    return client.post(
        thread_url(thread_id, "writes/"),
        {
            "checkpoint_ns": ns,
            "checkpoint_id": checkpoint_id(n),
            "task_id": task_id,
            "task_path": task_path,
            "writes": [
                {"idx": idx, "channel": channel, "type": "msgpack", "data": b64(data)}
                for idx, channel, data in writes
            ],
        },
        format="json",
    )


def get_tuple(client: APIClient, thread_id: str, **params: str) -> Any:
    return client.get(thread_url(thread_id, "checkpoint/"), params)


def search(client: APIClient, thread_id: str | None = None, **body: Any) -> Any:
    url = SEARCH_ALL if thread_id is None else thread_url(thread_id, "checkpoints/search/")
    return client.post(url, body, format="json")


def search_ids(client: APIClient, thread_id: str | None = None, **body: Any) -> list[str]:
    response = search(client, thread_id, **body)
    assert response.status_code == 200, response.json()
    return [t["checkpoint_id"] for t in response.json()["results"]]


def rows() -> dict[str, int]:
    """How many rows each checkpoint table holds."""
    return {
        "threads": CheckpointThread.objects.count(),
        "checkpoints": Checkpoint.objects.count(),
        "blobs": CheckpointBlob.objects.count(),
        "writes": CheckpointWrite.objects.count(),
    }


def snapshot(thread_id: str) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of a thread, to show it unchanged."""
    return {
        "thread": list(CheckpointThread.objects.filter(thread_id=thread_id).values_list()),
        "checkpoints": sorted(
            Checkpoint.objects.filter(thread_id=thread_id).values_list(
                "checkpoint_ns", "checkpoint_id", "parent_checkpoint_id", "checkpoint", "metadata"
            )
        ),
        "blobs": sorted(
            CheckpointBlob.objects.filter(thread_id=thread_id).values_list(
                "checkpoint_ns", "channel", "version", "type", "blob"
            )
        ),
        "writes": sorted(
            CheckpointWrite.objects.filter(thread_id=thread_id).values_list(
                "checkpoint_ns", "checkpoint_id", "task_id", "idx", "channel", "blob"
            )
        ),
    }
