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

from agents_audit.models import AgentExecution, Event, LLMRoundTableResult, ToolExecution
from agents_audit.models.projects import Project
from agents_audit.models.tasks import ExecutionLog, Task, TaskStatus
from agents_audit.reports import REPORTS
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
        rows = report.run(task=task.pk) if report.takes_task else report.run()
        assert rows, name


@pytest.mark.django_db
def test_a_second_run_adds_nothing():
    seed()
    before = counts()

    assert seed() == "Sample data already there; nothing added.\n"
    assert counts() == before


@pytest.mark.django_db
def test_the_same_seed_gives_the_same_data_and_another_seed_other_data():
    seed("--seed", "7")
    first_tasks, first_logs = tasks_projection(), logs_projection()

    seed("--reset", "--seed", "7")
    assert tasks_projection() == first_tasks
    assert logs_projection() == first_logs

    seed("--reset", "--seed", "8")
    assert tasks_projection() != first_tasks


@pytest.mark.django_db
def test_reset_deletes_the_sample_rows_and_seeds_again_keeping_events_and_products():
    seed()
    before = counts()
    old_task_ids = set(Task.objects.values_list("pk", flat=True))

    output = seed("--reset")

    assert output.startswith("Reset: tasks 20, projects 1, orders ")
    assert "users 9." in output.splitlines()[0]
    assert not Task.objects.filter(pk__in=old_task_ids).exists()
    after = counts()
    for model in (User, Order, Task, ExecutionLog, ToolExecution, AgentExecution, Project):
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
