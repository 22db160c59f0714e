"""The jobs table as the database holds it, for the queue's services to build on: defaults for
raw SQL writers, a dedupe key unique among live jobs only, leases that running jobs must hold,
indexes that a claim and a recovery use whatever the number of finished jobs, and jobs that go
with their task."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import IntegrityError, connection, transaction

from agents_audit.models import Job
from tests import catalog
from tests.agents_audit.factories import JobFactory, TaskFactory
from tests.agents_audit.queue import db_now

pytestmark = pytest.mark.django_db

S = Job.Status


def sql(statement: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(statement, params)
        rows = cursor.fetchall() if cursor.description else []
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        return rows


def test_a_raw_sql_job_gets_the_models_defaults():
    task = TaskFactory.create()
    ((status, priority, attempts, max_retries, due, dedupe, worker),) = sql(
        "INSERT INTO jobs (task_id, job_type) VALUES (%s, 'deploy') RETURNING status, priority, "
        "attempts, max_retries, run_after <= now(), dedupe_key, worker_id",
        [task.pk],
    )
    assert (status, priority, attempts, max_retries, due, dedupe, worker) == (
        "queued",
        0,
        0,
        3,
        True,
        "",
        "",
    )


def test_a_dedupe_key_is_taken_only_while_its_job_is_live():
    first = JobFactory.create(dedupe_key="deploy-v2")
    for status in (S.QUEUED, S.RUNNING, S.FAILED):
        sql(
            "UPDATE jobs SET status = %s, worker_id = 'w', lease_token = gen_random_uuid(), "
            "lease_expires_at = now() WHERE id = %s",
            [status, first.pk],
        )
        with pytest.raises(IntegrityError), transaction.atomic():
            JobFactory.create(task=first.task, dedupe_key="deploy-v2")

    JobFactory.create(task=first.task, job_type="notify", dedupe_key="deploy-v2")  # another type
    JobFactory.create(task=first.task)  # blank keys never clash
    JobFactory.create(task=first.task)
    sql("UPDATE jobs SET status = 'succeeded', finished_at = now() WHERE id = %s", [first.pk])
    JobFactory.create(task=first.task, dedupe_key="deploy-v2")  # free again
    assert Job.objects.filter(dedupe_key="deploy-v2").count() == 3


@pytest.mark.parametrize(
    "values",
    [
        "status = 'paused'",
        "status = 'running'",  # without a lease
        "status = 'running', worker_id = 'w', lease_token = gen_random_uuid()",  # no expiry
        "status = 'succeeded'",  # without finished_at
        "attempts = -1",
        "max_retries = -1",
        "job_type = ''",
    ],
)
def test_the_database_refuses_an_impossible_job(values):
    job = JobFactory.create()
    with pytest.raises(IntegrityError):
        sql(f"UPDATE jobs SET {values} WHERE id = %s", [job.pk])


def test_a_tasks_jobs_go_with_it():
    kept, deleted = JobFactory.create(), JobFactory.create()
    sql("DELETE FROM tasks WHERE id = %s", [deleted.task_id])
    assert list(Job.objects.values_list("pk", flat=True)) == [kept.pk]
    assert catalog.foreign_keys("jobs") == {"task_id": ("tasks", "id", "c")}


def plan(query: str, params: list[Any]) -> str:
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")  # a tiny table: ask what it would use
        cursor.execute(f"EXPLAIN {query}", params)
        return "\n".join(row[0] for row in cursor.fetchall())


def test_a_claim_reads_only_the_runnable_jobs_index():
    JobFactory.create_batch(3)
    # As in production, the runnable jobs are a few among many finished ones of every type
    # (jobs_type_idx would serve one type's jobs too), and the statistics say so.
    for _ in range(60):
        JobFactory.create(job_type="deploy", status="succeeded", finished_at=db_now())
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE jobs")  # in the test's transaction: rolled back
    claim = (
        "SELECT id FROM jobs WHERE status IN ('queued', 'failed') AND job_type = ANY(%s) "
        "AND run_after <= now() ORDER BY priority DESC, run_after, id LIMIT 1 "
        "FOR UPDATE SKIP LOCKED"
    )
    assert "jobs_runnable_idx" in plan(claim, [["deploy"]])


def test_a_recovery_reads_only_the_running_jobs_index():
    recover = "SELECT id FROM jobs WHERE status = 'running' AND lease_expires_at < %s"
    assert "jobs_running_lease_idx" in plan(recover, ["2030-01-01T00:00Z"])
