"""What AI agents did: seed 001's ``llm_round_table_results``, ``agent_executions`` and
``tool_executions``. These are audit tables: rows are written once by services and never edited
through the admin."""

from __future__ import annotations

from typing import ClassVar

from django.conf import settings
from django.db import models
from django.db.models import Q

from devskyy.models import CreatedAtModel, JSONField, metadata_field


class AgentExecutionStatus(models.TextChoices):
    RUNNING = "running", "Running"
    COMPLETED = "completed", "Completed"
    FAILED = "failed", "Failed"


class ToolExecutionStatus(models.TextChoices):
    SUCCESS = "success", "Success"
    FAILED = "failed", "Failed"
    TIMEOUT = "timeout", "Timeout"


class TaskCategory(models.TextChoices):
    """The seed's task categories: the documented examples of ``task_category`` (the API's
    schema offers them as examples). Not enforced: agents may bring new ones."""

    REASONING = "reasoning", "Reasoning"
    CREATIVE = "creative", "Creative"
    CLASSIFICATION = "classification", "Classification"
    QA = "qa", "Question answering"
    CODE = "code", "Code"


# The lowest "slow calls" threshold of the admin's filters (ms): the partial indexes over slow
# rows hold the calls at least this long, and serve every higher threshold too.
SLOW_MS = 1000


class LLMRoundTableResult(CreatedAtModel):
    """One multi-LLM competition: every participant's answer and the winner."""

    result_id = models.CharField(max_length=100)
    prompt = models.TextField()
    task_category = models.CharField(max_length=100, null=True, blank=True)  # noqa: DJ001
    winner_provider = models.CharField(max_length=50, null=True, blank=True)  # noqa: DJ001
    winner_response = models.TextField(null=True, blank=True)  # noqa: DJ001 (seed: NULL)
    participants = JSONField()
    metadata = metadata_field()
    # Who recorded it (the agent's user); not in the seed, added for API scoping. NULL for rows
    # written outside the API. ON DELETE SET NULL in the database (migration 0004).
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.DO_NOTHING,
        null=True,
        blank=True,
        related_name="round_table_results",
        db_index=False,
    )

    class Meta:
        db_table = "llm_round_table_results"
        verbose_name = "LLM round-table result"
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["result_id"], name="llm_round_table_results_result_id_key"
            ),
        ]
        indexes = [
            models.Index(fields=["task_category"], name="llm_rt_task_category_idx"),
            models.Index(fields=["created_at"], name="llm_rt_created_idx"),
            models.Index(fields=["user", "created_at"], name="llm_rt_user_created_idx"),
            # The admin's exact search by provider, newest first.
            models.Index(
                fields=["winner_provider", "created_at"], name="llm_rt_winner_created_idx"
            ),
        ]

    def __str__(self) -> str:
        return self.result_id


class AgentExecution(CreatedAtModel):
    """One run of a SuperAgent: started ``running``, ended ``completed`` or ``failed``."""

    Status = AgentExecutionStatus

    execution_id = models.CharField(max_length=100)
    agent_name = models.CharField(max_length=100)
    prompt = models.TextField()
    status = models.CharField(
        max_length=50,
        choices=AgentExecutionStatus.choices,
        default=AgentExecutionStatus.RUNNING,
        db_default=AgentExecutionStatus.RUNNING,
    )
    result = JSONField(null=True, blank=True)
    tokens_used = models.IntegerField(null=True, blank=True)
    duration_ms = models.IntegerField(null=True, blank=True)
    metadata = metadata_field()
    # Who started it (the agent's user); not in the seed, added for API scoping. NULL for rows
    # written outside the API. ON DELETE SET NULL in the database (migration 0004).
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.DO_NOTHING,
        null=True,
        blank=True,
        related_name="agent_executions",
        db_index=False,
    )

    class Meta:
        db_table = "agent_executions"
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["execution_id"], name="agent_executions_execution_id_key"
            ),
            models.CheckConstraint(
                condition=Q(status__in=AgentExecutionStatus.values),
                name="agent_executions_status_valid",
            ),
            models.CheckConstraint(
                condition=Q(tokens_used__gte=0), name="agent_executions_tokens_used_not_negative"
            ),
            models.CheckConstraint(
                condition=Q(duration_ms__gte=0), name="agent_executions_duration_ms_not_negative"
            ),
        ]
        # Each filter leads an index that ends with created_at, the keyset order.
        indexes = [
            models.Index(fields=["agent_name", "created_at"], name="agent_exec_agent_created_idx"),
            models.Index(fields=["status", "created_at"], name="agent_exec_status_created_idx"),
            models.Index(fields=["created_at"], name="agent_exec_created_idx"),
            models.Index(fields=["user", "created_at"], name="agent_exec_user_created_idx"),
            # The admin's "slow calls" filter: only the slow rows, newest first.
            models.Index(
                fields=["created_at"],
                name="agent_exec_slow_idx",
                condition=Q(duration_ms__gte=SLOW_MS),
            ),
        ]

    # The state machine: a running execution ends once, as completed or failed.
    TRANSITIONS: ClassVar[dict[str, frozenset[str]]] = {
        AgentExecutionStatus.RUNNING: frozenset(
            {AgentExecutionStatus.COMPLETED, AgentExecutionStatus.FAILED}
        ),
        AgentExecutionStatus.COMPLETED: frozenset(),
        AgentExecutionStatus.FAILED: frozenset(),
    }

    def __str__(self) -> str:
        return self.execution_id

    def can_transition_to(self, status: str) -> bool:
        return status in self.TRANSITIONS.get(self.status, frozenset())


