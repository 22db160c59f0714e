"""The job queue's services: enqueue (validated, deduplicated, inside its caller's transaction),
claim (order, schedule, pauses, the runnable index), the worker's fenced calls, retries with
backoff until dead, recovery of expired leases, and the operators' cancel, retry and pause.
Every transition writes exactly one event."""

from __future__ import annotations

import random
import uuid
from datetime import datetime, timedelta
from typing import Any

import pytest
from django.db import connection, transaction

from agents_audit import events
from agents_audit.checks import first_job_type_is_a_job_type
from agents_audit.errors import DuplicateJob, LeaseLost, TaskNotRunnable
from agents_audit.events import Trace
from agents_audit.models import Event, Job
from agents_audit.selectors import job_type_paused_list
from agents_audit.services import jobs as queue
from agents_audit.services.jobs import (
    job_cancel,
    job_claim,
    job_complete,
    job_enqueue,
    job_fail,
    job_heartbeat,
    job_next_run_after,
    job_retry,
    job_type_pause,
    job_type_resume,
    jobs_recover,
    retry_delay,
)
from agents_audit.services.tasks import task_approve, task_create, task_reject
from devskyy.errors import InvalidInput, InvalidTransition, NotPermitted
from tests.agents_audit.factories import JobFactory, TaskFactory
from tests.agents_audit.queue import (
    approved_task,
    db_now,
    expire_leases,
    job_events,
    job_row,
    make_due,
    sql,
)
from tests.commerce.factories import AgentUserFactory

pytestmark = pytest.mark.django_db

# The event parameters of the claim statement, for EXPLAINing it.
NO_ACTOR = events.sql_trace_params(actor=None, trace=Trace())

S = Job.Status


class Fixed:
    """A random source that always draws ``value``."""

    def __init__(self, value: float) -> None:
        self.value = value

    def random(self) -> float:
        return self.value


def codes(refused: InvalidInput) -> dict[str, list[str]]:
    errors: Any = refused.errors
    return {name: [error.code for error in field_errors] for name, field_errors in errors.items()}


def claim(types: list[str] | None = None, worker: str = "w1", **kwargs: Any) -> Job | None:
    return job_claim(worker_id=worker, job_types=types or ["deploy"], **kwargs)


def claimed(job: Job, worker: str = "w1") -> Job:
    """``job``, claimed (it must be the only runnable deploy job)."""
    got = claim(worker=worker)
    assert got is not None
    assert got.pk == job.pk
    return got


# --- enqueue -----------------------------------------------------------------------------------


def test_an_enqueued_job_is_queued_with_its_values_and_one_event(operator):
    task = approved_task()
    at = db_now() + timedelta(minutes=5)

    job, created = job_enqueue(
        task=task,
        job_type="deploy:web",
        payload={"service": "web"},
        priority=5,
        max_retries=2,
        dedupe_key="deploy-web-v2",
        run_after=at,
        retry_backoff_seconds=30,
        by=operator,
        trace=Trace(api_key_prefix="Ab12Cd34", correlation_id="c-9"),
    )

    assert created is True
    row = job_row(job)
    assert {k: row[k] for k in ("task_id", "job_type", "payload", "priority", "status")} == {
        "task_id": task.pk,
        "job_type": "deploy:web",
        "payload": {"service": "web"},
        "priority": 5,
        "status": "queued",
    }
    assert (row["max_retries"], row["retry_backoff_seconds"], row["attempts"]) == (2, 30, 0)
    assert (row["dedupe_key"], row["run_after"], row["lease_token"]) == ("deploy-web-v2", at, None)
    event = Event.objects.get(subject_type="job", subject_id=str(job.pk))
    assert (event.event_type, event.actor, event.api_key_prefix, event.correlation_id) == (
        "job_enqueued",
        operator,
        "Ab12Cd34",
        "c-9",
    )
    assert event.payload == {
        "old": {},
        "new": {"status": "queued", "attempts": 0},
        "task": str(task.pk),
        "job_type": "deploy:web",
        "priority": 5,
        "run_after": at.isoformat(),
        "dedupe_key": "deploy-web-v2",
    }


def test_an_enqueued_job_runs_now_with_the_default_backoff_unless_told_otherwise():
    job, _ = job_enqueue(task=approved_task(), job_type="deploy", by=None)

    assert (job.run_after, job.retry_backoff_seconds, job.max_retries, job.priority) == (
        db_now(),
        10,
        3,
        0,
    )
    assert job.payload == {}


@pytest.mark.parametrize("status", ["pending", "rejected", "completed", "failed"])
def test_only_an_approved_or_executing_task_takes_jobs(status, operator):
    agent = AgentUserFactory.create()
    task = task_create(request_text="Rotate keys", created_by=agent)
    if status == "rejected":
        task_reject(task=task, by=operator, reason="no")
    elif status != "pending":
        task_approve(task=task, by=operator)
        sql(
            "UPDATE tasks SET status = %s, completed_at = now() WHERE id = %s",
            [status, task.pk],
        )
    before = Job.objects.count(), Event.objects.count()

    with pytest.raises(TaskNotRunnable) as refused:
        job_enqueue(task=task, job_type="deploy", by=agent)

    assert refused.value.code == "task_not_runnable"
    assert refused.value.status == 409
    assert (Job.objects.count(), Event.objects.count()) == before


