"""Post-mortem reports: the ten queries of seed 004's ``scripts/query_examples.sql``.

Each report is one SQL statement (values bound as parameters, never formatted in) that reads
through the indexes of ``tasks`` and ``execution_logs``, and returns plain rows: a list of dicts
whose keys are the report's ``columns``, in order. ``REPORTS`` maps each name to its ``Report``;
the management command ``postmortem``, the API and the admin page run them by name.

Conventions, the same in every report:

- **Windows.** ``days`` (where a report takes it) counts back from ``now`` (the current time
  unless given). Task reports select tasks *created* in the window (``tasks_created_idx``,
  ``tasks_status_created_idx``); step reports select steps *logged* in it (``timestamp``). Days
  (``success-rate-by-day``) are calendar days in UTC.
- **Durations.** A step's duration is in milliseconds, an integer (``duration_ms``,
  ``elapsed_ms``, ``total_duration_ms``); averages of milliseconds are ``Decimal`` to 0.1 ms. A
  task's run time is ``run_seconds``, a ``Decimal`` to the millisecond: from its approval
  (``approved_at``) to its end (``completed_at``), or to ``now`` for a task still executing.
- **Row limits.** Every statement ends in ``LIMIT``: ``run(limit=N)`` reads at most N + 1 rows
  and says whether the window holds more than N (``ReportRows.more``) without counting them (a
  count would be a second pass over the window). The admin and the API show ``DEFAULT_LIMIT``
  rows unless asked for more, at most ``MAX_LIMIT``; ``limit=None`` (the ``postmortem`` command's
  default) reads every row. A report ranked by an aggregate (``resource-usage``) ranks narrow
  rows first and reads the wide columns of the rows it keeps only.
- **Money and rates.** Costs are ``Decimal`` (six places, like ``tasks.external_ai_cost``);
  rates are ``Decimal`` fractions between 0 and 1, to four places. Counts and token sums are
  ``int``. Timestamps are aware datetimes; ids are ``UUID``; resources are decoded JSON.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.db import connection
from django.utils import timezone

from agents_audit.models.tasks import FINISHED_STATES, ExecutionLogStatus, TaskStatus
from devskyy import json_codec
from devskyy.errors import FieldError, InvalidInput

MAX_DAYS = 3660  # ten years: a window longer than that is a typo
LONGEST_TASKS_LIMIT = 10
DEFAULT_LIMIT = 100  # rows the admin page and the API show unless asked for more
MAX_LIMIT = 1000  # the most rows one may ask for (the command may ask for all)

Row = dict[str, Any]

RUN_SECONDS = "round(extract(epoch FROM coalesce(t.completed_at, %(now)s) - t.approved_at), 3)"


@dataclass(frozen=True)
class ReportRows:
    """A report's rows, at most ``limit`` of them (``None``: no limit); ``more``: the window
    holds more rows than these."""

    rows: list[Row]
    limit: int | None
    more: bool


@dataclass(frozen=True)
class Report:
    """One post-mortem query. ``days``: the default window (``None``: the report takes no
    window); ``takes_task``: the report is about one task, whose id is required; ``top``: the
    report is a top-N list, never longer than that whatever the limit."""

    name: str
    title: str
    sql: str
    columns: tuple[str, ...]
    days: int | None = None
    takes_task: bool = False
    json_columns: frozenset[str] = field(default_factory=frozenset)
    top: int | None = None

    def run(
        self,
        *,
        days: int | None = None,
        task: Any = None,
        now: datetime | None = None,
        limit: int | None = None,
    ) -> ReportRows:
        """The report's first ``limit`` rows (``None``: every row). ``days`` defaults to the
        report's own window; ``task`` is a task id (``UUID`` or its text). Raises
        ``InvalidInput`` for a parameter the report does not take, a missing task, a malformed
        id, a window outside 1..3660 days or a limit outside 1..1000. An unknown task gives no
        rows."""
        params = self._params(days=days, task=task, now=now or timezone.now(), limit=limit)
        with connection.cursor() as cursor:
            cursor.execute(self.sql, params)
            rows = cursor.fetchall()
        more = limit is not None and len(rows) > limit
        return ReportRows([self._row(values) for values in rows[:limit]], limit, more)

    def _fetch(self, limit: int | None) -> int | None:
        """The SQL ``LIMIT``: one row past the caller's limit tells whether there are more."""
        fetch = None if limit is None else limit + 1
        if self.top is not None:
            fetch = self.top if fetch is None else min(fetch, self.top)
        return fetch

    def _params(
        self, *, days: int | None, task: Any, now: datetime, limit: int | None
    ) -> dict[str, Any]:
        errors: dict[str, list[FieldError]] = {}
        params: dict[str, Any] = {
            "now": now,
            "finished": list(FINISHED_STATES),
            "statuses": list(TaskStatus.values),
        }
        if limit is not None and (
            isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_LIMIT
        ):
            errors["limit"] = [
                FieldError(f"Give a whole number of rows from 1 to {MAX_LIMIT}.", "invalid")
            ]
        else:
            params["limit"] = self._fetch(limit)
        if self.days is None:
            if days is not None:
                errors["days"] = [FieldError(f"{self.name} takes no window.", "not_allowed")]
        else:
            window = self.days if days is None else days
            if (
                isinstance(window, bool)
                or not isinstance(window, int)
                or not 1 <= window <= MAX_DAYS
            ):
                errors["days"] = [
                    FieldError(f"Give a whole number of days from 1 to {MAX_DAYS}.", "invalid")
                ]
            else:
                params["since"] = now - timedelta(days=window)
        if not self.takes_task:
            if task is not None:
                errors["task"] = [FieldError(f"{self.name} takes no task.", "not_allowed")]
        elif task is None:
            errors["task"] = [FieldError(f"{self.name} needs a task id.", "required")]
        else:
            try:
                params["task_id"] = task if isinstance(task, uuid.UUID) else uuid.UUID(str(task))
            except ValueError:
                errors["task"] = [FieldError(f"'{task}' is not a task id.", "invalid")]
        if errors:
            raise InvalidInput(errors)
        return params

    def _row(self, values: tuple[Any, ...]) -> Row:
        row = dict(zip(self.columns, values, strict=True))
        for name in self.json_columns:
            if isinstance(row[name], str):
                row[name] = json_codec.loads(row[name])
        return row


