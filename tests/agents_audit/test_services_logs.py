"""Execution logs: steps are appended once per number, idempotently for the same body, only while
the task runs; and concurrent appends of one step, proven with real threads."""

from __future__ import annotations

from typing import Any
from unittest.mock import ANY

import pytest

from agents_audit.errors import TaskNotRunning
from agents_audit.models import ExecutionLog, Task
from agents_audit.selectors import task_timeline
from agents_audit.services.logs import execution_log_append
from agents_audit.services.tasks import task_approve, task_complete, task_create, task_start
from devskyy.errors import Conflict, FieldError, InvalidInput, NotPermitted
from tests.commerce.factories import AgentUserFactory, OperatorFactory
from tests.concurrency import run_concurrently


def running_task(*, start: bool = True) -> Task:
    task = task_create(request_text="Deploy the shop", created_by=AgentUserFactory.create())
    task = task_approve(task=task, by=OperatorFactory.create())
    return task_start(task=task, by=None) if start else task


def step(task: Task, number: int = 1, **body):
    fields = {
        "agent_type": "infra",
        "action": "docker compose up -d",
        "status": "completed",
        "input": {"service": "web"},
        "output_summary": "3 containers started",
        "output_full": {"containers": 3},
        "duration_ms": 1200,
        **body,
    }
    return execution_log_append(task=task, step_number=number, **fields)


@pytest.mark.django_db
def test_append_stores_the_step_with_its_body_and_a_database_timestamp():
    task = running_task()

    log, created = step(task)

    assert created is True
    stored = ExecutionLog.objects.get(pk=log.pk)
    assert (stored.task_id, stored.step_number, stored.agent_type, stored.action) == (
        task.pk,
        1,
        "infra",
        "docker compose up -d",
    )
    assert (stored.input, stored.output_full, stored.duration_ms) == (
        {"service": "web"},
        {"containers": 3},
        1200,
    )
    assert stored.timestamp is not None
    assert log.timestamp == stored.timestamp


@pytest.mark.django_db
def test_an_approved_task_that_has_not_started_takes_steps_too():
    assert step(running_task(start=False))[1] is True


@pytest.mark.django_db
def test_the_same_step_again_is_idempotent():
    task = running_task()
    first, _ = step(task)

    again, created = step(task)

    assert created is False
    assert again.pk == first.pk
    assert ExecutionLog.objects.filter(task=task).count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize(
    "change",
    [{"action": "docker compose down"}, {"status": "failed"}, {"duration_ms": 1201}, {"input": {}}],
)
def test_the_same_step_with_another_body_is_a_conflict(change):
    task = running_task()
    step(task)

    with pytest.raises(Conflict) as error:
        step(task, **change)

    assert error.value.status == 409
    assert ExecutionLog.objects.get(task=task).action == "docker compose up -d"


@pytest.mark.django_db
def test_a_finished_task_takes_no_new_step_but_answers_a_retry_of_an_old_one():
    task = running_task()
    step(task, 1)
    task_complete(task=task, by=None)

    with pytest.raises(TaskNotRunning):
        step(task, 2)
    assert step(task, 1)[1] is False
    with pytest.raises(Conflict):
        step(task, 1, action="something else")


@pytest.mark.django_db
def test_a_pending_task_takes_no_step():
    task = task_create(request_text="Deploy", created_by=AgentUserFactory.create())

    with pytest.raises(TaskNotRunning) as error:
        step(task)

    assert (error.value.code, error.value.status) == ("task_not_running", 409)
    assert not ExecutionLog.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("body", "field", "code"),
    [
        ({"output_summary": "x" * 501}, "output_summary", "max_length"),
        ({"agent_type": "robot"}, "agent_type", "invalid_choice"),
        ({"status": "done"}, "status", "invalid_choice"),
        ({"duration_ms": -1}, "duration_ms", "min_value"),
    ],
)
def test_invalid_steps_are_refused_field_by_field(body, field, code):
    task = running_task()

    with pytest.raises(InvalidInput) as error:
        step(task, **body)

    assert error.value.errors == {field: [FieldError(ANY, code)]}
    assert not ExecutionLog.objects.exists()


@pytest.mark.django_db
def test_step_numbers_start_at_one_and_a_500_character_summary_fits():
    task = running_task()
    with pytest.raises(InvalidInput) as error:
        step(task, 0)
    assert list(error.value.errors) == ["step_number"]

    assert step(task, 1, output_summary="x" * 500)[1] is True


@pytest.mark.django_db
def test_only_operators_and_the_tasks_creator_log_its_steps():
    task = running_task()

    with pytest.raises(NotPermitted):
        step(task, 1, by=AgentUserFactory.create())
    assert step(task, 1, by=task.created_by)[1] is True
    assert step(task, 2, by=OperatorFactory.create())[1] is True


@pytest.mark.django_db
def test_the_timeline_lists_the_steps_in_order_with_elapsed_time(django_assert_num_queries):
    task = running_task()
    step(task, 2, agent_type="code", duration_ms=300)
    step(task, 1, duration_ms=1200)
    step(task, 3, status="running", duration_ms=None)
    step(running_task(), 1)  # another task's step

    with django_assert_num_queries(1):
        timeline: list[Any] = list(task_timeline(task=task))  # annotated with elapsed_ms

    assert [(s.step_number, s.agent_type, s.duration_ms, s.elapsed_ms) for s in timeline] == [
        (1, "infra", 1200, 1200),
        (2, "code", 300, 1500),
        (3, "infra", None, 1500),
    ]


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("attempt", range(3))
def test_two_concurrent_appends_of_one_step_with_one_body_both_succeed_with_one_row(attempt):
    task = running_task()

    results = run_concurrently(lambda: step(task, 1), lambda: step(task, 1))

    assert sorted(created for _, created in results) == [False, True]
    assert results[0][0].pk == results[1][0].pk
    assert ExecutionLog.objects.filter(task=task).count() == 1


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("attempt", range(3))
def test_two_concurrent_appends_of_one_step_with_two_bodies_one_is_a_conflict(attempt):
    task = running_task()

    results = run_concurrently(
        lambda: step(task, 1, action="first"), lambda: step(task, 1, action="second")
    )

    won = [r for r in results if isinstance(r, tuple)]
    lost = [r for r in results if not isinstance(r, tuple)]
    assert [type(r) for r in lost] == [Conflict]
    assert len(won) == 1
    assert won[0][1] is True
    assert ExecutionLog.objects.get(task=task).action == won[0][0].action
