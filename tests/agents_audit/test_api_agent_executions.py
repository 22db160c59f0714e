"""POST/GET /api/v1/agent-executions/ and the complete/fail transitions."""

from __future__ import annotations

import pytest

from agents_audit.models import AgentExecution
from tests.agents_audit.factories import AgentExecutionFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/agent-executions/"
START = {
    "execution_id": "exec-1",
    "agent_name": "commerce_agent",
    "prompt": "Add 3 rings",
    "metadata": {"plan": ["search", "create"]},
}


def test_agent_starts_an_execution_as_running(agent_client, agent_a):
    response = agent_client.post(URL, START, format="json")
    assert response.status_code == 201
    body = response.json()
    assert body["status"] == "running"
    assert body["user"] == str(agent_a.id)
    assert body["result"] is None
    execution = AgentExecution.objects.get()
    assert (execution.execution_id, execution.user) == ("exec-1", agent_a)


def test_starting_again_with_the_same_body_returns_the_existing_execution(agent_client):
    first = agent_client.post(URL, START, format="json")
    again = agent_client.post(URL, START, format="json")
    assert again.status_code == 200
    assert again.json() == first.json()
    assert AgentExecution.objects.count() == 1


def test_a_different_body_under_the_same_execution_id_is_a_conflict(agent_client):
    agent_client.post(URL, START, format="json")
    response = agent_client.post(URL, {**START, "prompt": "Something else"}, format="json")
    assert response.status_code == 409
    assert response.json()["code"] == "conflict"
    assert AgentExecution.objects.get().prompt == "Add 3 rings"


def test_another_agent_reusing_an_execution_id_gets_a_conflict(agent_client, agent_b_client):
    agent_client.post(URL, START, format="json")
    response = agent_b_client.post(URL, START, format="json")
    assert response.status_code == 409
    assert AgentExecution.objects.count() == 1


@pytest.mark.parametrize(
    ("action", "body", "status"),
    [
        (
            "complete",
            {"result": {"answer": 42}, "tokens_used": 1200, "duration_ms": 3400},
            "completed",
        ),
        ("fail", {"result": {"error": "tool timed out"}, "duration_ms": 30000}, "failed"),
    ],
)
def test_an_execution_ends_once(agent_client, action, body, status):
    agent_client.post(URL, START, format="json")

    response = agent_client.post(f"{URL}exec-1/{action}/", body, format="json")
    assert response.status_code == 200, response.json()
    assert response.json()["status"] == status
    execution = AgentExecution.objects.get()
    assert execution.result == body["result"]
    assert execution.duration_ms == body["duration_ms"]

    for again in ("complete", "fail"):
        response = agent_client.post(f"{URL}exec-1/{again}/", body, format="json")
        assert response.status_code == 409
        assert response.json()["code"] == "invalid_transition"
    execution.refresh_from_db()
    assert execution.status == status


def test_fail_needs_the_error_in_result(agent_client):
    agent_client.post(URL, START, format="json")
    response = agent_client.post(f"{URL}exec-1/fail/", {}, format="json")
    assert response.status_code == 400
    assert AgentExecution.objects.get().status == "running"


def test_negative_token_counts_are_rejected(agent_client):
    agent_client.post(URL, START, format="json")
    response = agent_client.post(f"{URL}exec-1/complete/", {"tokens_used": -1}, format="json")
    assert response.status_code == 400
    assert AgentExecution.objects.get().status == "running"


def test_another_agent_can_neither_see_nor_end_an_execution(agent_client, agent_b_client):
    agent_client.post(URL, START, format="json")
    assert agent_b_client.get(f"{URL}exec-1/").status_code == 404
    assert agent_b_client.post(f"{URL}exec-1/complete/", {}, format="json").status_code == 404
    assert agent_b_client.get(URL).json()["results"] == []
    assert AgentExecution.objects.get().status == "running"


def test_an_operator_sees_every_execution_and_may_fail_a_stuck_one(agent_client, operator_api):
    agent_client.post(URL, START, format="json")
    assert [r["execution_id"] for r in operator_api.get(URL).json()["results"]] == ["exec-1"]
    response = operator_api.post(
        f"{URL}exec-1/fail/", {"result": {"error": "stuck"}}, format="json"
    )
    assert response.status_code == 200


def test_list_filters(agent_client, agent_a):
    wanted = AgentExecutionFactory.create(user=agent_a, agent_name="pricing", status="failed")
    AgentExecutionFactory.create(user=agent_a, agent_name="pricing", status="running")
    AgentExecutionFactory.create(user=agent_a, agent_name="other", status="failed")
    response = agent_client.get(URL + "?agent_name=pricing&status=failed")
    assert [r["id"] for r in response.json()["results"]] == [str(wanted.id)]
    response = agent_client.get(URL + "?created_before=2000-01-01T00:00:00Z")
    assert response.json()["results"] == []


def test_list_runs_a_constant_number_of_queries(agent_client, agent_a, django_assert_num_queries):
    AgentExecutionFactory.create_batch(30, user=agent_a)
    with django_assert_num_queries(2):
        assert len(agent_client.get(URL).json()["results"]) == 30
