from __future__ import annotations

from typing import Any, ClassVar

from rest_framework import serializers

from agents_audit.models import (
    AgentExecution,
    LLMRoundTableResult,
    TaskCategory,
    ToolExecution,
)
from devskyy.api.natural_keys import natural_key_field
from devskyy.api.serializers import (
    FastInputSerializer,
    JSONNumberField,
    JSONObjectField,
    StrictInputSerializer,
    StringsOnlyMixin,
)

INT32_MAX = 2**31 - 1
TASK_CATEGORY_HELP = (
    "The kind of task, free text; the seed's categories are "
    + ", ".join(f"`{value}`" for value in TaskCategory.values)
    + "."
)


# --- tool executions -------------------------------------------------------------------------


class ToolExecutionInputSerializer(FastInputSerializer):
    """One tool call to record: which tool, for which trace, with which inputs, and how it
    went."""

    correlation_id = serializers.CharField(max_length=64)
    tool_name = serializers.CharField(max_length=128)
    agent_id = serializers.CharField(max_length=100, required=False, allow_null=True)
    inputs = JSONObjectField()
    output = serializers.JSONField(required=False, allow_null=True)
    status = serializers.ChoiceField(choices=ToolExecution.Status.choices)
    duration_ms = serializers.IntegerField(
        min_value=0, max_value=INT32_MAX, required=False, allow_null=True
    )
    error_message = serializers.CharField(
        required=False, allow_null=True, allow_blank=True, trim_whitespace=False
    )
    metadata = JSONObjectField(required=False, default=dict)


class ToolExecutionSerializer(serializers.ModelSerializer[ToolExecution]):
    """A recorded tool call. ``user`` is the account whose key recorded it."""

    user = serializers.UUIDField(source="user_id", read_only=True, allow_null=True)

    class Meta:
        model = ToolExecution
        fields = [
            "id",
            "correlation_id",
            "tool_name",
            "agent_id",
            "user",
            "inputs",
            "output",
            "status",
            "duration_ms",
            "error_message",
            "metadata",
            "created_at",
        ]
        read_only_fields = fields


class BulkCreatedSerializer(serializers.Serializer):
    """How many tool executions a bulk request recorded."""

    created = serializers.IntegerField()


# --- agent executions ------------------------------------------------------------------------


class AgentExecutionStartSerializer(StrictInputSerializer):
    """Start an agent execution under an ``execution_id`` you choose."""

    execution_id = natural_key_field()
    agent_name = serializers.CharField(max_length=100)
    prompt = serializers.CharField(trim_whitespace=False)
    metadata = JSONObjectField(required=False, default=dict)


