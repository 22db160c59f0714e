"""Execution logs: the steps an agent took for a task (seed 004 ``execution_logs``).

A step is written once. Its number is unique per task (the database's
``execution_logs_task_step_key`` is the guarantee); appending the same step again with the same
body is idempotent (an agent retrying a request that timed out gets the stored step back), with a
different body it is a ``Conflict``. No ``Event`` is written: the log is itself the trail of the
task's execution, and ``EventType`` has no step type (adding one needs a migration of the
``events_event_type_valid`` CHECK).
"""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError, connection, transaction

from agents_audit.errors import TaskNotRunning
from agents_audit.models import ExecutionLog, Task
from agents_audit.models.tasks import OUTPUT_SUMMARY_MAX_LENGTH
from commerce.models import User
from devskyy.errors import Conflict, FieldError, InvalidInput, NotPermitted

# The task states in which steps are appended: approved (an agent may log its preparation before
# it calls task_start) and executing. A finished task's log is closed.
LOGGING_STATES = frozenset({Task.Status.APPROVED, Task.Status.EXECUTING})


def _validate(
    *, step_number: int, agent_type: str, status: str, output_summary: str, duration_ms: int | None
) -> None:
    errors: dict[str, list[FieldError]] = {}
    if step_number < 1:
        errors["step_number"] = [FieldError("Steps are numbered from 1.", "min_value")]
    if agent_type not in ExecutionLog.AgentType.values:
        errors["agent_type"] = [
            FieldError(f"'{agent_type}' is not a valid choice.", "invalid_choice")
        ]
    if status not in ExecutionLog.Status.values:
        errors["status"] = [FieldError(f"'{status}' is not a valid choice.", "invalid_choice")]
    if len(output_summary) > OUTPUT_SUMMARY_MAX_LENGTH:
        errors["output_summary"] = [
            FieldError(
                f"Ensure this field has no more than {OUTPUT_SUMMARY_MAX_LENGTH} characters.",
                "max_length",
            )
        ]
    if duration_ms is not None and duration_ms < 0:
        errors["duration_ms"] = [FieldError("A duration cannot be negative.", "min_value")]
    if errors:
        raise InvalidInput(errors)


def _task_status_shared_lock(task: Task) -> tuple[str, Any]:
    """The task's status and creator, read under ``FOR SHARE``: appends to one task run side by
    side, but the task cannot complete or fail (``FOR UPDATE``) until this transaction ends, so no
    step lands in a finished task's log."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT status, created_by_id FROM tasks WHERE id = %s FOR SHARE", [task.pk])
        row = cursor.fetchone()
    if row is None:
        raise Task.DoesNotExist()
    return row[0], row[1]


@transaction.atomic
def execution_log_append(
    *,
    task: Task,
    step_number: int,
    agent_type: str,
    action: str,
    status: str,
    input: dict[str, Any] | None = None,
    output_summary: str = "",
    output_full: Any = None,
    duration_ms: int | None = None,
    by: User | None = None,
) -> tuple[ExecutionLog, bool]:
    """Append step ``step_number`` to ``task``'s log; return ``(step, created)``.

    The same step again with the same body returns the stored one with ``created=False`` (also
    after the task finished: a retry of a request that had succeeded); a different body under
    that number raises ``Conflict``. A new step needs an approved or executing task
    (``TaskNotRunning`` otherwise). ``by``, when given, must be an operator or the task's creator
    (the agent that runs it) (``NotPermitted``); ``None`` is the system itself. Raises
    ``InvalidInput`` for a step number below 1, an unknown agent type or status, a summary longer
    than 500 characters or a negative duration.
    """
    _validate(
        step_number=step_number,
        agent_type=agent_type,
        status=status,
        output_summary=output_summary,
        duration_ms=duration_ms,
    )
    task_status, creator_id = _task_status_shared_lock(task)
    if by is not None and by.role not in User.STAFF_ROLES and creator_id != by.pk:
        raise NotPermitted("Only operators and the task's creator log its steps.")
    wanted = {
        "agent_type": agent_type,
        "action": action,
        "status": status,
        "input": dict(input or {}),
        "output_summary": output_summary,
        "output_full": output_full,
        "duration_ms": duration_ms,
    }
    existing = ExecutionLog.objects.filter(task_id=task.pk, step_number=step_number).first()
    if existing is None:
        if task_status not in LOGGING_STATES:
            raise TaskNotRunning()
        try:
            with transaction.atomic():
                step = ExecutionLog.objects.create(
                    task_id=task.pk, step_number=step_number, **wanted
                )
        except IntegrityError:
            # A concurrent append of this step committed first (the unique index made this
            # insert wait for it), so its row is visible now.
            existing = ExecutionLog.objects.get(task_id=task.pk, step_number=step_number)
        else:
            step.refresh_from_db(fields=["timestamp"])
            return step, True
    if all(getattr(existing, name) == value for name, value in wanted.items()):
        return existing, False
    raise Conflict(f"Step {step_number} of this task is already logged with a different body.")
