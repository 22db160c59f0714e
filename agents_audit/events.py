"""The event trail's writers: one function per event type, each writing one ``Event`` row.

Called by the services, inside the transaction of the change they record (so an event exists
exactly when its change does). ``payload`` carries ``{"old": {...}, "new": {...}}``: the fields
the change moved, as JSON values (primary keys as text), plus the change's own details.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import connection, connections, router
from django.db.models import Field

from agents_audit.models import Event, Job, Project, Task
from commerce.models import User


@dataclass(frozen=True)
class Trace:
    """Where a change came from, beyond the user: the prefix of the API key it came with (blank
    for the admin and commands) and the caller's correlation id (blank when none was sent)."""

    api_key_prefix: str = ""
    correlation_id: str = ""


NO_TRACE = Trace()


# The columns every writer sets, in one INSERT statement built once: events are written on the
# queue's hot path (two per job), where the ORM's per-call INSERT compilation cost more than the
# statement itself. The database fills ``id`` and ``created_at``.
_EVENT_COLUMNS = (
    "subject_type",
    "subject_id",
    "event_type",
    "actor_id",
    "api_key_prefix",
    "correlation_id",
    "payload",
)
_EVENT_INSERT_SQL = (
    f"INSERT INTO {Event._meta.db_table} ({', '.join(_EVENT_COLUMNS)}) "  # noqa: S608 (the model's)
    f"VALUES ({', '.join(['%s'] * len(_EVENT_COLUMNS))}) RETURNING id, created_at"
)
_PAYLOAD_FIELD = Event._meta.get_field("payload")


def _record(
    *,
    subject_type: str,
    subject_id: Any,
    event_type: str,
    actor: User | None,
    trace: Trace,
    payload: dict[str, Any],
) -> Event:
    event = Event(
        subject_type=subject_type,
        subject_id=str(subject_id),
        event_type=event_type,
        actor=actor,
        api_key_prefix=trace.api_key_prefix,
        correlation_id=trace.correlation_id,
        payload=payload,
    )
    connection = connections[router.db_for_write(Event)]
    with connection.cursor() as cursor:
        cursor.execute(
            _EVENT_INSERT_SQL,
            [
                event.subject_type,
                event.subject_id,
                event.event_type,
                event.actor_id,
                event.api_key_prefix,
                event.correlation_id,
                _PAYLOAD_FIELD.get_db_prep_save(payload, connection),
            ],
        )
        event.id, event.created_at = cursor.fetchone()
    event._state.adding = False
    event._state.db = connection.alias
    return event


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