@pytest.mark.parametrize(
    ("values", "errors"),
    [
        ({"job_type": ""}, {"job_type": ["blank"]}),
        ({"job_type": "  "}, {"job_type": ["blank"]}),
        ({"job_type": "x" * 101}, {"job_type": ["max_length"]}),
        ({"job_type": "Deploy Web"}, {"job_type": ["invalid"]}),
        ({"priority": 32768}, {"priority": ["max_value"]}),
        ({"priority": -32769}, {"priority": ["min_value"]}),
        ({"priority": True}, {"priority": ["invalid"]}),
        ({"max_retries": -1}, {"max_retries": ["min_value"]}),
        ({"max_retries": 101}, {"max_retries": ["max_value"]}),
        ({"retry_backoff_seconds": 0}, {"retry_backoff_seconds": ["min_value"]}),
        ({"retry_backoff_seconds": 86401}, {"retry_backoff_seconds": ["max_value"]}),
        ({"payload": ["not", "an", "object"]}, {"payload": ["not_an_object"]}),
        ({"dedupe_key": "k" * 256}, {"dedupe_key": ["max_length"]}),
        (
            {"job_type": "", "priority": 40000, "max_retries": 500},
            {"job_type": ["blank"], "priority": ["max_value"], "max_retries": ["max_value"]},
        ),
    ],
)
def test_bad_enqueue_values_are_refused_by_field_and_nothing_is_written(values, errors):
    task = approved_task()
    before = Job.objects.count(), Event.objects.count()

    with pytest.raises(InvalidInput) as refused:
        job_enqueue(task=task, **{"job_type": "deploy", **values}, by=None)

    assert codes(refused.value) == errors
    assert (Job.objects.count(), Event.objects.count()) == before


def test_the_limits_themselves_are_accepted():
    task = approved_task()
    for priority, max_retries, backoff in ((32767, 100, 86400), (-32768, 0, 1)):
        job, created = job_enqueue(
            task=task,
            job_type="a" * 100,
            priority=priority,
            max_retries=max_retries,
            retry_backoff_seconds=backoff,
            by=None,
        )
        assert created
        assert (job.priority, job.max_retries, job.retry_backoff_seconds) == (
            priority,
            max_retries,
            backoff,
        )


def test_a_live_dedupe_key_returns_the_existing_job_until_it_finishes():
    task = approved_task()
    first, created = job_enqueue(task=task, job_type="deploy", dedupe_key="v2", by=None)
    assert created

    again, created_again = job_enqueue(
        task=task, job_type="deploy", dedupe_key="v2", payload={"other": 1}, by=None
    )
    assert (again.pk, created_again, again.payload) == (first.pk, False, {})
    assert job_events(first) == ["job_enqueued"]  # nothing recorded for the duplicate

    other_type, created_other = job_enqueue(task=task, job_type="notify", dedupe_key="v2", by=None)
    assert created_other
    assert other_type.pk != first.pk

    running = claimed(first)
    assert job_enqueue(task=task, job_type="deploy", dedupe_key="v2", by=None)[0].pk == first.pk
    job_complete(job_id=running.pk, lease_token=running.lease_token)

    fresh, created_fresh = job_enqueue(task=task, job_type="deploy", dedupe_key="v2", by=None)
    assert created_fresh
    assert fresh.pk != first.pk


def test_a_dedupe_race_lost_at_the_index_returns_the_winners_job(monkeypatch):
    """The pre-check saw no live job, but another transaction inserted the key first: the
    unique index refuses the insert (in a savepoint) and the winner's job is returned."""
    task = approved_task()
    winner, _ = job_enqueue(task=task, job_type="deploy", dedupe_key="k", by=None)
    checks = iter([None])
    real = queue._live_with_key
    monkeypatch.setattr(queue, "_live_with_key", lambda *a: next(checks, None) or real(*a))

    job, created = job_enqueue(task=task, job_type="deploy", dedupe_key="k", by=None)

    assert (job.pk, created) == (winner.pk, False)
    assert Job.objects.filter(dedupe_key="k").count() == 1


def test_an_enqueue_rolled_back_with_its_transaction_leaves_no_job():
    task = approved_task()
    before = Job.objects.count(), Event.objects.count()

    def enqueue_then_fail() -> None:
        with transaction.atomic():
            job_enqueue(task=task, job_type="deploy", by=None)
            raise RuntimeError("the caller's transaction fails after the enqueue")

    with pytest.raises(RuntimeError):
        enqueue_then_fail()

    assert (Job.objects.count(), Event.objects.count()) == before


# --- approving a task enqueues its first job ---------------------------------------------------


