"""Two agents' savers against a live devskyy: one agent's graph state is invisible and untouchable
to another, and a checkpoint over the server's body limit is refused whole.

Agent A runs a small LangGraph graph (its checkpoints, blobs and pending writes are what a real
run stores); agent B then tries every saver call on A's thread. The sync methods run here; the
conformance test runs the async ones.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.base import empty_checkpoint

from agents_audit.models import CheckpointThread
from devskyy_langgraph import CheckpointTooLarge, DevskyyAPIError, DevskyyCheckpointSaver
from tests.agents_audit.checkpoint_api import snapshot
from tests.langgraph_client.graphs import State, plan_then_act

A_THREAD = "agent-a-thread"
A_RUN = "run-of-agent-a"
B_THREAD = "agent-b-thread"
NO_SUCH_THREAD = {"code": "not_found", "detail": "No such thread."}


def thread(thread_id: str, **configurable: Any) -> RunnableConfig:
    return {"configurable": {"thread_id": thread_id, "checkpoint_ns": "", **configurable}}


def run_graph(saver: DevskyyCheckpointSaver, thread_id: str, run_id: str) -> None:
    """plan, then act: four checkpoints (input, plan, act, done), the first three with writes."""
    config: RunnableConfig = {**thread(thread_id), "metadata": {"run_id": run_id}}
    start: State = {"steps": ["start"]}
    assert plan_then_act(saver).invoke(start, config) == {"steps": ["start", "plan", "act"]}


def put_checkpoint(saver: DevskyyCheckpointSaver, thread_id: str, **values: Any) -> None:
    checkpoint = empty_checkpoint()
    checkpoint["channel_values"] = values
    checkpoint["channel_versions"] = {
        channel: saver.get_next_version(None, None) for channel in values
    }
    saver.put(
        thread(thread_id),
        checkpoint,
        {"source": "input", "step": -1},
        checkpoint["channel_versions"],
    )


@pytest.fixture
def agent_saver(
    live_url: str, agent_key: Callable[[], str]
) -> Iterator[Callable[[], DevskyyCheckpointSaver]]:
    """Makes a saver for a new agent; every saver made is closed after the test (a kept-alive
    connection would hold a server thread, and its database session, past it)."""
    savers: list[DevskyyCheckpointSaver] = []

    def make() -> DevskyyCheckpointSaver:
        savers.append(DevskyyCheckpointSaver(base_url=live_url, api_key=agent_key()))
        return savers[-1]

    yield make
    for saver in savers:
        saver.close()


def test_agent_b_can_neither_see_nor_change_agent_as_thread(
    agent_saver: Callable[[], DevskyyCheckpointSaver],
) -> None:
    # given agent A's graph state, and a thread of agent B's own
    a, b = agent_saver(), agent_saver()
    run_graph(a, A_THREAD, A_RUN)
    put_checkpoint(b, B_THREAD, note="b's")
    tuples_before = list(a.list(thread(A_THREAD)))
    rows_before = snapshot(A_THREAD)
    assert len(tuples_before) == 4
    assert sum(len(t.pending_writes or []) for t in tuples_before) == 5
    latest = tuples_before[0].config["configurable"]["checkpoint_id"]

    # when agent B reads A's thread, it sees nothing there
    assert b.get_tuple(thread(A_THREAD)) is None
    assert b.get_tuple(thread(A_THREAD, checkpoint_id=latest)) is None
    assert list(b.list(thread(A_THREAD))) == []
    assert list(b.list(None, filter={"run_id": A_RUN})) == []
    # copying from it, or into it, or writing to it, is "No such thread."
    refused = {
        "copy from": lambda: b.copy_thread(A_THREAD, "b-copy"),
        "copy into": lambda: b.copy_thread(B_THREAD, A_THREAD),
        "put": lambda: put_checkpoint(b, A_THREAD, note="b's"),
        "put_writes": lambda: b.put_writes(
            thread(A_THREAD, checkpoint_id=latest), [("steps", ["b's"])], "b-task"
        ),
    }
    for name, call in refused.items():
        with pytest.raises(DevskyyAPIError) as error:
            call()
        assert (error.value.status_code, error.value.body) == (404, NO_SUCH_THREAD), name
    # deleting and pruning it does nothing, without an error (LangGraph: missing threads are no
    # error)
    b.delete_thread(A_THREAD)
    b.prune([A_THREAD])
    b.prune([A_THREAD], strategy="delete")
    b.delete_for_runs([A_RUN])

    # then A's thread is as it was, row for row and byte for byte
    assert list(a.list(thread(A_THREAD))) == tuples_before
    assert snapshot(A_THREAD) == rows_before
    # and B has its own thread only (no copy was made)
    assert [t.config["configurable"]["thread_id"] for t in b.list(None)] == [B_THREAD]
    assert not CheckpointThread.objects.filter(thread_id="b-copy").exists()


def test_a_checkpoint_over_the_servers_body_limit_is_refused_and_nothing_is_stored(
    agent_saver: Callable[[], DevskyyCheckpointSaver], settings: Any
) -> None:
    # given a 4 KiB limit (the live server runs in this process, with these settings) and a
    # thread with one checkpoint under it
    settings.CHECKPOINT_MAX_BODY_BYTES = 4096
    saver = agent_saver()
    put_checkpoint(saver, "big", note="small")
    rows_before = snapshot("big")
    latest = saver.get_tuple(thread("big"))
    assert latest is not None

    # when a checkpoint and writes of 8 KB are saved
    with pytest.raises(CheckpointTooLarge) as checkpoint_refused:
        put_checkpoint(saver, "big", note="x" * 8000)
    with pytest.raises(CheckpointTooLarge) as writes_refused:
        saver.put_writes(latest.config, [("note", "x" * 8000)], "task-1")

    # then both were refused as too large (a ValueError: retrying cannot help), naming the limit
    for refused in (checkpoint_refused.value, writes_refused.value):
        assert isinstance(refused, ValueError)
        assert (refused.status_code, refused.code) == (413, "request_too_large")
        assert refused.detail == (
            "The request body is larger than 4096 bytes (the CHECKPOINT_MAX_BODY_BYTES limit)."
        )
    # and nothing of them was stored
    assert snapshot("big") == rows_before
    assert saver.get_tuple(thread("big")) == latest


def test_empty_values_round_trip_next_to_others(
    agent_saver: Callable[[], DevskyyCheckpointSaver],
) -> None:
    # given channel values and writes of which one serializes to no bytes at all
    saver = agent_saver()
    assert saver.serde.dumps_typed(b"") == ("bytes", b"")
    put_checkpoint(saver, "empty", blank=b"", full=b"full")
    stored = saver.get_tuple(thread("empty"))
    assert stored is not None
    saver.put_writes(stored.config, [("blank", b""), ("full", b"full")], "task-1")

    # when the checkpoint is read back
    read = saver.get_tuple(thread("empty"))

    # then the empty values are there, as empty bytes, next to the others
    assert read is not None
    assert read.checkpoint["channel_values"] == {"blank": b"", "full": b"full"}
    assert read.pending_writes == [("task-1", "blank", b""), ("task-1", "full", b"full")]
