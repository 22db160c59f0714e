"""agents_audit's domain errors, beside the shared ones in ``devskyy.errors``."""

from __future__ import annotations

from devskyy.errors import Conflict, DomainError, NotFound


class TaskNotPending(DomainError):
    """What an operator approves (the request and its estimate) is frozen once it is decided."""

    code = "task_not_pending"
    default_message = "Only a pending task's request and estimate can change."


class TaskNotRunning(DomainError):
    """Steps are logged only while a task runs: once approved, until it completes or fails."""

    code = "task_not_running"
    default_message = "Steps are logged only for an approved or executing task."


class TaskNotRunnable(Conflict):
    """Jobs are enqueued only for a task an operator approved and that has not ended."""

    code = "task_not_runnable"
    default_message = "Jobs are enqueued only for an approved or executing task."


class LeaseLost(Conflict):
    """The worker's lease on a job is gone: the job was recovered after the lease expired (and
    maybe claimed by another worker), cancelled, or already ended. The worker must drop the job
    and change nothing."""

    code = "lease_lost"
    default_message = "This job is no longer yours: its lease was taken over or it has ended."


class DuplicateJob(Conflict):
    """Another live job of the same type already holds this job's dedupe key."""

    code = "duplicate_job"
    default_message = "Another live job of this type holds the same dedupe key."


class ProjectHasTasks(DomainError):
    """A project is deleted with its tasks only when an operator asks for the cascade."""

    code = "project_has_tasks"

    def __init__(self, *, tasks: int) -> None:
        super().__init__(
            f"The project still has {tasks} task(s); an operator may delete them with it (cascade)."
        )
        self.tasks = tasks

    def extra(self) -> dict[str, int]:
        return {"tasks": self.tasks}


class ThreadNotFound(NotFound):
    """A checkpoint thread that does not exist, or that the caller may not see (another agent's
    thread, or the thread of another user's task): the same answer, so nothing leaks."""

    default_message = "No such thread."


class PruneUnsupported(DomainError):
    """``keep_latest`` would cut a DeltaChannel's history (its values are rebuilt from the writes
    of earlier checkpoints), so such threads are refused, as the official saver refuses them."""

    code = "prune_unsupported"

    def __init__(self, *, thread_ids: list[str]) -> None:
        super().__init__(
            "keep_latest cannot prune threads whose graphs use a DeltaChannel: "
            + ", ".join(thread_ids)
        )
        self.thread_ids = thread_ids

    def extra(self) -> dict[str, list[str]]:
        return {"thread_ids": self.thread_ids}
