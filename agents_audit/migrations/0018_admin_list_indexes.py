"""Indexes for the admin's lists (issue 11): one tool's calls newest first, the "slow calls"
filters (partial indexes over the rows of at least 1 s), the artifacts and projects lists' own
order, an exact provider search, and trigram indexes behind the word searches on a task's
request, a log step's action and a project's name.

Built and dropped CONCURRENTLY (no write lock on a big table), so this migration is not atomic.
"""

import django.contrib.postgres.indexes
import django.db.models.functions.text
from django.conf import settings
from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import migrations, models


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("agents_audit", "0017_jobs_dead_idx"),
        ("commerce", "0004_order_product_indexes"),  # pg_trgm
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        AddIndexConcurrently(
            model_name="agentexecution",
            index=models.Index(
                condition=models.Q(("duration_ms__gte", 1000)),
                fields=["created_at"],
                name="agent_exec_slow_idx",
            ),
        ),
        AddIndexConcurrently(
            model_name="artifact",
            index=models.Index(fields=["created_at"], name="artifacts_created_idx"),
        ),
        AddIndexConcurrently(
            model_name="executionlog",
            index=models.Index(
                condition=models.Q(("duration_ms__gte", 1000)),
                fields=["timestamp"],
                name="execution_logs_slow_idx",
            ),
        ),
        AddIndexConcurrently(
            model_name="executionlog",
            index=django.contrib.postgres.indexes.GinIndex(
                django.contrib.postgres.indexes.OpClass(
                    django.db.models.functions.text.Upper("action"), name="gin_trgm_ops"
                ),
                name="execution_logs_action_trgm",
            ),
        ),
        AddIndexConcurrently(
            model_name="llmroundtableresult",
            index=models.Index(
                fields=["winner_provider", "created_at"], name="llm_rt_winner_created_idx"
            ),
        ),
        AddIndexConcurrently(
            model_name="project",
            index=models.Index(fields=["name", "id"], name="projects_name_idx"),
        ),
        AddIndexConcurrently(
            model_name="project",
            index=django.contrib.postgres.indexes.GinIndex(
                django.contrib.postgres.indexes.OpClass(
                    django.db.models.functions.text.Upper("name"), name="gin_trgm_ops"
                ),
                name="projects_name_trgm",
            ),
        ),
        AddIndexConcurrently(
            model_name="task",
            index=django.contrib.postgres.indexes.GinIndex(
                django.contrib.postgres.indexes.OpClass(
                    django.db.models.functions.text.Upper("request_text"), name="gin_trgm_ops"
                ),
                name="tasks_request_text_trgm",
            ),
        ),
        AddIndexConcurrently(
            model_name="toolexecution",
            index=models.Index(
                fields=["tool_name", "created_at"], name="tool_exec_tool_created_idx"
            ),
        ),
        AddIndexConcurrently(
            model_name="toolexecution",
            index=models.Index(
                condition=models.Q(("duration_ms__gte", 1000)),
                fields=["created_at"],
                name="tool_exec_slow_idx",
            ),
        ),
    ]
