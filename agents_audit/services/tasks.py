"""Agent tasks: creation, the operator's decision, execution, and edits of the request.

State machine (``Task.TRANSITIONS``): ``pending -> approved -> executing -> completed | failed``,
or ``pending -> rejected``. Every transition here:

- locks the task row (``SELECT ... FOR UPDATE``) and re-reads it, then checks the transition and
  the rules that depend on the row (who created it) under that lock, so two concurrent decisions
  on one task queue and the second sees the first's outcome;
- writes with ``save(update_fields=...)`` and adds one to ``version``, so a client holding an
  older version (an open admin form, an ETag) cannot write over the change;
- records one ``Event`` in the same transaction.

Only one row is locked per call, so there is no lock order to keep. ``task_update`` takes no
lock: it is optimistic (it writes only over the version its caller read), like
``commerce.services.products.product_update``.
"""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from agents_audit import events
from agents_audit.errors import TaskNotPending
from agents_audit.events import NO_TRACE, Trace
from agents_audit.models import CheckpointThread, Project, Task
from agents_audit.services.checkpoints import lock_thread_id
from agents_audit.services.jobs import job_enqueue
from commerce.models import User
from devskyy.errors import (
    FieldError,
    InvalidInput,
    InvalidTransition,
    NotPermitted,
    VersionMismatch,
)

# What task_update may change; the status has its own services.
TASK_EDITABLE_FIELDS = frozenset({"project", "request_text", "estimated_resources"})
# What the operator approves: frozen once the task is decided.
TASK_PENDING_ONLY_FIELDS = frozenset({"request_text", "estimated_resources"})


def _require_text(name: str, value: str) -> str:
    if not value or not value.strip():
        raise InvalidInput({name: [FieldError("This field may not be blank.", "blank")]})
    return value


def _require_staff(user: User, doing: str) -> None:
    if user.role not in User.STAFF_ROLES:
        raise NotPermitted(f"Only operators {doing} tasks.")


def _lock(task: Task) -> Task:
    return Task.objects.select_for_update().get(pk=task.pk)


def _move(task: Task, target: str) -> str:
    """Check ``task`` (locked by the caller) may go to ``target`` and set it, with one more
    version; return the status it left."""
    if not task.can_transition_to(target):
        raise InvalidTransition(current=task.status, target=target)
    old_status = task.status
    task.status = target
    task.version += 1  # the row is locked: no other writer can have moved it
    return old_status


def _require_own_thread(task: Task) -> None:
    """A task links to the LangGraph thread of its ``thread_id``: refuse one somebody else owns
    (the checkpoint services refuse the converse: a thread for another's task)."""
    held = CheckpointThread.objects.filter(thread_id=task.thread_id).exclude(
        owner_id=task.created_by_id  # a thread whose owner was deleted is nobody's to take
    )
    if held.exists():
        raise ValidationError(
            {"thread_id": ValidationError("This thread id is taken.", code="unique")}
        )


@transaction.atomic
def task_create(
    *,
    request_text: str,
    created_by: User | None,
    project: Project | None = None,
    thread_id: str | None = None,
    estimated_resources: dict[str, Any] | None = None,
    trace: Trace = NO_TRACE,
) -> Task:
    """Create a pending task (version 1), waiting for an operator's decision. ``thread_id`` is
    the agent framework's thread; a fresh one is made when none is given. Raises
    ``InvalidInput`` for a blank request, ``ValidationError`` for a taken ``thread_id``."""
    task = Task(
        request_text=_require_text("request_text", request_text),
        created_by=created_by,
        project=project,
        thread_id=thread_id or f"thread-{uuid.uuid4()}",
        estimated_resources=estimated_resources,
    )
    task.full_clean(exclude=["created_by", "approved_by", "project"])
    lock_thread_id(task.thread_id)  # a thread being created meanwhile: wait for it, then see it
    _require_own_thread(task)
    task.save()
    task.refresh_from_db(fields=["status", "version", "created_at", "updated_at"])
    events.task_created(task=task, actor=created_by, trace=trace)
    return task


@transaction.atomic
def task_approve(*, task: Task, by: User, trace: Trace = NO_TRACE) -> Task:
    """An operator approves a pending task. Approval is a second pair of eyes: nobody approves
    a task they created (an agent never approves its own), and only operators approve at all.

    Approving also enqueues the task's first job (``settings.AGENTS_TASK_FIRST_JOB_TYPE``,
    payload ``task_id`` and ``thread_id``, dedupe key ``task:<id>:first``) in the same
    transaction: workers can claim it exactly when the approval commits, and an approval rolled
    back leaves no job.
    """
    _require_staff(by, "approve")
    task = _lock(task)
    if task.created_by_id is not None and task.created_by_id == by.pk:
        raise NotPermitted("Nobody approves a task they created.")
    old_status = _move(task, Task.Status.APPROVED)
    task.approved_at, task.approved_by = timezone.now(), by
    task.save(update_fields=["status", "approved_at", "approved_by", "version"])
    events.task_approved(task=task, actor=by, old_status=old_status, trace=trace)
    job_enqueue(
        task=task,
        job_type=settings.AGENTS_TASK_FIRST_JOB_TYPE,
        payload={"task_id": str(task.pk), "thread_id": task.thread_id},
        dedupe_key=f"task:{task.pk}:first",
        by=by,
        trace=trace,
    )
    return task


