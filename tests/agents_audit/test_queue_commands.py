"""manage.py queue_prune deletes old finished jobs in batches (and keeps their events);
manage.py queue_recover puts jobs with expired leases back. Bad arguments are one line and exit
status 1."""

from __future__ import annotations

import io
import subprocess
import threading
from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from agents_audit.management.commands import queue_recover
from agents_audit.management.commands.queue_prune import parse_duration
from agents_audit.models import Event, Job
from agents_audit.services.jobs import job_claim, job_complete, jobs_prune
from tests.agents_audit.factories import JobFactory, TaskFactory
from tests.agents_audit.queue import db_now, expire_leases
from tests.processes import PYTHON, ROOT, child_env

pytestmark = pytest.mark.django_db


def run(*args: str) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command(*args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def finished(status: str, days_ago: float) -> Job:
    return JobFactory.create(status=status, finished_at=db_now() - timedelta(days=days_ago))


@pytest.fixture
def old_and_new() -> tuple[list[Job], list[Job]]:
    """Five jobs that finished 8+ days ago; a recent finished one and live ones."""
    old = [
        finished("succeeded", 8),
        finished("dead", 9),
        finished("cancelled", 30),
        finished("succeeded", 10),
        finished("succeeded", 7.1),
    ]
    task = TaskFactory.create()
    kept = [
        finished("succeeded", 6.9),
        JobFactory.create(task=task),  # queued, created long ago:
        JobFactory.create(task=task, status="failed", attempts=1),
    ]
    Job.objects.filter(pk__in=[j.pk for j in kept]).update(
        created_at=db_now() - timedelta(days=60)  # age alone does not make a job prunable
    )
    return old, kept


def test_prune_deletes_old_finished_jobs_in_batches_and_leaves_the_rest(old_and_new):
    _, kept = old_and_new

    out, err = run("queue_prune", "--older-than", "7d", "--batch-size", "2")

    assert out == "Deleted 5 finished job(s) older than 7d.\n"
    assert err.splitlines() == ["... 2 deleted", "... 4 deleted", "... 5 deleted"]
    assert set(Job.objects.values_list("pk", flat=True)) == {j.pk for j in kept}


def test_prune_keeps_the_pruned_jobs_events():
    job = JobFactory.create()
    claimed = job_claim(worker_id="w", job_types=["deploy"])
    assert claimed is not None
    job_complete(job_id=job.pk, lease_token=claimed.lease_token)
    Job.objects.filter(pk=job.pk).update(finished_at=db_now() - timedelta(weeks=3))

    out, _ = run("queue_prune", "--older-than", "2w")

    assert out == "Deleted 1 finished job(s) older than 2w.\n"
    assert not Job.objects.exists()
    assert list(
        Event.objects.filter(subject_id=str(job.pk)).order_by("id").values_list("event_type")
    ) == [("job_claimed",), ("job_succeeded",)]


def test_a_dry_run_counts_and_deletes_nothing(old_and_new):
    out, err = run("queue_prune", "--older-than", "7d", "--dry-run")

    assert out == "Would delete 5 finished job(s) older than 7d.\n"
    assert err == ""
    assert Job.objects.count() == 8


def test_nothing_to_prune_is_zero():
    out, err = run("queue_prune", "--older-than", "30m")
    assert (out, err) == ("Deleted 0 finished job(s) older than 30m.\n", "")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("30m", timedelta(minutes=30)),
        ("12h", timedelta(hours=12)),
        ("7d", timedelta(days=7)),
        ("2w", timedelta(weeks=2)),
        (" 1d ", timedelta(days=1)),
    ],
)
def test_durations_are_a_number_and_a_unit(text, expected):
    assert parse_duration(text) == expected


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ([], "--older-than is required (e.g. --older-than 7d)"),
        (
            ["--older-than", "7"],
            "--older-than: '7' is not a duration like 30m, 12h, 7d or 2w",
        ),
        (
            ["--older-than", "7 days"],
            "--older-than: '7 days' is not a duration like 30m, 12h, 7d or 2w",
        ),
        (
            ["--older-than=-1d"],
            "--older-than: '-1d' is not a duration like 30m, 12h, 7d or 2w",
        ),
        (
            ["--older-than", "1.5h"],
            "--older-than: '1.5h' is not a duration like 30m, 12h, 7d or 2w",
        ),
        (
            ["--older-than", "0d"],
            "--older-than: '0d' is zero; prune jobs older than a positive duration",
        ),
        (
            ["--older-than", "7d", "--batch-size", "many"],
            "--batch-size: 'many' is not a whole number",
        ),
        (
            ["--older-than", "7d", "--batch-size", "0"],
            "--batch-size: 0 is not between 1 and 100000",
        ),
    ],
)
def test_bad_prune_arguments_are_refused_before_anything_is_deleted(args, message):
    job = finished("succeeded", 100)
    with pytest.raises(CommandError) as error:
        run("queue_prune", *args)
    assert str(error.value) == message
    assert Job.objects.filter(pk=job.pk).exists()


def manage(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 (our interpreter, fixed arguments)
        [PYTHON, "manage.py", *args],
        cwd=ROOT,
        env=child_env(),
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


def test_the_commands_exit_statuses():
    bad = manage("queue_prune", "--older-than", "soon")
    assert (bad.returncode, bad.stdout) == (1, "")
    assert bad.stderr.splitlines() == [
        "CommandError: --older-than: 'soon' is not a duration like 30m, 12h, 7d or 2w"
    ]

    good = manage("queue_prune", "--older-than", "7d")
    assert (good.returncode, good.stdout) == (0, "Deleted 0 finished job(s) older than 7d.\n")

    recover = manage("queue_recover")
    assert (recover.returncode, recover.stdout) == (
        0,
        "Recovered 0 job(s) whose lease had expired.\n",
    )


def test_recover_puts_back_every_expired_lease_and_says_how_many(monkeypatch):
    monkeypatch.setattr(queue_recover, "BATCH", 2)  # three expired leases: two batches
    jobs = JobFactory.create_batch(4)
    for _ in jobs:
        assert job_claim(worker_id="w", job_types=["deploy"]) is not None
    expire_leases(*(job.pk for job in jobs[:3]))

    out, _ = run("queue_recover")

    assert out == "Recovered 3 job(s) whose lease had expired.\n"
    statuses = dict(Job.objects.values_list("pk", "status"))
    assert statuses == {
        jobs[0].pk: "failed",
        jobs[1].pk: "failed",
        jobs[2].pk: "failed",
        jobs[3].pk: "running",
    }
    assert run("queue_recover")[0] == "Recovered 0 job(s) whose lease had expired.\n"


def seen_from_another_connection() -> int:
    counts: list[int] = []

    def read() -> None:
        try:
            counts.append(Job.objects.count())
        finally:
            connection.close()

    thread = threading.Thread(target=read)
    thread.start()
    thread.join(30)
    return counts[0]


@pytest.mark.django_db(transaction=True)
def test_each_prune_batch_commits_on_its_own():
    for _ in range(5):
        finished("succeeded", 8)
    seen: list[int] = []

    jobs_prune(
        older_than=timedelta(days=7),
        batch_size=2,
        on_batch=lambda deleted: seen.append(seen_from_another_connection()),
    )

    assert seen == [3, 1, 0]  # other connections see each batch gone as it ends
