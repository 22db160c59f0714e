"""The audit lists' filters in the admin (issue 11): by tool, by agent, by time window and
"slow calls", each served by an index together with the list's newest-first order."""

from __future__ import annotations

from typing import Any, ClassVar

from django.contrib import admin
from django.contrib.admin.options import IncorrectLookupParameters
from django.db.models import QuerySet
from django.http import HttpRequest

from devskyy.admin_filters import CreatedWithinFilter, DistinctValuesFilter


class ToolNameFilter(DistinctValuesFilter):
    title = "tool"
    parameter_name = "tool_name"  # tool_exec_tool_created_idx


class AgentIdFilter(DistinctValuesFilter):
    title = "agent id"
    parameter_name = "agent_id"  # tool_exec_agent_id_idx


class AgentNameFilter(DistinctValuesFilter):
    title = "agent name"
    parameter_name = "agent_name"  # agent_exec_agent_created_idx


class LoggedWithinFilter(CreatedWithinFilter):
    title = "logged"
    parameter_name = "logged"
    field = "timestamp"


class SlowCallsFilter(admin.SimpleListFilter):
    """Calls (or steps) that took at least a threshold, newest first. Every threshold is at
    least ``SLOW_MS`` (a test holds it): the partial indexes over the slow rows serve them all."""

    title = "slow calls"
    parameter_name = "slower_than"
    THRESHOLDS_MS: ClassVar[tuple[int, ...]] = (1_000, 5_000, 30_000)

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [(str(ms), f"over {ms // 1000:,} s") for ms in self.THRESHOLDS_MS]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        value = self.value()
        if value is None:
            return queryset
        if value not in {str(ms) for ms in self.THRESHOLDS_MS}:
            raise IncorrectLookupParameters(f"{self.parameter_name}: no threshold {value!r}")
        return queryset.filter(duration_ms__gte=int(value))
