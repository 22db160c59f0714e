"""The audit lists filter instead of sorting (issue 11): by tool, by agent, by the last hour /
day / week, and "slow calls"; their choices cost a few index probes, not a DISTINCT over a
million rows; a value they do not know is the admin's "invalid filter" page, never a 500."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from agents_audit.admin_filters import SlowCallsFilter
from agents_audit.models import AgentExecution, ExecutionLog, ToolExecution
from agents_audit.models.audit import SLOW_MS
from devskyy import admin_filters
from tests.admin_plans import explain, explain_sql, nodes
from tests.agents_audit.factories import (
    AgentExecutionFactory,
    ExecutionLogFactory,
    ToolExecutionFactory,
)

pytestmark = pytest.mark.django_db

TOOLS = "/admin/agents_audit/toolexecution/"
AGENTS = "/admin/agents_audit/agentexecution/"
LOGS = "/admin/agents_audit/executionlog/"


def listed(client: Any, url: str, **params: str) -> list[Any]:
    response = client.get(url, params)
    assert response.status_code == 200, response
    return list(response.context["cl"].result_list)


def choices(client: Any, url: str, title: str) -> list[str]:
    response = client.get(url)
    [spec] = [s for s in response.context["cl"].filter_specs if s.title == title]
    return [c["display"] for c in spec.choices(response.context["cl"])][1:]  # after "All"


def aged(row: Any, **ago: float) -> Any:
    type(row).objects.filter(pk=row.pk).update(
        created_at=timezone.now() - datetime.timedelta(**ago)
    )
    return row


def test_tool_calls_are_filtered_by_tool_and_by_agent(operator_client):
    search = ToolExecutionFactory.create(tool_name="search_products", agent_id="agent-a")
    order = ToolExecutionFactory.create(tool_name="create_order", agent_id="agent-b")

    assert choices(operator_client, TOOLS, "tool") == ["create_order", "search_products"]
    assert choices(operator_client, TOOLS, "agent id") == ["agent-a", "agent-b"]
    assert listed(operator_client, TOOLS, tool_name="create_order") == [order]
    assert listed(operator_client, TOOLS, agent_id="agent-a") == [search]
    assert listed(operator_client, TOOLS, tool_name="no_such_tool") == []


def test_a_tool_no_longer_among_the_choices_is_still_offered_when_asked_for(operator_client):
    ToolExecutionFactory.create(tool_name="search_products")

    assert choices(operator_client, f"{TOOLS}?tool_name=retired_tool", "tool") == [
        "search_products",
        "retired_tool",
    ]


def test_agent_executions_are_filtered_by_agent(operator_client):
    wanted = AgentExecutionFactory.create(agent_name="infra_agent")
    AgentExecutionFactory.create(agent_name="commerce_agent")

    assert choices(operator_client, AGENTS, "agent name") == ["commerce_agent", "infra_agent"]
    assert listed(operator_client, AGENTS, agent_name="infra_agent") == [wanted]


def test_the_time_windows_keep_the_last_hour_day_or_week(operator_client):
    minutes = aged(ToolExecutionFactory.create(), minutes=10)
    hours = aged(ToolExecutionFactory.create(), hours=5)
    days = aged(ToolExecutionFactory.create(), days=3)
    aged(ToolExecutionFactory.create(), days=30)

    assert listed(operator_client, TOOLS, created="hour") == [minutes]
    assert listed(operator_client, TOOLS, created="day") == [minutes, hours]
    assert listed(operator_client, TOOLS, created="week") == [minutes, hours, days]


def test_log_steps_are_filtered_by_when_they_were_logged_and_by_duration(operator_client):
    recent = ExecutionLogFactory.create(duration_ms=40_000)
    ExecutionLog.objects.filter(pk=recent.pk).update(timestamp=timezone.now())
    old = ExecutionLogFactory.create(duration_ms=10)
    ExecutionLog.objects.filter(pk=old.pk).update(
        timestamp=timezone.now() - datetime.timedelta(days=2)
    )

    assert listed(operator_client, LOGS, logged="day") == [recent]
    assert listed(operator_client, LOGS, slower_than="30000") == [recent]


def test_slow_calls_are_those_at_least_the_threshold(operator_client):
    fast = ToolExecutionFactory.create(duration_ms=999)
    one_second = ToolExecutionFactory.create(duration_ms=1_000)
    six_seconds = ToolExecutionFactory.create(duration_ms=6_000)
    ToolExecutionFactory.create(duration_ms=None)

    assert choices(operator_client, TOOLS, "slow calls") == ["over 1 s", "over 5 s", "over 30 s"]
    assert fast not in listed(operator_client, TOOLS, slower_than="1000")
    assert set(listed(operator_client, TOOLS, slower_than="1000")) == {one_second, six_seconds}
    assert listed(operator_client, TOOLS, slower_than="5000") == [six_seconds]
    assert listed(operator_client, TOOLS, slower_than="30000") == []
    assert listed(operator_client, AGENTS, slower_than="30000") == []


@pytest.mark.parametrize(
    ("url", "param", "value"),
    [
        (TOOLS, "created", "year"),
        (TOOLS, "slower_than", "7"),
        (TOOLS, "slower_than", "-1"),
        (TOOLS, "tool_name", "x" * 500),
        (AGENTS, "agent_name", "x" * 500),
        (LOGS, "logged", "1' OR 1=1"),
    ],
)
def test_a_value_a_filter_does_not_know_is_the_invalid_filter_page(
    operator_client, url, param, value
):
    response = operator_client.get(url, {param: value})

    assert response.status_code == 302
    assert response["Location"].endswith("?e=1")


def test_a_filter_suffix_on_a_value_filter_is_refused(operator_client):
    response = operator_client.get(TOOLS, {"tool_name__regex": ".*"})

    assert response.status_code == 400


def test_every_threshold_is_served_by_the_partial_indexes_over_slow_rows():
    assert min(SlowCallsFilter.THRESHOLDS_MS) >= SLOW_MS
    for model, index in (
        (ToolExecution, "tool_exec_slow_idx"),
        (AgentExecution, "agent_exec_slow_idx"),
    ):
        for ms in SlowCallsFilter.THRESHOLDS_MS:
            query = model.objects.filter(duration_ms__gte=ms).order_by("-created_at")[:100]
            used = {node.get("Index Name") for node in nodes(explain(query))}
            assert index in used, (model, ms, used)


def test_the_choices_are_read_by_index_probes_and_bounded():
    for n in range(5):
        ToolExecutionFactory.create(tool_name=f"tool_{n}")

    with CaptureQueriesContext(connection) as queries:
        values = admin_filters.distinct_values(ToolExecution, "tool_name", 3)

    assert values == ["tool_0", "tool_1", "tool_2"]
    [sql] = [q["sql"] for q in queries.captured_queries]
    assert "DISTINCT" not in sql.upper()
    plan = list(nodes(explain_sql(sql)))
    assert [n for n in plan if n.get("Index Name") == "tool_exec_tool_created_idx"]
    assert not [n for n in plan if n["Node Type"] in {"Seq Scan", "Sort"}]


def test_the_choices_are_remembered_for_a_while(settings):
    settings.ADMIN_FILTER_CHOICES_SECONDS = 60
    admin_filters.forget_choices()
    ToolExecutionFactory.create(tool_name="first")
    assert admin_filters.distinct_values(ToolExecution, "tool_name", 10) == ["first"]
    ToolExecutionFactory.create(tool_name="second")

    with CaptureQueriesContext(connection) as queries:
        remembered = admin_filters.distinct_values(ToolExecution, "tool_name", 10)

    assert remembered == ["first"]
    assert queries.captured_queries == []
    admin_filters.forget_choices()
    assert admin_filters.distinct_values(ToolExecution, "tool_name", 10) == ["first", "second"]
