"""``manage.py seed_sample_data``: sample data in every state, written through the services, so
that every post-mortem report has rows; idempotent, deterministic per ``--seed``, ``--reset``
starts over; a bad argument is one CommandError line."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.db.models import F
from django.db.models.functions import Now

from agents_audit.models import (
    AgentExecution,
    Event,
    Job,
    JobTypePause,
    LLMRoundTableResult,
    ToolExecution,
)
from agents_audit.models.projects import Project
from agents_audit.models.tasks import ExecutionLog, Task, TaskStatus
from agents_audit.reports import REPORTS
from agents_audit.services.jobs import job_type_pause
from agents_audit.services.tasks import task_approve, task_create
from commerce.models import Order, OrderLine, Product, StockMovement, User

ROOT = Path(__file__).resolve().parents[2]
TABLES = (
    User,
    Product,
    StockMovement,
    Order,
    OrderLine,
    Project,
    Task,
    ExecutionLog,
    Event,
    ToolExecution,
    AgentExecution,
    LLMRoundTableResult,
    Job,
    JobTypePause,
)


def seed(*args: str) -> str:
    out = io.StringIO()
    call_command("seed_sample_data", *args, stdout=out)
    return out.getvalue()


def counts() -> dict[str, int]:
    return {model.__name__: model.objects.count() for model in TABLES}


def tasks_projection() -> list[tuple[str, str, str, str, int]]:
    return sorted(
        Task.objects.values_list(
            "thread_id", "status", "request_text", "external_ai_model", "external_ai_tokens"
        )
    )


def logs_projection() -> list[tuple[str, int, str, str, int | None]]:
    return sorted(
        ExecutionLog.objects.values_list(
            "task__thread_id", "step_number", "action", "status", "duration_ms"
        )
    )


@pytest.mark.django_db
def test_it_seeds_tasks_in_every_state_with_logs_and_external_ai_usage():
    assert seed().startswith("Seeded (seed 2024): ")

    assert set(Task.objects.values_list("status", flat=True)) == set(TaskStatus.values)
    assert Task.objects.count() == 20
    assert all(
        thread.startswith("sample-") for thread in Task.objects.values_list("thread_id", flat=True)
    )
    finished_with_steps = Task.objects.filter(status__in=["completed", "failed"])
    assert all(task.execution_logs.count() >= 2 for task in finished_with_steps)
    assert ExecutionLog.objects.filter(status="failed").exists()
    assert Task.objects.exclude(external_ai_model="").filter(external_ai_cost__gt=0).exists()
    for task in Task.objects.filter(status="failed"):
        assert task.error_message == task.execution_logs.get(status="failed").output_full["error"]


def jobs_projection() -> list[tuple[str, str, str, int, int, str, str, int]]:
    return sorted(
        Job.objects.values_list(
            "task__thread_id",
            "job_type",
            "status",
            "priority",
            "attempts",
            "worker_id",
            "last_error",
            "max_retries",
        )
    )


@pytest.mark.django_db
def test_it_seeds_jobs_in_every_state_and_a_paused_type_through_the_services():
    seed()

    assert set(Job.objects.values_list("status", flat=True)) == set(Job.Status.values)
    # A task's first job follows its task: run by a sample worker, then finished with it.
    first_jobs = set(
        Job.objects.filter(job_type="task.execute").values_list("task__status", "status")
    )
    assert first_jobs == {
        ("completed", "succeeded"),
        ("failed", "dead"),
        ("executing", "running"),
        ("approved", "queued"),
    }
    assert (
        Job.objects.filter(job_type="task.execute").count()
        == Task.objects.filter(status__in=["completed", "failed", "executing", "approved"]).count()
    )
    assert all(
        job.worker_id.startswith("sample-worker-") and "/pid-" in job.worker_id
        for job in Job.objects.exclude(status__in=["queued", "cancelled"])
    )
    running = Job.objects.filter(status="running")
    assert running.count() == running.filter(lease_expires_at__gt=Now()).count() > 0
    failed = Job.objects.get(status="failed")
    assert failed.last_error
    assert failed.run_after > failed.updated_at  # waits for its retry
    assert Job.objects.filter(status="dead", attempts__gt=F("max_retries")).exists()
    assert Job.objects.filter(status="queued", priority__gt=0, run_after__gt=Now()).exists()
    cancelled = Event.objects.get(subject_type="job", event_type="job_cancelled")
    assert cancelled.actor == User.objects.get(username="sample-operator-1")
    (pause,) = JobTypePause.objects.all()
    assert pause.paused_by == cancelled.actor
    assert Job.objects.filter(job_type=pause.job_type, status="queued").exists()
    # Through the services: every job has its trail, from its enqueue to its state.
    trails = {
        "queued": ["job_enqueued"],
        "running": ["job_enqueued", "job_claimed"],
        "succeeded": ["job_enqueued", "job_claimed", "job_succeeded"],
        "failed": ["job_enqueued", "job_claimed", "job_failed"],
        "dead": ["job_enqueued", "job_claimed", "job_dead"],
        "cancelled": ["job_enqueued", "job_cancelled"],
    }
    for job in Job.objects.all():
        trail = Event.objects.filter(subject_type="job", subject_id=str(job.pk)).order_by("id")
        assert list(trail.values_list("event_type", flat=True)) == trails[job.status], job


@pytest.mark.django_db
def test_a_claim_that_would_take_a_job_that_is_not_sample_data_stops_the_seed_unwritten():
    operator = User.objects.create_user(
        username="olga", email="olga@example.com", password=None, role="operator"
    )
    task = task_create(request_text="Real work", created_by=None, thread_id="real-1")
    task_approve(task=task, by=operator)

    with pytest.raises(CommandError, match=r"other runnable 'task\.execute' jobs"):
        seed()

    assert not Task.objects.filter(thread_id__startswith="sample-").exists()
    assert Job.objects.get().status == "queued"  # the real job was not touched


@pytest.mark.django_db
def test_reset_resumes_only_the_types_the_sample_operator_paused():
    operator = User.objects.create_user(
        username="olga", email="olga@example.com", password=None, role="operator"
    )
    job_type_pause(job_type="deploy:web", by=operator)
    seed()

    output = seed("--reset")

    assert "job_type_pauses 1" in output.splitlines()[0]
    assert set(JobTypePause.objects.values_list("job_type", "paused_by__username")) == {
        ("deploy:web", "olga"),
        ("report.render", "sample-operator-1"),  # seeded again
    }


@pytest.mark.django_db
def test_it_seeds_users_products_orders_and_the_audit_tables():
    seed()

    assert set(
        User.objects.filter(username__startswith="sample-").values_list("role", flat=True)
    ) == {
        "operator",
        "agent",
        "customer",
    }
    assert set(
        Product.objects.filter(sku__startswith="SAMPLE-").values_list("status", flat=True)
    ) == {
        "draft",
        "published",
        "archived",
    }
    assert set(Order.objects.values_list("status", flat=True)) == {
        "pending",
        "processing",
        "completed",
        "cancelled",
    }
    # The stock ledger is consistent: every product's stock is the sum of its movements.
    for product in Product.objects.all():
        assert product.inventory_quantity == sum(
            product.stock_movements.values_list("delta", flat=True)
        )
    assert ToolExecution.objects.filter(correlation_id__startswith="sample-").count() == 20
    assert set(AgentExecution.objects.values_list("status", flat=True)) >= {"completed", "failed"}
    assert LLMRoundTableResult.objects.filter(result_id__startswith="sample-").exists()
    # Written through the services: the task lifecycle left its events.
    assert Event.objects.filter(subject_type="task").count() > Task.objects.count()


@pytest.mark.django_db
def test_every_post_mortem_report_has_rows():
    seed()
    task = Task.objects.filter(status="failed").first()
    assert task is not None

    for name, report in REPORTS.items():
        result = report.run(task=task.pk) if report.takes_task else report.run()
        assert result.rows, name


@pytest.mark.django_db
def test_a_second_run_adds_nothing():
    seed()
    before = counts()

    assert seed() == "Sample data already there; nothing added.\n"
    assert counts() == before


@pytest.mark.django_db
def test_the_same_seed_gives_the_same_data_and_another_seed_other_data():
    seed("--seed", "7")
    first_tasks, first_logs, first_jobs = tasks_projection(), logs_projection(), jobs_projection()

    seed("--reset", "--seed", "7")
    assert tasks_projection() == first_tasks
    assert logs_projection() == first_logs
    assert jobs_projection() == first_jobs
    assert Job.objects.count() == len(first_jobs)

    seed("--reset", "--seed", "8")
    assert tasks_projection() != first_tasks


@pytest.mark.django_db
def test_reset_deletes_the_sample_rows_and_seeds_again_keeping_events_and_products():
    seed()
    before = counts()
    old_task_ids = set(Task.objects.values_list("pk", flat=True))

    output = seed("--reset")

    assert output.startswith(f"Reset: tasks 20, jobs {before['Job']}, projects 1, orders ")
    assert f"job_type_pauses {before['JobTypePause']}, users 9." in output.splitlines()[0]
    assert not Task.objects.filter(pk__in=old_task_ids).exists()
    after = counts()
    for model in (
        User,
        Order,
        Task,
        ExecutionLog,
        ToolExecution,
        AgentExecution,
        Project,
        Job,
        JobTypePause,
    ):
        assert after[model.__name__] == before[model.__name__], model.__name__
    # Append-only tables only grow: the events of the deleted tasks stay, products are reused.
    assert after["Event"] > before["Event"]
    assert Event.objects.filter(
        subject_type="task", subject_id=str(next(iter(old_task_ids)))
    ).exists()
    assert after["Product"] == before["Product"]
    assert after["StockMovement"] > before["StockMovement"]
    for product in Product.objects.all():
        assert product.inventory_quantity == sum(
            product.stock_movements.values_list("delta", flat=True)
        )


@pytest.mark.django_db
def test_reset_leaves_rows_that_are_not_sample_data_alone():
    other = User.objects.create_user(username="alice", email="alice@example.com", password=None)
    seed()
    seed("--reset")

    assert User.objects.filter(pk=other.pk).exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--seed", "x"), "--seed must be a whole number, not 'x'."),
        (("--seed", "-1"), "--seed must be between 0 and "),
        (("--size", "0"), "--size must be between 1 and 1000."),
        (("--size", "1001"), "--size must be between 1 and 1000."),
    ],
)
def test_a_bad_argument_is_refused_and_nothing_is_written(args, message):
    with pytest.raises(CommandError) as error:
        seed(*args)

    assert str(error.value).startswith(message)
    assert Task.objects.count() == 0


def test_a_bad_argument_is_one_line_and_exit_status_1():
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    result = subprocess.run(
        [sys.executable, "manage.py", "seed_sample_data", "--size", "many"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )

    assert result.returncode == 1
    assert result.stderr == "CommandError: --size must be a whole number, not 'many'.\n"
    assert result.stdout == ""
