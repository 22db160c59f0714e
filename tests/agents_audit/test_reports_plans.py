"""The post-mortem reports that list rows read their window through an index and stop at their
row limit (issue 11: every admin page under 300 ms at a million rows).

Plans are taken on the statistics of tables with a few hundred rows (``noise``, analysed in the
test's transaction) and with sequential scans and sorts priced out (``tests.admin_plans``): a
plan on a near-empty table's statistics walks whatever it likes, and passes or fails by the
clock of autovacuum.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.utils import timezone

from agents_audit.models import ExecutionLog, Task
from agents_audit.reports import DEFAULT_LIMIT, REPORTS
from tests.admin_plans import explain_sql, nodes
from tests.agents_audit.factories import ExecutionLogFactory
from tests.agents_audit.test_admin_trace import unbounded_scans
from tests.agents_audit.test_reports import recent_tasks

pytestmark = pytest.mark.django_db


@pytest.fixture
def noise() -> None:
    """300 tasks over 60 days, a third of them failed and a third using external AI, with three
    steps each (one failed in five); then fresh statistics."""
    now = timezone.now()
    for n, task in enumerate(recent_tasks(300)):
        created = now - timedelta(hours=n * 4.8)
        values: dict[str, Any] = {"created_at": created}
        if n % 3 == 1:
            values |= {
                "status": Task.Status.FAILED,
                "approved_at": created + timedelta(minutes=1),
                "completed_at": created + timedelta(minutes=2),
            }
        if n % 3 == 2:
            values |= {
                "external_ai_model": "gpt-4o",
                "external_ai_tokens": n,
                "external_ai_cost": Decimal(n) / 1000,
            }
        Task.objects.filter(pk=task.pk).update(**values)
        for step in (1, 2, 3):
            ExecutionLogFactory.create(
                task=task,
                step_number=step,
                duration_ms=100 * step,
                status="failed" if (n + step) % 5 == 0 else "completed",
            )
    ExecutionLog.objects.update(timestamp=now - timedelta(days=1))
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE tasks")  # in the test's transaction: rolled back
        cursor.execute("ANALYZE execution_logs")


def plan(name: str) -> dict[str, Any]:
    report = REPORTS[name]
    params = report._params(days=None, task=None, now=timezone.now(), limit=DEFAULT_LIMIT)
    return explain_sql(report.sql, params)


def kinds(node: dict[str, Any]) -> list[str]:
    return [n["Node Type"] for n in nodes(node)]


def indexes(node: dict[str, Any]) -> set[str]:
    return {n["Index Name"] for n in nodes(node) if "Index Name" in n}


@pytest.mark.parametrize(
    ("name", "index"),
    [
        ("failed-tasks", {"tasks_created_idx", "tasks_status_created_idx"}),
        ("failed-steps", {"execution_logs_timestamp_idx", "execution_logs_status_time_idx"}),
    ],
)
def test_the_latest_rows_are_read_newest_first_through_the_window_up_to_the_limit(
    noise, name, index
):
    found = plan(name)

    assert found["Node Type"] == "Limit"
    assert "Sort" not in kinds(found)  # an incremental sort of equal times only
    assert unbounded_scans(found) == []
    assert indexes(found) & index


def test_the_most_expensive_ai_tasks_are_read_in_the_order_of_their_index(noise):
    found = plan("external-ai")

    assert found["Node Type"] == "Limit"
    assert "Sort" not in kinds(found)
    assert "tasks_external_ai_cost_idx" in indexes(found)


def test_resource_usage_ranks_the_window_before_it_reads_the_wide_columns(noise):
    """Every task of the window is summed to rank them (at scale the window's steps are most of
    the table, read once in a hash join); the tasks are found through the window's index, and
    only the rows kept are read again for their texts and resources."""
    found = plan("resource-usage")

    assert found["Node Type"] == "Nested Loop"
    ranked, wide = found["Plans"]
    assert ranked["Node Type"] == "Limit"
    window = [n for n in nodes(ranked) if n.get("Index Name") == "tasks_created_idx"]
    assert [n.get("Index Cond", "") for n in window] == [window[0]["Index Cond"]]
    assert "created_at >=" in window[0]["Index Cond"]
    assert wide["Index Name"] == "tasks_pkey"
    assert wide["Index Cond"].startswith("(id = ")  # one kept row at a time
