from __future__ import annotations

from django.contrib import admin

from agents_audit.models import AgentExecution, LLMRoundTableResult, ToolExecution
from devskyy.admin import ReadOnlyAuditAdmin


@admin.register(LLMRoundTableResult)
class LLMRoundTableResultAdmin(ReadOnlyAuditAdmin):
    list_display = ("result_id", "task_category", "winner_provider", "created_at")
    list_filter = ("task_category",)
    search_fields = ("=result_id", "winner_provider")
    ordering = ("-created_at", "-id")


@admin.register(AgentExecution)
class AgentExecutionAdmin(ReadOnlyAuditAdmin):
    list_display = (
        "execution_id",
        "agent_name",
        "status",
        "tokens_used",
        "duration_ms",
        "created_at",
    )
    list_filter = ("status",)
    search_fields = ("=execution_id", "=agent_name")
    ordering = ("-created_at", "-id")


@admin.register(ToolExecution)
class ToolExecutionAdmin(ReadOnlyAuditAdmin):
    list_display = (
        "tool_name",
        "status",
        "correlation_id",
        "agent_id",
        "user",
        "duration_ms",
        "created_at",
    )
    list_filter = ("status",)
    list_select_related = ("user",)
    # Exact matches only: each is backed by an index, which a LIKE '%..%' search would not use.
    search_fields = ("=correlation_id", "=tool_name", "=agent_id")
    ordering = ("-created_at", "-id")
