"""Helpers shared by the job queue's tests."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import connection

from agents_audit.models import Event, Job, Task
from agents_audit.services.tasks import task_approve, task_create
from tests.commerce.factories import AgentUserFactory, OperatorFactory


def approved_task() -> Task:
    """A task an operator approved (which enqueued its first job, of type task.execute)."""
    task = task_create(request_text="Deploy v2 to staging", created_by=AgentUserFactory.create())
    return task_approve(task=task, by=OperatorFactory.create())


def db_now() -> datetime:
    """The database's now(): the transaction's start (frozen inside a test's transaction)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT now()")
        (now,) = cursor.fetchone()
    return now


def sql(statement: str, params: Any = None) -> list[tuple[Any, ...]]:
    with connection.cursor() as cursor:
        cursor.execute(statement, params)
        return cursor.fetchall() if cursor.description else []


def expire_leases(*job_ids: int) -> None:
    """Fake the passing of time: the leases of these running jobs ran out a minute ago."""
    sql(
        "UPDATE jobs SET lease_expires_at = now() - interval '1 minute' WHERE id = ANY(%s)",
        [list(job_ids)],
    )


def make_due(*job_ids: int) -> None:
    """Fake the passing of time: these jobs' backoff is over."""
    sql("UPDATE jobs SET run_after = now() WHERE id = ANY(%s)", [list(job_ids)])


def job_events(job: Job) -> list[str]:
    return list(
        Event.objects.filter(subject_type="job", subject_id=str(job.pk))
        .order_by("id")
        .values_list("event_type", flat=True)
    )


def job_row(job: Job) -> dict[str, Any]:
    """Every column of the job, as stored."""
    return Job.objects.filter(pk=job.pk).values().get()
