"""FilterSets for the audit tables. Every filter here is backed by an index that leads with it
(see the models' Meta.indexes)."""

from __future__ import annotations

import django_filters

from agents_audit.models import AgentExecution, LLMRoundTableResult, Task, ToolExecution
from devskyy.api.filters import UTCIsoDateTimeFilter


class ToolExecutionFilter(django_filters.FilterSet):
    correlation_id = django_filters.CharFilter(max_length=64)
    tool_name = django_filters.CharFilter(max_length=128)
    status = django_filters.ChoiceFilter(choices=ToolExecution.Status.choices)
    agent_id = django_filters.CharFilter(max_length=100)
    created_after = UTCIsoDateTimeFilter(field_name="created_at", lookup_expr="gte")
    created_before = UTCIsoDateTimeFilter(field_name="created_at", lookup_expr="lt")

    class Meta:
        model = ToolExecution
        fields = ["correlation_id", "tool_name", "status", "agent_id"]


class AgentExecutionFilter(django_filters.FilterSet):
    agent_name = django_filters.CharFilter(max_length=100)
    status = django_filters.ChoiceFilter(choices=AgentExecution.Status.choices)
    created_after = UTCIsoDateTimeFilter(field_name="created_at", lookup_expr="gte")
    created_before = UTCIsoDateTimeFilter(field_name="created_at", lookup_expr="lt")

    class Meta:
        model = AgentExecution
        fields = ["agent_name", "status"]


class RoundTableResultFilter(django_filters.FilterSet):
    task_category = django_filters.CharFilter(max_length=100)
    created_after = UTCIsoDateTimeFilter(field_name="created_at", lookup_expr="gte")
    created_before = UTCIsoDateTimeFilter(field_name="created_at", lookup_expr="lt")

    class Meta:
        model = LLMRoundTableResult
        fields = ["task_category"]


class TaskFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=Task.Status.choices)
    project = django_filters.UUIDFilter(field_name="project_id")
    created_by = django_filters.UUIDFilter(field_name="created_by_id")
    created_after = UTCIsoDateTimeFilter(field_name="created_at", lookup_expr="gte")
    created_before = UTCIsoDateTimeFilter(field_name="created_at", lookup_expr="lt")

    class Meta:
        model = Task
        fields = ["status", "project", "created_by"]
