"""The job queue's table (seed 003 ``jobs``): units of work for agent workers, claimed with
``SELECT ... FOR UPDATE SKIP LOCKED`` under a lease. The queue's services (enqueue, claim,
heartbeat, complete, fail, recover, prune) are the rest of issue 8; this is their schema."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from agents_audit.models.tasks import Task
from devskyy.models import DatabaseNow, JSONField, metadata_field


class JobStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed, waiting for a retry"
    DEAD = "dead", "Dead (retries exhausted)"
    CANCELLED = "cancelled", "Cancelled"


# A job in one of these states may still run: its dedupe key is taken.
LIVE_STATES = (JobStatus.QUEUED, JobStatus.RUNNING, JobStatus.FAILED)
# What a claim picks from (once run_after has passed).
RUNNABLE_STATES = (JobStatus.QUEUED, JobStatus.FAILED)
FINISHED_STATES = (JobStatus.SUCCEEDED, JobStatus.DEAD, JobStatus.CANCELLED)


class Job(models.Model):
    """One unit of work of a task, run by an agent worker.

    ``queued`` (or ``failed``, waiting for its retry) jobs whose ``run_after`` has passed are
    runnable; a claim makes one ``running`` with a ``worker_id``, a fresh ``lease_token`` and a
    ``lease_expires_at``, and counts it in ``attempts``. It ends ``succeeded``, ``failed`` (to be
    retried after ``run_after``) or ``dead`` once ``attempts`` passed ``max_retries``; operators
    may cancel it. ``lease_token`` fences a worker whose lease was taken over: its writes name a
    token that is no longer the job's.

    Indexes serve the claim only over runnable jobs (and the recovery of expired leases only over
    running ones), so a million finished jobs do not slow a claim. ``dedupe_key`` (blank: none)
    is unique per task and ``job_type`` among live jobs (keys are a task's own: another task's
    job neither answers nor blocks). Jobs are part of their task (ON DELETE CASCADE in
    the database, migration 0009).
    """

    Status = JobStatus

    id = models.BigAutoField(primary_key=True)
    created_at = models.DateTimeField(db_default=DatabaseNow(), editable=False)
    updated_at = models.DateTimeField(db_default=DatabaseNow(), editable=False)
    task = models.ForeignKey(
        Task,
        on_delete=models.DO_NOTHING,
        related_name="jobs",
        db_index=False,  # jobs_task_idx leads with task_id
    )
    job_type = models.CharField(max_length=100)
    priority = models.SmallIntegerField(default=0, db_default=0, help_text="Higher runs first.")
    status = models.CharField(
        max_length=20,
        choices=JobStatus.choices,
        default=JobStatus.QUEUED,
        db_default=JobStatus.QUEUED,
    )
    payload = metadata_field()
    result = JSONField(null=True, blank=True)
    worker_id = models.CharField(max_length=255, blank=True, default="", db_default="")
    lease_token = models.UUIDField(null=True, blank=True)
    lease_expires_at = models.DateTimeField(null=True, blank=True)
    attempts = models.IntegerField(default=0, db_default=0)
    max_retries = models.IntegerField(default=3, db_default=3)
    run_after = models.DateTimeField(db_default=DatabaseNow())
    last_error = models.TextField(blank=True, default="", db_default="")
    dedupe_key = models.CharField(max_length=255, blank=True, default="", db_default="")
    finished_at = models.DateTimeField(null=True, blank=True)
    retry_backoff_seconds = models.IntegerField(
        default=10,
        db_default=10,
        help_text="The base of the exponential backoff between retries, in seconds.",
    )

    class Meta:
        db_table = "jobs"
        ordering = ["-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=JobStatus.values), name="jobs_status_valid"
            ),
            models.CheckConstraint(condition=Q(attempts__gte=0), name="jobs_attempts_not_negative"),
            models.CheckConstraint(
                condition=Q(max_retries__gte=0), name="jobs_max_retries_not_negative"
            ),
            models.CheckConstraint(condition=~Q(job_type=""), name="jobs_job_type_not_blank"),
            models.CheckConstraint(
                condition=Q(retry_backoff_seconds__gte=1, retry_backoff_seconds__lte=86400),
                name="jobs_retry_backoff_seconds_range",
            ),
            models.CheckConstraint(
                condition=~Q(status=JobStatus.RUNNING)
                | (~Q(worker_id="") & Q(lease_token__isnull=False, lease_expires_at__isnull=False)),
                name="jobs_running_has_a_lease",
            ),
            models.CheckConstraint(
                condition=~Q(status__in=FINISHED_STATES) | Q(finished_at__isnull=False),
                name="jobs_finished_states_have_finished_at",
            ),
            models.UniqueConstraint(
                fields=["task", "job_type", "dedupe_key"],
                condition=Q(status__in=LIVE_STATES) & ~Q(dedupe_key=""),
                name="jobs_live_task_dedupe_key_uniq",
            ),
        ]
        indexes = [
            # The claim: runnable jobs of the given types, highest priority, then oldest.
            models.Index(
                "job_type",
                models.F("priority").desc(),
                "run_after",
                "id",
                name="jobs_runnable_idx",
                condition=Q(status__in=RUNNABLE_STATES),
            ),
            # Recovery of expired leases.
            models.Index(
                fields=["lease_expires_at"],
                name="jobs_running_lease_idx",
                condition=Q(status=JobStatus.RUNNING),
            ),
            models.Index(fields=["task", "id"], name="jobs_task_idx"),
            # The admin: one type's jobs newest first, a search by type, the type filter.
            models.Index(fields=["job_type", "id"], name="jobs_type_idx"),
            # Pruning finished jobs, oldest first.
            models.Index(
                fields=["finished_at"],
                name="jobs_finished_idx",
                condition=Q(status__in=FINISHED_STATES),
            ),
            # The dashboard's recently dead jobs (agents_audit/dashboard.py): a few among
            # millions of finished ones.
            models.Index(
                fields=["finished_at"], name="jobs_dead_idx", condition=Q(status=JobStatus.DEAD)
            ),
        ]

    def __str__(self) -> str:
        return f"{self.job_type} #{self.pk} ({self.status})"


class JobTypePause(models.Model):
    """A paused job type: claims skip its jobs until an operator resumes it (deletes the row).
    Jobs already running go on; enqueueing still works (the jobs wait)."""

    job_type = models.CharField(max_length=100, primary_key=True)
    paused_at = models.DateTimeField(db_default=DatabaseNow(), editable=False)
    paused_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.DO_NOTHING,  # SET NULL in the database (migration 0011)
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        db_table = "job_type_pauses"
        ordering = ["job_type"]

    def __str__(self) -> str:
        return self.job_type
