"""The agent operations' panels of the admin index's dashboard (devskyy/dashboard.py).

Each panel is one aggregate query over a window of recent rows, served by an index:
``tool_exec_created_idx``, ``tool_exec_status_created_idx``, ``agent_exec_created_idx``,
``llm_rt_created_idx`` and ``tasks_created_idx`` bound the rows read to the window, and the queue
reads only the jobs' partial indexes (live jobs, and jobs finished in the window), however many
rows the tables hold. The loaders return plain data (the dashboard caches it); the renderers
build HTML and SVG with ``format_html``, so that agent-supplied names and messages are escaped.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from django.db import connection
from django.db.models import Count, Max, Q, Sum, Value
from django.db.models.functions import Coalesce, Left, TruncDate
from django.utils.html import format_html
from django.utils.safestring import SafeString

from agents_audit.models import (
    AgentExecution,
    Task,
    ToolExecution,
)
from agents_audit.models.tasks import APPROVED_STATES
from devskyy import dashboard
from devskyy.admin import human_duration
from devskyy.dashboard import (
    Bar,
    Panel,
    PercentileCont,
    Segment,
    bar_chart,
    day_columns,
    days_ending,
    table,
)

HOUR = timedelta(hours=1)
DAY = timedelta(days=1)
WEEK_DAYS = 7  # the daily series, the round table, the task funnel and dead jobs
TOP_TOOLS = 12
TOP_ERRORS = 10
TOP_AGENTS = 8
TOP_PROVIDERS = 12
ERROR_MESSAGE_CHARS = 200  # messages are grouped on their first characters

FAILED, TIMEOUT = ToolExecution.Status.FAILED, ToolExecution.Status.TIMEOUT


def _legend(*items: tuple[str, str]) -> SafeString:
    return format_html(
        '<p class="dashboard-legend">{}</p>',
        SafeString(
            "".join(
                format_html('<span><i class="{}"></i>{}</span>', css_class, label)
                for css_class, label in items
            )
        ),
    )


# --- tool calls -------------------------------------------------------------------------------


def tool_calls_load(now: datetime) -> list[dict[str, Any]]:
    """Per tool (the busiest of the last day): calls, failures and timeouts over the last hour
    and the last day."""
    hour = Q(created_at__gte=now - HOUR)
    rows = (
        ToolExecution.objects.filter(created_at__gte=now - DAY)
        .values("tool_name")
        .annotate(
            day_calls=Count("pk"),
            day_failed=Count("pk", filter=Q(status=FAILED)),
            day_timeout=Count("pk", filter=Q(status=TIMEOUT)),
            hour_calls=Count("pk", filter=hour),
            hour_failed=Count("pk", filter=hour & Q(status=FAILED)),
            hour_timeout=Count("pk", filter=hour & Q(status=TIMEOUT)),
        )
        .order_by("-day_calls", "tool_name")[:TOP_TOOLS]
    )
    return list(rows)


def _rate(part: int, whole: int) -> str:
    return dashboard.percent(part, whole)


def tool_calls_render(rows: list[dict[str, Any]]) -> SafeString:
    bars = [
        Bar(
            label=row["tool_name"],
            segments=[
                Segment(row["day_calls"] - row["day_failed"] - row["day_timeout"], "bar-ok"),
                Segment(row["day_failed"], "bar-failed"),
                Segment(row["day_timeout"], "bar-timeout"),
            ],
            text=f"{row['day_calls']:,}",
            title=(
                f"{row['tool_name']}: {row['day_calls']:,} calls, {row['day_failed']:,} failed, "
                f"{row['day_timeout']:,} timed out in the last day"
            ),
        )
        for row in rows
    ]
    body = table(
        [
            "Tool",
            "Calls 1 h",
            "Failed 1 h",
            "Timeout 1 h",
            "Calls 24 h",
            "Failed 24 h",
            "Timeout 24 h",
        ],
        [
            [
                row["tool_name"],
                f"{row['hour_calls']:,}",
                _rate(row["hour_failed"], row["hour_calls"]),
                _rate(row["hour_timeout"], row["hour_calls"]),
                f"{row['day_calls']:,}",
                _rate(row["day_failed"], row["day_calls"]),
                _rate(row["day_timeout"], row["day_calls"]),
            ]
            for row in rows
        ],
    )
    return format_html(
        "{}{}{}",
        _legend(("bar-ok", "success"), ("bar-failed", "failed"), ("bar-timeout", "timeout")),
        bar_chart(bars),
        body,
    )


# --- tool durations ---------------------------------------------------------------------------


def tool_durations_load(now: datetime) -> list[dict[str, Any]]:
    """Per tool (the busiest of the last day): the median and 95th percentile duration of its
    timed calls over the last day (``percentile_cont``: interpolated, in milliseconds)."""
    rows = (
        ToolExecution.objects.filter(created_at__gte=now - DAY, duration_ms__isnull=False)
        .values("tool_name")
        .annotate(
            calls=Count("pk"),
            p50=PercentileCont("duration_ms", 0.5),
            p95=PercentileCont("duration_ms", 0.95),
        )
        .order_by("-calls", "tool_name")[:TOP_TOOLS]
    )
    return list(rows)


def tool_durations_render(rows: list[dict[str, Any]]) -> SafeString:
    def ms(value: float) -> str:
        return human_duration(round(value))

    bars = [
        Bar(
            label=row["tool_name"],
            segments=[
                Segment(row["p50"], "bar-p50"),
                Segment(max(row["p95"] - row["p50"], 0), "bar-p95"),
            ],
            text=f"{ms(row['p50'])} / {ms(row['p95'])}",
            title=f"{row['tool_name']}: p50 {ms(row['p50'])}, p95 {ms(row['p95'])}",
        )
        for row in rows
    ]
    body = table(
        ["Tool", "Timed calls 24 h", "p50", "p95"],
        [[row["tool_name"], f"{row['calls']:,}", ms(row["p50"]), ms(row["p95"])] for row in rows],
    )
    return format_html(
        "{}{}{}", _legend(("bar-p50", "p50"), ("bar-p95", "p95")), bar_chart(bars), body
    )


# --- top errors -------------------------------------------------------------------------------


def top_errors_load(now: datetime) -> list[dict[str, Any]]:
    """The most frequent tool errors of the last day: failed and timed-out calls grouped by tool
    and message (its first ``ERROR_MESSAGE_CHARS`` characters), with the last occurrence."""
    rows = (
        ToolExecution.objects.filter(created_at__gte=now - DAY, status__in=[FAILED, TIMEOUT])
        .values(
            "tool_name",
            message=Left(Coalesce("error_message", Value("")), ERROR_MESSAGE_CHARS),
        )
        .annotate(count=Count("pk"), last_seen=Max("created_at"))
        .order_by("-count", "-last_seen", "tool_name")[:TOP_ERRORS]
    )
    return list(rows)


def top_errors_render(rows: list[dict[str, Any]]) -> SafeString:
    bars = [
        Bar(
            label=f"{row['tool_name']}: {row['message'] or '(no message)'}",
            segments=[Segment(row["count"], "bar-failed")],
            text=f"{row['count']:,}",
        )
        for row in rows
    ]
    body = table(
        ["Count", "Tool", "Error", "Last seen"],
        [
            [
                f"{row['count']:,}",
                row["tool_name"],
                format_html('<span class="error-message">{}</span>', row["message"] or "-"),
                row["last_seen"].strftime("%Y-%m-%d %H:%M:%S UTC"),
            ]
            for row in rows
        ],
    )
    return format_html("{}{}", bar_chart(bars, label_width=300, label_chars=48), body)


# --- tokens per agent per day -----------------------------------------------------------------


def agent_tokens_load(now: datetime) -> dict[str, Any]:
    """Tokens used (and runs) per agent per UTC day, over the last ``WEEK_DAYS`` days."""
    start, days = days_ending(now, WEEK_DAYS)
    rows = (
        AgentExecution.objects.filter(created_at__gte=start)
        .values("agent_name", day=TruncDate("created_at"))
        .annotate(tokens=Coalesce(Sum("tokens_used"), 0), runs=Count("pk"))
        .order_by()
    )
    return {"days": days, "rows": list(rows)}


def agent_tokens_render(data: dict[str, Any]) -> SafeString:
    days: list[date] = data["days"]
    per_agent: dict[str, dict[date, int]] = {}
    runs: dict[str, int] = {}
    for row in data["rows"]:
        per_agent.setdefault(row["agent_name"], {})[row["day"]] = row["tokens"]
        runs[row["agent_name"]] = runs.get(row["agent_name"], 0) + row["runs"]
    totals = {agent: sum(by_day.values()) for agent, by_day in per_agent.items()}
    agents = sorted(per_agent, key=lambda agent: (-totals[agent], agent))[:TOP_AGENTS]
    every_agent = [
        (day, tokens, f"{tokens:,} tokens")
        for day in days
        for tokens in [sum(by_day.get(day, 0) for by_day in per_agent.values())]
    ]
    rows = [
        [
            agent,
            f"{totals[agent]:,}",
            f"{runs[agent]:,}",
            day_columns(
                [
                    (day, per_agent[agent].get(day, 0), f"{per_agent[agent].get(day, 0):,} tokens")
                    for day in days
                ],
                width=210,
                height=44,
            ),
        ]
        for agent in agents
    ]
    return format_html(
        "{}{}",
        day_columns(every_agent),
        table(["Agent", f"Tokens {len(days)} d", "Runs", "Per day"], rows),
    )


# --- round-table win rates --------------------------------------------------------------------

ROUND_TABLE_WIN_RATES_SQL = """
SELECT p.provider,
       count(*)                                              AS competitions,
       count(*) FILTER (WHERE r.winner_provider = p.provider) AS wins
  FROM llm_round_table_results r
  CROSS JOIN LATERAL (
      SELECT DISTINCT e ->> 'provider' AS provider
        FROM jsonb_array_elements(
             CASE WHEN jsonb_typeof(r.participants) = 'array' THEN r.participants ELSE '[]' END
        ) AS e
       WHERE jsonb_typeof(e -> 'provider') = 'string'
  ) p
 WHERE r.created_at >= %(since)s
 GROUP BY p.provider
 ORDER BY wins DESC, competitions DESC, p.provider
 LIMIT %(limit)s
