"""Whose threads are whose: an agent reads and writes only its own (another's is a 404, as a
missing one), operators read all and write their own (403 otherwise), bulk calls skip the
threads of others, and nobody takes the thread id of another user's task."""

from __future__ import annotations

import pytest

from agents_audit.models import CheckpointThread
from tests.agents_audit.checkpoint_api import (
    DELETE_FOR_RUNS,
    PRUNE,
    SEARCH_ALL,
    checkpoint_body,
    get_tuple,
    put,
    put_writes,
    search_ids,
    snapshot,
    thread_url,
)
from tests.agents_audit.factories import TaskFactory, checkpoint_id
from tests.commerce.factories import UserFactory
from tests.conftest import key_client

pytestmark = pytest.mark.django_db

NO_SUCH_THREAD = {"code": "not_found", "detail": "No such thread."}
WRITES = {
    "checkpoint_id": "x",
    "task_id": "t",
    "writes": [{"idx": 0, "channel": "a", "type": "json", "data": "MQ=="}],
}


@pytest.fixture
def a_thread(agent_client):
    """Agent A's thread, with two checkpoints of run ``r-a``, a write and blobs."""
    put(agent_client, "a-thread", 1, channels={"v": b"1"}, metadata={"run_id": "r-a"})
    put(agent_client, "a-thread", 2, channels={"v": b"2"}, metadata={"run_id": "r-a"})
    put_writes(agent_client, "a-thread", 2, [(0, "v", b"w")])
    return "a-thread"


def agent_b_requests(thread_id: str) -> list[tuple[str, str, dict | None]]:
    return [
        ("get", thread_url(thread_id), None),
        ("delete", thread_url(thread_id), None),
        ("get", thread_url(thread_id, "checkpoint/"), None),
        ("post", thread_url(thread_id, "checkpoints/"), checkpoint_body(3)),
        ("post", thread_url(thread_id, "writes/"), WRITES),
        ("post", thread_url(thread_id, "checkpoints/search/"), {}),
        ("post", thread_url(thread_id, "copy/"), {"target_thread_id": "b-copy"}),  # as source
        ("post", thread_url("b-own", "copy/"), {"target_thread_id": thread_id}),  # as target
    ]


def test_agent_b_gets_404_for_every_call_on_agent_as_thread_and_changes_nothing(
    agent_b_client, a_thread
):
    put(agent_b_client, "b-own", 1)
    before = snapshot(a_thread)

    for method, url, body in agent_b_requests(a_thread):
        response = getattr(agent_b_client, method)(url, body, format="json")
        assert (response.status_code, response.json()) == (404, NO_SUCH_THREAD), (method, url)

    assert snapshot(a_thread) == before
    assert not CheckpointThread.objects.filter(thread_id="b-copy").exists()
    assert agent_b_client.get("/api/v1/threads/").json()["results"][0]["thread_id"] == "b-own"
    assert len(agent_b_client.get("/api/v1/threads/").json()["results"]) == 1


def test_bulk_calls_of_agent_b_skip_agent_as_threads(agent_b_client, a_thread):
    before = snapshot(a_thread)

    pruned = agent_b_client.post(PRUNE, {"thread_ids": [a_thread]}, format="json")
    deleted = agent_b_client.post(
        PRUNE, {"thread_ids": [a_thread], "strategy": "delete"}, format="json"
    )
    runs = agent_b_client.post(DELETE_FOR_RUNS, {"run_ids": ["r-a"]}, format="json")
    found = agent_b_client.post(SEARCH_ALL, {"filter": {"run_id": "r-a"}}, format="json")

    assert pruned.json() == deleted.json() == {"threads": 0, "checkpoints": 0}
    assert runs.json() == {"checkpoints": 0}
    assert found.json() == {"results": [], "next_cursor": None}
    assert snapshot(a_thread) == before