class ToolExecution(CreatedAtModel):
    """One tool call, traced by ``correlation_id`` across agents and services."""

    Status = ToolExecutionStatus

    correlation_id = models.CharField(max_length=64)
    tool_name = models.CharField(max_length=128)
    agent_id = models.CharField(max_length=100, null=True, blank=True)  # noqa: DJ001 (seed: NULL)
    # ON DELETE SET NULL in the database (migration 0002): audit rows outlive a deleted user.
    # Indexed together with the keyset order (tool_exec_user_created_idx), for agents' lists.
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.DO_NOTHING,
        null=True,
        blank=True,
        related_name="tool_executions",
        db_index=False,
    )
    inputs = JSONField()
    output = JSONField(null=True, blank=True)
    status = models.CharField(max_length=50, choices=ToolExecutionStatus.choices)
    duration_ms = models.IntegerField(null=True, blank=True)
    error_message = models.TextField(null=True, blank=True)  # noqa: DJ001 (seed: NULL)
    metadata = metadata_field()

    class Meta:
        db_table = "tool_executions"
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=ToolExecutionStatus.values),
                name="tool_executions_status_valid",
            ),
            models.CheckConstraint(
                condition=Q(duration_ms__gte=0), name="tool_executions_duration_ms_not_negative"
            ),
        ]
        # Each API filter leads an index that ends with created_at, the keyset order, so a
        # filtered page is an index range scan that stops after page_size + 1 rows (ties on
        # created_at, a bulk batch's, are ordered by id with an incremental sort). id is left out
        # of the keys on purpose: random UUIDs would scatter each batch's inserts across the
        # index, which cost a quarter of bulk throughput. The seed's single-column indexes on
        # correlation_id, tool_name and status are these composites' leading columns; no `_like`
        # indexes (no LIKE filters here).
        indexes = [
            models.Index(
                fields=["correlation_id", "created_at"], name="tool_exec_corr_created_idx"
            ),
            models.Index(
                fields=["tool_name", "status", "created_at"], name="tool_exec_tool_status_idx"
            ),
            models.Index(fields=["status", "created_at"], name="tool_exec_status_created_idx"),
            models.Index(fields=["agent_id", "created_at"], name="tool_exec_agent_id_idx"),
            models.Index(fields=["user", "created_at"], name="tool_exec_user_created_idx"),
            models.Index(fields=["created_at"], name="tool_exec_created_idx"),
            # The admin: one tool's calls newest first (the composite above has status between),
            # and the "slow calls" filter over only the slow rows.
            models.Index(fields=["tool_name", "created_at"], name="tool_exec_tool_created_idx"),
            models.Index(
                fields=["created_at"],
                name="tool_exec_slow_idx",
                condition=Q(duration_ms__gte=SLOW_MS),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.tool_name} {self.correlation_id}"