def test_approving_a_task_enqueues_its_first_job(operator):
    task = task_create(request_text="Deploy v2", created_by=AgentUserFactory.create())

    task_approve(task=task, by=operator)

    job = Job.objects.get(task=task)
    assert (job.job_type, job.status, job.dedupe_key) == (
        "task.execute",
        "queued",
        f"task:{task.pk}:first",
    )
    assert job.payload == {"task_id": str(task.pk), "thread_id": task.thread_id}
    assert job_events(job) == ["job_enqueued"]
    assert Event.objects.get(subject_id=str(job.pk)).actor == operator


def test_the_first_jobs_type_is_a_setting(operator, settings):
    settings.AGENTS_TASK_FIRST_JOB_TYPE = "agent.plan"
    task = task_create(request_text="Deploy v2", created_by=AgentUserFactory.create())

    task_approve(task=task, by=operator)

    assert Job.objects.get(task=task).job_type == "agent.plan"


def test_an_approval_rolled_back_leaves_no_job(operator):
    task = task_create(request_text="Deploy v2", created_by=AgentUserFactory.create())

    def approve_then_fail() -> None:
        with transaction.atomic():
            task_approve(task=task, by=operator)
            raise RuntimeError("the caller's transaction fails after the approval")

    with pytest.raises(RuntimeError):
        approve_then_fail()

    task.refresh_from_db()
    assert task.status == "pending"
    assert not Job.objects.exists()


# --- claim -------------------------------------------------------------------------------------


def test_a_claim_leases_the_job_counts_the_attempt_and_records_it(operator):
    job = JobFactory.create()

    got = claim(worker="worker-7", lease_seconds=90, by=operator)

    assert got is not None
    assert got.pk == job.pk
    row = job_row(job)
    assert (row["status"], row["worker_id"], row["attempts"]) == ("running", "worker-7", 1)
    assert isinstance(row["lease_token"], uuid.UUID)
    assert row["lease_token"] == got.lease_token
    assert row["lease_expires_at"] == db_now() + timedelta(seconds=90)
    (event,) = Event.objects.filter(subject_type="job", subject_id=str(job.pk))
    assert (event.event_type, event.actor) == ("job_claimed", operator)
    payload = dict(event.payload)
    # The claim writes its event in SQL: PostgreSQL spells the expiry without the trailing zeros
    # of its microseconds (".70536", where Python's isoformat() writes ".705360").
    assert datetime.fromisoformat(payload.pop("lease_expires_at")) == row["lease_expires_at"]
    assert payload == {
        "old": {"status": "queued"},
        "new": {"status": "running", "attempts": 1},
        "task": str(job.task_id),
        "job_type": "deploy",
        "worker_id": "worker-7",
    }


def test_claims_take_the_highest_priority_then_the_oldest_run_after_then_the_lowest_id():
    now = db_now()
    task = TaskFactory.create()
    low = JobFactory.create(task=task, priority=-1, run_after=now - timedelta(hours=1))
    old_b = JobFactory.create(task=task, priority=0, run_after=now - timedelta(minutes=10))
    old_a = JobFactory.create(task=task, priority=0, run_after=now - timedelta(minutes=10))
    older = JobFactory.create(task=task, priority=0, run_after=now - timedelta(minutes=20))
    urgent = JobFactory.create(task=task, priority=10, run_after=now)

    order = [claim() for _ in range(6)]

    assert order[-1] is None
    assert [job.pk for job in order[:-1] if job] == [
        urgent.pk,
        older.pk,
        min(old_a.pk, old_b.pk),
        max(old_a.pk, old_b.pk),
        low.pk,
    ]


def test_a_job_scheduled_for_later_is_not_claimed_before_its_time():
    job = JobFactory.create(run_after=db_now() + timedelta(seconds=1))

    assert claim() is None
    make_due(job.pk)
    assert claimed(job).status == "running"


def test_a_claim_takes_only_the_workers_types_and_failed_jobs_due_again():
    JobFactory.create(job_type="notify")
    failed = JobFactory.create(status=S.FAILED, attempts=1)

    got = claim(["deploy", "build"])

    assert got is not None
    assert got.pk == failed.pk
    assert got.attempts == 2
    assert Event.objects.get(subject_id=str(failed.pk)).payload["old"] == {"status": "failed"}
    assert claim(["deploy", "build"]) is None


def test_a_paused_type_is_not_claimed_until_resumed(operator):
    deploy = JobFactory.create(job_type="deploy")
    build = JobFactory.create(job_type="build")
    job_type_pause(job_type="deploy", by=operator)

    assert claim(["deploy"]) is None
    got = claim(["deploy", "build"])
    assert got is not None
    assert got.pk == build.pk

    job_type_resume(job_type="deploy", by=operator)
    assert claimed(deploy).status == "running"


def test_nothing_to_do_is_none_and_writes_nothing():
    JobFactory.create(status=S.CANCELLED, finished_at=db_now())

    assert claim() is None
    assert not Event.objects.exists()


