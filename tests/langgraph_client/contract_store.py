"""The issue 10 contract's checkpoint storage in dictionaries, as an ``httpx`` handler.

Only what the serialization tests need from the server: put (blobs ``DO NOTHING``, the
checkpoint upserted), put_writes, and get (latest or by id, the values joined on the
checkpoint's ``channel_versions`` by their canonical text, ``"empty"`` blobs left out). The real
server is tested by the conformance suite against a live devskyy (test_conformance.py); this
lets the client's encoding and decoding be checked on their own, without one.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import unquote

import httpx

PREFIX = "/api/v1/threads/"


def canonical(version: str | int | float) -> str:
    """``(<version as JSON>)::jsonb #>> '{}'``: a string as itself, a number as its JSON."""
    return version if isinstance(version, str) else json.dumps(version)


class ContractStore:
    def __init__(self) -> None:
        self.blobs: dict[tuple[str, str, str, str], dict[str, Any]] = {}
        self.checkpoints: dict[tuple[str, str, str], dict[str, Any]] = {}
        self.writes: dict[tuple[str, str, str, str, int], dict[str, Any]] = {}
        self.bodies: list[dict[str, Any]] = []  # every JSON body received, in order

    def __call__(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        _, found, tail = path.partition(PREFIX)
        assert found, path
        thread_id, _, rest = tail.partition("/")
        thread_id = unquote(thread_id)
        if request.method == "POST":
            body = json.loads(request.content)
            self.bodies.append(body)
            if rest == "checkpoints/":
                return self._put(thread_id, body)
            if rest == "writes/":
                return self._put_writes(thread_id, body)
        if request.method == "GET" and rest == "checkpoint/":
            return self._get(thread_id, dict(request.url.params))
        raise AssertionError(f"not part of the store: {request.method} {path}")

    def _put(self, thread_id: str, body: dict[str, Any]) -> httpx.Response:
        if "channel_values" in body["checkpoint"]:
            return httpx.Response(400, json={"code": "invalid", "detail": "channel_values"})
        ns = body["checkpoint_ns"]
        for blob in body["blobs"]:
            key = (thread_id, ns, blob["channel"], canonical(blob["version"]))
            self.blobs.setdefault(key, blob)
        key3 = (thread_id, ns, body["checkpoint"]["id"])
        created = key3 not in self.checkpoints
        self.checkpoints[key3] = body
        reply = {"thread_id": thread_id, "checkpoint_ns": ns, "checkpoint_id": key3[2]}
        return httpx.Response(201 if created else 200, json=reply)

    def _put_writes(self, thread_id: str, body: dict[str, Any]) -> httpx.Response:
        upsert = all(w["idx"] < 0 for w in body["writes"])
        for write in body["writes"]:
            key = (thread_id, body["checkpoint_ns"], body["checkpoint_id"], body["task_id"])
            row = {**write, "task_id": body["task_id"], "task_path": body["task_path"]}
            if upsert:
                self.writes[(*key, write["idx"])] = row
            else:
                self.writes.setdefault((*key, write["idx"]), row)
        return httpx.Response(200, json={"writes": len(body["writes"])})

    def _get(self, thread_id: str, params: dict[str, str]) -> httpx.Response:
        ns = params["checkpoint_ns"]
        ids = sorted(i for t, n, i in self.checkpoints if (t, n) == (thread_id, ns))
        wanted = params.get("checkpoint_id") or (ids[-1] if ids else None)
        if wanted not in ids:
            return httpx.Response(404, json={"code": "not_found", "detail": "No such thread."})
        body = self.checkpoints[(thread_id, ns, wanted)]
        checkpoint = body["checkpoint"]
        values = [
            {"channel": blob["channel"], "type": blob["type"], "data": blob["data"]}
            for channel, version in checkpoint["channel_versions"].items()
            if (blob := self.blobs.get((thread_id, ns, channel, canonical(version))))
            and blob["type"] != "empty"
        ]
        writes = [  # in the order they arrived: the client sorts them
            row
            for (t, n, c, _, _), row in self.writes.items()
            if (t, n, c) == (thread_id, ns, wanted)
        ]
        return httpx.Response(
            200,
            json={
                "thread_id": thread_id,
                "checkpoint_ns": ns,
                "checkpoint_id": wanted,
                "parent_checkpoint_id": body["parent_checkpoint_id"],
                "checkpoint": checkpoint,
                "metadata": body["metadata"],
                "channel_values": values,
                "pending_writes": writes,
                "created_at": "2026-01-01T00:00:00.000000Z",
            },
        )
