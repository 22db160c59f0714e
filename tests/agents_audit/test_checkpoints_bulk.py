"""Copy a thread, delete the checkpoints of runs, prune threads: LangGraph's extended methods,
each one transaction, with the blobs nothing names any more collected."""

from __future__ import annotations

from typing import Any

import pytest

from agents_audit.models import Checkpoint, CheckpointBlob, CheckpointWrite
from tests.agents_audit.checkpoint_api import (
    DELETE_FOR_RUNS,
    PRUNE,
    get_tuple,
    put,
    put_writes,
    rows,
    search_ids,
    snapshot,
    thread_url,
)
from tests.agents_audit.factories import checkpoint_id

pytestmark = pytest.mark.django_db


def blobs(thread_id: str) -> set[tuple[str, str, str]]:
    return set(
        CheckpointBlob.objects.filter(thread_id=thread_id).values_list(
            "checkpoint_ns", "channel", "version"
        )
    )


def copy(client, source: str, target: str):
    return client.post(thread_url(source, "copy/"), {"target_thread_id": target}, format="json")


# --- copy ------------------------------------------------------------------------------------


def test_copy_takes_every_namespace_checkpoint_write_and_blob(agent_a, agent_client):
    put(agent_client, "src", 1, channels={"a": b"1"})
    put(agent_client, "src", 2, channels={"a": b"2"}, parent=1)
    put(agent_client, "src", 3, ns="child:1", channels={"b": b"3"})
    put_writes(agent_client, "src", 2, [(0, "a", b"w"), (-1, "__error__", b"e")])
    before = snapshot("src")

    response = copy(agent_client, "src", "dst")

    assert (response.status_code, response.json()) == (200, {"thread_id": "dst", "checkpoints": 3})
    assert snapshot("dst")["checkpoints"] == before["checkpoints"]
    assert snapshot("dst")["blobs"] == before["blobs"]
    assert snapshot("dst")["writes"] == before["writes"]
    assert snapshot("src") == before
    assert (
        get_tuple(agent_client, "dst").json()["pending_writes"]
        == get_tuple(agent_client, "src").json()["pending_writes"]
    )
    assert search_ids(agent_client, "dst") == search_ids(agent_client, "src")
    assert agent_client.get(thread_url("dst")).json()["owner"] == str(agent_a.pk)


def test_copy_into_an_own_thread_merges_and_keeps_what_the_target_has(agent_client):
    put(agent_client, "src", 1, channels={"a": b"from source"})
    put(agent_client, "src", 2)
    put(agent_client, "dst", 1, channels={"a": b"kept"}, metadata={"mine": True})

    response = copy(agent_client, "src", "dst")

    assert response.json() == {"thread_id": "dst", "checkpoints": 1}  # only 2 was new
    assert Checkpoint.objects.get(thread_id="dst", checkpoint_id=checkpoint_id(1)).metadata["mine"]
    assert CheckpointBlob.objects.get(thread_id="dst").blob == b"kept"
    assert search_ids(agent_client, "dst") == [checkpoint_id(2), checkpoint_id(1)]


def test_a_thread_is_not_copied_into_itself(agent_client):
    put(agent_client, "src", 1)
    response = copy(agent_client, "src", "src")
    assert response.status_code == 400
    assert response.json()["errors"] == {
        "target_thread_id": [{"message": "Copy to another thread.", "code": "same_thread"}]
    }


def test_copying_a_missing_thread_is_a_404_and_creates_no_target(agent_client):
    assert copy(agent_client, "nope", "dst").status_code == 404
    assert rows()["threads"] == 0


# --- delete for runs -------------------------------------------------------------------------


def test_delete_for_runs_takes_the_runs_checkpoints_writes_and_unused_blobs(agent_client):
    put(agent_client, "t-1", 1, channels={"a": b"1", "b": b"1"}, metadata={"run_id": "r-1"})
    put(agent_client, "t-1", 2, channels={"a": b"2"}, versions={"b": 1}, metadata={"run_id": "r-2"})
    put(agent_client, "t-1", 3, ns="child:1", channels={"c": b"3"}, metadata={"run_id": "r-1"})
    put(agent_client, "t-1", 4, metadata={"other": "no run"})
    put_writes(agent_client, "t-1", 1, [(0, "a", b"w1")])
    put_writes(agent_client, "t-1", 2, [(0, "a", b"w2")])

    response = agent_client.post(DELETE_FOR_RUNS, {"run_ids": ["r-1", "r-9"]}, format="json")

    assert (response.status_code, response.json()) == (200, {"checkpoints": 2})
    assert search_ids(agent_client, "t-1") == [checkpoint_id(4), checkpoint_id(2)]
    assert set(CheckpointWrite.objects.values_list("checkpoint_id", flat=True)) == {
        checkpoint_id(2)
    }
    # a@1 was only checkpoint 1's; b@1 is still named by checkpoint 2; child:1 is empty now
    assert blobs("t-1") == {("", "a", "2"), ("", "b", "1")}


def test_delete_for_runs_with_no_runs_or_unknown_runs_changes_nothing(agent_client):
    put(agent_client, "t-1", 1, metadata={"run_id": "r-1"})
    before = snapshot("t-1")
    for run_ids in ([], ["r-2"]):
        response = agent_client.post(DELETE_FOR_RUNS, {"run_ids": run_ids}, format="json")
        assert response.json() == {"checkpoints": 0}
    assert snapshot("t-1") == before


# --- prune -----------------------------------------------------------------------------------


