"""Reads of the audit tables, scoped to what the viewer may see."""

from __future__ import annotations

from functools import partial
from typing import Any

from django.db import connection
from django.db.models import F, QuerySet, Sum, Window
from django.db.models.functions import Coalesce

from agents_audit.api.serializers import ToolExecutionSerializer
from agents_audit.checkpoints import checkpoint_summaries
from agents_audit.models import (
    AgentExecution,
    Checkpoint,
    ExecutionLog,
    Job,
    JobTypePause,
    LLMRoundTableResult,
    Project,
    Task,
    ToolExecution,
)
from agents_audit.models.jobs import RUNNABLE_STATES, JobStatus
from commerce.models import User
from devskyy.api.sql_json import KeysetListSQL


def tool_execution_visibility(*, viewer: User) -> dict[str, Any]:
    """Operators and admins see every tool execution; an agent sees the ones it recorded."""
    return {} if viewer.is_staff else {"user_id__exact": viewer.pk}


def tool_execution_list(*, viewer: User) -> QuerySet[ToolExecution]:
    return ToolExecution.objects.filter(**tool_execution_visibility(viewer=viewer))


TOOL_EXECUTION_PAGE_SQL = KeysetListSQL(
    ToolExecution, {name: name for name in ToolExecutionSerializer.Meta.fields}
)


def tool_execution_page(*, viewer: User, lookups: dict[str, Any]) -> Any:
    """A ``fetch`` for KeysetPagination.paginate_sql: the visible tool executions matching
    ``lookups`` (from the FilterSet), rendered by PostgreSQL like ToolExecutionSerializer."""
    conditions = {**lookups, **tool_execution_visibility(viewer=viewer)}
    return partial(TOOL_EXECUTION_PAGE_SQL.fetch, conditions)


def agent_execution_list(*, viewer: User) -> QuerySet[AgentExecution]:
    queryset = AgentExecution.objects.all()
    return queryset if viewer.is_staff else queryset.filter(user=viewer)


def round_table_result_list(*, viewer: User) -> QuerySet[LLMRoundTableResult]:
    queryset = LLMRoundTableResult.objects.all()
    return queryset if viewer.is_staff else queryset.filter(user=viewer)


LEADERBOARD_SQL = """
SELECT provider, competitions, wins,
       round(wins::numeric / competitions, 4) AS win_rate,
       round(mean_score, 4)                   AS mean_score
FROM (
    SELECT p.provider,
           count(DISTINCT r.id)                                                AS competitions,
           count(DISTINCT r.id) FILTER (WHERE r.winner_provider = p.provider) AS wins,
           avg(p.score)                                                        AS mean_score
    FROM llm_round_table_results r
    CROSS JOIN LATERAL (
        SELECT e ->> 'provider' AS provider,
               CASE WHEN jsonb_typeof(e -> 'score') = 'number'
                    THEN (e ->> 'score')::numeric END AS score
        FROM jsonb_array_elements(
            CASE WHEN jsonb_typeof(r.participants) = 'array' THEN r.participants ELSE '[]' END
        ) AS e
        WHERE jsonb_typeof(e) = 'object' AND e ? 'provider'
    ) p
    WHERE (%(category)s::text IS NULL OR r.task_category = %(category)s::text)
      AND (%(user_id)s::uuid IS NULL OR r.user_id = %(user_id)s::uuid)
    GROUP BY p.provider
) per_provider
ORDER BY wins DESC, mean_score DESC NULLS LAST, provider
"""


def round_table_leaderboard(
    *, viewer: User, task_category: str | None = None
) -> list[dict[str, Any]]:
    """Per provider: competitions entered, wins, win rate and mean score, computed in SQL over
    the results the viewer may see (optionally one task category)."""
    params = {"category": task_category, "user_id": None if viewer.is_staff else viewer.pk}
    with connection.cursor() as cursor:
        cursor.execute(LEADERBOARD_SQL, params)
        rows = cursor.fetchall()
    return [
        {
            "provider": provider,
            "competitions": competitions,
            "wins": wins,
            "win_rate": float(win_rate),
            "mean_score": None if mean is None else float(mean),
        }
        for provider, competitions, wins, win_rate, mean in rows
    ]


def task_timeline(*, task: Task) -> QuerySet[ExecutionLog]:
    """``task``'s steps in order (one query), each annotated with ``elapsed_ms``: the sum of the
    durations (``duration_ms``, milliseconds) of the steps up to and including it; a step with no
    duration yet (still running) adds nothing."""
    return (
        ExecutionLog.objects.filter(task_id=task.pk)
        .annotate(
            elapsed_ms=Coalesce(Window(Sum("duration_ms"), order_by=[F("step_number").asc()]), 0)
        )
        .order_by("step_number")
    )


