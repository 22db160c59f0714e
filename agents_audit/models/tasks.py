"""Agent operations (seed 004 ``tasks`` and ``execution_logs``, which are seed 003's decision sets
and agent runs) and the artifacts a task produced (seed 003 ``artifacts``)."""

from __future__ import annotations

from decimal import Decimal
from typing import ClassVar

from django.conf import settings
from django.contrib.postgres.indexes import GinIndex, OpClass
from django.db import models
from django.db.models import Q
from django.db.models.functions import Upper

from agents_audit.models.audit import SLOW_MS
from agents_audit.models.projects import Project
from devskyy.models import (
    CreatedAtModel,
    DatabaseNow,
    JSONField,
    TimestampedModel,
    UUIDPrimaryKeyModel,
    metadata_field,
)


class TaskStatus(models.TextChoices):
    PENDING = "pending", "Pending approval"
    APPROVED = "approved", "Approved"
    EXECUTING = "executing", "Executing"
    COMPLETED = "completed", "Completed"
    FAILED = "failed", "Failed"
    REJECTED = "rejected", "Rejected"


# The states a task reaches only through an operator's approval.
APPROVED_STATES = (
    TaskStatus.APPROVED,
    TaskStatus.EXECUTING,
    TaskStatus.COMPLETED,
    TaskStatus.FAILED,
)
FINISHED_STATES = (TaskStatus.COMPLETED, TaskStatus.FAILED)


