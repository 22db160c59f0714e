"""Post-mortem reports on a small fixed dataset: every report's exact numbers, each in one query.

The dataset, relative to NOW (2026-03-10 12:00 UTC); run time is from approval to the end:

====  ==========  ==============  ===========  ============================  ===================
task  status      created         run          external AI                   steps (ms)
====  ==========  ==============  ===========  ============================  ===================
t1    completed   NOW - 1 d       1800 s       gpt-4o, 1200 tok, 0.036       orch 200, infra
                                                                             1500, code 300
                                                                             (failed), infra 1000
t2    failed      NOW - 2 d       90 s         -                             infra 5000 (failed)
t3    failed      NOW - 10 d      3600.5 s     claude-3, 5000 tok, 0.150     research 2500,
                                                                             code 400 (failed)
t4    completed   NOW - 2 d + 1h  600 s        gpt-4o, 800 tok, 0.024        -
t5    executing   NOW - 23 h      approved     -                             desktop (running)
                                  NOW - 2 h
t6    approved    NOW - 3 h       -            -                             -
t7    pending     NOW - 4 h       -            -                             -
t8    rejected    NOW - 5 d       -            -                             -
t9    completed   NOW - 40 d      60 s         claude-3, 100 tok, 0.003      -
====  ==========  ==============  ===========  ============================  ===================
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from agents_audit.models import ExecutionLog, Task
from agents_audit.reports import MAX_LIMIT, REPORTS
from devskyy.errors import InvalidInput
from tests.agents_audit.factories import ExecutionLogFactory, TaskFactory

NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
D, H, M, S = timedelta(days=1), timedelta(hours=1), timedelta(minutes=1), timedelta(seconds=1)


def make_task(
    status: str,
    created: datetime,
    *,
    approved: datetime | None = None,
    run: timedelta | None = None,
    ai: tuple[str, int, str] | None = None,
    **fields: Any,
) -> Task:
    """A task in ``status``, its times set explicitly (the services stamp the real clock)."""
    task = TaskFactory.create()
    values: dict[str, Any] = {"status": status, "created_at": created, **fields}
    if status in ("approved", "executing", "completed", "failed"):
        values["approved_at"] = approved or created + 10 * M
    if run is not None:
        values["completed_at"] = values["approved_at"] + run
    if ai is not None:
        model, tokens, cost = ai
        values |= {
            "external_ai_model": model,
            "external_ai_tokens": tokens,
            "external_ai_cost": Decimal(cost),
        }
    Task.objects.filter(pk=task.pk).update(**values)
    task.refresh_from_db()
    return task


def log(task: Task, number: int, agent_type: str, at: datetime, ms: int | None, status="completed"):
    entry = ExecutionLogFactory.create(
        task=task,
        step_number=number,
        agent_type=agent_type,
        status=status,
        duration_ms=ms,
        action=f"step {number} of {agent_type}",
    )
    ExecutionLog.objects.filter(pk=entry.pk).update(timestamp=at)


@pytest.fixture
def t(db) -> dict[str, Task]:
    tasks = {
        "t1": make_task(
            "completed",
            NOW - D,
            run=1800 * S,
            ai=("gpt-4o", 1200, "0.036"),
            estimated_resources={"cpu": 2},
            actual_resources={"cpu": 1.5},
        ),
        "t2": make_task("failed", NOW - 2 * D, run=90 * S, error_message="container crashed"),
        "t3": make_task(
            "failed",
            NOW - 10 * D,
            run=3600.5 * S,
            ai=("claude-3", 5000, "0.150"),
            error_message="git sync failed",
        ),
        "t4": make_task("completed", NOW - 2 * D + H, run=600 * S, ai=("gpt-4o", 800, "0.024")),
        "t5": make_task("executing", NOW - 23 * H, approved=NOW - 2 * H),
        "t6": make_task("approved", NOW - 3 * H),
        "t7": make_task("pending", NOW - 4 * H),
        "t8": make_task("rejected", NOW - 5 * D),
        "t9": make_task("completed", NOW - 40 * D, run=60 * S, ai=("claude-3", 100, "0.003")),
    }
    t1, t2, t3, t5 = tasks["t1"], tasks["t2"], tasks["t3"], tasks["t5"]
    log(t1, 1, "orchestrator", NOW - D + 11 * M, 200)
    log(t1, 2, "infra", NOW - D + 12 * M, 1500)
    log(t1, 3, "code", NOW - D + 13 * M, 300, status="failed")
    log(t1, 4, "infra", NOW - D + 14 * M, 1000)
    log(t2, 1, "infra", NOW - 2 * D + 11 * M, 5000, status="failed")
    log(t3, 1, "research", NOW - 10 * D + 11 * M, 2500)
    log(t3, 2, "code", NOW - 10 * D + 12 * M, 400, status="failed")
    log(t5, 1, "desktop", NOW - H, None, status="running")
    return tasks


def recent_tasks(count: int) -> list[Task]:
    """``count`` pending tasks created in the last hour (one agent created them all)."""
    first = TaskFactory.create()
    return [first, *TaskFactory.create_batch(count - 1, created_by=first.created_by)]


def run(name: str, **params: Any) -> list[dict[str, Any]]:
    return REPORTS[name].run(now=NOW, **params).rows


def ids(rows: list[dict[str, Any]], tasks: dict[str, Task]) -> list[str]:
    names = {task.pk: name for name, task in tasks.items()}
    return [names[row["task_id"]] for row in rows]


def test_the_registry_names_the_ten_reports_with_their_parameters():
    assert {name: (r.days, r.takes_task) for name, r in REPORTS.items()} == {
        "failed-tasks": (7, False),
        "task-timeline": (None, True),
        "resource-usage": (30, False),
        "external-ai": (30, False),
        "agent-metrics": (30, False),
        "failed-steps": (7, False),
        "tasks-by-status": (None, False),
        "ai-cost-by-model": (None, False),
        "longest-tasks": (30, False),
        "success-rate-by-day": (30, False),
    }


def test_failed_tasks_in_the_last_seven_days_by_default(t):
    rows = run("failed-tasks")

    assert rows == [
        {
            "task_id": t["t2"].pk,
            "request_text": t["t2"].request_text,
            "error_message": "container crashed",
            "created_at": NOW - 2 * D,
            "approved_at": NOW - 2 * D + 10 * M,
            "completed_at": NOW - 2 * D + 10 * M + 90 * S,
            "run_seconds": Decimal("90.000"),
        }
    ]
    longer = run("failed-tasks", days=14)
    assert ids(longer, t) == ["t2", "t3"]
    assert longer[1]["run_seconds"] == Decimal("3600.500")


def test_a_tasks_timeline_lists_its_steps_with_the_elapsed_milliseconds(t):
    rows = run("task-timeline", task=t["t1"].pk)

    assert [
        (r["step_number"], r["agent_type"], r["status"], r["duration_ms"], r["elapsed_ms"])
        for r in rows
    ] == [
        (1, "orchestrator", "completed", 200, 200),
        (2, "infra", "completed", 1500, 1700),
        (3, "code", "failed", 300, 2000),
        (4, "infra", "completed", 1000, 3000),
    ]
    assert rows[0]["timestamp"] == NOW - D + 11 * M
    assert rows[0]["action"] == "step 1 of orchestrator"
    assert run("task-timeline", task=str(t["t5"].pk))[0]["elapsed_ms"] == 0  # running, no time yet
    assert run("task-timeline", task=uuid.uuid4()) == []


def test_resource_usage_by_task_over_thirty_days(t):
    rows = run("resource-usage")

    assert [
        (ids([r], t)[0], r["steps"], r["total_duration_ms"], r["external_ai_tokens"]) for r in rows
    ] == [
        ("t2", 1, 5000, 0),
        ("t1", 4, 3000, 1200),
        ("t3", 2, 2900, 5000),
        ("t6", 0, 0, 0),
        ("t7", 0, 0, 0),
        ("t5", 1, 0, 0),
        ("t4", 0, 0, 800),
        ("t8", 0, 0, 0),
    ]
    t1 = rows[1]
    assert (t1["estimated_resources"], t1["actual_resources"]) == ({"cpu": 2}, {"cpu": 1.5})
    assert (t1["status"], t1["external_ai_cost"]) == ("completed", Decimal("0.036"))
    assert rows[3]["estimated_resources"] is None


def test_tasks_using_external_ai_most_expensive_first(t):
    rows = run("external-ai")

    assert [(ids([r], t)[0], r["model"], r["tokens"], r["cost"]) for r in rows] == [
        ("t3", "claude-3", 5000, Decimal("0.150000")),
        ("t1", "gpt-4o", 1200, Decimal("0.036000")),
        ("t4", "gpt-4o", 800, Decimal("0.024000")),
    ]
    assert all(isinstance(r["cost"], Decimal) for r in rows)
    assert ids(run("external-ai", days=60), t)[-1] == "t9"


def test_average_metrics_by_agent_type(t):
    rows = run("agent-metrics")

    assert [tuple(r.values()) for r in rows] == [
        ("code", 2, 0, 2, 0, Decimal("1.0000"), Decimal("350.0"), 400, 700),
        ("desktop", 1, 0, 0, 1, Decimal("0.0000"), None, None, 0),
        ("infra", 3, 2, 1, 0, Decimal("0.3333"), Decimal("2500.0"), 5000, 7500),
        ("orchestrator", 1, 1, 0, 0, Decimal("0.0000"), Decimal("200.0"), 200, 200),
        ("research", 1, 1, 0, 0, Decimal("0.0000"), Decimal("2500.0"), 2500, 2500),
    ]
    assert list(rows[0]) == list(REPORTS["agent-metrics"].columns)
    week = {
        r["agent_type"]: (r["steps"], r["avg_duration_ms"]) for r in run("agent-metrics", days=7)
    }
    assert week == {
        "code": (1, Decimal("300.0")),
        "desktop": (1, None),
        "infra": (3, Decimal("2500.0")),
        "orchestrator": (1, Decimal("200.0")),
    }


def test_failed_execution_steps_latest_first(t):
    rows = run("failed-steps")

    assert [
        (ids([r], t)[0], r["step_number"], r["agent_type"], r["duration_ms"]) for r in rows
    ] == [
        ("t1", 3, "code", 300),
        ("t2", 1, "infra", 5000),
    ]
    assert rows[0]["timestamp"] == NOW - D + 13 * M
    assert rows[0]["request_text"] == t["t1"].request_text
    assert ids(run("failed-steps", days=30), t) == ["t1", "t2", "t3"]


def test_tasks_by_status_counts_every_status_in_lifecycle_order(t):
    assert run("tasks-by-status") == [
        {"status": "pending", "tasks": 1},
        {"status": "approved", "tasks": 1},
        {"status": "executing", "tasks": 1},
        {"status": "completed", "tasks": 3},
        {"status": "failed", "tasks": 2},
        {"status": "rejected", "tasks": 1},
    ]


def test_tasks_by_status_with_no_tasks_is_all_zeros(db):
    assert [r["tasks"] for r in run("tasks-by-status")] == [0] * 6


def test_total_ai_cost_per_model_over_all_time(t):
    assert run("ai-cost-by-model") == [
        {
            "model": "claude-3",
            "tasks": 2,
            "tokens": 5100,
            "cost": Decimal("0.153000"),
            "avg_cost_per_task": Decimal("0.076500"),
        },
        {
            "model": "gpt-4o",
            "tasks": 2,
            "tokens": 2000,
            "cost": Decimal("0.060000"),
            "avg_cost_per_task": Decimal("0.030000"),
        },
    ]


def test_longest_running_tasks_count_an_executing_task_up_to_now(t):
    rows = run("longest-tasks")

    assert [(ids([r], t)[0], r["status"], r["run_seconds"]) for r in rows] == [
        ("t5", "executing", Decimal("7200.000")),
        ("t3", "failed", Decimal("3600.500")),
        ("t1", "completed", Decimal("1800.000")),
        ("t4", "completed", Decimal("600.000")),
        ("t2", "failed", Decimal("90.000")),
    ]
    assert rows[0]["completed_at"] is None
    assert ids(run("longest-tasks", days=60), t)[-1] == "t9"


def test_longest_running_tasks_are_the_ten_longest(db):
    for minutes in range(1, 13):
        make_task("completed", NOW - H, run=minutes * M)

    rows = run("longest-tasks")

    assert [r["run_seconds"] for r in rows] == [Decimal(60 * m) for m in range(12, 2, -1)]


def test_success_rate_by_day_of_creation_in_utc(t):
    assert run("success-rate-by-day") == [
        {"day": date(2026, 2, 28), "completed": 0, "failed": 1, "success_rate": Decimal("0.0000")},
        {"day": date(2026, 3, 8), "completed": 1, "failed": 1, "success_rate": Decimal("0.5000")},
        {"day": date(2026, 3, 9), "completed": 1, "failed": 0, "success_rate": Decimal("1.0000")},
    ]
    assert [r["day"] for r in run("success-rate-by-day", days=7)] == [
        date(2026, 3, 8),
        date(2026, 3, 9),
    ]


@pytest.mark.parametrize("name", sorted(REPORTS))
def test_each_report_is_one_query(name, t, django_assert_num_queries):
    params = {"task": t["t1"].pk} if REPORTS[name].takes_task else {}

    with django_assert_num_queries(1):
        REPORTS[name].run(**params)


# A report of at least two rows on the dataset, per report, with its parameters.
TWO_ROWS_OR_MORE: dict[str, dict[str, Any]] = {
    "failed-tasks": {"days": 14},
    "task-timeline": {"task": "t1"},
    "resource-usage": {},
    "external-ai": {},
    "agent-metrics": {},
    "failed-steps": {},
    "tasks-by-status": {},
    "ai-cost-by-model": {},
    "longest-tasks": {},
    "success-rate-by-day": {},
}


def test_every_report_is_checked_with_a_limit():
    assert set(TWO_ROWS_OR_MORE) == set(REPORTS)


@pytest.mark.parametrize("name", sorted(REPORTS))
def test_a_limit_keeps_the_first_rows_in_the_statement_and_says_there_are_more(name, t):
    params = {k: t[v].pk if k == "task" else v for k, v in TWO_ROWS_OR_MORE[name].items()}
    every = REPORTS[name].run(now=NOW, **params)

    with CaptureQueriesContext(connection) as captured:
        first = REPORTS[name].run(now=NOW, limit=1, **params)

    assert len(every.rows) >= 2
    assert (every.limit, every.more) == (None, False)
    assert (first.rows, first.limit, first.more) == (every.rows[:1], 1, True)
    # the database stops at the limit (one row more, to know there are more), not Python
    assert "LIMIT 2" in captured.captured_queries[0]["sql"]


def test_a_limit_as_long_as_the_report_says_there_is_nothing_more(t):
    everything = run("resource-usage")
    exact = REPORTS["resource-usage"].run(now=NOW, limit=len(everything))

    assert (exact.rows, exact.more) == (everything, False)
    assert REPORTS["resource-usage"].run(now=NOW, limit=MAX_LIMIT).rows == everything


def test_the_longest_tasks_stay_ten_whatever_the_limit(db):
    for minutes in range(1, 13):
        make_task("completed", NOW - H, run=minutes * M)

    wide = REPORTS["longest-tasks"].run(now=NOW, limit=MAX_LIMIT)
    narrow = REPORTS["longest-tasks"].run(now=NOW, limit=3)

    assert (len(wide.rows), wide.more) == (10, False)  # a top ten, not a window cut short
    assert (narrow.rows, narrow.more) == (wide.rows[:3], True)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("name", "params", "field", "code"),
    [
        ("failed-tasks", {"limit": 0}, "limit", "invalid"),
        ("failed-tasks", {"limit": MAX_LIMIT + 1}, "limit", "invalid"),
        ("failed-tasks", {"limit": "5"}, "limit", "invalid"),
        ("tasks-by-status", {"limit": True}, "limit", "invalid"),
        ("failed-tasks", {"days": 0}, "days", "invalid"),
        ("failed-tasks", {"days": 3661}, "days", "invalid"),
        ("failed-tasks", {"days": "7"}, "days", "invalid"),
        ("tasks-by-status", {"days": 7}, "days", "not_allowed"),
        ("failed-tasks", {"task": uuid.uuid4()}, "task", "not_allowed"),
        ("task-timeline", {}, "task", "required"),
        ("task-timeline", {"task": "not-a-uuid"}, "task", "invalid"),
    ],
)
def test_bad_parameters_are_refused_before_any_query(
    name, params, field, code, django_assert_num_queries
):
    with django_assert_num_queries(0), pytest.raises(InvalidInput) as error:
        REPORTS[name].run(**params)

    assert [e.code for e in error.value.errors[field]] == [code]  # type: ignore[union-attr]
