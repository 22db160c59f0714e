"""Indexes for the API's filters and keyset pagination: each filter column leads an index that ends
with created_at (the keyset order; ties go to an incremental sort on id).

Indexes are built and dropped CONCURRENTLY (no write lock on a big table), so this migration is
not atomic; new composites are built before the single-column ones they replace are dropped.
"""

from django.contrib.postgres.operations import AddIndexConcurrently, RemoveIndexConcurrently
from django.db import migrations, models


class Migration(migrations.Migration):
    atomic = False

    dependencies = [("agents_audit", "0004_owner_on_delete_set_null")]

    operations = [
        AddIndexConcurrently(
            model_name="agentexecution",
            index=models.Index(
                fields=["agent_name", "created_at"], name="agent_exec_agent_created_idx"
            ),
        ),
        AddIndexConcurrently(
            model_name="agentexecution",
            index=models.Index(
                fields=["status", "created_at"], name="agent_exec_status_created_idx"
            ),
        ),
        AddIndexConcurrently(
            model_name="agentexecution",
            index=models.Index(fields=["created_at"], name="agent_exec_created_idx"),
        ),
        AddIndexConcurrently(
            model_name="agentexecution",
            index=models.Index(fields=["user", "created_at"], name="agent_exec_user_created_idx"),
        ),
        AddIndexConcurrently(
            model_name="llmroundtableresult",
            index=models.Index(fields=["created_at"], name="llm_rt_created_idx"),
        ),
        AddIndexConcurrently(
            model_name="llmroundtableresult",
            index=models.Index(fields=["user", "created_at"], name="llm_rt_user_created_idx"),
        ),
        AddIndexConcurrently(
            model_name="toolexecution",
            index=models.Index(
                fields=["correlation_id", "created_at"], name="tool_exec_corr_created_idx"
            ),
        ),
        AddIndexConcurrently(
            model_name="toolexecution",
            index=models.Index(
                fields=["tool_name", "status", "created_at"], name="tool_exec_tool_status_idx"
            ),
        ),
        AddIndexConcurrently(
            model_name="toolexecution",
            index=models.Index(
                fields=["status", "created_at"], name="tool_exec_status_created_idx"
            ),
        ),
        AddIndexConcurrently(
            model_name="toolexecution",
            index=models.Index(fields=["agent_id", "created_at"], name="tool_exec_agent_id_idx"),
        ),
        AddIndexConcurrently(
            model_name="toolexecution",
            index=models.Index(fields=["user", "created_at"], name="tool_exec_user_created_idx"),
        ),
        AddIndexConcurrently(
            model_name="toolexecution",
            index=models.Index(fields=["created_at"], name="tool_exec_created_idx"),
        ),
        RemoveIndexConcurrently(
            model_name="agentexecution",
            name="agent_exec_agent_name_idx",
        ),
        RemoveIndexConcurrently(
            model_name="agentexecution",
            name="agent_exec_status_idx",
        ),
        RemoveIndexConcurrently(
            model_name="toolexecution",
            name="tool_exec_correlation_id_idx",
        ),
        RemoveIndexConcurrently(
            model_name="toolexecution",
            name="tool_exec_tool_name_idx",
        ),
        RemoveIndexConcurrently(
            model_name="toolexecution",
            name="tool_exec_status_idx",
        ),
    ]