class Task(TimestampedModel):
    """One request to the agents, from its approval to its outcome (seed 004 ``tasks``).

    ``pending -> approved -> executing -> completed | failed``, or ``pending -> rejected``; the
    services in ``agents_audit.services.tasks`` make every move (under the row's lock) and record
    it as an ``Event``. ``version`` numbers the record for optimistic locking: every write adds
    one (``task_update`` refuses to write over a version its caller did not read).

    External AI use (seed 004's ``external_ai_used``: model, tokens, cost) is three real columns,
    so that tokens and cost sum in SQL: seed 004 records one model per task (its "total AI cost
    per model" query groups tasks by that model). ``external_ai_model`` is blank for a task that
    used none, and then tokens and cost are zero (a CHECK holds them so).
    """

    Status = TaskStatus

    project = models.ForeignKey(
        Project,
        on_delete=models.PROTECT,  # the database's NO ACTION refuses a raw SQL delete too
        null=True,
        blank=True,
        related_name="tasks",
        db_index=False,  # tasks_project_created_idx leads with project_id
    )
    request_text = models.TextField()
    # ON DELETE SET NULL in the database (migration 0007): a task outlives its author's account.
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.DO_NOTHING,
        null=True,
        blank=True,
        related_name="created_tasks",
    )
    thread_id = models.CharField(max_length=255, help_text="The agent framework's thread.")
    status = models.CharField(
        max_length=20,
        choices=TaskStatus.choices,
        default=TaskStatus.PENDING,
        db_default=TaskStatus.PENDING,
    )
    approved_at = models.DateTimeField(null=True, blank=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.DO_NOTHING,  # SET NULL in the database (migration 0007)
        null=True,
        blank=True,
        related_name="approved_tasks",
    )
    completed_at = models.DateTimeField(null=True, blank=True)
    rejection_reason = models.TextField(blank=True, default="", db_default="")
    estimated_resources = JSONField(null=True, blank=True)
    actual_resources = JSONField(null=True, blank=True)
    external_ai_model = models.CharField(max_length=100, blank=True, default="", db_default="")
    external_ai_tokens = models.BigIntegerField(default=0, db_default=0)
    external_ai_cost = models.DecimalField(
        max_digits=14, decimal_places=6, default=Decimal(0), db_default=Decimal(0)
    )
    error_message = models.TextField(blank=True, default="", db_default="")
    version = models.IntegerField(default=1, db_default=1)

    class Meta:
        db_table = "tasks"
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["thread_id"], name="tasks_thread_id_key"),
            models.CheckConstraint(
                condition=Q(status__in=TaskStatus.values), name="tasks_status_valid"
            ),
            models.CheckConstraint(condition=Q(version__gte=1), name="tasks_version_positive"),
            models.CheckConstraint(
                condition=Q(external_ai_tokens__gte=0), name="tasks_external_ai_tokens_not_negative"
            ),
            models.CheckConstraint(
                condition=Q(external_ai_cost__gte=0), name="tasks_external_ai_cost_not_negative"
            ),
            models.CheckConstraint(
                condition=~Q(external_ai_model="")
                | Q(external_ai_tokens=0, external_ai_cost=Decimal(0)),
                name="tasks_external_ai_usage_has_model",
            ),
            models.CheckConstraint(
                condition=~Q(status__in=APPROVED_STATES) | Q(approved_at__isnull=False),
                name="tasks_approved_states_have_approved_at",
            ),
            models.CheckConstraint(
                condition=~Q(status__in=FINISHED_STATES) | Q(completed_at__isnull=False),
                name="tasks_finished_states_have_completed_at",
            ),
        ]
        indexes = [
            models.Index(fields=["created_at"], name="tasks_created_idx"),
            models.Index(fields=["status", "created_at"], name="tasks_status_created_idx"),
            models.Index(fields=["project", "created_at"], name="tasks_project_created_idx"),
            models.Index(
                fields=["external_ai_model"],
                name="tasks_external_ai_model_idx",
                condition=~Q(external_ai_model=""),
            ),
            # The external-ai report's order (most expensive first), read up to its row limit.
            models.Index(
                fields=["-external_ai_cost", "-created_at", "id"],
                name="tasks_external_ai_cost_idx",
                condition=~Q(external_ai_model=""),
            ),
            # The admin's word search (UPPER(...) LIKE, as icontains writes it).
            GinIndex(
                OpClass(Upper("request_text"), name="gin_trgm_ops"), name="tasks_request_text_trgm"
            ),
        ]

    TRANSITIONS: ClassVar[dict[str, frozenset[str]]] = {
        TaskStatus.PENDING: frozenset({TaskStatus.APPROVED, TaskStatus.REJECTED}),
        TaskStatus.APPROVED: frozenset({TaskStatus.EXECUTING}),
        TaskStatus.EXECUTING: frozenset({TaskStatus.COMPLETED, TaskStatus.FAILED}),
        TaskStatus.COMPLETED: frozenset(),
        TaskStatus.FAILED: frozenset(),
        TaskStatus.REJECTED: frozenset(),
    }

    def __str__(self) -> str:
        text = " ".join(self.request_text.split())
        return text if len(text) <= 60 else f"{text[:59]}…"

    def can_transition_to(self, status: str) -> bool:
        return status in self.TRANSITIONS.get(self.status, frozenset())


class AgentType(models.TextChoices):
    ORCHESTRATOR = "orchestrator", "Orchestrator"
    INFRA = "infra", "Infrastructure"
    DESKTOP = "desktop", "Desktop"
    CODE = "code", "Code"
    RESEARCH = "research", "Research"


class ExecutionLogStatus(models.TextChoices):
    RUNNING = "running", "Running"
    COMPLETED = "completed", "Completed"
    FAILED = "failed", "Failed"


OUTPUT_SUMMARY_MAX_LENGTH = 500


