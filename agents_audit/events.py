"""The event trail's writers: one function per event type, each writing one ``Event`` row.

Called by the services, inside the transaction of the change they record (so an event exists
exactly when its change does). ``payload`` carries ``{"old": {...}, "new": {...}}``: the fields
the change moved, as JSON values (primary keys as text), plus the change's own details.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from agents_audit.models import Event, Project, Task
from commerce.models import User


@dataclass(frozen=True)
class Trace:
    """Where a change came from, beyond the user: the prefix of the API key it came with (blank
    for the admin and commands) and the caller's correlation id (blank when none was sent)."""

    api_key_prefix: str = ""
    correlation_id: str = ""


NO_TRACE = Trace()


def _record(
    *,
    subject_type: str,
    subject_id: Any,
    event_type: str,
    actor: User | None,
    trace: Trace,
    payload: dict[str, Any],
) -> Event:
    return Event.objects.create(
        subject_type=subject_type,
        subject_id=str(subject_id),
        event_type=event_type,
        actor=actor,
        api_key_prefix=trace.api_key_prefix,
        correlation_id=trace.correlation_id,
        payload=payload,
    )


def _task_event(
    event_type: str,
    *,
    task: Task,
    actor: User | None,
    trace: Trace,
    old: dict[str, Any],
    new: dict[str, Any],
    **details: Any,
) -> Event:
    return _record(
        subject_type=Event.Subject.TASK,
        subject_id=task.pk,
        event_type=event_type,
        actor=actor,
        trace=trace,
        payload={"old": old, "new": new, **details},
    )


def _status_move(old_status: str, task: Task) -> tuple[dict[str, Any], dict[str, Any]]:
    return {"status": old_status}, {"status": task.status, "version": task.version}


def project_created(*, project: Project, actor: User | None, trace: Trace = NO_TRACE) -> Event:
    return _record(
        subject_type=Event.Subject.PROJECT,
        subject_id=project.pk,
        event_type=Event.Type.PROJECT_CREATED,
        actor=actor,
        trace=trace,
        payload={"old": {}, "new": {"name": project.name, "version": project.version}},
    )


def project_updated(
    *,
    project: Project,
    actor: User | None,
    old: dict[str, Any],
    new: dict[str, Any],
    trace: Trace = NO_TRACE,
) -> Event:
    return _record(
        subject_type=Event.Subject.PROJECT,
        subject_id=project.pk,
        event_type=Event.Type.PROJECT_UPDATED,
        actor=actor,
        trace=trace,
        payload={"old": old, "new": new},
    )


def task_created(*, task: Task, actor: User | None, trace: Trace = NO_TRACE) -> Event:
    new = {
        "status": task.status,
        "version": task.version,
        "project": None if task.project_id is None else str(task.project_id),
        "thread_id": task.thread_id,
    }
    return _task_event(
        Event.Type.TASK_CREATED, task=task, actor=actor, trace=trace, old={}, new=new
    )


def task_updated(
    *,
    task: Task,
    actor: User | None,
    old: dict[str, Any],
    new: dict[str, Any],
    trace: Trace = NO_TRACE,
) -> Event:
    return _task_event(
        Event.Type.TASK_UPDATED, task=task, actor=actor, trace=trace, old=old, new=new
    )


def task_approved(*, task: Task, actor: User, old_status: str, trace: Trace = NO_TRACE) -> Event:
    old, new = _status_move(old_status, task)
    return _task_event(
        Event.Type.TASK_APPROVED, task=task, actor=actor, trace=trace, old=old, new=new
    )


def task_rejected(
    *, task: Task, actor: User, old_status: str, reason: str, trace: Trace = NO_TRACE
) -> Event:
    old, new = _status_move(old_status, task)
    return _task_event(
        Event.Type.TASK_REJECTED,
        task=task,
        actor=actor,
        trace=trace,
        old=old,
        new=new,
        reason=reason,
    )


def task_started(
    *, task: Task, actor: User | None, old_status: str, trace: Trace = NO_TRACE
) -> Event:
    old, new = _status_move(old_status, task)
    return _task_event(
        Event.Type.TASK_STARTED, task=task, actor=actor, trace=trace, old=old, new=new
    )


def task_completed(
    *, task: Task, actor: User | None, old_status: str, trace: Trace = NO_TRACE
) -> Event:
    old, new = _status_move(old_status, task)
    return _task_event(
        Event.Type.TASK_COMPLETED, task=task, actor=actor, trace=trace, old=old, new=new
    )


def task_failed(
    *, task: Task, actor: User | None, old_status: str, error: str, trace: Trace = NO_TRACE
) -> Event:
    old, new = _status_move(old_status, task)
    return _task_event(
        Event.Type.TASK_FAILED, task=task, actor=actor, trace=trace, old=old, new=new, error=error
    )
