"""Post-mortem reports over HTTP, on the dataset of tests/agents_audit/test_reports.py (its
NOW is the reports' clock here): the same numbers as JSON, decimals as strings, times ISO 8601."""

from __future__ import annotations

import types

import pytest

from agents_audit import reports
from agents_audit.reports import REPORTS
from tests.agents_audit import test_reports
from tests.agents_audit.test_reports import NOW, recent_tasks
from tests.conftest import error_codes

pytestmark = pytest.mark.django_db

t = test_reports.t  # the dataset fixture, under its own name


@pytest.fixture(autouse=True)
def reports_clock(monkeypatch):
    monkeypatch.setattr(reports, "timezone", types.SimpleNamespace(now=lambda: NOW))


def get(client, name: str, query: str = ""):
    return client.get(f"/api/v1/reports/{name}/{query}")


def test_the_list_names_every_report_with_its_parameters(operator_api):
    response = operator_api.get("/api/v1/reports/")

    assert response.status_code == 200
    listed = {r["name"]: r for r in response.json()}
    assert list(listed) == list(REPORTS)
    assert listed["failed-tasks"]["default_days"] == 7
    assert listed["failed-tasks"]["url"].endswith("/api/v1/reports/failed-tasks/")
    assert (listed["task-timeline"]["takes_task"], listed["tasks-by-status"]["default_days"]) == (
        True,
        None,
    )


def test_failed_tasks_as_json(operator_api, t):
    body = get(operator_api, "failed-tasks").json()

    assert (body["report"], body["days"], body["columns"], body["limit"], body["truncated"]) == (
        "failed-tasks",
        7,
        list(REPORTS["failed-tasks"].columns),
        100,
        False,
    )
    assert body["rows"] == [
        {
            "task_id": str(t["t2"].pk),
            "request_text": t["t2"].request_text,
            "error_message": "container crashed",
            "created_at": "2026-03-08T12:00:00.000000Z",
            "approved_at": "2026-03-08T12:10:00.000000Z",
            "completed_at": "2026-03-08T12:11:30.000000Z",
            "run_seconds": "90.000",
        }
    ]
    assert [r["task_id"] for r in get(operator_api, "failed-tasks", "?days=14").json()["rows"]] == [
        str(t["t2"].pk),
        str(t["t3"].pk),
    ]


def test_the_timeline_of_a_task(operator_api, t):
    rows = get(operator_api, "task-timeline", f"?task={t['t1'].pk}").json()["rows"]

    assert [(r["step_number"], r["agent_type"], r["elapsed_ms"]) for r in rows] == [
        (1, "orchestrator", 200),
        (2, "infra", 1700),
        (3, "code", 2000),
        (4, "infra", 3000),
    ]


def test_the_timeline_needs_a_task(operator_api, t):
    missing = get(operator_api, "task-timeline")
    malformed = get(operator_api, "task-timeline", "?task=nope")

    assert (missing.status_code, malformed.status_code) == (400, 400)
    assert error_codes(missing.json()) == {"task": ["required"]}
    assert error_codes(malformed.json()) == {"task": ["invalid"]}


def test_costs_by_model_are_exact_decimal_strings(operator_api, t):
    assert get(operator_api, "ai-cost-by-model").json()["rows"] == [
        {
            "model": "claude-3",
            "tasks": 2,
            "tokens": 5100,
            "cost": "0.153000",
            "avg_cost_per_task": "0.076500",
        },
        {
            "model": "gpt-4o",
            "tasks": 2,
            "tokens": 2000,
            "cost": "0.060000",
            "avg_cost_per_task": "0.030000",
        },
    ]


def test_the_other_reports_give_the_numbers_of_the_selectors(operator_api, t):
    assert [r["tasks"] for r in get(operator_api, "tasks-by-status").json()["rows"]] == [
        1,
        1,
        1,
        3,
        2,
        1,
    ]
    assert get(operator_api, "success-rate-by-day").json()["rows"][1] == {
        "day": "2026-03-08",
        "completed": 1,
        "failed": 1,
        "success_rate": "0.5000",
    }
    metrics = get(operator_api, "agent-metrics").json()["rows"]
    assert metrics[2] == {
        "agent_type": "infra",
        "steps": 3,
        "completed": 2,
        "failed": 1,
        "running": 0,
        "failure_rate": "0.3333",
        "avg_duration_ms": "2500.0",
        "max_duration_ms": 5000,
        "total_duration_ms": 7500,
    }
    longest = get(operator_api, "longest-tasks").json()["rows"]
    assert [(r["status"], r["run_seconds"]) for r in longest[:2]] == [
        ("executing", "7200.000"),
        ("failed", "3600.500"),
    ]
    usage = get(operator_api, "resource-usage").json()["rows"][1]
    assert (usage["estimated_resources"], usage["actual_resources"]) == ({"cpu": 2}, {"cpu": 1.5})
    assert [r["tokens"] for r in get(operator_api, "external-ai").json()["rows"]] == [
        5000,
        1200,
        800,
    ]
    assert len(get(operator_api, "failed-steps", "?days=30").json()["rows"]) == 3


@pytest.mark.parametrize("days", ["0", "3661", "-1", "x", "1.5", "9999999999"])
def test_days_out_of_range_or_not_a_number_is_a_400(operator_api, days):
    response = get(operator_api, "failed-tasks", f"?days={days}")

    assert response.status_code == 400
    assert list(error_codes(response.json())) == ["days"]


def test_a_response_holds_the_first_hundred_rows_and_says_there_are_more(operator_api):
    recent_tasks(101)

    body = get(operator_api, "resource-usage").json()

    assert (len(body["rows"]), body["limit"], body["truncated"]) == (100, 100, True)


def test_a_limit_gives_more_rows_or_fewer(operator_api, t):
    recent_tasks(101)

    more = get(operator_api, "resource-usage", "?limit=1000").json()
    fewer = get(operator_api, "external-ai", "?days=60&limit=2").json()

    assert (len(more["rows"]), more["limit"], more["truncated"]) == (101 + 8, 1000, False)
    assert ([r["tokens"] for r in fewer["rows"]], fewer["truncated"]) == ([5000, 1200], True)


@pytest.mark.parametrize("limit", ["0", "1001", "-1", "x", "1.5", "9999999999", ""])
def test_a_limit_out_of_range_or_not_a_number_is_a_400(operator_api, limit):
    response = get(operator_api, "failed-tasks", f"?limit={limit}")

    assert response.status_code == 400
    assert error_codes(response.json()) == {"limit": ["blank" if limit == "" else "invalid"]}


def test_the_schema_states_the_limit(operator_api):
    schema = operator_api.get("/api/schema/", {"format": "json"}).json()

    operation = schema["paths"]["/api/v1/reports/resource-usage/"]["get"]
    limit = next(p for p in operation["parameters"] if p["name"] == "limit")
    body = operation["responses"]["200"]["content"]["application/json"]["schema"]
    assert (limit["in"], limit.get("required", False), limit["schema"]) == (
        "query",
        False,
        {"type": "integer", "minimum": 1, "maximum": 1000},
    )
    assert {"limit", "truncated"} <= set(body["required"])


@pytest.mark.parametrize("name", sorted(REPORTS))
def test_agents_may_not_read_reports(agent_client, name):
    assert get(agent_client, name).status_code == 403


def test_an_unknown_report_is_a_404(operator_api):
    response = get(operator_api, "nope")

    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