def project_deleted(
    *, project: Project, actor: User | None, deleted_tasks: int = 0, trace: Trace = NO_TRACE
) -> Event:
    """A project was deleted; ``deleted_tasks``: how many tasks an explicit cascade took with
    it (0 when it had none)."""
    return _record(
        subject_type=Event.Subject.PROJECT,
        subject_id=project.pk,
        event_type=Event.Type.PROJECT_DELETED,
        actor=actor,
        trace=trace,
        payload={
            "old": {"name": project.name, "version": project.version},
            "new": {},
            "deleted_tasks": deleted_tasks,
        },
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


# The job queue's events. Each names the job and carries its status move plus what the move
# depended on (the worker, the attempt, the error, when it runs next).


def _job_event(
    event_type: str,
    *,
    job: Job,
    actor: User | None,
    old_status: str | None,
    trace: Trace,
    **details: Any,
) -> Event:
    old = {} if old_status is None else {"status": old_status}
    return _record(
        subject_type=Event.Subject.JOB,
        subject_id=job.pk,
        event_type=event_type,
        actor=actor,
        trace=trace,
        payload={
            "old": old,
            "new": {"status": job.status, "attempts": job.attempts},
            "task": str(job.task_id),
            "job_type": job.job_type,
            **details,
        },
    )


def _when(value: Any) -> str | None:
    return None if value is None else value.isoformat()


def job_enqueued(*, job: Job, actor: User | None, trace: Trace = NO_TRACE) -> Event:
    return _job_event(
        Event.Type.JOB_ENQUEUED,
        job=job,
        actor=actor,
        old_status=None,
        trace=trace,
        priority=job.priority,
        run_after=_when(job.run_after),
        dedupe_key=job.dedupe_key,
    )


# The queue's two hot transitions, claim and complete, happen once per job each. Each is one SQL
# statement that changes the job and writes its event together (a data-modifying WITH), so these
# two writers give that statement's INSERT, for the rows of one of its CTEs (``source``: the job's
# columns plus ``old_status``), with the same payload as ``_job_event``. Named parameters:
# ``actor_id``, ``api_key_prefix`` and ``correlation_id`` (``sql_trace_params``).


def _param(name: str, field_name: str) -> str:
    """A named parameter cast to its column's type (a prepared statement must know it)."""
    field = Event._meta.get_field(field_name)
    assert isinstance(field, Field)
    return f"%({name})s::{field.db_type(connection)}"


def _job_event_sql(event_type: str, *, source: str, details: dict[str, str]) -> str:
    detail_sql = "".join(f", '{name}', {source}.{column}" for name, column in details.items())
    actor = _param("actor_id", "actor")
    prefix = _param("api_key_prefix", "api_key_prefix")
    correlation = _param("correlation_id", "correlation_id")
    return f"""
    INSERT INTO {Event._meta.db_table} ({", ".join(_EVENT_COLUMNS)})
    SELECT '{Event.Subject.JOB}', {source}.id::text, '{event_type}',
           {actor}, {prefix}, {correlation},
           jsonb_build_object(
               'old', jsonb_build_object('status', {source}.old_status),
               'new', jsonb_build_object('status', {source}.status, 'attempts', {source}.attempts),
               'task', {source}.task_id::text,
               'job_type', {source}.job_type{detail_sql})
    FROM {source}"""  # noqa: S608 (names from the model and the caller's SQL)


def sql_trace_params(*, actor: User | None, trace: Trace) -> dict[str, Any]:
    """The parameters of an event INSERT given by ``job_claimed`` / ``job_succeeded``."""
    return {
        "actor_id": None if actor is None else actor.pk,
        "api_key_prefix": trace.api_key_prefix,
        "correlation_id": trace.correlation_id,
    }


def job_claimed(*, source: str) -> str:
    """A worker claimed the jobs in ``source``: with its ``worker_id`` and the lease's expiry."""
    return _job_event_sql(
        Event.Type.JOB_CLAIMED,
        source=source,
        details={"worker_id": "worker_id", "lease_expires_at": "lease_expires_at"},
    )


def job_succeeded(*, source: str) -> str:
    """The worker holding the lease completed the jobs in ``source``."""
    return _job_event_sql(
        Event.Type.JOB_SUCCEEDED, source=source, details={"worker_id": "worker_id"}
    )


def job_failed(*, job: Job, actor: User | None, error: str, trace: Trace = NO_TRACE) -> Event:
    """A job failed and will be retried at ``job.run_after``."""
    return _job_event(
        Event.Type.JOB_FAILED,
        job=job,
        actor=actor,
        old_status=Job.Status.RUNNING,
        trace=trace,
        worker_id=job.worker_id,
        error=error,
        run_after=_when(job.run_after),
    )


def job_dead(
    *,
    job: Job,
    actor: User | None,
    old_status: str,
    error: str,
    retryable: bool = True,
    lease_expired: bool = False,
    trace: Trace = NO_TRACE,
) -> Event:
    """A job will not run again: its retries are used up, or its failure was not retryable
    (``retryable`` False). ``lease_expired``: its last worker died or hung holding it (the
    recovery found its attempts used up), rather than reporting a failure."""
    return _job_event(
        Event.Type.JOB_DEAD,
        job=job,
        actor=actor,
        old_status=old_status,
        trace=trace,
        worker_id=job.worker_id,
        error=error,
        retryable=retryable,
        lease_expired=lease_expired,
    )


def job_lease_expired(*, job: Job, expired_worker_id: str, trace: Trace = NO_TRACE) -> Event:
    """A running job's lease ran out (its worker died or hung); it was put back to run again."""
    return _job_event(
        Event.Type.JOB_LEASE_EXPIRED,
        job=job,
        actor=None,
        old_status=Job.Status.RUNNING,
        trace=trace,
        expired_worker_id=expired_worker_id,
    )


def job_cancelled(
    *, job: Job, actor: User | None, old_status: str, trace: Trace = NO_TRACE
) -> Event:
    return _job_event(
        Event.Type.JOB_CANCELLED, job=job, actor=actor, old_status=old_status, trace=trace
    )


def job_retried(
    *,
    job: Job,
    actor: User | None,
    old_status: str,
    old_attempts: int,
    trace: Trace = NO_TRACE,
) -> Event:
    """An operator sent a dead, failed or cancelled job back to the queue; its attempts start
    over (``old_attempts``: how many it had)."""
    return _job_event(
        Event.Type.JOB_RETRIED,
        job=job,
        actor=actor,
        old_status=old_status,
        trace=trace,
        old_attempts=old_attempts,
    )


def job_type_paused(*, job_type: str, actor: User | None, trace: Trace = NO_TRACE) -> Event:
    return _record(
        subject_type=Event.Subject.JOB_TYPE,
        subject_id=job_type,
        event_type=Event.Type.JOB_TYPE_PAUSED,
        actor=actor,
        trace=trace,
        payload={"old": {"paused": False}, "new": {"paused": True}},
    )


def job_type_resumed(*, job_type: str, actor: User | None, trace: Trace = NO_TRACE) -> Event:
    return _record(
        subject_type=Event.Subject.JOB_TYPE,
        subject_id=job_type,
        event_type=Event.Type.JOB_TYPE_RESUMED,
        actor=actor,
        trace=trace,
        payload={"old": {"paused": True}, "new": {"paused": False}},
    )