@pytest.mark.parametrize(
    ("kwargs", "errors"),
    [
        ({"worker_id": ""}, {"worker_id": ["blank"]}),
        ({"worker_id": "w" * 256}, {"worker_id": ["max_length"]}),
        ({"job_types": []}, {"job_types": ["empty"]}),
        ({"job_types": "deploy"}, {"job_types": ["not_a_list"]}),
        ({"job_types": ["deploy", ""]}, {"job_types": ["blank"]}),
        ({"job_types": [f"t{i}" for i in range(21)]}, {"job_types": ["max_length"]}),
        ({"lease_seconds": 0}, {"lease_seconds": ["min_value"]}),
        ({"lease_seconds": 3601}, {"lease_seconds": ["max_value"]}),
    ],
)
def test_bad_claim_values_are_refused_by_field(kwargs, errors):
    JobFactory.create()
    with pytest.raises(InvalidInput) as refused:
        job_claim(**{"worker_id": "w1", "job_types": ["deploy"], **kwargs})
    assert codes(refused.value) == errors
    assert Job.objects.get().status == "queued"


def test_the_claim_query_reads_the_head_of_each_types_queue_from_the_index():
    """With a backlog (20,000 due jobs of two types) the claim reads each type's head from
    jobs_runnable_idx: no scan of the table, no sort of the backlog."""
    task = JobFactory.create().task
    sql(
        "INSERT INTO jobs (task_id, job_type, priority, payload) "
        "SELECT %s, CASE WHEN g %% 2 = 0 THEN 'deploy' ELSE 'build' END, g %% 7, '{}' "
        "FROM generate_series(1, 20000) AS g",
        [task.pk],
    )
    sql("ANALYZE jobs")
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            f"EXPLAIN {queue.CLAIM_SQL}",
            {"types": ["deploy", "build"], "worker_id": "w", "lease_seconds": 60, **NO_ACTOR},
        )
        plan = "\n".join(row[0] for row in cursor.fetchall())

    assert "Index Scan using jobs_runnable_idx on jobs" in plan, plan
    assert "Seq Scan on jobs" not in plan, plan
    # The only sort is over the heads (one per type), after the LATERAL's LIMIT 1.
    assert plan.count("Sort Key") <= 1, plan
    assert "Sort Key: head.priority DESC" in plan, plan


def test_the_claim_reads_the_index_whatever_the_statistics_say():
    """A burst of enqueues lands before autovacuum analyzes the table: the statistics still say
    there are no such jobs. Under its planner settings the claim still reads the head of the
    queue from the index (a plan that read and sorted the backlog cost 65 ms per claim at
    200,000 jobs)."""
    task = JobFactory.create(job_type="other").task
    sql("ANALYZE jobs")  # statistics: no deploy jobs at all
    sql(
        "INSERT INTO jobs (task_id, job_type, payload) "
        "SELECT %s, 'deploy', '{}' FROM generate_series(1, 20000)",
        [task.pk],
    )
    params = {"types": ["deploy"], "worker_id": "w", "lease_seconds": 60, **NO_ACTOR}
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "; ".join([*queue.CLAIM_PLAN_SETTINGS, f"EXPLAIN {queue.CLAIM_SQL}"]), params
        )
        while cursor.description is None and cursor.nextset():
            pass
        plan = "\n".join(row[0] for row in cursor.fetchall())

    assert "Index Scan using jobs_runnable_idx on jobs" in plan, plan
    assert "Seq Scan on jobs" not in plan, plan


def test_claims_and_completes_run_as_prepared_statements():
    JobFactory.create()
    job = claim()
    assert job is not None
    job_complete(job_id=job.pk, lease_token=job.lease_token)

    statements = [row[0] for row in sql("SELECT statement FROM pg_prepared_statements")]
    assert any("claimed_event AS" in statement for statement in statements), statements
    assert any("done_event AS" in statement for statement in statements), statements


@pytest.mark.parametrize("prepared", [True, False])
def test_the_queue_works_the_same_with_and_without_prepared_statements(settings, prepared):
    settings.DB_PREPARED_STATEMENTS = prepared
    JobFactory.create()
    job = claim()
    assert job is not None

    done = job_complete(job_id=job.pk, lease_token=job.lease_token)

    assert done.status == Job.Status.SUCCEEDED
    assert job_events(job)[-2:] == ["job_claimed", "job_succeeded"]
    assert sql("SHOW enable_seqscan") == [("on",)]


def test_a_claim_leaves_the_planner_settings_of_its_callers_transaction_alone():
    JobFactory.create()
    with transaction.atomic():
        assert claim() is not None
        assert sql("SHOW enable_seqscan") == [("on",)]
        assert sql("SHOW enable_sort") == [("on",)]


