"""Task lifecycle: who may move a task, along which transitions, with what recorded; optimistic
edits that never write over a change their caller did not see; and concurrent decisions on one
task, proven with real threads."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import ValidationError

from agents_audit.errors import TaskNotPending
from agents_audit.events import Trace
from agents_audit.models import Event, Task
from agents_audit.services.tasks import (
    task_approve,
    task_complete,
    task_create,
    task_fail,
    task_reject,
    task_start,
    task_update,
)
from commerce.models import User
from devskyy.errors import InvalidInput, InvalidTransition, NotPermitted, VersionMismatch
from tests.agents_audit.factories import ProjectFactory
from tests.commerce.factories import AgentUserFactory, OperatorFactory
from tests.concurrency import run_concurrently

S = Task.Status


def trail(task: Task) -> list[tuple[str, dict[str, Any]]]:
    return [
        (e.event_type, e.payload)
        for e in Event.objects.filter(subject_type="task", subject_id=str(task.pk)).order_by("id")
    ]


def event_types(task: Task) -> list[str]:
    return [event_type for event_type, _ in trail(task)]


@pytest.fixture
def operator(db: None) -> User:
    return OperatorFactory.create()


@pytest.fixture
def agent(db: None) -> User:
    return AgentUserFactory.create()


@pytest.fixture
def pending(agent: User) -> Task:
    return task_create(request_text="Deploy v2 to staging", created_by=agent)


def in_state(status: str, agent: User, operator: User) -> Task:
    """A task brought to ``status`` through the services."""
    task = task_create(request_text="Rotate the TLS certificates", created_by=agent)
    if status == S.REJECTED:
        return task_reject(task=task, by=operator, reason="not now")
    if status == S.PENDING:
        return task
    task = task_approve(task=task, by=operator)
    if status == S.APPROVED:
        return task
    task = task_start(task=task, by=agent)
    if status == S.EXECUTING:
        return task
    if status == S.COMPLETED:
        return task_complete(task=task, by=agent)
    return task_fail(task=task, by=agent, error_message="disk full")


# --- create ----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_created_task_is_pending_at_version_one_with_its_event(agent):
    project = ProjectFactory.create()
    task = task_create(
        request_text="Deploy v2",
        created_by=agent,
        project=project,
        estimated_resources={"cpu_minutes": 30},
        trace=Trace(api_key_prefix="Ab12Cd34", correlation_id="c-1"),
    )

    task.refresh_from_db()
    assert (task.status, task.version, task.created_by, task.project) == (
        "pending",
        1,
        agent,
        project,
    )
    assert task.thread_id.startswith("thread-")
    assert trail(task) == [
        (
            "task_created",
            {
                "old": {},
                "new": {
                    "status": "pending",
                    "version": 1,
                    "project": str(project.pk),
                    "thread_id": task.thread_id,
                },
            },
        )
    ]
    event = Event.objects.get()
    assert (event.actor, event.api_key_prefix, event.correlation_id) == (agent, "Ab12Cd34", "c-1")


@pytest.mark.django_db
def test_a_blank_request_or_a_taken_thread_creates_nothing(agent):
    task_create(request_text="first", created_by=agent, thread_id="t-1")
    with pytest.raises(InvalidInput) as blank:
        task_create(request_text="  ", created_by=agent)
    with pytest.raises(ValidationError) as taken:
        task_create(request_text="second", created_by=agent, thread_id="t-1")
    assert set(blank.value.errors) == {"request_text"}
    assert set(taken.value.message_dict) == {"thread_id"}
    assert Task.objects.count() == Event.objects.count() == 1


# --- the operator's decision --------------------------------------------------------------------


@pytest.mark.django_db
def test_an_operator_approves_a_pending_task(pending, operator):
    task = task_approve(task=pending, by=operator)

    task.refresh_from_db()
    assert (task.status, task.approved_by, task.version) == ("approved", operator, 2)
    assert task.approved_at is not None
    assert trail(task)[-1] == (
        "task_approved",
        {"old": {"status": "pending"}, "new": {"status": "approved", "version": 2}},
    )
    assert Event.objects.filter(event_type="task_approved").get().actor == operator


@pytest.mark.django_db
def test_an_operator_rejects_a_pending_task_saying_why(pending, operator):
    task = task_reject(task=pending, by=operator, reason="Not during the freeze")

    task.refresh_from_db()
    assert (task.status, task.rejection_reason, task.version) == (
        "rejected",
        "Not during the freeze",
        2,
    )
    assert task.approved_at is None
    assert trail(task)[-1] == (
        "task_rejected",
        {
            "old": {"status": "pending"},
            "new": {"status": "rejected", "version": 2},
            "reason": "Not during the freeze",
        },
    )


@pytest.mark.django_db
@pytest.mark.parametrize("decide", ["approve", "reject"])
def test_only_operators_decide(pending, decide):
    decisions = {
        "approve": lambda by: task_approve(task=pending, by=by),
        "reject": lambda by: task_reject(task=pending, by=by, reason="no"),
    }
    with pytest.raises(NotPermitted):
        decisions[decide](AgentUserFactory.create())
    pending.refresh_from_db()
    assert (pending.status, pending.version) == ("pending", 1)
    assert event_types(pending) == ["task_created"]


@pytest.mark.django_db
def test_nobody_approves_a_task_they_created(operator):
    own = task_create(request_text="Scale the workers", created_by=operator)
    with pytest.raises(NotPermitted):
        task_approve(task=own, by=operator)
    own.refresh_from_db()
    assert own.status == "pending"
    assert event_types(own) == ["task_created"]
    # a colleague may
    assert task_approve(task=own, by=OperatorFactory.create()).status == "approved"


@pytest.mark.django_db
def test_an_agent_promoted_to_operator_still_cannot_approve_its_own_task(pending, agent):
    agent.role = User.Role.OPERATOR
    agent.save(update_fields=["role"])
    with pytest.raises(NotPermitted):
        task_approve(task=pending, by=agent)


@pytest.mark.django_db
def test_a_rejection_needs_a_reason(pending, operator):
    with pytest.raises(InvalidInput) as refused:
        task_reject(task=pending, by=operator, reason=" ")
    assert set(refused.value.errors) == {"reason"}
    pending.refresh_from_db()
    assert pending.status == "pending"


# --- execution ---------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_task_runs_to_completion_recording_what_it_used(pending, operator, agent):
    task = task_approve(task=pending, by=operator)
    task = task_start(task=task, by=agent)
    task = task_complete(
        task=task,
        by=agent,
        actual_resources={"cpu_minutes": 12},
        external_ai_model="claude-sonnet",
        external_ai_tokens=1500,
        external_ai_cost=Decimal("0.0225"),
    )

    task.refresh_from_db()
    assert (task.status, task.version, task.actual_resources) == (
        "completed",
        4,
        {"cpu_minutes": 12},
    )
    assert (task.external_ai_model, task.external_ai_tokens, task.external_ai_cost) == (
        "claude-sonnet",
        1500,
        Decimal("0.0225"),
    )
    assert task.completed_at is not None
    assert event_types(task) == [
        "task_created",
        "task_approved",
        "task_started",
        "task_completed",
    ]
    assert trail(task)[-1][1] == {
        "old": {"status": "executing"},
        "new": {"status": "completed", "version": 4},
    }


@pytest.mark.django_db
def test_a_failed_task_says_why(operator, agent):
    task = in_state(S.FAILED, agent, operator)
    task.refresh_from_db()
    assert (task.status, task.error_message) == ("failed", "disk full")
    assert task.completed_at is not None
    assert trail(task)[-1] == (
        "task_failed",
        {
            "old": {"status": "executing"},
            "new": {"status": "failed", "version": 4},
            "error": "disk full",
        },
    )


@pytest.mark.django_db
def test_a_failure_needs_a_message_and_usage_needs_a_model(operator, agent):
    task = in_state(S.EXECUTING, agent, operator)
    with pytest.raises(InvalidInput):
        task_fail(task=task, by=agent, error_message="")
    with pytest.raises(InvalidInput):
        task_complete(task=task, by=agent, external_ai_tokens=10)
    task.refresh_from_db()
    assert (task.status, task.version) == ("executing", 3)


SERVICES: dict[str, Callable[[Task, User, User], Task]] = {
    S.APPROVED: lambda task, operator, agent: task_approve(task=task, by=operator),
    S.REJECTED: lambda task, operator, agent: task_reject(task=task, by=operator, reason="no"),
    S.EXECUTING: lambda task, operator, agent: task_start(task=task, by=agent),
    S.COMPLETED: lambda task, operator, agent: task_complete(task=task, by=agent),
    S.FAILED: lambda task, operator, agent: task_fail(task=task, by=agent, error_message="x"),
}


@pytest.mark.django_db
@pytest.mark.parametrize("current", S.values)
@pytest.mark.parametrize("target", sorted(SERVICES))
def test_each_service_moves_only_along_the_state_machine(current, target, operator, agent):
    task = in_state(current, agent, operator)
    before = (task.version, len(trail(task)))
    if Task(status=current).can_transition_to(target):
        moved = SERVICES[target](task, operator, agent)
        assert (moved.status, moved.version) == (target, before[0] + 1)
        assert len(trail(task)) == before[1] + 1
    else:
        with pytest.raises(InvalidTransition) as refused:
            SERVICES[target](task, operator, agent)
        assert refused.value.extra() == {"current": current, "target": target}
        task.refresh_from_db()
        assert (task.status, task.version, len(trail(task))) == (current, *before)


@pytest.mark.django_db
def test_a_transition_checks_the_row_not_the_callers_stale_copy(pending, operator):
    stale = Task.objects.get(pk=pending.pk)  # read while pending
    task_reject(task=pending, by=operator, reason="no")
    with pytest.raises(InvalidTransition):
        task_approve(task=stale, by=OperatorFactory.create())
    pending.refresh_from_db()
    assert (pending.status, pending.approved_at) == ("rejected", None)


# --- optimistic edits --------------------------------------------------------------------------


@pytest.mark.django_db
def test_an_edit_over_the_version_read_bumps_it_and_records_old_and_new(pending, agent):
    project = ProjectFactory.create()
    task = task_update(
        task=pending,
        expected_version=1,
        by=agent,
        request_text="Deploy v3 to staging",
        project=project,
    )

    task.refresh_from_db()
    assert (task.request_text, task.project, task.version) == (
        "Deploy v3 to staging",
        project,
        2,
    )
    assert trail(task)[-1] == (
        "task_updated",
        {
            "old": {"request_text": "Deploy v2 to staging", "project": None, "version": 1},
            "new": {
                "request_text": "Deploy v3 to staging",
                "project": str(project.pk),
                "version": 2,
            },
        },
    )


@pytest.mark.django_db
def test_an_edit_over_a_stale_version_changes_nothing(pending, operator):
    task_update(task=pending, expected_version=1, request_text="first edit")
    with pytest.raises(VersionMismatch):
        task_update(task=pending, expected_version=1, request_text="lost update")
    pending.refresh_from_db()
    assert (pending.request_text, pending.version) == ("first edit", 2)
    assert event_types(pending) == ["task_created", "task_updated"]


@pytest.mark.django_db
def test_a_decision_invalidates_an_edit_opened_before_it(pending, operator):
    task_approve(task=pending, by=operator)
    with pytest.raises(VersionMismatch):
        task_update(task=pending, expected_version=1, project=ProjectFactory.create())


@pytest.mark.django_db
def test_what_was_approved_cannot_be_edited_but_its_project_can(pending, operator):
    task = task_approve(task=pending, by=operator)
    with pytest.raises(TaskNotPending):
        task_update(task=task, expected_version=2, request_text="something else")
    project = ProjectFactory.create()
    task = task_update(task=task, expected_version=2, by=operator, project=project)
    assert (task.request_text, task.project, task.version) == ("Deploy v2 to staging", project, 3)


@pytest.mark.django_db
def test_an_edit_with_no_change_writes_nothing_but_checks_the_version(pending):
    assert task_update(task=pending, expected_version=1, request_text=pending.request_text)
    with pytest.raises(VersionMismatch):
        task_update(task=pending, expected_version=7)
    pending.refresh_from_db()
    assert pending.version == 1
    assert event_types(pending) == ["task_created"]


@pytest.mark.django_db
def test_only_operators_and_the_creator_edit_and_only_editable_fields(pending):
    with pytest.raises(NotPermitted):
        task_update(
            task=pending, expected_version=1, by=AgentUserFactory.create(), request_text="x"
        )
    with pytest.raises(ValidationError):
        task_update(task=pending, expected_version=1, status="approved")
    pending.refresh_from_db()
    assert (pending.status, pending.version) == ("pending", 1)


# --- concurrency: real threads, real connections ---------------------------------------------


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("attempt", range(3))
def test_approve_and_reject_at_once_exactly_one_decides(attempt):
    task = task_create(request_text="Migrate the database", created_by=AgentUserFactory.create())
    approver, rejecter = OperatorFactory.create(), OperatorFactory.create()

    results = run_concurrently(
        lambda: task_approve(task=task, by=approver),
        lambda: task_reject(task=task, by=rejecter, reason="too risky"),
    )

    won = [r for r in results if isinstance(r, Task)]
    lost = [r for r in results if not isinstance(r, Task)]
    assert len(won) == 1
    assert [type(r) for r in lost] == [InvalidTransition]
    task.refresh_from_db()
    assert task.status == won[0].status
    assert task.version == 2
    assert event_types(task) == ["task_created", f"task_{task.status}"]
    assert (task.approved_by is not None) == (task.status == "approved")


@pytest.mark.django_db(transaction=True)
def test_concurrent_edits_over_one_version_exactly_one_wins():
    task = task_create(request_text="Deploy", created_by=AgentUserFactory.create())

    results = run_concurrently(
        *[
            (lambda n=n: task_update(task=task, expected_version=1, request_text=f"edit {n}"))
            for n in range(10)
        ]
    )

    won = [r for r in results if isinstance(r, Task)]
    assert len(won) == 1
    assert all(isinstance(r, VersionMismatch) for r in results if r not in won)
    task.refresh_from_db()
    assert (task.request_text, task.version) == (won[0].request_text, 2)
    assert event_types(task) == ["task_created", "task_updated"]