"""


def round_table_load(now: datetime) -> list[dict[str, Any]]:
    """Per provider, over the round tables of the last ``WEEK_DAYS`` days: competitions entered,
    wins, and the win rate (wins / competitions)."""
    params: dict[str, Any] = {"since": now - timedelta(days=WEEK_DAYS), "limit": TOP_PROVIDERS}
    with connection.cursor() as cursor:
        cursor.execute(ROUND_TABLE_WIN_RATES_SQL, params)
        return [
            {"provider": provider, "competitions": competitions, "wins": wins}
            for provider, competitions, wins in cursor.fetchall()
        ]


def round_table_render(rows: list[dict[str, Any]]) -> SafeString:
    bars = [
        Bar(
            label=row["provider"],
            segments=[
                Segment(row["wins"], "bar-ok"),
                Segment(row["competitions"] - row["wins"], "bar-muted"),
            ],
            text=f"{dashboard.percent(row['wins'], row['competitions'])}",
            title=(
                f"{row['provider']}: won {row['wins']:,} of {row['competitions']:,} "
                f"({dashboard.percent(row['wins'], row['competitions'])})"
            ),
        )
        for row in rows
    ]
    body = table(
        ["Provider", "Competitions", "Wins", "Win rate"],
        [
            [
                row["provider"],
                f"{row['competitions']:,}",
                f"{row['wins']:,}",
                dashboard.percent(row["wins"], row["competitions"]),
            ]
            for row in rows
        ],
    )
    return format_html(
        "{}{}{}", _legend(("bar-ok", "won"), ("bar-muted", "lost")), bar_chart(bars), body
    )


# --- the task funnel --------------------------------------------------------------------------

S = Task.Status


def task_funnel_load(now: datetime) -> dict[str, int]:
    """The tasks created in the last ``WEEK_DAYS`` days: how many, how many are still pending or
    were rejected, how many were approved, and of those how many are executing, completed or
    failed."""
    return Task.objects.filter(created_at__gte=now - timedelta(days=WEEK_DAYS)).aggregate(
        created=Count("pk"),
        pending=Count("pk", filter=Q(status=S.PENDING)),
        rejected=Count("pk", filter=Q(status=S.REJECTED)),
        approved=Count("pk", filter=Q(status__in=APPROVED_STATES)),
        executing=Count("pk", filter=Q(status__in=[S.APPROVED, S.EXECUTING])),
        completed=Count("pk", filter=Q(status=S.COMPLETED)),
        failed=Count("pk", filter=Q(status=S.FAILED)),
    )


FUNNEL_STEPS = [
    ("created", "Created", "bar-ok"),
    ("pending", "Pending approval", "bar-muted"),
    ("rejected", "Rejected", "bar-failed"),
    ("approved", "Approved", "bar-ok"),
    ("executing", "Approved, not finished", "bar-muted"),
    ("completed", "Completed", "bar-ok"),
    ("failed", "Failed", "bar-failed"),
]


def task_funnel_render(counts: dict[str, int]) -> SafeString:
    bars = [
        Bar(
            label=label,
            segments=[Segment(counts[key], css_class)],
            text=f"{counts[key]:,} ({dashboard.percent(counts[key], counts['created'])})",
        )
        for key, label, css_class in FUNNEL_STEPS
    ]
    return format_html(
        '{}<p class="mini quiet">Tasks created in the last {} days.</p>',
        bar_chart(bars),
        WEEK_DAYS,
    )


# --- the job queue ----------------------------------------------------------------------------

# Each branch's WHERE implies a partial index's predicate (jobs_runnable_idx,
# jobs_running_lease_idx, jobs_dead_idx), so the statement reads live jobs and recently dead
# ones only, however many jobs have finished.
QUEUE_SQL = """
SELECT job_type,
       count(*) FILTER (WHERE status = 'queued'), count(*) FILTER (WHERE status = 'failed'),
       0, 0, 0
  FROM jobs WHERE status IN ('queued', 'failed') GROUP BY job_type