FAILED_TASKS = Report(
    name="failed-tasks",
    title="Failed tasks",
    days=7,
    columns=(
        "task_id",
        "request_text",
        "error_message",
        "created_at",
        "approved_at",
        "completed_at",
        "run_seconds",
    ),
    sql=f"""
SELECT t.id, t.request_text, t.error_message, t.created_at, t.approved_at, t.completed_at,
       {RUN_SECONDS}
FROM tasks t
WHERE t.status = 'failed' AND t.created_at >= %(since)s
ORDER BY t.created_at DESC, t.id
LIMIT %(limit)s
""",  # noqa: S608 (RUN_SECONDS is a constant)
)

TASK_TIMELINE = Report(
    name="task-timeline",
    title="A task's execution timeline",
    takes_task=True,
    columns=(
        "step_number",
        "agent_type",
        "action",
        "status",
        "output_summary",
        "timestamp",
        "duration_ms",
        "elapsed_ms",
    ),
    sql="""
SELECT l.step_number, l.agent_type, l.action, l.status, l.output_summary, l.timestamp,
       l.duration_ms,
       coalesce(sum(l.duration_ms) OVER (ORDER BY l.step_number), 0)::bigint
FROM execution_logs l
WHERE l.task_id = %(task_id)s
ORDER BY l.step_number
LIMIT %(limit)s
""",
)

RESOURCE_USAGE = Report(
    name="resource-usage",
    title="Resource usage by task",
    days=30,
    columns=(
        "task_id",
        "request_text",
        "status",
        "created_at",
        "estimated_resources",
        "actual_resources",
        "steps",
        "total_duration_ms",
        "external_ai_tokens",
        "external_ai_cost",
    ),
    json_columns=frozenset({"estimated_resources", "actual_resources"}),
    # Every task of the window must be summed to rank them, so the ranking reads narrow rows
    # only (id, time, sums) and the wide columns (texts, resources) are read for the rows kept.
    sql="""
WITH ranked AS (
    SELECT t.id, t.created_at, count(l.id) AS steps,
           coalesce(sum(l.duration_ms), 0)::bigint AS total_duration_ms
    FROM tasks t
    LEFT JOIN execution_logs l ON l.task_id = t.id
    WHERE t.created_at >= %(since)s
    GROUP BY t.id
    ORDER BY total_duration_ms DESC, t.created_at DESC, t.id
    LIMIT %(limit)s
)
SELECT t.id, t.request_text, t.status, t.created_at, t.estimated_resources, t.actual_resources,
       r.steps, r.total_duration_ms, t.external_ai_tokens, t.external_ai_cost
FROM ranked r
JOIN tasks t ON t.id = r.id
ORDER BY r.total_duration_ms DESC, r.created_at DESC, r.id
""",
)

EXTERNAL_AI = Report(
    name="external-ai",
    title="Tasks using external AI",
    days=30,
    columns=("task_id", "request_text", "status", "model", "tokens", "cost", "created_at"),
    sql="""
SELECT t.id, t.request_text, t.status, t.external_ai_model, t.external_ai_tokens,
       t.external_ai_cost, t.created_at
FROM tasks t
WHERE t.external_ai_model <> '' AND t.created_at >= %(since)s
ORDER BY t.external_ai_cost DESC, t.created_at DESC, t.id
LIMIT %(limit)s
""",
)

