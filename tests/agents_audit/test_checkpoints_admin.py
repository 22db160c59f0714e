"""Operators read LangGraph threads in the admin and on their task: the thread's checkpoints
newest first, each with its step, source, pending writes and whether the graph waits at an
interrupt; a checkpoint's page shows its JSON and what its values and writes are (type, size).
Nobody adds, edits or deletes them here. The task's API timeline lists the same checkpoints."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.admin.utils import quote
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from agents_audit.models import Checkpoint, CheckpointThread, Task
from agents_audit.selectors import TIMELINE_CHECKPOINTS
from agents_audit.services.tasks import task_create
from tests.agents_audit.factories import (
    CheckpointBlobFactory,
    CheckpointFactory,
    CheckpointThreadFactory,
    CheckpointWriteFactory,
    TaskFactory,
    checkpoint_id,
)

pytestmark = pytest.mark.django_db

THREADS = reverse("admin:agents_audit_checkpointthread_changelist")
CHECKPOINTS = reverse("admin:agents_audit_checkpoint_changelist")


def thread_page(thread: CheckpointThread) -> str:
    return reverse("admin:agents_audit_checkpointthread_change", args=[quote(thread.pk)])


def checkpoint_page(checkpoint: Checkpoint) -> str:
    return reverse("admin:agents_audit_checkpoint_change", args=[checkpoint.pk])


def a_run(thread: CheckpointThread, steps: int) -> list[Checkpoint]:
    """``steps`` checkpoints of one run, oldest first, each the parent of the next."""
    saved: list[Checkpoint] = []
    for step in range(-1, steps - 1):
        saved.append(
            CheckpointFactory.create(
                thread=thread,
                parent_checkpoint_id=saved[-1].checkpoint_id if saved else None,
                metadata={"source": "input" if step < 0 else "loop", "step": step},
            )
        )
    return saved


def text(response: Any) -> str:
    return response.content.decode()


def test_a_tasks_page_shows_its_threads_checkpoints_newest_first_and_the_interrupt(
    operator_client, agent_a
):
    task = task_create(request_text="Order 3 rings", created_by=agent_a, thread_id="order-42")
    thread = CheckpointThreadFactory.create(thread_id="order-42", owner=agent_a)
    run = a_run(thread, 4)
    CheckpointWriteFactory.create(
        thread=thread, checkpoint_id=run[-1].checkpoint_id, channel="__interrupt__", idx=-3
    )

    page = text(operator_client.get(reverse("admin:agents_audit_task_change", args=[task.pk])))

    assert thread_page(thread) in page
    positions = [page.index(c.checkpoint_id) for c in reversed(run)]
    assert positions == sorted(positions)  # newest first
    assert "waiting at an interrupt" in page
    assert "4 of 4 checkpoint(s)" in page


def test_a_task_whose_thread_saved_nothing_says_so(operator_client):
    task = TaskFactory.create()

    page = text(operator_client.get(reverse("admin:agents_audit_task_change", args=[task.pk])))

    assert "No checkpoints saved for this thread id." in page
    assert "No checkpoints." in page


def test_a_threads_page_links_its_task_and_lists_a_bounded_page_of_checkpoints(
    operator_client, agent_a
):
    task = task_create(request_text="Long run", created_by=agent_a, thread_id="long/run 1")
    thread = CheckpointThreadFactory.create(thread_id="long/run 1", owner=agent_a)
    run = a_run(thread, 60)

    page = text(operator_client.get(thread_page(thread)))

    assert reverse("admin:agents_audit_task_change", args=[task.pk]) in page
    assert run[-1].checkpoint_id in page
    assert run[0].checkpoint_id not in page  # beyond the 50 newest
    assert "50 of 60 checkpoint(s)" in page
    everything = operator_client.get(CHECKPOINTS, {"thread": thread.pk})
    assert everything.status_code == 200
    assert everything.context["cl"].result_count == 60


def test_a_checkpoints_page_shows_its_json_its_values_and_writes_and_its_parent(operator_client):
    thread = CheckpointThreadFactory.create()
    parent, checkpoint = a_run(thread, 2)
    checkpoint.checkpoint["channel_versions"] = {"messages": "7", "empty": "1"}
    checkpoint.save()
    CheckpointBlobFactory.create(thread=thread, channel="messages", version="7", blob=b"x" * 321)
    CheckpointBlobFactory.create(thread=thread, channel="messages", version="6", blob=b"old")
    CheckpointWriteFactory.create(
        thread=thread, checkpoint_id=checkpoint.checkpoint_id, task_id="t-9", blob=b"abcd"
    )

    page = text(operator_client.get(checkpoint_page(checkpoint)))

    assert checkpoint_page(parent) in page
    assert "&quot;channel_versions&quot;: {" in page  # indented JSON, escaped
    assert "<td>messages</td><td>7</td><td>msgpack</td><td>321</td>" in page
    assert "<td>6</td>" not in page  # an older version is not this checkpoint's value
    assert "<td>t-9</td>" in page
    assert "<td>4</td></tr>" in page


def test_checkpoints_are_searched_by_exact_ids_on_their_indexes(operator_client):
    thread = CheckpointThreadFactory.create(thread_id="Exact-Thread")
    checkpoint = CheckpointFactory.create(thread=thread)
    CheckpointFactory.create()

    by_thread = operator_client.get(CHECKPOINTS, {"q": "Exact-Thread"})
    by_id = operator_client.get(CHECKPOINTS, {"q": checkpoint.checkpoint_id})
    not_exact = operator_client.get(CHECKPOINTS, {"q": "exact-thread"})
    threads = operator_client.get(THREADS, {"q": "Exact-Thread"})

    assert list(by_thread.context["cl"].result_list) == [checkpoint]
    assert list(by_id.context["cl"].result_list) == [checkpoint]
    assert list(not_exact.context["cl"].result_list) == []
    assert list(threads.context["cl"].result_list) == [thread]
    with CaptureQueriesContext(connection) as queries:
        operator_client.get(CHECKPOINTS, {"q": "Exact-Thread"})
    searches = [q["sql"] for q in queries.captured_queries if '"checkpoints"' in q["sql"]]
    assert searches
    assert not any("UPPER(" in sql for sql in searches)


def test_operators_cannot_add_change_or_delete_checkpoints_or_threads(operator_client):
    checkpoint = CheckpointFactory.create()

    for page in (checkpoint_page(checkpoint), thread_page(checkpoint.thread)):
        body = text(operator_client.get(page))
        assert 'name="_save"' not in body
        assert "deletelink" not in body
    for model in ("checkpoint", "checkpointthread"):
        assert operator_client.get(reverse(f"admin:agents_audit_{model}_add")).status_code == 403
    delete = reverse("admin:agents_audit_checkpoint_delete", args=[checkpoint.pk])
    assert operator_client.post(delete, {"post": "yes"}).status_code == 403
    assert Checkpoint.objects.filter(pk=checkpoint.pk).exists()


# --- the task's timeline (API) ------------------------------------------------------------------


def test_a_tasks_timeline_lists_its_threads_checkpoints_oldest_first(agent_client, agent_a):
    task = task_create(request_text="Order", created_by=agent_a, thread_id="order-7")
    thread = CheckpointThreadFactory.create(thread_id="order-7", owner=agent_a)
    run = a_run(thread, 3)
    CheckpointWriteFactory.create(
        thread=thread, checkpoint_id=run[-1].checkpoint_id, channel="__interrupt__", idx=-3
    )
    CheckpointFactory.create(metadata={"step": 0})  # another thread's

    body = agent_client.get(f"/api/v1/tasks/{task.pk}/timeline/").json()

    assert [
        (c["checkpoint_id"], c["step"], c["source"], c["pending_writes"], c["interrupted"])
        for c in body["checkpoints"]
    ] == [
        (run[0].checkpoint_id, -1, "input", 0, False),
        (run[1].checkpoint_id, 0, "loop", 0, False),
        (run[2].checkpoint_id, 1, "loop", 1, True),
    ]
    assert body["checkpoints"][1]["parent_checkpoint_id"] == run[0].checkpoint_id


def test_a_timeline_shows_the_newest_checkpoints_of_a_long_thread(agent_client, agent_a):
    task = task_create(request_text="Long", created_by=agent_a, thread_id="long-7")
    thread = CheckpointThreadFactory.create(thread_id="long-7", owner=agent_a)
    Checkpoint.objects.bulk_create(
        Checkpoint(
            thread=thread,
            checkpoint_id=checkpoint_id(10_000 + n),
            checkpoint={"id": checkpoint_id(10_000 + n), "channel_versions": {}},
            metadata={"step": n},
        )
        for n in range(TIMELINE_CHECKPOINTS + 5)
    )

    steps = [
        c["step"]
        for c in agent_client.get(f"/api/v1/tasks/{task.pk}/timeline/").json()["checkpoints"]
    ]

    assert steps == list(range(5, TIMELINE_CHECKPOINTS + 5))


def test_a_task_without_a_thread_has_no_checkpoints_in_its_timeline(agent_client, agent_a):
    task = task_create(request_text="Plain", created_by=agent_a)

    assert agent_client.get(f"/api/v1/tasks/{task.pk}/timeline/").json()["checkpoints"] == []


# --- a task links only to its author's thread ---------------------------------------------------


def test_a_task_cannot_take_the_thread_id_of_another_agents_langgraph_thread(agent_client, agent_b):
    CheckpointThreadFactory.create(thread_id="b-thread", owner=agent_b)
    CheckpointThreadFactory.create(thread_id="orphan", owner=None)  # its owner was deleted

    taken = agent_client.post(
        "/api/v1/tasks/", {"request_text": "Hijack", "thread_id": "b-thread"}, format="json"
    )
    orphan = agent_client.post(
        "/api/v1/tasks/", {"request_text": "Adopt", "thread_id": "orphan"}, format="json"
    )

    for refused in (taken, orphan):
        assert refused.status_code == 400
        assert refused.json()["errors"]["thread_id"][0]["code"] == "unique"
    assert not Task.objects.exists()


def test_an_agent_files_a_task_for_its_own_running_thread(agent_client, agent_a):
    CheckpointThreadFactory.create(thread_id="mine", owner=agent_a)

    response = agent_client.post(
        "/api/v1/tasks/", {"request_text": "Approve", "thread_id": "mine"}, format="json"
    )

    assert response.status_code == 201


def test_a_task_links_the_thread_id_as_sent_spaces_and_all(agent_client, agent_a):
    # LangGraph takes a thread id as it is; so does the checkpoint API
    thread = CheckpointThreadFactory.create(thread_id=" order 7 ", owner=agent_a)
    run = a_run(thread, 1)

    response = agent_client.post(
        "/api/v1/tasks/", {"request_text": "Approve", "thread_id": " order 7 "}, format="json"
    )

    assert response.status_code == 201
    assert response.json()["thread_id"] == " order 7 "
    timeline = agent_client.get(f"/api/v1/tasks/{response.json()['id']}/timeline/").json()
    assert [c["checkpoint_id"] for c in timeline["checkpoints"]] == [run[0].checkpoint_id]
