"""``manage.py postmortem``: prints any report as a table, JSON or CSV; refuses a bad name or
parameter with one line and exit status 1."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from tests.agents_audit.test_reports import D, H, M, S, log, make_task, recent_tasks

ROOT = Path(__file__).resolve().parents[2]


def postmortem(*args: str) -> str:
    out = io.StringIO()
    call_command("postmortem", *args, stdout=out)
    return out.getvalue()


@pytest.mark.django_db
def test_the_table_lines_up_its_columns_and_counts_the_rows():
    make_task("completed", timezone.now() - H, run=60 * S)
    make_task("completed", timezone.now() - H, run=60 * S)
    make_task("pending", timezone.now() - H)

    assert postmortem("tasks-by-status").splitlines() == [
        "status     tasks",
        "---------  -----",
        "pending    1",
        "approved   0",
        "executing  0",
        "completed  2",
        "failed     0",
        "rejected   0",
        "(6 rows)",
    ]


@pytest.mark.django_db
def test_json_keeps_decimals_exact_as_strings():
    make_task("completed", timezone.now() - D, run=60 * S, ai=("gpt-4o", 1200, "0.036"))
    make_task("completed", timezone.now() - D, run=60 * S, ai=("gpt-4o", 10, "0.000001"))

    assert json.loads(postmortem("ai-cost-by-model", "--format", "json")) == [
        {
            "model": "gpt-4o",
            "tasks": 2,
            "tokens": 1210,
            "cost": "0.036001",
            "avg_cost_per_task": "0.018001",
        }
    ]


@pytest.mark.django_db
def test_csv_has_a_header_and_honours_the_window():
    now = timezone.now()
    recent = make_task("failed", now - 2 * D, run=90 * S, error_message="disk full, again")
    older = make_task("failed", now - 10 * D, run=30 * S, error_message="timeout")

    rows = list(csv.DictReader(io.StringIO(postmortem("failed-tasks", "--format", "csv"))))
    assert [(r["task_id"], r["error_message"], r["run_seconds"]) for r in rows] == [
        (str(recent.pk), "disk full, again", "90.000")
    ]
    wider = csv.DictReader(
        io.StringIO(postmortem("failed-tasks", "--days", "14", "--format", "csv"))
    )
    assert [r["task_id"] for r in wider] == [str(recent.pk), str(older.pk)]


@pytest.mark.django_db
def test_a_tasks_timeline_by_its_id():
    task = make_task("executing", timezone.now() - H)
    log(task, 1, "infra", timezone.now() - 50 * M, 1500)
    log(task, 2, "code", timezone.now() - 40 * M, 500, status="failed")

    rows = json.loads(postmortem("task-timeline", "--task", str(task.pk), "--format", "json"))

    assert [(r["step_number"], r["status"], r["elapsed_ms"]) for r in rows] == [
        (1, "completed", 1500),
        (2, "failed", 2000),
    ]


@pytest.mark.django_db
def test_every_row_of_the_window_by_default():
    recent_tasks(101)

    rows = json.loads(postmortem("resource-usage", "--format", "json"))

    assert len(rows) == 101  # more than the admin and the API show by default


@pytest.mark.django_db
def test_a_limit_prints_the_first_rows_and_says_there_are_more():
    now = timezone.now()
    for hours in (1, 2, 3):
        make_task("failed", now - hours * H, run=60 * S, error_message=f"crash {hours}")

    lines = postmortem("failed-tasks", "--limit", "2").splitlines()

    every = json.loads(postmortem("failed-tasks", "--format", "json"))
    assert [line.split()[0] for line in lines[2:4]] == [r["task_id"] for r in every[:2]]
    assert lines[4:] == [
        "(2 rows)",
        "(the first 2 rows; the window has more: raise --limit or narrow it)",
    ]
    assert postmortem("failed-tasks", "--limit", "3").splitlines()[-1] == "(3 rows)"


@pytest.mark.django_db
def test_json_and_csv_stay_data_only_and_say_there_are_more_on_stderr():
    now = timezone.now()
    for hours in (1, 2, 3):
        make_task("failed", now - hours * H, run=60 * S)
    out, err = io.StringIO(), io.StringIO()

    call_command(
        "postmortem", "failed-tasks", "--limit", "1", "--format", "csv", stdout=out, stderr=err
    )

    assert len(list(csv.DictReader(io.StringIO(out.getvalue())))) == 1
    assert err.getvalue() == "(the first row; the window has more: raise --limit or narrow it)\n"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["no-such-report"], "unknown report 'no-such-report'; choose one of: failed-tasks, "),
        (["failed-tasks", "--format", "xml"], "--format: 'xml' is not one of table, json, csv"),
        (["failed-tasks", "--days", "a week"], "--days: 'a week' is not a whole number"),
        (["failed-tasks", "--days", "0"], "--days: Give a whole number of days from 1 to 3660."),
        (["tasks-by-status", "--days", "7"], "--days: tasks-by-status takes no window."),
        (["task-timeline"], "--task: task-timeline needs a task id."),
        (["task-timeline", "--task", "42"], "--task: '42' is not a task id."),
        (["failed-tasks", "--task", "42"], "--task: failed-tasks takes no task."),
        (["failed-tasks", "--limit", "ten"], "--limit: 'ten' is not a whole number"),
        (["failed-tasks", "--limit", "0"], "--limit: Give a whole number of rows from 1 to 1000."),
        (
            ["failed-tasks", "--limit", "1001"],
            "--limit: Give a whole number of rows from 1 to 1000.",
        ),
    ],
)
def test_bad_arguments_are_one_line_errors(args, message):
    with pytest.raises(CommandError) as error:
        postmortem(*args)

    assert str(error.value).startswith(message)
    assert "\n" not in str(error.value)


def test_an_unknown_report_exits_1_with_one_line_on_stderr():
    # The name is checked before the database is asked anything.
    result = subprocess.run(
        [sys.executable, "manage.py", "postmortem", "failed-task"],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr.splitlines() == [
        "CommandError: unknown report 'failed-task'; choose one of: failed-tasks, task-timeline, "
        "resource-usage, external-ai, agent-metrics, failed-steps, tasks-by-status, "
        "ai-cost-by-model, longest-tasks, success-rate-by-day"
    ]
