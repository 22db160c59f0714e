"""The event trail (seed 003 ``events``): who did what to which record, when, with the old and new
values. Append-only, enforced by the database."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from devskyy.models import DatabaseNow, metadata_field


class EventSubject(models.TextChoices):
    PROJECT = "project", "Project"
    TASK = "task", "Task"
    JOB = "job", "Job"
    ORDER = "order", "Order"
    JOB_TYPE = "job_type", "Job type"


class EventType(models.TextChoices):
    PROJECT_CREATED = "project_created", "Project created"
    PROJECT_UPDATED = "project_updated", "Project updated"
    PROJECT_DELETED = "project_deleted", "Project deleted"
    TASK_CREATED = "task_created", "Task created"
    TASK_UPDATED = "task_updated", "Task updated"
    TASK_APPROVED = "task_approved", "Task approved"
    TASK_REJECTED = "task_rejected", "Task rejected"
    TASK_STARTED = "task_started", "Task started"
    TASK_COMPLETED = "task_completed", "Task completed"
    TASK_FAILED = "task_failed", "Task failed"
    JOB_ENQUEUED = "job_enqueued", "Job enqueued"
    JOB_CLAIMED = "job_claimed", "Job claimed by a worker"
    JOB_SUCCEEDED = "job_succeeded", "Job succeeded"
    JOB_FAILED = "job_failed", "Job failed, retry scheduled"
    JOB_DEAD = "job_dead", "Job dead (retries exhausted or not retryable)"
    JOB_LEASE_EXPIRED = "job_lease_expired", "Job's lease expired, recovered"
    JOB_CANCELLED = "job_cancelled", "Job cancelled"
    JOB_RETRIED = "job_retried", "Job retried by an operator"
    JOB_TYPE_PAUSED = "job_type_paused", "Job type paused"
    JOB_TYPE_RESUMED = "job_type_resumed", "Job type resumed"


class Event(models.Model):
    """One thing that happened to one record. Written only by ``agents_audit.events`` (one
    function per event type), in the transaction of the change it records.

    The subject is generic, ``(subject_type, subject_id)``, not a foreign key per kind: the trail
    must outlive what it talks about (a deleted task's events still name it; a foreign key would
    null them out or refuse the delete), one table and one index serve tasks, jobs, orders and
    projects alike, and a new kind of subject needs no new column. ``subject_id`` is the subject's
    primary key as text.

    The actor is the user who acted (ON DELETE SET NULL in the database: the trail outlives the
    account) and, for API calls, the prefix of the API key used (the key's public part; kept
    after the key is revoked or deleted). ``payload`` holds what changed, as ``{"old": {...},
    "new": {...}}`` plus any detail (a rejection's reason).

    Append-only: a trigger (migration 0007) refuses UPDATE and DELETE, whoever connects, except
    the database's own SET NULL of ``actor_id``.
    """

    Subject = EventSubject
    Type = EventType

    id = models.BigAutoField(primary_key=True)
    created_at = models.DateTimeField(db_default=DatabaseNow(), editable=False)
    subject_type = models.CharField(max_length=20, choices=EventSubject.choices)
    subject_id = models.CharField(max_length=64)
    event_type = models.CharField(max_length=50, choices=EventType.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.DO_NOTHING,  # SET NULL in the database (migration 0007)
        null=True,
        blank=True,
        related_name="+",
    )
    api_key_prefix = models.CharField(max_length=8, blank=True, default="", db_default="")
    correlation_id = models.CharField(max_length=64, blank=True, default="", db_default="")
    payload = metadata_field()

    class Meta:
        db_table = "events"
        ordering = ["-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(subject_type__in=EventSubject.values), name="events_subject_type_valid"
            ),
            models.CheckConstraint(
                condition=Q(event_type__in=EventType.values), name="events_event_type_valid"
            ),
            models.CheckConstraint(condition=~Q(subject_id=""), name="events_subject_id_not_blank"),
        ]
        indexes = [
            # A subject's events, newest first: an index scan that stops after a page.
            models.Index(
                "subject_type", "subject_id", models.F("id").desc(), name="events_subject_idx"
            ),
            models.Index(fields=["created_at"], name="events_created_idx"),
            # The admin: one type's events newest first (rare types too), an exact search by
            # type or by subject id whatever the subject's type.
            models.Index("event_type", models.F("id").desc(), name="events_type_idx"),
            models.Index(fields=["subject_id"], name="events_subject_id_idx"),
            models.Index(
                fields=["correlation_id"],
                name="events_correlation_idx",
                condition=~Q(correlation_id=""),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.event_type} {self.subject_type} {self.subject_id}"
