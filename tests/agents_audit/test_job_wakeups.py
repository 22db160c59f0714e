"""Waiting claims are woken by PostgreSQL LISTEN/NOTIFY when a job of their types becomes runnable
(agents_audit.job_wakeups and the jobs_notify_runnable trigger of migration 0012).

These tests commit (transaction=True): notifications are delivered on commit only. Waits on an
event that must be set use a generous timeout (they return as soon as it is set); the few checks
that something did NOT happen wait briefly, and only after a positive sync point on the same
listener, so a late delivery cannot pass them by accident.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.utils import timezone

from agents_audit.job_wakeups import LISTENER_APPLICATION_NAME, JobWakeups, claim_attempts
from agents_audit.models import Job, JobTypePause, Task
from tests.agents_audit.factories import JobFactory, TaskFactory

pytestmark = pytest.mark.django_db(transaction=True)

DELIVERY = 10.0  # seconds: an upper bound for a notification on a loaded machine


@pytest.fixture
def registry() -> Iterator[JobWakeups]:
    wakeups = JobWakeups()
    yield wakeups
    wakeups.stop()


@pytest.fixture
def task() -> Task:
    return TaskFactory.create()


def _listening(registry: JobWakeups) -> None:
    """Wait until the listener listens (it has woken every waiting claim by then)."""
    assert registry.listening.wait(DELIVERY), "the listener did not connect"


def test_a_waiting_claim_is_woken_when_a_job_of_its_type_commits(registry, task):
    with registry.waiter(["deploy"], limit=10) as waiter:
        _listening(registry)
        waiter.event.clear()  # the listener wakes everyone once when it connects

        with transaction.atomic():
            JobFactory.create(task=task, job_type="deploy")
            assert not waiter.event.wait(0.3), "woken before the enqueue committed"

        assert waiter.event.wait(DELIVERY)


def test_a_rolled_back_enqueue_wakes_nobody_and_other_types_do_not_wake_a_claim(registry, task):
    with (
        registry.waiter(["deploy"], limit=10) as deploy,
        registry.waiter(["build"], limit=10) as build,
    ):
        _listening(registry)
        deploy.event.clear()
        build.event.clear()

        with transaction.atomic():
            JobFactory.create(task=task, job_type="build")
            transaction.set_rollback(True)
        JobFactory.create(task=task, job_type="deploy")

        assert deploy.event.wait(DELIVERY)  # sync point: later than the rolled-back one
        assert not build.event.is_set()


def test_a_job_put_back_to_run_again_wakes_waiting_claims(registry, task):
    job = JobFactory.create(
        task=task,
        job_type="deploy",
        status=Job.Status.DEAD,
        finished_at=timezone.now(),
        attempts=4,
    )
    with registry.waiter(["deploy"], limit=10) as waiter:
        _listening(registry)
        waiter.event.clear()

        Job.objects.filter(pk=job.pk).update(status=Job.Status.QUEUED, finished_at=None)

        assert waiter.event.wait(DELIVERY)


def test_claims_stop_waiting_past_the_per_process_limit(registry):
    with (
        registry.waiter(["a"], limit=2) as first,
        registry.waiter(["a"], limit=2) as second,
        registry.waiter(["a"], limit=2) as third,
    ):
        assert (first is not None, second is not None, third) == (True, True, None)
        assert registry.waiting == 2
    assert registry.waiting == 0


def test_the_listener_reconnects_after_losing_its_connection(registry, task):
    with registry.waiter(["deploy"], limit=10) as waiter:
        _listening(registry)
        waiter.event.clear()
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE application_name = %s AND datname = current_database()",
                [LISTENER_APPLICATION_NAME],
            )
            assert cursor.fetchall() == [(True,)]
        # Losing the connection wakes the waiting claims (they poll until it is back) ...
        assert waiter.event.wait(DELIVERY)
        # ... and the listener comes back (half a second later) and delivers again.
        _listening(registry)
        waiter.event.clear()

        JobFactory.create(task=task, job_type="deploy")

        assert waiter.event.wait(DELIVERY)


def test_no_wait_means_exactly_one_attempt(registry):
    attempts = list(
        claim_attempts(job_types=["a"], wait_seconds=0, next_due=lambda: None, registry=registry)
    )
    assert attempts == [None]
    assert registry.waiting == 0


def test_over_the_limit_a_claim_makes_one_attempt_and_does_not_wait(registry, settings):
    settings.JOB_CLAIM_MAX_WAITERS = 0
    attempts = list(
        claim_attempts(job_types=["a"], wait_seconds=30, next_due=lambda: None, registry=registry)
    )
    assert attempts == [None]


def test_a_waiting_claim_tries_again_when_woken(registry, task):
    attempts = claim_attempts(
        job_types=["deploy"], wait_seconds=30, next_due=lambda: None, registry=registry
    )
    next(attempts)  # the first attempt found nothing
    assert registry.waiting == 1
    _listening(registry)
    JobFactory.create(task=task, job_type="deploy")

    next(attempts)  # returns once woken, well before the 30 s

    attempts.close()  # the caller claimed a job and stops
    assert registry.waiting == 0


def test_a_waiting_claim_wakes_for_a_scheduled_job_falling_due(registry):
    due = timezone.now() + timedelta(milliseconds=300)
    attempts = claim_attempts(
        job_types=["deploy"], wait_seconds=30, next_due=lambda: due, registry=registry
    )
    next(attempts)
    tries = 1

    # No notification comes: the wait ends at the due time (after at most one early try, when
    # the listener connects and wakes every waiting claim).
    while timezone.now() < due:
        next(attempts)
        tries += 1

    assert tries <= 3
    attempts.close()


def test_resuming_a_paused_job_type_wakes_the_claims_waiting_for_it(registry, task):
    JobTypePause.objects.create(job_type="deploy")
    JobFactory.create(task=task, job_type="deploy")  # queued while paused
    with registry.waiter(["deploy"], limit=10) as waiter:
        _listening(registry)
        waiter.event.clear()

        JobTypePause.objects.filter(job_type="deploy").delete()

        assert waiter.event.wait(DELIVERY)


def test_a_due_job_another_claim_held_but_did_not_take_is_not_slept_through(registry, task):
    """A claim over two types locks the head of each and takes the better one; the other head
    stays locked until that claim's transaction ends, and no notification follows (its status
    does not change). A claim waiting for that head's type must still get it soon after."""
    from agents_audit.services.jobs import job_claim, job_next_run_after

    JobFactory.create(task=task, job_type="urgent", priority=10)
    held = JobFactory.create(task=task, job_type="routine", priority=0)
    locked, release = threading.Event(), threading.Event()

    def other_claim() -> None:
        with transaction.atomic():
            assert job_claim(worker_id="other", job_types=["urgent", "routine"]) is not None
            locked.set()
            release.wait(DELIVERY)
        connection.close()

    thread = threading.Thread(target=other_claim)
    thread.start()
    assert locked.wait(DELIVERY)
    started = time.monotonic()
    claimed = None
    for attempt, _ in enumerate(
        claim_attempts(
            job_types=["routine"],
            wait_seconds=20,
            next_due=lambda: job_next_run_after(job_types=["routine"]),
            registry=registry,
        )
    ):
        claimed = job_claim(worker_id="waiting", job_types=["routine"])
        if claimed is not None:
            break
        if attempt == 0:
            release.set()  # the other claim commits; nothing notifies
    thread.join()

    assert claimed is not None
    assert claimed.pk == held.pk
    assert time.monotonic() - started < 10  # not the 20 s of the whole wait
