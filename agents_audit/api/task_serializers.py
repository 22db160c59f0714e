"""Serializers of the agent operations API: projects, tasks, execution logs, timelines and
post-mortem reports."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from agents_audit.models import ExecutionLog, Project, Task
from agents_audit.models.tasks import OUTPUT_SUMMARY_MAX_LENGTH
from devskyy.api.serializers import JSONObjectField, StrictInputSerializer

INT32_MAX = 2**31 - 1
INT64_MAX = 2**63 - 1
# A cost as text: up to 8 digits before the point and 6 after (tasks.external_ai_cost).
COST_PATTERN = r"^[0-9]{1,8}(?:\.[0-9]{1,6})?$"
_COST = re.compile(COST_PATTERN)


# --- projects --------------------------------------------------------------------------------


class ProjectSerializer(serializers.ModelSerializer[Project]):
    """A project: a named body of work that tasks belong to. `version` is its ETag."""

    class Meta:
        model = Project
        fields = ["id", "name", "description", "version", "created_at", "updated_at"]
        read_only_fields = fields


class ProjectInputSerializer(StrictInputSerializer):
    """A new project."""

    name = serializers.CharField(max_length=255)
    description = serializers.CharField(required=False, allow_blank=True, default="")


class ProjectUpdateSerializer(StrictInputSerializer):
    """The project fields to change (send only those)."""

    name = serializers.CharField(max_length=255, required=False)
    description = serializers.CharField(required=False, allow_blank=True)


# --- tasks -----------------------------------------------------------------------------------


class TaskSerializer(serializers.ModelSerializer[Task]):
    """A task: a request to the agents, from the operator's decision to its outcome.
    `pending → approved → executing → completed | failed`, or `pending → rejected`. `version`
    is its ETag."""

    project = serializers.UUIDField(source="project_id", read_only=True, allow_null=True)
    created_by = serializers.UUIDField(source="created_by_id", read_only=True, allow_null=True)
    approved_by = serializers.UUIDField(source="approved_by_id", read_only=True, allow_null=True)

    class Meta:
        model = Task
        fields = [
            "id",
            "project",
            "request_text",
            "thread_id",
            "status",
            "created_by",
            "approved_at",
            "approved_by",
            "completed_at",
            "rejection_reason",
            "estimated_resources",
            "actual_resources",
            "external_ai_model",
            "external_ai_tokens",
            "external_ai_cost",
            "error_message",
            "version",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class TaskCreateSerializer(StrictInputSerializer):
    """A new task, `pending` until an operator approves or rejects it."""

    request_text = serializers.CharField(help_text="What the agents are asked to do.")
    project = serializers.UUIDField(
        required=False, allow_null=True, help_text="The project's id (optional)."
    )
    thread_id = serializers.CharField(
        max_length=255,
        required=False,
        trim_whitespace=False,  # the id as LangGraph has it: its thread is linked by equality
        help_text="Your agent framework's thread, unique across tasks; a fresh one is made "
        "when absent.",
    )
    estimated_resources = JSONObjectField(
        required=False, allow_null=True, help_text="What you expect the task to use."
    )


class TaskUpdateSerializer(StrictInputSerializer):
    """The task's editable fields. `request_text` and `estimated_resources` change only while
    the task is pending (what the operator approves); `project` changes any time."""

    project = serializers.UUIDField(allow_null=True, help_text="The project's id, or null.")
    request_text = serializers.CharField()
    estimated_resources = JSONObjectField(allow_null=True)


class TaskRejectSerializer(StrictInputSerializer):
    """Why the task is rejected (kept on the task and in its event)."""

    reason = serializers.CharField(max_length=2000)


@extend_schema_field(
    {
        "type": "string",
        "pattern": COST_PATTERN,
        "example": "0.036",
        "description": "A decimal string, at most 8 digits before the point and 6 after.",
    }
)
class CostField(serializers.DecimalField):
    """Money in, as a decimal string in plain notation (``"0.036"``): exact, unlike a float."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(max_digits=14, decimal_places=6, min_value=Decimal(0), **kwargs)

    def to_internal_value(self, data: Any) -> Decimal:
        if not isinstance(data, str) or not _COST.fullmatch(data):
            self.fail("invalid")
        value: Decimal = super().to_internal_value(data)
        return value


class TaskCompleteSerializer(StrictInputSerializer):
    """How the task went: what it used, and the external AI model it called (tokens and cost
    need a model; no model, no usage)."""

    actual_resources = JSONObjectField(required=False, allow_null=True, default=None)
    external_ai_model = serializers.CharField(
        max_length=100, required=False, allow_blank=True, default=""
    )
    external_ai_tokens = serializers.IntegerField(
        min_value=0, max_value=INT64_MAX, required=False, default=0
    )
    external_ai_cost = CostField(required=False, default=Decimal(0))

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if not attrs["external_ai_model"] and (
            attrs["external_ai_tokens"] or attrs["external_ai_cost"]
        ):
            raise serializers.ValidationError(
                {
                    "external_ai_model": [
                        serializers.ErrorDetail("Name the model that used the tokens.", "required")
                    ]
                }
            )
        return attrs