class ExecutionLog(UUIDPrimaryKeyModel):
    """One step an agent took for a task (seed 004 ``execution_logs``; seed 003's agent run).

    Steps are numbered from 1, uniquely per task. They are part of their task: ON DELETE CASCADE
    in the database (migration 0007), so the ORM and a raw SQL delete of a task both take them.
    """

    AgentType = AgentType
    Status = ExecutionLogStatus

    task = models.ForeignKey(
        Task,
        on_delete=models.DO_NOTHING,
        related_name="execution_logs",
        db_index=False,  # execution_logs_task_step_key leads with task_id
    )
    step_number = models.IntegerField()
    agent_type = models.CharField(max_length=20, choices=AgentType.choices)
    action = models.TextField()
    status = models.CharField(
        max_length=20,
        choices=ExecutionLogStatus.choices,
        default=ExecutionLogStatus.RUNNING,
        db_default=ExecutionLogStatus.RUNNING,
    )
    input = metadata_field()
    output_summary = models.CharField(
        max_length=OUTPUT_SUMMARY_MAX_LENGTH, blank=True, default="", db_default=""
    )
    output_full = JSONField(null=True, blank=True)
    timestamp = models.DateTimeField(db_default=DatabaseNow(), editable=False)
    duration_ms = models.IntegerField(null=True, blank=True)

    class Meta:
        db_table = "execution_logs"
        ordering = ["task", "step_number"]
        constraints = [
            models.UniqueConstraint(
                fields=["task", "step_number"], name="execution_logs_task_step_key"
            ),
            models.CheckConstraint(
                condition=Q(step_number__gte=1), name="execution_logs_step_number_positive"
            ),
            models.CheckConstraint(
                condition=Q(agent_type__in=AgentType.values),
                name="execution_logs_agent_type_valid",
            ),
            models.CheckConstraint(
                condition=Q(status__in=ExecutionLogStatus.values),
                name="execution_logs_status_valid",
            ),
            models.CheckConstraint(
                condition=Q(duration_ms__gte=0), name="execution_logs_duration_ms_not_negative"
            ),
        ]
        indexes = [
            models.Index(fields=["timestamp"], name="execution_logs_timestamp_idx"),
            models.Index(fields=["agent_type", "timestamp"], name="execution_logs_agent_time_idx"),
            models.Index(fields=["status", "timestamp"], name="execution_logs_status_time_idx"),
            # The admin: slow steps, newest first; its word search on the action.
            models.Index(
                fields=["timestamp"],
                name="execution_logs_slow_idx",
                condition=Q(duration_ms__gte=SLOW_MS),
            ),
            GinIndex(
                OpClass(Upper("action"), name="gin_trgm_ops"), name="execution_logs_action_trgm"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.action[:60]} (step {self.step_number}, {self.agent_type})"


SHA256_HEX = r"^[0-9a-f]{64}$"


class Artifact(CreatedAtModel):
    """Metadata of a file a task produced (seed 003 ``artifacts``): where it is stored, its size,
    type and SHA-256 (lower-case hex). No file storage here: ``storage_key`` names the object in
    whatever store holds it (an S3 key). Part of its task: ON DELETE CASCADE in the database
    (migration 0007); deleting the stored objects is the storage's business."""

    task = models.ForeignKey(
        Task,
        on_delete=models.DO_NOTHING,
        related_name="artifacts",
        db_index=False,  # artifacts_task_created_idx leads with task_id
    )
    storage_key = models.CharField(max_length=1024)
    size_bytes = models.BigIntegerField()
    content_type = models.CharField(max_length=255)
    sha256 = models.CharField("SHA-256", max_length=64)

    class Meta:
        db_table = "artifacts"
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["storage_key"], name="artifacts_storage_key_key"),
            models.CheckConstraint(
                condition=Q(size_bytes__gte=0), name="artifacts_size_bytes_not_negative"
            ),
            models.CheckConstraint(
                condition=Q(sha256__regex=SHA256_HEX), name="artifacts_sha256_hex"
            ),
            models.CheckConstraint(
                condition=~Q(storage_key=""), name="artifacts_storage_key_not_blank"
            ),
        ]
        indexes = [
            models.Index(fields=["task", "created_at"], name="artifacts_task_created_idx"),
            models.Index(fields=["created_at"], name="artifacts_created_idx"),  # the admin's list
        ]

    def __str__(self) -> str:
        return self.storage_key