def test_a_claim_over_several_types_takes_the_best_head_of_all():
    low = JobFactory.create(job_type="build", priority=1)
    first_high = JobFactory.create(job_type="deploy", priority=5)
    second_high = JobFactory.create(job_type="build", priority=5)  # same run_after: by id

    order = [claim(types=["build", "deploy"]) for _ in range(4)]

    assert order[3] is None
    assert [getattr(job, "pk", None) for job in order[:3]] == [
        first_high.pk,
        second_high.pk,
        low.pk,
    ]


def test_the_next_run_after_is_the_earliest_scheduled_job_or_lease_expiry(operator):
    now = db_now()
    assert job_next_run_after(job_types=["deploy"]) is None

    JobFactory.create(run_after=now)  # due now
    JobFactory.create(job_type="notify", run_after=now + timedelta(seconds=5))  # not our type
    JobFactory.create(run_after=now + timedelta(minutes=3))
    # A due job that the claim did not get (a concurrent claim held its lock, or it rolled
    # back) is a due time in the past: a waiting claim tries again instead of sleeping.
    assert job_next_run_after(job_types=["deploy"]) == now

    running = claim(lease_seconds=60)  # the due one: its lease may expire before the 3 minutes
    assert running is not None
    assert job_next_run_after(job_types=["deploy"]) == now + timedelta(seconds=60)
    assert job_next_run_after(job_types=["notify", "deploy"]) == now + timedelta(seconds=5)

    job_type_pause(job_type="notify", by=operator)
    assert job_next_run_after(job_types=["notify"]) is None


# --- the worker's fenced calls -----------------------------------------------------------------


def test_a_heartbeat_extends_the_lease_without_an_event():
    job = claimed(JobFactory.create(), "w1")
    events_before = job_events(job)

    beaten = job_heartbeat(job_id=job.pk, lease_token=str(job.lease_token), lease_seconds=300)

    assert beaten.lease_expires_at == db_now() + timedelta(seconds=300)
    assert job_row(job)["lease_expires_at"] == beaten.lease_expires_at
    assert job_events(job) == events_before


def test_completing_records_the_result_and_ends_the_lease(agent_user):
    job = claimed(JobFactory.create())

    done = job_complete(
        job_id=job.pk, lease_token=job.lease_token, result={"url": "https://x"}, by=agent_user
    )

    row = job_row(job)
    assert (row["status"], row["result"], row["finished_at"]) == (
        "succeeded",
        {"url": "https://x"},
        db_now(),
    )
    assert (row["lease_token"], row["lease_expires_at"], row["worker_id"]) == (None, None, "w1")
    assert done.status == "succeeded"
    assert job_events(job) == ["job_claimed", "job_succeeded"]
    event = Event.objects.filter(subject_id=str(job.pk)).latest("id")
    assert event.actor == agent_user
    assert event.payload["old"] == {"status": "running"}


def test_a_result_may_be_absent_or_any_json_value():
    for result in (None, [1, 2], "ok", 2**70):
        job = claimed(JobFactory.create())
        job_complete(job_id=job.pk, lease_token=job.lease_token, result=result)
        job.refresh_from_db()
        assert job.result == result


def stale_calls(job: Job, token: Any) -> dict[str, Any]:
    return {
        "heartbeat": lambda: job_heartbeat(job_id=job.pk, lease_token=token),
        "complete": lambda: job_complete(job_id=job.pk, lease_token=token, result={"x": 1}),
        "fail": lambda: job_fail(job_id=job.pk, lease_token=token, error="boom"),
    }


@pytest.mark.parametrize("call", ["heartbeat", "complete", "fail"])
def test_a_stale_worker_changes_nothing_after_its_job_was_taken_over(call):
    job = JobFactory.create()
    stale = claimed(job, "w-stale")
    expire_leases(job.pk)
    taken = claimed(job, "w-new")  # recovered, then claimed again
    row, trail = job_row(job), job_events(job)

    with pytest.raises(LeaseLost) as lost:
        stale_calls(job, stale.lease_token)[call]()

    assert (lost.value.code, lost.value.status) == ("lease_lost", 409)
    assert job_row(job) == row
    assert job_events(job) == trail
    assert (row["worker_id"], row["lease_token"]) == ("w-new", taken.lease_token)


@pytest.mark.parametrize("call", ["heartbeat", "complete", "fail"])
def test_a_finished_or_unknown_job_refuses_the_workers_call(call):
    job = claimed(JobFactory.create())
    job_complete(job_id=job.pk, lease_token=job.lease_token)
    row, trail = job_row(job), job_events(job)

    with pytest.raises(LeaseLost):
        stale_calls(job, job.lease_token)[call]()
    with pytest.raises(LeaseLost):
        stale_calls(JobFactory.create(), uuid.uuid4())[call]()  # queued: nobody's lease
    missing = Job(pk=job.pk + 10_000)
    with pytest.raises(Job.DoesNotExist):
        stale_calls(missing, job.lease_token)[call]()
    assert (job_row(job), job_events(job)) == (row, trail)


def test_a_lease_token_that_is_no_uuid_is_invalid_input():
    job = claimed(JobFactory.create())
    with pytest.raises(InvalidInput) as refused:
        job_complete(job_id=job.pk, lease_token="not-a-uuid")
    assert list(refused.value.errors) == ["lease_token"]