def test_keep_latest_keeps_each_namespaces_newest_with_its_writes_and_blobs(agent_client):
    put(agent_client, "t-1", 1, channels={"a": b"1", "b": b"1"})
    put(agent_client, "t-1", 2, channels={"a": b"2"}, versions={"b": 1}, parent=1)
    put(agent_client, "t-1", 3, channels={"a": b"3"}, versions={"b": 1}, parent=2)
    put(agent_client, "t-1", 4, ns="child:1", channels={"c": b"4"})
    put(agent_client, "t-1", 5, ns="child:1", channels={"c": b"5"}, parent=4)
    for n in (1, 2, 3):
        put_writes(agent_client, "t-1", n, [(0, "a", f"w{n}".encode())])
    put(agent_client, "t-2", 1)

    response = agent_client.post(
        PRUNE, {"thread_ids": ["t-1", "nope"], "strategy": "keep_latest"}, format="json"
    )

    assert (response.status_code, response.json()) == (200, {"threads": 1, "checkpoints": 3})
    assert search_ids(agent_client, "t-1") == [checkpoint_id(5), checkpoint_id(3)]
    latest = get_tuple(agent_client, "t-1").json()
    assert [w["idx"] for w in latest["pending_writes"]] == [0]
    assert latest["parent_checkpoint_id"] is None  # its parent is gone, as the official saver does
    assert blobs("t-1") == {("", "a", "3"), ("", "b", "1"), ("child:1", "c", "5")}
    assert set(CheckpointWrite.objects.values_list("checkpoint_id", flat=True)) == {
        checkpoint_id(3)
    }
    assert search_ids(agent_client, "t-2") == [checkpoint_id(1)]


def test_keep_latest_drops_a_finished_subgraph_calls_namespace_with_its_root_checkpoint(
    agent_client,
):
    """As the official saver prunes: a subgraph call's namespace (``node:task``) goes whole once
    the root checkpoint it started from is saved and is not the root's newest; a call from the
    newest, a call whose root checkpoint is not saved (yet) and a ``checkpointer=True``
    subgraph's namespace (no ":") keep their newest checkpoint like any other."""

    def from_root(n: int) -> dict[str, Any]:
        return {"parents": {"": checkpoint_id(n)}}

    for n in (1, 2, 3):
        put(agent_client, "t-1", n, channels={"a": f"{n}".encode()})
    for n, ns, root in [
        (4, "call:a", 1),  # finished: its root checkpoint 1 is saved and not the newest
        (5, "call:a", 1),
        (6, "call:b", 3),  # a call from the newest root checkpoint
        (7, "call:b", 3),
        (8, "call:c", 99),  # its root checkpoint is not saved
        (9, "call:c", 99),
        (10, "sub", 1),  # a checkpointer=True subgraph: no task id in its namespace
        (11, "sub", 1),
    ]:
        put(
            agent_client, "t-1", n, ns=ns, channels={"s": f"{n}".encode()}, metadata=from_root(root)
        )
        put_writes(agent_client, "t-1", n, [(0, "s", b"w")], ns=ns)

    response = agent_client.post(PRUNE, {"thread_ids": ["t-1"]}, format="json")

    assert response.json() == {"threads": 1, "checkpoints": 7}
    assert search_ids(agent_client, "t-1") == [checkpoint_id(n) for n in (11, 9, 7, 3)]
    assert blobs("t-1") == {
        ("", "a", "3"),
        ("call:b", "s", "7"),
        ("call:c", "s", "9"),
        ("sub", "s", "11"),
    }
    assert set(CheckpointWrite.objects.values_list("checkpoint_ns", "checkpoint_id")) == {
        ("call:b", checkpoint_id(7)),
        ("call:c", checkpoint_id(9)),
        ("sub", checkpoint_id(11)),
    }


def test_keep_latest_refuses_delta_channel_threads_and_prunes_nothing(agent_client):
    put(agent_client, "t-1", 1)
    put(agent_client, "t-1", 2)
    put(agent_client, "t-delta", 1, metadata={"counters_since_delta_snapshot": {"messages": 1}})
    put(agent_client, "t-delta", 2)
    put(agent_client, "t-js", 1, metadata={"delta_writes_versioned": True})
    before = rows()

    response = agent_client.post(PRUNE, {"thread_ids": ["t-1", "t-delta", "t-js"]}, format="json")

    assert response.status_code == 409
    assert response.json()["code"] == "prune_unsupported"
    assert response.json()["thread_ids"] == ["t-delta", "t-js"]
    assert rows() == before
    # delete is always possible
    deleted = agent_client.post(
        PRUNE, {"thread_ids": ["t-delta"], "strategy": "delete"}, format="json"
    )
    assert deleted.json() == {"threads": 1, "checkpoints": 2}


def test_prune_delete_deletes_the_threads_whole(agent_client):
    put(agent_client, "t-1", 1, channels={"a": b"1"})
    put_writes(agent_client, "t-1", 1, [(0, "a", b"w")])
    put(agent_client, "t-2", 1)

    response = agent_client.post(
        PRUNE, {"thread_ids": ["t-1"], "strategy": "delete"}, format="json"
    )

    assert response.json() == {"threads": 1, "checkpoints": 1}
    assert rows() == {"threads": 1, "checkpoints": 1, "blobs": 0, "writes": 0}
    assert agent_client.get(thread_url("t-1")).status_code == 404


def test_prune_of_nothing_is_no_error(agent_client):
    bodies: list[dict[str, object]] = [
        {"thread_ids": []},
        {"thread_ids": ["missing"], "strategy": "delete"},
    ]
    for body in bodies:
        response = agent_client.post(PRUNE, body, format="json")
        assert (response.status_code, response.json()) == (200, {"threads": 0, "checkpoints": 0})
