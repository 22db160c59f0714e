"""agents_audit's domain errors, beside the shared ones in ``devskyy.errors``."""

from __future__ import annotations

from devskyy.errors import DomainError


class TaskNotPending(DomainError):
    """What an operator approves (the request and its estimate) is frozen once it is decided."""

    code = "task_not_pending"
    default_message = "Only a pending task's request and estimate can change."


class TaskNotRunning(DomainError):
    """Steps are logged only while a task runs: once approved, until it completes or fails."""

    code = "task_not_running"
    default_message = "Steps are logged only for an approved or executing task."