def test_a_late_complete_is_accepted_while_nobody_took_the_job_over():
    job = claimed(JobFactory.create())
    expire_leases(job.pk)  # expired, but no claim has recovered it yet

    done = job_complete(job_id=job.pk, lease_token=job.lease_token)

    assert done.status == "succeeded"
    assert jobs_recover() == 0


# --- failures, backoff and dead ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("attempts", "base", "ceiling"),
    [
        (1, 10, 10),
        (2, 10, 20),
        (3, 10, 40),
        (9, 10, 2560),
        (10, 10, 3600),  # 5120 capped at an hour
        (60, 10, 3600),
        (1, 7200, 7200),  # a base above the cap is the cap
        (3, 7200, 7200),
    ],
)
def test_the_backoff_is_equal_jitter_between_half_the_ceiling_and_the_ceiling(
    attempts, base, ceiling
):
    assert retry_delay(attempts=attempts, base_seconds=base, rng=Fixed(0.0)) == ceiling / 2
    assert retry_delay(attempts=attempts, base_seconds=base, rng=Fixed(0.5)) == ceiling * 3 / 4
    seeded = random.Random(1234)  # noqa: S311
    for _ in range(200):
        assert (
            ceiling / 2 <= retry_delay(attempts=attempts, base_seconds=base, rng=seeded) < ceiling
        )


def test_a_failed_job_waits_for_its_backoff_then_dies_after_max_retries(agent_user):
    job = JobFactory.create(max_retries=2, retry_backoff_seconds=10)
    now = db_now()

    first = claimed(job)
    failed = job_fail(
        job_id=job.pk, lease_token=first.lease_token, error="timeout", rng=Fixed(0.5), by=agent_user
    )
    assert (failed.status, failed.attempts, failed.last_error) == ("failed", 1, "timeout")
    assert failed.run_after == now + timedelta(seconds=7.5)  # 10 * 2**0, 3/4 of it
    assert (failed.lease_token, failed.lease_expires_at, failed.finished_at) == (None, None, None)
    assert claim() is None  # still waiting
    failed_event = Event.objects.filter(subject_id=str(job.pk)).latest("id")
    assert failed_event.payload == {
        "old": {"status": "running"},
        "new": {"status": "failed", "attempts": 1},
        "task": str(job.task_id),
        "job_type": "deploy",
        "worker_id": "w1",
        "error": "timeout",
        "run_after": failed.run_after.isoformat(),
    }

    make_due(job.pk)
    second = claimed(job)
    failed = job_fail(
        job_id=job.pk, lease_token=second.lease_token, error="timeout", rng=Fixed(0.0)
    )
    assert (failed.status, failed.attempts) == ("failed", 2)
    assert failed.run_after == now + timedelta(seconds=10)  # 10 * 2**1, half of it

    make_due(job.pk)
    third = claimed(job)
    dead = job_fail(job_id=job.pk, lease_token=third.lease_token, error="timeout again")
    assert (dead.status, dead.attempts, dead.last_error, dead.finished_at) == (
        "dead",
        3,
        "timeout again",
        now,
    )
    assert job_events(job) == [
        "job_claimed",
        "job_failed",
        "job_claimed",
        "job_failed",
        "job_claimed",
        "job_dead",
    ]
    assert Event.objects.filter(subject_id=str(job.pk)).latest("id").payload["retryable"] is True
    assert claim() is None


def test_a_job_without_retries_dies_on_its_first_failure():
    job = claimed(JobFactory.create(max_retries=0))
    assert job_fail(job_id=job.pk, lease_token=job.lease_token, error="x").status == "dead"


def test_a_failure_that_is_not_retryable_is_dead_at_once():
    job = claimed(JobFactory.create(max_retries=5))

    dead = job_fail(
        job_id=job.pk, lease_token=job.lease_token, error="bad payload", retryable=False
    )

    assert (dead.status, dead.attempts, dead.finished_at) == ("dead", 1, db_now())
    assert job_events(job) == ["job_claimed", "job_dead"]
    event = Event.objects.filter(subject_id=str(job.pk)).latest("id")
    assert (event.payload["error"], event.payload["retryable"]) == ("bad payload", False)


# --- recovery ----------------------------------------------------------------------------------


def test_an_expired_lease_is_recovered_to_run_again_at_once_with_its_attempt_counted():
    job = claimed(JobFactory.create(), "w-dead")
    alive = claimed(JobFactory.create(), "w-alive")
    expire_leases(job.pk)

    assert jobs_recover() == 1

    row = job_row(job)
    assert (row["status"], row["attempts"], row["run_after"]) == ("failed", 1, db_now())
    assert (row["lease_token"], row["lease_expires_at"]) == (None, None)
    assert row["last_error"] == "Lease expired: worker 'w-dead' stopped renewing it."
    assert job_events(job) == ["job_claimed", "job_lease_expired"]
    event = Event.objects.filter(subject_id=str(job.pk)).latest("id")
    assert event.actor is None
    assert event.payload["expired_worker_id"] == "w-dead"
    assert event.payload["new"] == {"status": "failed", "attempts": 1}
    assert job_row(alive)["status"] == "running"