TIMELINE_CHECKPOINTS = 200


def task_checkpoints(*, task: Task) -> list[Checkpoint]:
    """The newest ``TIMELINE_CHECKPOINTS`` checkpoints of ``task``'s LangGraph thread, oldest
    first, annotated as ``checkpoint_summaries`` does."""
    newest = checkpoint_summaries(thread_id=task.thread_id, limit=TIMELINE_CHECKPOINTS)
    return list(reversed(newest))


def job_type_paused_list() -> QuerySet[JobTypePause]:
    """The paused job types, by name, with who paused them."""
    return JobTypePause.objects.select_related("paused_by").order_by("job_type")


# --- the job queue ---------------------------------------------------------------------------


def job_list(*, viewer: User) -> QuerySet[Job]:
    """The jobs ``viewer`` may read: operators all, agents those of the tasks they created."""
    if viewer.is_staff:
        return Job.objects.all()
    return Job.objects.filter(task__created_by=viewer)


def task_jobs(*, task: Task) -> QuerySet[Job]:
    """A task's jobs, oldest first (jobs_task_idx)."""
    return Job.objects.filter(task=task).order_by("id")


QUEUE_DEPTH_SQL = """
SELECT job_type,
       count(*) FILTER (WHERE status = 'queued') AS queued,
       0 AS running,
       count(*) FILTER (WHERE status = 'failed') AS failed
  FROM jobs WHERE status IN ('queued', 'failed') GROUP BY job_type
UNION ALL
SELECT job_type, 0, count(*), 0 FROM jobs WHERE status = 'running' GROUP BY job_type
"""


def _in_list(states: tuple[str, ...]) -> str:
    return ", ".join(f"'{state}'" for state in states)  # the model's own constants


# The types of live jobs: the runnable ones by a loose index scan of ``jobs_runnable_idx`` (one
# probe per type, its WHERE the index's predicate), the running ones through
# ``jobs_running_lease_idx`` (a worker's handful). Never a DISTINCT over every job.
LIVE_JOB_TYPES_SQL = f"""
WITH RECURSIVE runnable(job_type) AS (
    (SELECT job_type FROM jobs WHERE status IN ({_in_list(RUNNABLE_STATES)})
     ORDER BY job_type LIMIT 1)
    UNION ALL
    SELECT (SELECT j.job_type FROM jobs j
            WHERE j.status IN ({_in_list(RUNNABLE_STATES)}) AND j.job_type > r.job_type
            ORDER BY j.job_type LIMIT 1)
    FROM runnable r WHERE r.job_type IS NOT NULL
)
(SELECT job_type FROM runnable WHERE job_type IS NOT NULL LIMIT %(limit)s)
UNION
(SELECT DISTINCT job_type FROM jobs WHERE status = '{JobStatus.RUNNING}' LIMIT %(limit)s)
"""  # noqa: S608 (constants only)


def live_job_types(*, limit: int = 200) -> list[str]:
    """The job types that have queued, running or failed (waiting for a retry) jobs, sorted: a
    few index probes however many jobs the table holds."""
    with connection.cursor() as cursor:
        cursor.execute(LIVE_JOB_TYPES_SQL, {"limit": limit})
        return sorted(job_type for (job_type,) in cursor.fetchall())


def queue_depth_by_type() -> list[dict[str, Any]]:
    """Per job type: live jobs by state (queued, running, failed and waiting for a retry) and
    whether the type is paused. Reads only the partial indexes over live jobs (each branch's
    WHERE is an index's predicate), however many finished jobs the table holds."""
    counts: dict[str, dict[str, Any]] = {}
    with connection.cursor() as cursor:
        cursor.execute(QUEUE_DEPTH_SQL)
        for job_type, queued, running, failed in cursor.fetchall():
            row = counts.setdefault(
                job_type,
                {"job_type": job_type, "queued": 0, "running": 0, "failed": 0, "paused": False},
            )
            row["queued"] += queued
            row["running"] += running
            row["failed"] += failed
    for job_type in JobTypePause.objects.values_list("job_type", flat=True):
        counts.setdefault(
            job_type,
            {"job_type": job_type, "queued": 0, "running": 0, "failed": 0, "paused": True},
        )["paused"] = True
    return sorted(counts.values(), key=lambda row: row["job_type"])


def project_list() -> QuerySet[Project]:
    """Every project: projects are shared by everyone who may use the API."""
    return Project.objects.all()


def task_list(*, viewer: User) -> QuerySet[Task]:
    """Operators and admins see every task; an agent sees the tasks it created (as with tool
    executions: another agent's task is a 404, never a 403)."""
    queryset = Task.objects.all()
    return queryset if viewer.is_staff else queryset.filter(created_by=viewer)