def test_operators_read_every_thread_but_write_only_their_own(operator_api, admin_api, a_thread):
    before = snapshot(a_thread)
    for client in (operator_api, admin_api):
        assert client.get(thread_url(a_thread)).status_code == 200
        assert get_tuple(client, a_thread).json()["checkpoint_id"] == checkpoint_id(2)
        assert search_ids(client, a_thread) == [checkpoint_id(2), checkpoint_id(1)]
        for method, url, body in [
            ("delete", thread_url(a_thread), None),
            ("post", thread_url(a_thread, "checkpoints/"), checkpoint_body(3)),
            ("post", thread_url(a_thread, "writes/"), WRITES),
        ]:
            response = getattr(client, method)(url, body, format="json")
            assert (response.status_code, response.json()["code"]) == (403, "permission_denied")
        # bulk calls act on the caller's own threads only
        assert client.post(PRUNE, {"thread_ids": [a_thread]}, format="json").json()["threads"] == 0
        assert client.post(DELETE_FOR_RUNS, {"run_ids": ["r-a"]}, format="json").json() == {
            "checkpoints": 0
        }
    assert snapshot(a_thread) == before

    # an operator may copy a thread it reads into one of its own
    copied = operator_api.post(
        thread_url(a_thread, "copy/"), {"target_thread_id": "op-copy"}, format="json"
    )
    assert copied.json() == {"thread_id": "op-copy", "checkpoints": 2}
    # but not into another's
    response = operator_api.post(
        thread_url("op-copy", "copy/"), {"target_thread_id": a_thread}, format="json"
    )
    assert response.status_code == 403


def test_customers_may_not_use_the_checkpoint_api(client):
    customer = UserFactory.create()
    client.force_login(customer)
    assert client.get("/api/v1/threads/").status_code == 403
    response = client.post(thread_url("c"), checkpoint_body(1), content_type="application/json")
    assert response.status_code in (403, 405)
    assert client.post(SEARCH_ALL, {}, content_type="application/json").status_code == 403


def test_an_agent_cannot_take_the_thread_id_of_another_users_task(
    agent_a, agent_b_client, agent_client
):
    TaskFactory.create(created_by=agent_a, thread_id="task-thread")

    for method, url, body in [
        ("post", thread_url("task-thread", "checkpoints/"), checkpoint_body(1)),
        ("post", thread_url("task-thread", "writes/"), WRITES),
        ("post", thread_url("b-own", "copy/"), {"target_thread_id": "task-thread"}),
    ]:
        if "copy" in url:
            put(agent_b_client, "b-own", 1)
        response = getattr(agent_b_client, method)(url, body, format="json")
        assert (response.status_code, response.json()) == (404, NO_SUCH_THREAD), url
    assert not CheckpointThread.objects.filter(thread_id="task-thread").exists()

    # the task's creator makes it, and it is linked to the task
    put(agent_client, "task-thread", 1)
    assert agent_client.get(thread_url("task-thread")).json()["task"] is not None


def test_an_operator_cannot_take_the_thread_id_of_another_users_task(agent_a, operator_api):
    TaskFactory.create(created_by=agent_a, thread_id="task-thread")
    response = operator_api.post(
        thread_url("task-thread", "checkpoints/"), checkpoint_body(1), format="json"
    )
    assert response.status_code == 403
    assert not CheckpointThread.objects.exists()


def test_a_thread_outlives_its_owners_account_and_then_nobody_writes_to_it(
    agent_a, operator_api, a_thread
):
    agent_a.delete()
    thread = CheckpointThread.objects.get()
    assert thread.owner_id is None
    assert get_tuple(operator_api, a_thread).status_code == 200
    other = key_client(UserFactory.create(role="agent"))
    assert get_tuple(other, a_thread).status_code == 404
    assert (
        other.post(
            thread_url(a_thread, "checkpoints/"), checkpoint_body(3), format="json"
        ).status_code
        == 404
    )