def test_a_recovered_job_whose_attempts_are_used_up_is_dead():
    job = claimed(JobFactory.create(max_retries=0))
    expire_leases(job.pk)

    assert jobs_recover() == 1

    row = job_row(job)
    assert (row["status"], row["finished_at"], row["attempts"]) == ("dead", db_now(), 1)
    assert job_events(job) == ["job_claimed", "job_dead"]
    payload = Event.objects.filter(subject_id=str(job.pk)).latest("id").payload
    assert (payload["lease_expired"], payload["error"]) == (True, row["last_error"])


def test_recovery_is_bounded_and_takes_the_oldest_expiry_first():
    jobs = [claimed(JobFactory.create(), f"w{i}") for i in range(3)]
    for minutes, job in zip((1, 3, 2), jobs, strict=True):
        sql(
            "UPDATE jobs SET lease_expires_at = now() - make_interval(mins => %s) WHERE id = %s",
            [minutes, job.pk],
        )

    assert jobs_recover(limit=2) == 2
    assert [job_row(j)["status"] for j in jobs] == ["running", "failed", "failed"]
    assert jobs_recover(limit=2) == 1


def test_recovery_may_be_asked_as_of_a_later_time():
    job = claimed(JobFactory.create(), "w1")  # expires in 60 s
    assert jobs_recover() == 0
    assert jobs_recover(now=db_now() + timedelta(seconds=61)) == 1
    assert job_row(job)["status"] == "failed"


def test_every_claim_first_recovers_expired_leases():
    job = JobFactory.create(job_type="build")
    assert claim(["build"], "w-dead") is not None
    expire_leases(job.pk)

    assert claim(["other"]) is None  # a claim of any type recovers any type

    assert job_row(job)["status"] == "failed"


# --- operators ---------------------------------------------------------------------------------


@pytest.mark.parametrize("status", ["queued", "failed", "running"])
def test_an_operator_cancels_a_live_job(status, operator):
    job = JobFactory.create()
    token = None
    if status == "running":
        token = claimed(job).lease_token
    elif status == "failed":
        sql("UPDATE jobs SET status = 'failed' WHERE id = %s", [job.pk])

    cancelled = job_cancel(job=job, by=operator)

    row = job_row(job)
    assert (row["status"], row["finished_at"], row["lease_token"]) == ("cancelled", db_now(), None)
    assert cancelled.status == "cancelled"
    event = Event.objects.filter(subject_id=str(job.pk)).latest("id")
    assert (event.event_type, event.actor, event.payload["old"]) == (
        "job_cancelled",
        operator,
        {"status": status},
    )
    if token is not None:
        with pytest.raises(LeaseLost):
            job_complete(job_id=job.pk, lease_token=token)
    assert claim() is None


@pytest.mark.parametrize("status", ["succeeded", "dead", "cancelled"])
def test_a_finished_job_cannot_be_cancelled(status, operator):
    job = JobFactory.create(status=status, finished_at=db_now())
    with pytest.raises(InvalidTransition):
        job_cancel(job=job, by=operator)
    assert (job_row(job)["status"], job_events(job)) == (status, [])


def test_only_operators_cancel_retry_pause_and_resume(agent_user):
    job = JobFactory.create()
    for call in (
        lambda: job_cancel(job=job, by=agent_user),
        lambda: job_retry(job=job, by=agent_user),
        lambda: job_type_pause(job_type="deploy", by=agent_user),
        lambda: job_type_resume(job_type="deploy", by=agent_user),
    ):
        with pytest.raises(NotPermitted):
            call()
    assert (job_row(job)["status"], list(job_type_paused_list())) == ("queued", [])
    assert not Event.objects.exists()


@pytest.mark.parametrize("status", ["dead", "cancelled", "failed"])
def test_an_operator_retries_a_job_which_starts_over(status, operator):
    job = JobFactory.create(max_retries=1)
    for _ in range(2):
        running = claim()
        assert running is not None
        job_fail(job_id=job.pk, lease_token=running.lease_token, error="boom")
        make_due(job.pk)
    assert job_row(job)["status"] == "dead"
    if status != "dead":
        sql("UPDATE jobs SET status = %s WHERE id = %s", [status, job.pk])

    retried = job_retry(job=job, by=operator)

    row = job_row(job)
    assert (row["status"], row["attempts"], row["run_after"], row["finished_at"]) == (
        "queued",
        0,
        db_now(),
        None,
    )
    assert retried.status == "queued"
    event = Event.objects.filter(subject_id=str(job.pk)).latest("id")
    assert (event.event_type, event.actor) == ("job_retried", operator)
    assert (event.payload["old"], event.payload["new"], event.payload["old_attempts"]) == (
        {"status": status},
        {"status": "queued", "attempts": 0},
        2,
    )
    assert claimed(job).attempts == 1