AGENT_METRICS = Report(
    name="agent-metrics",
    title="Average metrics by agent type",
    days=30,
    columns=(
        "agent_type",
        "steps",
        "completed",
        "failed",
        "running",
        "failure_rate",
        "avg_duration_ms",
        "max_duration_ms",
        "total_duration_ms",
    ),
    sql=f"""
SELECT l.agent_type, count(*),
       count(*) FILTER (WHERE l.status = '{ExecutionLogStatus.COMPLETED}'),
       count(*) FILTER (WHERE l.status = '{ExecutionLogStatus.FAILED}'),
       count(*) FILTER (WHERE l.status = '{ExecutionLogStatus.RUNNING}'),
       round(count(*) FILTER (WHERE l.status = '{ExecutionLogStatus.FAILED}')::numeric
             / count(*), 4),
       round(avg(l.duration_ms), 1), max(l.duration_ms), coalesce(sum(l.duration_ms), 0)::bigint
FROM execution_logs l
WHERE l.timestamp >= %(since)s
GROUP BY l.agent_type
ORDER BY l.agent_type
LIMIT %(limit)s
""",  # noqa: S608 (the statuses are the model's constants)
)

FAILED_STEPS = Report(
    name="failed-steps",
    title="Failed execution steps",
    days=7,
    columns=(
        "task_id",
        "request_text",
        "step_number",
        "agent_type",
        "action",
        "output_summary",
        "timestamp",
        "duration_ms",
    ),
    sql="""
SELECT l.task_id, t.request_text, l.step_number, l.agent_type, l.action, l.output_summary,
       l.timestamp, l.duration_ms
FROM execution_logs l
JOIN tasks t ON t.id = l.task_id
WHERE l.status = 'failed' AND l.timestamp >= %(since)s
ORDER BY l.timestamp DESC, l.task_id, l.step_number
LIMIT %(limit)s
""",
)

TASKS_BY_STATUS = Report(
    name="tasks-by-status",
    title="Tasks by status",
    columns=("status", "tasks"),
    sql="""
SELECT s.status, count(t.id)
FROM unnest(%(statuses)s::text[]) WITH ORDINALITY AS s(status, position)
LEFT JOIN tasks t ON t.status = s.status
GROUP BY s.status, s.position
ORDER BY s.position
LIMIT %(limit)s
""",
)

AI_COST_BY_MODEL = Report(
    name="ai-cost-by-model",
    title="Total AI cost per model",
    columns=("model", "tasks", "tokens", "cost", "avg_cost_per_task"),
    sql="""
SELECT t.external_ai_model, count(*), sum(t.external_ai_tokens)::bigint, sum(t.external_ai_cost),
       round(sum(t.external_ai_cost) / count(*), 6)
FROM tasks t
WHERE t.external_ai_model <> ''
GROUP BY t.external_ai_model
ORDER BY 4 DESC, 1
LIMIT %(limit)s
""",
)

LONGEST_TASKS = Report(
    name="longest-tasks",
    title="Longest running tasks",
    days=30,
    top=LONGEST_TASKS_LIMIT,
    columns=("task_id", "request_text", "status", "approved_at", "completed_at", "run_seconds"),
    sql=f"""
SELECT t.id, t.request_text, t.status, t.approved_at, t.completed_at, {RUN_SECONDS}
FROM tasks t
WHERE t.status IN ('{TaskStatus.EXECUTING}', '{TaskStatus.COMPLETED}', '{TaskStatus.FAILED}')
  AND t.created_at >= %(since)s
ORDER BY 6 DESC, t.id
LIMIT %(limit)s
""",  # noqa: S608 (the statuses are the model's constants)
)

SUCCESS_RATE_BY_DAY = Report(
    name="success-rate-by-day",
    title="Task success rate by day",
    days=30,
    columns=("day", "completed", "failed", "success_rate"),
    sql=f"""
SELECT (t.created_at AT TIME ZONE 'UTC')::date,
       count(*) FILTER (WHERE t.status = '{TaskStatus.COMPLETED}'),
       count(*) FILTER (WHERE t.status = '{TaskStatus.FAILED}'),
       round(count(*) FILTER (WHERE t.status = '{TaskStatus.COMPLETED}')::numeric / count(*), 4)
FROM tasks t
WHERE t.status = ANY(%(finished)s) AND t.created_at >= %(since)s
GROUP BY 1
ORDER BY 1
LIMIT %(limit)s
""",  # noqa: S608 (the statuses are the model's constants)
)

REPORTS: dict[str, Report] = {
    report.name: report
    for report in (
        FAILED_TASKS,
        TASK_TIMELINE,
        RESOURCE_USAGE,
        EXTERNAL_AI,
        AGENT_METRICS,
        FAILED_STEPS,
        TASKS_BY_STATUS,
        AI_COST_BY_MODEL,
        LONGEST_TASKS,
        SUCCESS_RATE_BY_DAY,
    )
}
