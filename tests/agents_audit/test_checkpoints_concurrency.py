"""Checkpoint writes race safely, with real threads and PostgreSQL connections: concurrent puts
of one checkpoint into a thread nobody has yet make one thread and one row (LangGraph retries),
a prune racing a put never takes a blob the new checkpoint names, and a new thread and another
agent's new task never take one thread id at once."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, transaction

from agents_audit import checkpoints as reads
from agents_audit.errors import ThreadNotFound
from agents_audit.models import Checkpoint, CheckpointBlob, CheckpointThread, Task
from agents_audit.services.checkpoints import (
    BlobInput,
    checkpoint_put,
    checkpoint_thread_delete,
    checkpoint_threads_prune,
)
from agents_audit.services.tasks import task_create
from tests.agents_audit.factories import checkpoint_id
from tests.commerce.factories import AgentUserFactory
from tests.concurrency import run_concurrently

pytestmark = pytest.mark.django_db(transaction=True)


def checkpoint(n: int, versions: dict[str, int]) -> dict:
    return {"v": 4, "id": checkpoint_id(n), "channel_versions": versions}


def test_concurrent_puts_of_one_checkpoint_make_one_thread_and_one_row():
    agent = AgentUserFactory.create()

    def put():
        return checkpoint_put(
            thread_id="t-race",
            by=agent,
            checkpoint=checkpoint(1, {"a": 1}),
            metadata={"step": 1},
            blobs=[BlobInput(channel="a", version=1, type="msgpack", data=b"v")],
        )

    results = run_concurrently(*[put for _ in range(12)])

    assert sorted(results) == [False] * 11 + [True], results  # one 201, eleven 200s
    assert CheckpointThread.objects.get().owner == agent
    assert Checkpoint.objects.count() == 1
    assert CheckpointBlob.objects.count() == 1


@pytest.mark.parametrize("round_", range(8))
def test_a_prune_racing_a_put_never_takes_a_blob_the_new_checkpoint_names(round_):
    agent = AgentUserFactory.create()
    thread_id = f"t-{round_}"
    # b@1 is written once, with checkpoint 1; checkpoints 2, 3 and then 4 still name it
    checkpoint_put(
        thread_id=thread_id,
        by=agent,
        checkpoint=checkpoint(1, {"a": 1, "b": 1}),
        metadata={},
        blobs=[
            BlobInput(channel="a", version=1, type="msgpack", data=b"a1"),
            BlobInput(channel="b", version=1, type="msgpack", data=b"b1"),
        ],
    )
    for n in (2, 3):
        checkpoint_put(
            thread_id=thread_id,
            by=agent,
            checkpoint=checkpoint(n, {"a": n, "b": 1}),
            metadata={},
            blobs=[BlobInput(channel="a", version=n, type="msgpack", data=f"a{n}".encode())],
        )

    def put():
        return checkpoint_put(
            thread_id=thread_id,
            by=agent,
            checkpoint=checkpoint(4, {"a": 4, "b": 1}),
            metadata={},
            blobs=[BlobInput(channel="a", version=4, type="msgpack", data=b"a4")],
        )

    def prune():
        return checkpoint_threads_prune(thread_ids=[thread_id], strategy="keep_latest", by=agent)

    put_result, prune_result = run_concurrently(put, prune)

    assert put_result is True, put_result
    assert not isinstance(prune_result, Exception), prune_result
    kept = list(
        Checkpoint.objects.filter(thread_id=thread_id)
        .order_by("-checkpoint_id")
        .values_list("checkpoint_id", flat=True)
    )
    # the prune ran before the put (3 and 4 stay) or after it (4 stays)
    assert kept in ([checkpoint_id(4), checkpoint_id(3)], [checkpoint_id(4)]), kept
    latest = reads.checkpoint_tuple_get(thread_id=thread_id, viewer=agent)
    assert latest is not None
    values_named = json.loads(latest)["channel_values"]
    assert [(v["channel"], v["data"]) for v in values_named] == [("a", "YTQ="), ("b", "YjE=")]
    values = set(
        CheckpointBlob.objects.filter(thread_id=thread_id).values_list("channel", "version")
    )
    assert {("a", "4"), ("b", "1")} <= values


@pytest.mark.parametrize("round_", range(8))
def test_a_put_racing_the_deletion_of_its_thread_lands_before_or_after_it(round_):
    agent = AgentUserFactory.create()
    thread_id = f"t-{round_}"
    for n in (1, 2):
        checkpoint_put(
            thread_id=thread_id,
            by=agent,
            checkpoint=checkpoint(n, {"a": n}),
            metadata={},
            blobs=[BlobInput(channel="a", version=n, type="msgpack", data=b"x" * 10_000)],
        )

    def put():
        return checkpoint_put(
            thread_id=thread_id,
            by=agent,
            checkpoint=checkpoint(3, {"a": 3}),
            metadata={},
            blobs=[BlobInput(channel="a", version=3, type="msgpack", data=b"y" * 10_000)],
        )

    def delete():
        return checkpoint_thread_delete(thread_id=thread_id, by=agent)

    results = run_concurrently(put, delete)

    assert not any(isinstance(result, Exception) for result in results), results
    remaining = list(
        Checkpoint.objects.filter(thread_id=thread_id).values_list("checkpoint_id", flat=True)
    )
    # deleted after the put (nothing left), or before it (the put made the thread anew)
    assert remaining in ([], [checkpoint_id(3)]), remaining
    assert CheckpointThread.objects.filter(thread_id=thread_id).count() == len(remaining)


def _open_then_commit(write: Callable[[], Any], then: Callable[[], Any]) -> list[Any]:
    """``write`` in a transaction left open while ``then`` runs in another connection, until
    ``then`` is done or waits for a lock; then the transaction commits. Returns both results
    (or the exceptions raised)."""
    written, release = threading.Event(), threading.Event()
    results: list[Any] = [None, None]

    def first() -> None:
        try:
            with transaction.atomic():
                results[0] = write()
                written.set()
                release.wait(timeout=30)
        except Exception as exc:
            results[0] = exc
        finally:
            written.set()
            connection.close()

    def second() -> None:
        try:
            results[1] = then()
        except Exception as exc:
            results[1] = exc
        finally:
            connection.close()

    opener = threading.Thread(target=first)
    opener.start()
    assert written.wait(timeout=30)
    follower = threading.Thread(target=second)
    follower.start()
    while follower.is_alive():
        with connection.cursor() as cursor:
            cursor.execute("SELECT EXISTS (SELECT 1 FROM pg_locks WHERE NOT granted)")
            if cursor.fetchone()[0]:
                break
        follower.join(timeout=0.01)
    release.set()
    opener.join(timeout=30)
    follower.join(timeout=30)
    assert not opener.is_alive(), "a call hung"
    assert not follower.is_alive(), "a call hung"
    return results


def test_a_thread_cannot_take_the_id_of_a_task_being_created_by_another_agent():
    agent_a, agent_b = AgentUserFactory.create(), AgentUserFactory.create()

    task, put = _open_then_commit(
        lambda: task_create(request_text="Ship it", created_by=agent_a, thread_id="shared"),
        lambda: checkpoint_put(
            thread_id="shared", by=agent_b, checkpoint=checkpoint(1, {}), metadata={}
        ),
    )

    assert isinstance(task, Task), task
    assert isinstance(put, ThreadNotFound), put
    assert not CheckpointThread.objects.exists()
    assert not Checkpoint.objects.exists()


def test_a_task_cannot_take_the_id_of_a_thread_being_created_by_another_agent():
    agent_a, agent_b = AgentUserFactory.create(), AgentUserFactory.create()

    put, task = _open_then_commit(
        lambda: checkpoint_put(
            thread_id="shared", by=agent_b, checkpoint=checkpoint(1, {}), metadata={}
        ),
        lambda: task_create(request_text="Ship it", created_by=agent_a, thread_id="shared"),
    )

    assert put is True, put
    assert isinstance(task, ValidationError), task
    assert not Task.objects.exists()
    assert CheckpointThread.objects.get().owner == agent_b
