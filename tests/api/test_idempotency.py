"""Idempotency-Key on POST: replay, mismatch, concurrent duplicates, release on failure."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from agents_audit.models import AgentExecution, ToolExecution
from devskyy.models import IdempotencyRecord
from tests.commerce.factories import AgentUserFactory
from tests.conftest import key_client

TOOL = "/api/v1/tool-executions/"
BODY = {"correlation_id": "c", "tool_name": "t", "inputs": {"q": 1}, "status": "success"}


@pytest.mark.django_db
def test_the_same_key_and_body_replays_the_first_response(agent_client):
    first = agent_client.post(TOOL, BODY, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    again = agent_client.post(TOOL, BODY, format="json", HTTP_IDEMPOTENCY_KEY="k-1")

    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"
    assert ToolExecution.objects.count() == 1


@pytest.mark.django_db
def test_the_same_key_with_another_body_is_a_422(agent_client):
    agent_client.post(TOOL, BODY, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    response = agent_client.post(
        TOOL, {**BODY, "status": "failed"}, format="json", HTTP_IDEMPOTENCY_KEY="k-1"
    )
    assert response.status_code == 422
    assert response.json()["code"] == "idempotency_key_reused"
    assert ToolExecution.objects.count() == 1


@pytest.mark.django_db
def test_the_same_key_on_another_endpoint_is_a_422(agent_client):
    agent_client.post(TOOL, BODY, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    response = agent_client.post(TOOL + "bulk/", [BODY], format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    assert response.status_code == 422


@pytest.mark.django_db
def test_keys_are_scoped_per_caller(agent_client, agent_b_client):
    agent_client.post(TOOL, BODY, format="json", HTTP_IDEMPOTENCY_KEY="shared")
    response = agent_b_client.post(TOOL, BODY, format="json", HTTP_IDEMPOTENCY_KEY="shared")
    assert response.status_code == 201
    assert "Idempotent-Replayed" not in response
    assert ToolExecution.objects.count() == 2


@pytest.mark.django_db
def test_a_failed_request_releases_its_key_so_a_corrected_retry_runs(agent_client):
    bad = agent_client.post(
        TOOL, {**BODY, "status": "nope"}, format="json", HTTP_IDEMPOTENCY_KEY="k-2"
    )
    assert bad.status_code == 400
    assert not IdempotencyRecord.objects.exists()
    good = agent_client.post(TOOL, BODY, format="json", HTTP_IDEMPOTENCY_KEY="k-2")
    assert good.status_code == 201


@pytest.mark.django_db
def test_a_retried_transition_replays_its_answer_and_a_refused_one_releases_its_key(
    agent_client,
):
    agent_client.post(
        "/api/v1/agent-executions/",
        {"execution_id": "e", "agent_name": "a", "prompt": "p"},
        format="json",
    )
    url = "/api/v1/agent-executions/e/complete/"
    assert agent_client.post(url, {}, format="json", HTTP_IDEMPOTENCY_KEY="c1").status_code == 200
    again = agent_client.post(url, {}, format="json", HTTP_IDEMPOTENCY_KEY="c1")
    assert again.status_code == 200  # the first answer, not a 409: the retry is the same call
    assert again["Idempotent-Replayed"] == "true"
    fresh = agent_client.post(url, {}, format="json", HTTP_IDEMPOTENCY_KEY="c2")
    assert fresh.status_code == 409  # a new key runs the call again: already completed
    # a refused call stores nothing under its key (errors are not replayed; a retry runs again)
    assert list(IdempotencyRecord.objects.values_list("key", flat=True)) == ["c1"]


@pytest.mark.django_db
@pytest.mark.parametrize("key", ["", "x" * 256, "tab\there"])
def test_malformed_keys_are_400s(agent_client, key):
    response = agent_client.post(TOOL, BODY, format="json", HTTP_IDEMPOTENCY_KEY=key)
    assert response.status_code == 400
    assert not ToolExecution.objects.exists()


@pytest.mark.django_db
def test_an_expired_key_starts_afresh(agent_client, settings):
    agent_client.post(TOOL, BODY, format="json", HTTP_IDEMPOTENCY_KEY="old")
    IdempotencyRecord.objects.update(created_at=timezone.now() - timedelta(hours=25))
    response = agent_client.post(
        TOOL, {**BODY, "status": "failed"}, format="json", HTTP_IDEMPOTENCY_KEY="old"
    )
    assert response.status_code == 201
    assert ToolExecution.objects.count() == 2


@pytest.mark.django_db
def test_purge_deletes_only_expired_records(agent_client):
    agent_client.post(TOOL, BODY, format="json", HTTP_IDEMPOTENCY_KEY="old")
    agent_client.post(TOOL, BODY, format="json", HTTP_IDEMPOTENCY_KEY="new")
    IdempotencyRecord.objects.filter(key="old").update(
        created_at=timezone.now() - timedelta(hours=25)
    )
    call_command("purge_idempotency_records", stdout=open("/dev/null", "w"))  # noqa: SIM115
    assert list(IdempotencyRecord.objects.values_list("key", flat=True)) == ["new"]


@pytest.mark.django_db(transaction=True)
def test_concurrent_duplicates_write_once_and_the_others_get_409_or_a_replay():
    agent = AgentUserFactory.create()
    clients = [key_client(agent) for _ in range(8)]
    barrier = threading.Barrier(len(clients))
    outcomes: list[tuple[int, bool]] = []
    lock = threading.Lock()

    def send(client):
        try:
            barrier.wait()
            response = client.post(
                "/api/v1/agent-executions/",
                {"execution_id": "once", "agent_name": "a", "prompt": "p"},
                format="json",
                HTTP_IDEMPOTENCY_KEY="same-key",
            )
            with lock:
                outcomes.append((response.status_code, response.has_header("Idempotent-Replayed")))
        finally:
            connection.close()

    threads = [threading.Thread(target=send, args=(c,)) for c in clients]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert AgentExecution.objects.count() == 1
    # one request ran; the others saw it in progress (409) or, once it had finished, its replay
    assert outcomes.count((201, False)) == 1
    assert set(outcomes) <= {(201, False), (409, False), (201, True)}
    assert IdempotencyRecord.objects.get().state == "completed"


@pytest.mark.django_db(transaction=True)
def test_concurrent_starts_without_a_key_are_idempotent_on_execution_id():
    agent = AgentUserFactory.create()
    clients = [key_client(agent) for _ in range(6)]
    barrier = threading.Barrier(len(clients))
    statuses: list[int] = []
    lock = threading.Lock()

    def send(client):
        try:
            barrier.wait()
            response = client.post(
                "/api/v1/agent-executions/",
                {"execution_id": "race", "agent_name": "a", "prompt": "p"},
                format="json",
            )
            with lock:
                statuses.append(response.status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=send, args=(c,)) for c in clients]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert AgentExecution.objects.count() == 1
    assert sorted(statuses) == [200] * 5 + [201]