class TaskFailSerializer(StrictInputSerializer):
    """Why the task failed (a post-mortem starts here), and what it used."""

    error_message = serializers.CharField()
    actual_resources = JSONObjectField(required=False, allow_null=True, default=None)


# --- execution logs and the timeline ---------------------------------------------------------


class ExecutionLogInputSerializer(StrictInputSerializer):
    """One step of the task's execution. Steps are numbered from 1, uniquely per task."""

    step_number = serializers.IntegerField(min_value=1, max_value=INT32_MAX)
    agent_type = serializers.ChoiceField(choices=ExecutionLog.AgentType.choices)
    action = serializers.CharField(trim_whitespace=False)
    status = serializers.ChoiceField(
        choices=ExecutionLog.Status.choices, required=False, default=ExecutionLog.Status.RUNNING
    )
    input = JSONObjectField(required=False, default=dict)
    output_summary = serializers.CharField(
        max_length=OUTPUT_SUMMARY_MAX_LENGTH,
        required=False,
        allow_blank=True,
        trim_whitespace=False,
        default="",
    )
    output_full = serializers.JSONField(required=False, allow_null=True, default=None)
    duration_ms = serializers.IntegerField(
        min_value=0, max_value=INT32_MAX, required=False, allow_null=True, default=None
    )


class ExecutionLogSerializer(serializers.ModelSerializer[ExecutionLog]):
    """A logged step of a task."""

    task = serializers.UUIDField(source="task_id", read_only=True)

    class Meta:
        model = ExecutionLog
        fields = [
            "id",
            "task",
            "step_number",
            "agent_type",
            "action",
            "status",
            "input",
            "output_summary",
            "output_full",
            "timestamp",
            "duration_ms",
        ]
        read_only_fields = fields


class TimelineStepSerializer(serializers.ModelSerializer[ExecutionLog]):
    """A step in the timeline: `elapsed_ms` is the sum of the durations up to and including
    it (a step still running adds nothing)."""

    elapsed_ms = serializers.IntegerField(read_only=True)

    class Meta:
        model = ExecutionLog
        fields = [
            "step_number",
            "agent_type",
            "action",
            "status",
            "output_summary",
            "timestamp",
            "duration_ms",
            "elapsed_ms",
        ]
        read_only_fields = fields


class TimelineTaskSerializer(serializers.Serializer):
    """The task's summary: its status, when its steps started (the first step's time), when it
    ended, and the total of its steps' durations."""

    id = serializers.UUIDField()
    status = serializers.ChoiceField(choices=Task.Status.choices)
    approved_at = serializers.DateTimeField(allow_null=True)
    started_at = serializers.DateTimeField(allow_null=True)
    completed_at = serializers.DateTimeField(allow_null=True)
    steps = serializers.IntegerField()
    total_duration_ms = serializers.IntegerField()


class TimelineCheckpointSerializer(serializers.Serializer):
    """A LangGraph checkpoint of the task's thread (`step` and `source` from its metadata;
    `interrupted`: the graph waits there at an `interrupt()`)."""

    checkpoint_id = serializers.CharField()
    checkpoint_ns = serializers.CharField(allow_blank=True)
    parent_checkpoint_id = serializers.CharField(allow_null=True)
    step = serializers.JSONField(allow_null=True)
    # DRF takes declared fields out of the class; the name only shadows Field.source for mypy.
    source = serializers.CharField(allow_null=True)  # type: ignore[assignment]
    pending_writes = serializers.IntegerField(source="writes")
    interrupted = serializers.BooleanField()
    created_at = serializers.DateTimeField()


class TimelineSerializer(serializers.Serializer):
    """A task's execution timeline: its summary, its steps in order, and the checkpoints its
    LangGraph thread saved (the thread whose id is the task's `thread_id`), oldest first."""

    task = TimelineTaskSerializer()
    steps = TimelineStepSerializer(many=True)
    checkpoints = TimelineCheckpointSerializer(many=True)


# --- reports ---------------------------------------------------------------------------------


class ReportSummarySerializer(serializers.Serializer):
    """A post-mortem report you can run."""

    name = serializers.CharField()
    title = serializers.CharField()
    url = serializers.CharField()
    default_days = serializers.IntegerField(
        allow_null=True, help_text="The window in days when `days` is absent; null: no window."
    )
    takes_task = serializers.BooleanField(help_text="Needs `?task=<task id>`.")
    columns = serializers.ListField(child=serializers.CharField())


class ReportResultSerializer(serializers.Serializer):
    """A report's rows. Each row is an object keyed by `columns`, in that order; decimals
    (costs, rates, seconds) are strings, times ISO 8601 in UTC, ids text."""

    report = serializers.CharField()
    title = serializers.CharField()
    days = serializers.IntegerField(allow_null=True, help_text="The window used; null: none.")
    columns = serializers.ListField(child=serializers.CharField())
    rows = serializers.ListField(child=serializers.DictField())
