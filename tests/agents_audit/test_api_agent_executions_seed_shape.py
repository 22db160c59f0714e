"""``complete`` also takes seed 001's shape: ``complete_execution(result)`` sends only ``result``
and reads ``tokens_used`` and ``duration_ms`` out of it. Top-level fields, when present, win."""

from __future__ import annotations

import pytest

from agents_audit.models import AgentExecution
from tests.conftest import error_codes

pytestmark = pytest.mark.django_db

URL = "/api/v1/agent-executions/"
START = {"execution_id": "exec-1", "agent_name": "commerce_agent", "prompt": "Add 3 rings"}


@pytest.fixture
def started(agent_client):
    assert agent_client.post(URL, START, format="json").status_code == 201
    return agent_client


def complete(client, body):
    return client.post(f"{URL}exec-1/complete/", body, format="json")


def test_the_seeds_body_records_the_counts_it_carries_in_result(started):
    result = {"answer": 42, "tokens_used": 1200, "duration_ms": 3400}

    response = complete(started, {"result": result})

    assert response.status_code == 200, response.json()
    body = response.json()
    assert (body["status"], body["tokens_used"], body["duration_ms"]) == ("completed", 1200, 3400)
    assert body["result"] == result  # kept whole, as the seed stored it
    execution = AgentExecution.objects.get()
    assert (execution.tokens_used, execution.duration_ms) == (1200, 3400)
    assert execution.result == result


def test_top_level_counts_win_over_those_in_result(started):
    response = complete(
        started,
        {"result": {"tokens_used": 1, "duration_ms": 2}, "tokens_used": 10, "duration_ms": None},
    )

    assert response.status_code == 200
    execution = AgentExecution.objects.get()
    assert (execution.tokens_used, execution.duration_ms) == (10, None)


def test_one_count_may_come_from_each_place(started):
    response = complete(started, {"result": {"duration_ms": 2}, "tokens_used": 10})

    assert response.status_code == 200
    execution = AgentExecution.objects.get()
    assert (execution.tokens_used, execution.duration_ms) == (10, 2)


def test_a_result_without_counts_or_not_an_object_leaves_them_null(started):
    assert complete(started, {"result": ["tokens_used", 5]}).status_code == 200
    execution = AgentExecution.objects.get()
    assert (execution.tokens_used, execution.duration_ms) == (None, None)


@pytest.mark.parametrize(
    ("counts", "codes"),
    [
        ({"tokens_used": -1}, {"tokens_used": ["min_value"]}),
        ({"duration_ms": 2**31}, {"duration_ms": ["max_value"]}),
        (
            {"tokens_used": "many", "duration_ms": True},
            {"tokens_used": ["invalid"], "duration_ms": ["invalid"]},
        ),
        ({"duration_ms": 1.5}, {"duration_ms": ["invalid"]}),
    ],
)
def test_counts_in_result_follow_the_top_level_rules(started, counts, codes):
    response = complete(started, {"result": {"answer": 1, **counts}})

    assert response.status_code == 400
    errors = response.json()["errors"]["result"]
    assert {name: [e["code"] for e in found] for name, found in errors.items()} == codes
    assert AgentExecution.objects.get().status == "running"


def test_an_invalid_count_in_result_is_ignored_when_the_top_level_one_is_given(started):
    response = complete(started, {"result": {"tokens_used": -1}, "tokens_used": 7})

    assert response.status_code == 200
    assert AgentExecution.objects.get().tokens_used == 7


def test_fail_keeps_its_result_as_the_error_and_reads_no_counts_from_it(started):
    error = {"error": "tool timed out", "duration_ms": "n/a"}

    response = started.post(f"{URL}exec-1/fail/", {"result": error}, format="json")

    assert response.status_code == 200, error_codes(response.json())
    execution = AgentExecution.objects.get()
    assert (execution.status, execution.result, execution.duration_ms) == ("failed", error, None)