@transaction.atomic
def task_reject(*, task: Task, by: User, reason: str, trace: Trace = NO_TRACE) -> Task:
    """An operator rejects a pending task, saying why (kept on the task and in its event)."""
    _require_staff(by, "reject")
    _require_text("reason", reason)
    task = _lock(task)
    old_status = _move(task, Task.Status.REJECTED)
    task.rejection_reason = reason
    task.save(update_fields=["status", "rejection_reason", "version"])
    events.task_rejected(task=task, actor=by, old_status=old_status, reason=reason, trace=trace)
    return task


@transaction.atomic
def task_start(*, task: Task, by: User | None, trace: Trace = NO_TRACE) -> Task:
    """An approved task starts executing (``by``: the agent or worker that started it)."""
    task = _lock(task)
    old_status = _move(task, Task.Status.EXECUTING)
    task.save(update_fields=["status", "version"])
    events.task_started(task=task, actor=by, old_status=old_status, trace=trace)
    return task


@transaction.atomic
def task_complete(
    *,
    task: Task,
    by: User | None,
    actual_resources: dict[str, Any] | None = None,
    external_ai_model: str = "",
    external_ai_tokens: int = 0,
    external_ai_cost: Decimal = Decimal(0),
    trace: Trace = NO_TRACE,
) -> Task:
    """An executing task completed, with what it used: resources, and the external AI model it
    called with its tokens and cost (none: a blank model, zero tokens and cost)."""
    if not external_ai_model and (external_ai_tokens or external_ai_cost):
        raise InvalidInput(
            {"external_ai_model": [FieldError("Name the model that used the tokens.", "required")]}
        )
    if external_ai_tokens < 0 or external_ai_cost < 0:
        raise InvalidInput(
            {"external_ai_tokens": [FieldError("Usage cannot be negative.", "min_value")]}
        )
    task = _lock(task)
    old_status = _move(task, Task.Status.COMPLETED)
    task.completed_at = timezone.now()
    task.actual_resources = actual_resources
    task.external_ai_model = external_ai_model
    task.external_ai_tokens = external_ai_tokens
    task.external_ai_cost = external_ai_cost
    task.save(
        update_fields=[
            "status",
            "completed_at",
            "actual_resources",
            "external_ai_model",
            "external_ai_tokens",
            "external_ai_cost",
            "version",
        ]
    )
    events.task_completed(task=task, actor=by, old_status=old_status, trace=trace)
    return task


@transaction.atomic
def task_fail(
    *,
    task: Task,
    by: User | None,
    error_message: str,
    actual_resources: dict[str, Any] | None = None,
    trace: Trace = NO_TRACE,
) -> Task:
    """An executing task failed; ``error_message`` says why (required: a post-mortem starts
    there)."""
    _require_text("error_message", error_message)
    task = _lock(task)
    old_status = _move(task, Task.Status.FAILED)
    task.completed_at = timezone.now()
    task.error_message = error_message
    task.actual_resources = actual_resources
    task.save(
        update_fields=["status", "completed_at", "error_message", "actual_resources", "version"]
    )
    events.task_failed(task=task, actor=by, old_status=old_status, error=error_message, trace=trace)
    return task


def _json_value(name: str, value: Any) -> Any:
    if name == "project":
        return None if value is None else str(value.pk)
    return value


@transaction.atomic
def task_update(
    *,
    task: Task,
    expected_version: int,
    by: User | None = None,
    trace: Trace = NO_TRACE,
    **changes: Any,
) -> Task:
    """Change a task's editable fields (``TASK_EDITABLE_FIELDS``), provided it is still at
    ``expected_version`` (the version its caller read); the version then goes up by one.

    The request and its estimate change only while the task is pending (``TaskNotPending``):
    they are what the operator approves. ``by``, when given, must be an operator or the task's
    creator (``NotPermitted``). Raises ``VersionMismatch`` when the task changed since it was
    read (nothing is written), ``ValidationError`` for a field that is not editable here. No
    change at all writes nothing, but still checks the version.
    """
    unknown = set(changes) - TASK_EDITABLE_FIELDS
    if unknown:
        raise ValidationError({name: ["This field cannot be changed here."] for name in unknown})
    if "request_text" in changes:
        _require_text("request_text", changes["request_text"])
    current = Task.objects.get(pk=task.pk)
    if current.version != expected_version:
        raise VersionMismatch()
    if by is not None and by.role not in User.STAFF_ROLES and current.created_by_id != by.pk:
        raise NotPermitted("Only operators and the task's creator change a task.")
    if TASK_PENDING_ONLY_FIELDS & set(changes) and current.status != Task.Status.PENDING:
        raise TaskNotPending()
    changed = {name: value for name, value in changes.items() if getattr(current, name) != value}
    if not changed:
        return current
    old = {name: _json_value(name, getattr(current, name)) for name in changed}
    for name, value in changed.items():
        setattr(current, name, value)
    current.full_clean(exclude=["created_by", "approved_by", "thread_id"])
    # The guarantee: write only over the version checked above. Every transition adds a
    # version too, so the status read above is still the status when this writes.
    written = Task.objects.filter(pk=task.pk, version=expected_version).update(
        **changed, version=F("version") + 1
    )
    if not written:
        raise VersionMismatch()
    current.refresh_from_db(fields=["version", "updated_at"])
    events.task_updated(
        task=current,
        actor=by,
        old={**old, "version": expected_version},
        new={**{n: _json_value(n, v) for n, v in changed.items()}, "version": current.version},
        trace=trace,
    )
    return current