class AgentExecutionEndSerializer(StrictInputSerializer):
    """``complete``'s body. Seed 001's ``complete_execution(result)`` sends only ``result`` and
    reads the counts out of it: when ``tokens_used`` or ``duration_ms`` is absent at the top
    level, a ``result`` object's key of that name is used, under the same rules (its errors are
    keyed ``result.<name>``). A top-level field that is present, even ``null``, wins."""

    COUNTS: ClassVar[tuple[str, ...]] = ("tokens_used", "duration_ms")
    counts_from_result: ClassVar[bool] = True

    result = serializers.JSONField(required=False, allow_null=True, default=None)
    tokens_used = serializers.IntegerField(
        min_value=0,
        max_value=INT32_MAX,
        required=False,
        allow_null=True,
        help_text="Absent: `result.tokens_used`, if `result` has it.",
    )
    duration_ms = serializers.IntegerField(
        min_value=0,
        max_value=INT32_MAX,
        required=False,
        allow_null=True,
        help_text="Absent: `result.duration_ms`, if `result` has it.",
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        result = attrs.get("result")
        if not self.counts_from_result or not isinstance(result, dict):
            return attrs
        errors: dict[str, Any] = {}
        for name in self.COUNTS:
            if name in attrs or name not in result:
                continue
            wrong_type = self._non_integer_errors({name: result[name]})
            if wrong_type:  # JSON integers only, as at the top level
                errors[name] = wrong_type[name]
                continue
            try:
                attrs[name] = self.fields[name].run_validation(result[name])
            except serializers.ValidationError as exc:
                errors[name] = exc.detail
        if errors:
            raise serializers.ValidationError({"result": errors})
        return attrs


class AgentExecutionFailSerializer(AgentExecutionEndSerializer):
    """``fail``'s body: ``result`` is the error, whatever its keys; counts only at the top."""

    counts_from_result = False

    result = serializers.JSONField(help_text="The error: a message, a traceback, anything JSON.")
    tokens_used = serializers.IntegerField(
        min_value=0, max_value=INT32_MAX, required=False, allow_null=True
    )
    duration_ms = serializers.IntegerField(
        min_value=0, max_value=INT32_MAX, required=False, allow_null=True
    )


class AgentExecutionSerializer(serializers.ModelSerializer[AgentExecution]):
    """An agent execution: ``running`` until completed or failed."""

    user = serializers.UUIDField(source="user_id", read_only=True, allow_null=True)

    class Meta:
        model = AgentExecution
        fields = [
            "id",
            "execution_id",
            "agent_name",
            "prompt",
            "status",
            "result",
            "tokens_used",
            "duration_ms",
            "metadata",
            "user",
            "created_at",
        ]
        read_only_fields = fields


# --- round-table results ---------------------------------------------------------------------


class ParticipantSerializer(StringsOnlyMixin, serializers.Serializer):
    """One competitor's entry; extra keys (latency, cost, ...) are kept as sent."""

    provider = serializers.CharField(max_length=50)
    response = serializers.CharField(required=False, allow_blank=True, trim_whitespace=False)
    score = JSONNumberField(required=False, allow_null=True)

    def to_internal_value(self, data: Any) -> Any:
        self._reject_non_strings(data)
        validated = super().to_internal_value(data)
        extra = {k: v for k, v in data.items() if k not in self.fields}
        return {**extra, **validated}


class RoundTableResultInputSerializer(StrictInputSerializer):
    """A finished competition between LLM providers, recorded under a ``result_id`` you
    choose."""

    # "leaderboard" is the name of the resource's own list route.
    result_id = natural_key_field(reserved={"leaderboard"})
    prompt = serializers.CharField(trim_whitespace=False)
    task_category = serializers.CharField(
        max_length=100,
        required=False,
        allow_null=True,
        help_text=TASK_CATEGORY_HELP,
    )
    winner_provider = serializers.CharField(max_length=50, required=False, allow_null=True)
    winner_response = serializers.CharField(
        required=False, allow_null=True, allow_blank=True, trim_whitespace=False
    )
    participants = ParticipantSerializer(many=True, allow_empty=False)
    metadata = JSONObjectField(required=False, default=dict)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        providers = [p["provider"] for p in attrs["participants"]]
        if len(set(providers)) != len(providers):
            raise serializers.ValidationError(
                {"participants": ["Each provider may take part once."]}, code="duplicate"
            )
        winner = attrs.get("winner_provider")
        if winner is not None and winner not in providers:
            raise serializers.ValidationError(
                {
                    "winner_provider": [
                        serializers.ErrorDetail(
                            "The winner must be one of the participants.", code="not_a_participant"
                        )
                    ]
                }
            )
        return attrs


class RoundTableResultSerializer(serializers.ModelSerializer[LLMRoundTableResult]):
    """A recorded competition: its prompt, every participant's entry and the winner."""

    user = serializers.UUIDField(source="user_id", read_only=True, allow_null=True)

    class Meta:
        model = LLMRoundTableResult
        fields = [
            "id",
            "result_id",
            "prompt",
            "task_category",
            "winner_provider",
            "winner_response",
            "participants",
            "metadata",
            "user",
            "created_at",
        ]
        read_only_fields = fields


class LeaderboardEntrySerializer(serializers.Serializer):
    """One provider's standing over the competitions you may see."""

    provider = serializers.CharField()
    competitions = serializers.IntegerField()
    wins = serializers.IntegerField()
    win_rate = serializers.FloatField()
    mean_score = serializers.FloatField(allow_null=True)
