"""The operations tables as the database holds them: defaults for raw SQL writers, CHECKs that
refuse impossible rows, what a delete does to the rows that point at the deleted one, and
migrations that reverse."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.core.management import call_command
from django.db import IntegrityError, connection, transaction
from django.db.models import ProtectedError

from agents_audit.models import Artifact, ExecutionLog, Task
from tests import catalog
from tests.agents_audit.factories import (
    ArtifactFactory,
    ExecutionLogFactory,
    ProjectFactory,
    TaskFactory,
)
from tests.commerce.factories import OperatorFactory

pytestmark = pytest.mark.django_db

S = Task.Status


def sql(statement: str, params: list[Any] | None = None) -> list[tuple[object, ...]]:
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(statement, params)
        rows = cursor.fetchall() if cursor.description else []
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # the deferred foreign keys, now
        return rows


# --- the state machine ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("current", "allowed"),
    [
        (S.PENDING, {S.APPROVED, S.REJECTED}),
        (S.APPROVED, {S.EXECUTING}),
        (S.EXECUTING, {S.COMPLETED, S.FAILED}),
        (S.COMPLETED, set()),
        (S.FAILED, set()),
        (S.REJECTED, set()),
    ],
)
def test_a_task_moves_only_along_the_seed_lifecycle(current, allowed):
    task = Task(status=current)
    assert {target for target in S.values if task.can_transition_to(target)} == allowed


# --- defaults and CHECKs --------------------------------------------------------------------


def test_a_raw_sql_task_gets_the_models_defaults():
    ((status, version, model, tokens, cost, error),) = sql(
        "INSERT INTO tasks (request_text, thread_id) VALUES ('deploy', 't-raw') "
        "RETURNING status, version, external_ai_model, external_ai_tokens, external_ai_cost, "
        "error_message"
    )
    assert (status, version, model, tokens, cost, error) == ("pending", 1, "", 0, Decimal(0), "")


@pytest.mark.parametrize(
    "values",
    [
        "status = 'paused'",
        "version = 0",
        "external_ai_tokens = 10",  # usage without a model
        "external_ai_model = 'gpt-4o', external_ai_cost = -1",
        "external_ai_model = 'gpt-4o', external_ai_tokens = -1",
        "status = 'approved'",  # without approved_at
        "status = 'completed', approved_at = now()",  # without completed_at
        "thread_id = 'taken'",
    ],
)
def test_the_database_refuses_an_impossible_task(values):
    TaskFactory.create(thread_id="taken")
    task = TaskFactory.create()
    with pytest.raises(IntegrityError):
        sql(f"UPDATE tasks SET {values} WHERE id = %s", [task.pk])


def test_a_task_that_used_external_ai_records_model_tokens_and_cost_that_sum():
    for tokens, cost in ((1000, "0.0125"), (500, "0.0070")):
        TaskFactory.create(
            external_ai_model="claude", external_ai_tokens=tokens, external_ai_cost=Decimal(cost)
        )
    assert sql(
        "SELECT external_ai_model, sum(external_ai_tokens), sum(external_ai_cost) FROM tasks "
        "WHERE external_ai_model <> '' GROUP BY 1"
    ) == [("claude", 1500, Decimal("0.019500"))]


@pytest.mark.parametrize(
    "values",
    [
        "step_number = 0",
        "agent_type = 'poet'",
        "status = 'paused'",
        "duration_ms = -1",
    ],
)
def test_the_database_refuses_an_impossible_step(values):
    log = ExecutionLogFactory.create()
    with pytest.raises(IntegrityError):
        sql(f"UPDATE execution_logs SET {values} WHERE id = %s", [log.pk])


def test_step_numbers_are_unique_per_task():
    first = ExecutionLogFactory.create(step_number=1)
    ExecutionLogFactory.create(step_number=1)  # another task's step 1
    with pytest.raises(IntegrityError), transaction.atomic():
        ExecutionLogFactory.create(task=first.task, step_number=1)
    assert first.task.execution_logs.count() == 1


def test_a_raw_sql_step_gets_the_models_defaults():
    task = TaskFactory.create()
    ((status, inputs, summary, timestamp),) = sql(
        "INSERT INTO execution_logs (id, task_id, step_number, agent_type, action) "
        "VALUES (gen_random_uuid(), %s, 1, 'code', 'git pull') "
        "RETURNING status, input, output_summary, timestamp",
        [task.pk],
    )
    assert (status, summary) == ("running", "")
    assert inputs in ({}, "{}")  # jsonb as the driver hands it over
    assert timestamp is not None


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("sha256", "A" * 64),  # lower-case hex only
        ("sha256", "0" * 63),
        ("sha256", "g" * 64),
        ("size_bytes", -1),
        ("storage_key", ""),
    ],
)
def test_the_database_refuses_an_impossible_artifact(field, value):
    with pytest.raises(IntegrityError), transaction.atomic():
        ArtifactFactory.create(**{field: value})
    assert not Artifact.objects.exists()


def test_an_artifact_takes_sizes_beyond_four_gigabytes():
    artifact = ArtifactFactory.create(size_bytes=5 * 1024**3, sha256="ab" * 32)
    artifact.refresh_from_db()
    assert artifact.size_bytes == 5 * 1024**3


# --- deletes ----------------------------------------------------------------------------------


def test_a_task_takes_its_steps_and_artifacts_with_it_also_for_raw_sql():
    kept, deleted = TaskFactory.create(), TaskFactory.create()
    for task in (kept, deleted):
        ExecutionLogFactory.create(task=task)
        ArtifactFactory.create(task=task)

    sql("DELETE FROM tasks WHERE id = %s", [deleted.pk])
    deleted_too = TaskFactory.create()
    ExecutionLogFactory.create(task=deleted_too)
    deleted_too.delete()  # the ORM leaves it to the database: one DELETE

    assert set(ExecutionLog.objects.values_list("task", flat=True)) == {kept.pk}
    assert set(Artifact.objects.values_list("task", flat=True)) == {kept.pk}


def test_a_project_with_tasks_cannot_be_deleted_by_the_orm_nor_by_raw_sql():
    project = ProjectFactory.create()
    TaskFactory.create(project=project)
    with pytest.raises(ProtectedError):
        project.delete()
    with pytest.raises(IntegrityError):
        sql("DELETE FROM projects WHERE id = %s", [project.pk])
    empty = ProjectFactory.create()
    empty.delete()
    assert list(Task.objects.values_list("project", flat=True)) == [project.pk]


def test_a_task_outlives_the_accounts_that_created_and_approved_it():
    operator = OperatorFactory.create()
    task = TaskFactory.create(
        status=S.APPROVED, approved_by=operator, approved_at="2026-01-01T00:00Z"
    )
    sql("DELETE FROM users WHERE id IN (%s, %s)", [task.created_by_id, operator.pk])
    task.refresh_from_db()
    assert (task.created_by_id, task.approved_by_id, task.status) == (None, None, "approved")


def test_the_updated_at_trigger_moves_a_tasks_and_a_projects_timestamp():
    task, project = TaskFactory.create(), ProjectFactory.create()
    for table, row in (("tasks", task), ("projects", project)):
        sql(f"UPDATE {table} SET created_at = created_at - interval '1 hour'")
        sql(f"UPDATE {table} SET version = 2 WHERE id = %s", [row.pk])
        row.refresh_from_db()
        assert row.updated_at > row.created_at


# --- migrations -------------------------------------------------------------------------------


def migrate(*args: str) -> None:
    call_command("migrate", *args, verbosity=0, interactive=False)


@pytest.mark.django_db(transaction=True)
def test_the_database_rules_reverse_and_come_back():
    try:
        migrate("agents_audit", "0006_projects_tasks_execution_logs_artifacts_events")
        assert catalog.triggers("events") == []
        assert catalog.triggers("tasks") == []
        assert catalog.foreign_keys("execution_logs")["task_id"] == ("tasks", "id", "a")
        assert catalog.foreign_keys("tasks")["created_by_id"] == ("users", "id", "a")

        migrate("agents_audit", "0005_keyset_indexes")
        for table in ("projects", "tasks", "execution_logs", "artifacts", "events"):
            assert not catalog.table_exists(table), table
        assert catalog.function_exists("update_updated_at_column")  # other tables use it
    finally:
        migrate()
    assert len(catalog.triggers("events")) == 1
    assert len(catalog.triggers("tasks")) == 1
    assert catalog.foreign_keys("execution_logs")["task_id"] == ("tasks", "id", "c")
    assert catalog.foreign_keys("artifacts")["task_id"] == ("tasks", "id", "c")
    assert catalog.foreign_keys("tasks") == {
        "project_id": ("projects", "id", "a"),
        "created_by_id": ("users", "id", "n"),
        "approved_by_id": ("users", "id", "n"),
    }
