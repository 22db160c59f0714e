"""The job queue under real concurrency: worker processes of their own (not threads of this one)
claiming through the services, a worker killed mid-job, and concurrent enqueues of one dedupe
key on real connections. An effect table whose primary key is the job id proves "exactly once":
a job processed twice would fail its second insert and its worker would exit non-zero."""

from __future__ import annotations

import subprocess
import threading
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from django.db import connection, connections, transaction

from agents_audit.errors import LeaseLost
from agents_audit.models import Event, Job
from agents_audit.services.jobs import job_complete, job_enqueue
from tests.agents_audit.factories import TaskFactory
from tests.agents_audit.queue import approved_task, expire_leases, sql
from tests.processes import PYTHON, ROOT, child_env

pytestmark = pytest.mark.django_db(transaction=True)

WORKER = [PYTHON, "-m", "tests.agents_audit.queue_worker"]


@pytest.fixture
def effects() -> Iterator[None]:
    sql("CREATE TABLE queue_test_effects (job_id bigint PRIMARY KEY, worker_id text NOT NULL)")
    try:
        yield
    finally:
        sql("DROP TABLE queue_test_effects")


def effect_rows() -> dict[int, str]:
    return dict(sql("SELECT job_id, worker_id FROM queue_test_effects"))


def enqueue_many(job_type: str, count: int) -> list[int]:
    """``count`` queued jobs, inserted in one statement (the claims are what is tested)."""
    task = TaskFactory.create()
    rows = sql(
        "INSERT INTO jobs (task_id, job_type) SELECT %s, %s FROM generate_series(1, %s) "
        "RETURNING id",
        [task.pk, job_type, count],
    )
    return [job_id for (job_id,) in rows]


def start(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(  # noqa: S603 (our interpreter, fixed arguments)
        [*WORKER, *args],
        cwd=ROOT,
        env=child_env(),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def finish(process: subprocess.Popen[str]) -> str:
    out, err = process.communicate(timeout=120)
    assert process.returncode == 0, err
    return out


@pytest.mark.slow
def test_four_worker_processes_process_two_thousand_jobs_exactly_once(effects):
    job_ids = enqueue_many("bulk", 2000)
    workers = [start("drain", f"proc-{i}", "bulk", "--wait") for i in range(4)]
    try:
        for worker in workers:  # every process is up (Django loaded) before any claims
            assert worker.stdout is not None
            assert worker.stdout.readline().strip() == "ready"
        for worker in workers:
            assert worker.stdin is not None
            worker.stdin.write("go\n")
            worker.stdin.flush()
        outputs = [finish(worker) for worker in workers]
    finally:
        for worker in workers:
            if worker.poll() is None:
                worker.kill()

    processed = [int(out.split()[-1]) for out in outputs]
    effects_by_job = effect_rows()
    assert sorted(effects_by_job) == sorted(job_ids)
    assert sum(processed) == 2000
    assert all(count > 0 for count in processed), processed  # they really ran side by side
    jobs = Job.objects.filter(pk__in=job_ids)
    assert set(jobs.values_list("status", "attempts")) == {("succeeded", 1)}
    assert all(job.result == {"by": effects_by_job[job.pk]} for job in jobs)
    for event_type in ("job_claimed", "job_succeeded"):
        assert Event.objects.filter(event_type=event_type).count() == 2000


def test_a_killed_workers_jobs_are_recovered_and_completed_exactly_once(effects):
    job_ids = enqueue_many("killable", 8)
    doomed = start("hang", "doomed", "killable", "3")
    assert doomed.stdout is not None
    line = doomed.stdout.readline().split()
    doomed.kill()  # SIGKILL mid-job: no goodbye, its three leases stay behind
    doomed.wait(timeout=30)
    assert line[0] == "claimed"
    leases = {int(i): uuid.UUID(token) for i, token in (item.split(":") for item in line[1:])}
    assert len(leases) == 3
    assert set(Job.objects.filter(status="running").values_list("pk", flat=True)) == set(leases)

    expire_leases(*leases)  # the lease time passes, without sleeping
    out = finish(start("drain", "rescuer", "killable"))

    assert out.split() == ["processed", "8"]
    assert effect_rows() == dict.fromkeys(job_ids, "rescuer")
    attempts = dict(Job.objects.filter(pk__in=job_ids).values_list("pk", "attempts"))
    assert attempts == {job_id: 2 if job_id in leases else 1 for job_id in job_ids}
    assert set(Job.objects.filter(pk__in=job_ids).values_list("status", flat=True)) == {"succeeded"}
    recovered = Event.objects.filter(event_type="job_lease_expired")
    assert sorted(int(e.subject_id) for e in recovered) == sorted(leases)
    assert {e.payload["expired_worker_id"] for e in recovered} == {"doomed"}
    # Had the killed worker come back, its results would change nothing.
    for job_id, token in leases.items():
        with pytest.raises(LeaseLost):
            job_complete(job_id=job_id, lease_token=token, result={"by": "doomed"})
    assert Job.objects.get(pk=job_id).result == {"by": "rescuer"}


def waiting_on_locks() -> int:
    with connections["default"].cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity "
            "WHERE datname = current_database() AND wait_event_type = 'Lock'"
        )
        (count,) = cursor.fetchone()
    return count


def test_concurrent_enqueues_with_one_dedupe_key_make_one_job():
    """The first enqueue holds its transaction open; the others pass the dedupe pre-check
    (they cannot see its job yet) and wait at the unique index; when it commits, each gets the
    index's refusal and returns the committed job."""
    task = approved_task()
    results: list[tuple[int, bool]] = []
    errors: list[BaseException] = []
    first_inserted, commit_first = threading.Event(), threading.Event()

    def enqueue(hold: bool) -> None:
        try:
            with transaction.atomic():
                job, created = job_enqueue(task=task, job_type="deploy", dedupe_key="v2", by=None)
                if hold:
                    first_inserted.set()
                    assert commit_first.wait(30)
            results.append((job.pk, created))
        except BaseException as exc:  # reported by the test thread
            errors.append(exc)
        finally:
            connection.close()

    holder = threading.Thread(target=enqueue, args=(True,))
    holder.start()
    assert first_inserted.wait(30)
    others = [threading.Thread(target=enqueue, args=(False,)) for _ in range(7)]
    for thread in others:
        thread.start()
    deadline = time.monotonic() + 30
    while waiting_on_locks() < 7 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert waiting_on_locks() == 7  # all seven are blocked on the first one's insert
    commit_first.set()
    for thread in [holder, *others]:
        thread.join(30)

    assert errors == []
    job = Job.objects.get(dedupe_key="v2")
    assert sorted(results) == sorted([(job.pk, True)] + [(job.pk, False)] * 7)
    assert Event.objects.filter(event_type="job_enqueued", subject_id=str(job.pk)).count() == 1


def test_concurrent_enqueues_with_one_dedupe_key_make_one_job_without_help():
    """The same with no choreography: eight threads released together."""
    task = approved_task()
    barrier = threading.Barrier(8)
    results: list[Any] = []

    def enqueue() -> None:
        try:
            barrier.wait(30)
            results.append(job_enqueue(task=task, job_type="deploy", dedupe_key="k", by=None))
        except BaseException as exc:
            results.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=enqueue) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)

    job = Job.objects.get(dedupe_key="k")
    assert (
        sorted(((j.pk, created) for j, created in results), key=lambda r: not r[1])
        == [(job.pk, True)] + [(job.pk, False)] * 7
    )