@pytest.mark.parametrize("status", ["queued", "running", "succeeded"])
def test_only_dead_cancelled_or_failed_jobs_are_retried(status, operator):
    job = JobFactory.create()
    if status != "queued":
        running = claimed(job)
        if status == "succeeded":
            job_complete(job_id=job.pk, lease_token=running.lease_token)
    row, trail = job_row(job), job_events(job)
    with pytest.raises(InvalidTransition):
        job_retry(job=job, by=operator)
    assert (job_row(job), job_events(job)) == (row, trail)


def test_a_retry_respects_the_live_dedupe_key(operator):
    task = approved_task()
    old, _ = job_enqueue(task=task, job_type="deploy", dedupe_key="v2", by=None)
    job_cancel(job=old, by=operator)
    live, _ = job_enqueue(task=task, job_type="deploy", dedupe_key="v2", by=None)
    row = job_row(old)

    with pytest.raises(DuplicateJob) as refused:
        job_retry(job=old, by=operator)

    assert refused.value.code == "duplicate_job"
    assert job_row(old) == row
    assert job_events(old)[-1] == "job_cancelled"
    job_cancel(job=live, by=operator)
    assert job_retry(job=old, by=operator).status == "queued"


def test_pausing_and_resuming_are_idempotent_with_one_event_each(operator):
    assert job_type_pause(job_type="deploy", by=operator) is True
    assert job_type_pause(job_type="deploy", by=operator) is False
    assert [(p.job_type, p.paused_by) for p in job_type_paused_list()] == [("deploy", operator)]

    assert job_type_resume(job_type="deploy", by=operator) is True
    assert job_type_resume(job_type="deploy", by=operator) is False
    assert list(job_type_paused_list()) == []

    trail = Event.objects.filter(subject_type="job_type").order_by("id")
    assert [(e.event_type, e.subject_id, e.actor, e.payload) for e in trail] == [
        (
            "job_type_paused",
            "deploy",
            operator,
            {"old": {"paused": False}, "new": {"paused": True}},
        ),
        (
            "job_type_resumed",
            "deploy",
            operator,
            {"old": {"paused": True}, "new": {"paused": False}},
        ),
    ]


def test_a_bad_job_type_cannot_be_paused(operator):
    with pytest.raises(InvalidInput):
        job_type_pause(job_type="Not A Type", by=operator)
    assert list(job_type_paused_list()) == []


# --- the trail ---------------------------------------------------------------------------------


def test_every_transition_of_a_jobs_life_writes_exactly_one_event_of_its_type(operator):
    task = approved_task()
    job, _ = job_enqueue(task=task, job_type="deploy", max_retries=1, by=None)
    expected = ["job_enqueued"]

    def step(event_type: str) -> None:
        expected.append(event_type)
        assert job_events(job) == expected

    first = claimed(job)
    step("job_claimed")
    job_heartbeat(job_id=job.pk, lease_token=first.lease_token)
    assert job_events(job) == expected  # not a transition
    job_fail(job_id=job.pk, lease_token=first.lease_token, error="e")
    step("job_failed")
    make_due(job.pk)
    claimed(job)
    step("job_claimed")
    expire_leases(job.pk)
    jobs_recover()
    step("job_dead")  # attempts 2 > max_retries 1
    job_retry(job=job, by=operator)
    step("job_retried")
    claimed(job)
    step("job_claimed")
    expire_leases(job.pk)
    jobs_recover()
    step("job_lease_expired")
    job_cancel(job=job, by=operator)
    step("job_cancelled")
    job_retry(job=job, by=operator)
    step("job_retried")
    last = claimed(job)
    step("job_claimed")
    job_complete(job_id=job.pk, lease_token=last.lease_token)
    step("job_succeeded")
    assert set(expected) | {"job_type_paused", "job_type_resumed"} == {
        t for t in Event.Type.values if t.startswith("job")
    }


@pytest.mark.parametrize("value", ["Task Execute", "", "x" * 101])
def test_a_first_job_type_that_is_no_job_type_fails_the_system_checks(value, settings):
    settings.AGENTS_TASK_FIRST_JOB_TYPE = value
    assert [e.id for e in first_job_type_is_a_job_type()] == ["agents_audit.E001"]
    settings.AGENTS_TASK_FIRST_JOB_TYPE = "task.execute"
    assert first_job_type_is_a_job_type() == []


def test_the_jobs_table_is_vacuumed_and_analyzed_after_two_percent_changes():
    (options,) = sql("SELECT reloptions FROM pg_class WHERE relname = 'jobs'")[0]
    assert set(options) == {
        "autovacuum_vacuum_scale_factor=0.02",
        "autovacuum_vacuum_threshold=1000",
        "autovacuum_analyze_scale_factor=0.02",
        "autovacuum_analyze_threshold=1000",
    }