UNION ALL
SELECT job_type, 0, 0, count(*), 0, 0 FROM jobs WHERE status = 'running' GROUP BY job_type
UNION ALL
SELECT job_type, 0, 0, 0, count(*) FILTER (WHERE finished_at >= %(day)s), count(*)
  FROM jobs WHERE status = 'dead' AND finished_at >= %(week)s GROUP BY job_type
"""

QUEUE_COLUMNS = ("queued", "retrying", "running", "dead_day", "dead_week")


def queue_load(now: datetime) -> list[dict[str, Any]]:
    """Per job type: jobs queued, failed and waiting for a retry, running; jobs that died (ran
    out of retries) in the last day and the last ``WEEK_DAYS`` days."""
    params = {"day": now - DAY, "week": now - timedelta(days=WEEK_DAYS)}
    counts: dict[str, dict[str, Any]] = {}
    with connection.cursor() as cursor:
        cursor.execute(QUEUE_SQL, params)
        for job_type, *values in cursor.fetchall():
            row = counts.setdefault(
                job_type, {"job_type": job_type, **dict.fromkeys(QUEUE_COLUMNS, 0)}
            )
            for column, value in zip(QUEUE_COLUMNS, values, strict=True):
                row[column] += value
    return sorted(counts.values(), key=lambda row: row["job_type"])


def queue_render(rows: list[dict[str, Any]]) -> SafeString:
    bars = [
        Bar(
            label=row["job_type"],
            segments=[
                Segment(row["queued"], "bar-ok"),
                Segment(row["retrying"], "bar-timeout"),
                Segment(row["running"], "bar-p95"),
            ],
            text=f"{row['queued'] + row['retrying'] + row['running']:,}",
            title=(
                f"{row['job_type']}: {row['queued']:,} queued, {row['retrying']:,} waiting for "
                f"a retry, {row['running']:,} running"
            ),
        )
        for row in rows
    ]
    body = table(
        ["Job type", "Queued", "Retrying", "Running", "Dead 24 h", f"Dead {WEEK_DAYS} d"],
        [[row["job_type"], *(f"{row[column]:,}" for column in QUEUE_COLUMNS)] for row in rows],
    )
    return format_html(
        "{}{}{}",
        _legend(("bar-ok", "queued"), ("bar-timeout", "retrying"), ("bar-p95", "running")),
        bar_chart(bars),
        body,
    )


PANELS = [
    Panel(
        key="tool-calls",
        title="Tool calls: last hour and last day",
        permission="agents_audit.view_toolexecution",
        load=tool_calls_load,
        render=tool_calls_render,
        order=10,
    ),
    Panel(
        key="tool-durations",
        title="Tool durations, last day (p50 / p95)",
        permission="agents_audit.view_toolexecution",
        load=tool_durations_load,
        render=tool_durations_render,
        order=20,
    ),
    Panel(
        key="top-errors",
        title="Top tool errors, last day",
        permission="agents_audit.view_toolexecution",
        load=top_errors_load,
        render=top_errors_render,
        order=30,
    ),
    Panel(
        key="agent-tokens",
        title=f"Tokens per agent per day, last {WEEK_DAYS} days",
        permission="agents_audit.view_agentexecution",
        load=agent_tokens_load,
        render=agent_tokens_render,
        is_empty=lambda data: not data["rows"],
        order=40,
    ),
    Panel(
        key="round-table",
        title=f"Round-table win rates, last {WEEK_DAYS} days",
        permission="agents_audit.view_llmroundtableresult",
        load=round_table_load,
        render=round_table_render,
        order=50,
    ),
    Panel(
        key="task-funnel",
        title=f"Task funnel, last {WEEK_DAYS} days",
        permission="agents_audit.view_task",
        load=task_funnel_load,
        render=task_funnel_render,
        is_empty=lambda counts: not counts["created"],
        order=60,
    ),
    Panel(
        key="job-queue",
        title="Job queue: depth and dead jobs",
        permission="agents_audit.view_job",
        load=queue_load,
        render=queue_render,
        order=70,
    ),
]


def register_panels() -> None:
    for panel in PANELS:
        dashboard.register(panel)
