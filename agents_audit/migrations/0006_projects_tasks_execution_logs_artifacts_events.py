"""Projects, tasks with operator approval, their execution steps and artifacts, and the event
trail (seeds 003 and 004). The database rules Django cannot express follow in 0007."""

import uuid
from decimal import Decimal

import django.contrib.postgres.functions
import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

import devskyy.models


class Migration(migrations.Migration):
    dependencies = [
        ("agents_audit", "0005_keyset_indexes"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="Project",
            fields=[
                (
                    "id",
                    models.UUIDField(
                        db_default=django.contrib.postgres.functions.RandomUUID(),
                        default=uuid.uuid4,
                        editable=False,
                        primary_key=True,
                        serialize=False,
                    ),
                ),
                (
                    "created_at",
                    models.DateTimeField(db_default=devskyy.models.DatabaseNow(), editable=False),
                ),
                (
                    "updated_at",
                    models.DateTimeField(db_default=devskyy.models.DatabaseNow(), editable=False),
                ),
                ("name", models.CharField(max_length=255)),
                ("description", models.TextField(blank=True, db_default="", default="")),
                ("version", models.IntegerField(db_default=1, default=1)),
            ],
            options={
                "db_table": "projects",
                "ordering": ["name", "id"],
                "indexes": [models.Index(fields=["created_at"], name="projects_created_idx")],
                "constraints": [
                    models.CheckConstraint(
                        condition=models.Q(("version__gte", 1)), name="projects_version_positive"
                    ),
                    models.CheckConstraint(
                        condition=models.Q(("name", ""), _negated=True),
                        name="projects_name_not_blank",
                    ),
                ],
            },
        ),
        migrations.CreateModel(
            name="Task",
            fields=[
                (
                    "id",
                    models.UUIDField(
                        db_default=django.contrib.postgres.functions.RandomUUID(),
                        default=uuid.uuid4,
                        editable=False,
                        primary_key=True,
                        serialize=False,
                    ),
                ),
                (
                    "created_at",
                    models.DateTimeField(db_default=devskyy.models.DatabaseNow(), editable=False),
                ),
                (
                    "updated_at",
                    models.DateTimeField(db_default=devskyy.models.DatabaseNow(), editable=False),
                ),
                ("request_text", models.TextField()),
                (
                    "thread_id",
                    models.CharField(help_text="The agent framework's thread.", max_length=255),
                ),
                (
                    "status",
                    models.CharField(
                        choices=[
                            ("pending", "Pending approval"),
                            ("approved", "Approved"),
                            ("executing", "Executing"),
                            ("completed", "Completed"),
                            ("failed", "Failed"),
                            ("rejected", "Rejected"),
                        ],
                        db_default="pending",
                        default="pending",
                        max_length=20,
                    ),
                ),
                ("approved_at", models.DateTimeField(blank=True, null=True)),
                ("completed_at", models.DateTimeField(blank=True, null=True)),
                ("rejection_reason", models.TextField(blank=True, db_default="", default="")),
                ("estimated_resources", models.JSONField(blank=True, null=True)),
                ("actual_resources", models.JSONField(blank=True, null=True)),
                (
                    "external_ai_model",
                    models.CharField(blank=True, db_default="", default="", max_length=100),
                ),
                ("external_ai_tokens", models.BigIntegerField(db_default=0, default=0)),
                (
                    "external_ai_cost",
                    models.DecimalField(
                        db_default=Decimal("0"),
                        decimal_places=6,
                        default=Decimal("0"),
                        max_digits=14,
                    ),
                ),
                ("error_message", models.TextField(blank=True, db_default="", default="")),
                ("version", models.IntegerField(db_default=1, default=1)),
                (
                    "approved_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="approved_tasks",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "created_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="created_tasks",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "project",
                    models.ForeignKey(
                        blank=True,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="tasks",
                        to="agents_audit.project",
                    ),
                ),
            ],
            options={
                "db_table": "tasks",
                "ordering": ["-created_at", "-id"],
            },
        ),
        migrations.CreateModel(
            name="ExecutionLog",
            fields=[
                (
                    "id",
                    models.UUIDField(
                        db_default=django.contrib.postgres.functions.RandomUUID(),
                        default=uuid.uuid4,
                        editable=False,
                        primary_key=True,
                        serialize=False,
                    ),
                ),
                ("step_number", models.IntegerField()),
                (
                    "agent_type",
                    models.CharField(
                        choices=[
                            ("orchestrator", "Orchestrator"),
                            ("infra", "Infrastructure"),
                            ("desktop", "Desktop"),
                            ("code", "Code"),
                            ("research", "Research"),
                        ],
                        max_length=20,
                    ),
                ),
                ("action", models.TextField()),
                (
                    "status",
                    models.CharField(
                        choices=[
                            ("running", "Running"),
                            ("completed", "Completed"),
                            ("failed", "Failed"),
                        ],
                        db_default="running",
                        default="running",
                        max_length=20,
                    ),
                ),
                (
                    "input",
                    models.JSONField(
                        blank=True,
                        db_default=models.Value({}, output_field=models.JSONField()),
                        default=devskyy.models.empty_json_object,
                    ),
                ),
                (
                    "output_summary",
                    models.CharField(blank=True, db_default="", default="", max_length=500),
                ),
                ("output_full", models.JSONField(blank=True, null=True)),
                (
                    "timestamp",
                    models.DateTimeField(db_default=devskyy.models.DatabaseNow(), editable=False),
                ),
                ("duration_ms", models.IntegerField(blank=True, null=True)),
                (
                    "task",
                    models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="execution_logs",
                        to="agents_audit.task",
                    ),
                ),
            ],
            options={
                "db_table": "execution_logs",
                "ordering": ["task", "step_number"],
            },
        ),
        migrations.CreateModel(
            name="Artifact",
            fields=[
                (
                    "id",
                    models.UUIDField(
                        db_default=django.contrib.postgres.functions.RandomUUID(),
                        default=uuid.uuid4,
                        editable=False,
                        primary_key=True,
                        serialize=False,
                    ),
                ),
                (
                    "created_at",
                    models.DateTimeField(db_default=devskyy.models.DatabaseNow(), editable=False),
                ),
                ("storage_key", models.CharField(max_length=1024)),
                ("size_bytes", models.BigIntegerField()),
                ("content_type", models.CharField(max_length=255)),
                ("sha256", models.CharField(max_length=64, verbose_name="SHA-256")),
                (
                    "task",
                    models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="artifacts",
                        to="agents_audit.task",
                    ),
                ),
            ],
            options={
                "db_table": "artifacts",
                "ordering": ["-created_at", "-id"],
            },
        ),
        migrations.CreateModel(
            name="Event",
            fields=[
                ("id", models.BigAutoField(primary_key=True, serialize=False)),
                (
                    "created_at",
                    models.DateTimeField(db_default=devskyy.models.DatabaseNow(), editable=False),
                ),
                (
                    "subject_type",
                    models.CharField(
                        choices=[
                            ("project", "Project"),
                            ("task", "Task"),
                            ("job", "Job"),
                            ("order", "Order"),
                        ],
                        max_length=20,
                    ),
                ),
                ("subject_id", models.CharField(max_length=64)),
                (
                    "event_type",
                    models.CharField(
                        choices=[
                            ("project_created", "Project created"),
                            ("project_updated", "Project updated"),
                            ("task_created", "Task created"),
                            ("task_updated", "Task updated"),
                            ("task_approved", "Task approved"),
                            ("task_rejected", "Task rejected"),
                            ("task_started", "Task started"),
                            ("task_completed", "Task completed"),
                            ("task_failed", "Task failed"),
                        ],
                        max_length=50,
                    ),
                ),
                (
                    "api_key_prefix",
                    models.CharField(blank=True, db_default="", default="", max_length=8),
                ),
                (
                    "correlation_id",
                    models.CharField(blank=True, db_default="", default="", max_length=64),
                ),
                (
                    "payload",
                    models.JSONField(
                        blank=True,
                        db_default=models.Value({}, output_field=models.JSONField()),
                        default=devskyy.models.empty_json_object,
                    ),
                ),
                (
                    "actor",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            options={
                "db_table": "events",
                "ordering": ["-id"],
                "indexes": [
                    models.Index(
                        models.F("subject_type"),
                        models.F("subject_id"),
                        models.OrderBy(models.F("id"), descending=True),
                        name="events_subject_idx",
                    ),
                    models.Index(fields=["created_at"], name="events_created_idx"),
                    models.Index(
                        condition=models.Q(("correlation_id", ""), _negated=True),
                        fields=["correlation_id"],
                        name="events_correlation_idx",
                    ),
                ],
                "constraints": [
                    models.CheckConstraint(
                        condition=models.Q(
                            ("subject_type__in", ["project", "task", "job", "order"])
                        ),
                        name="events_subject_type_valid",
                    ),
                    models.CheckConstraint(
                        condition=models.Q(
                            (
                                "event_type__in",
                                [
                                    "project_created",
                                    "project_updated",
                                    "task_created",
                                    "task_updated",
                                    "task_approved",
                                    "task_rejected",
                                    "task_started",
                                    "task_completed",
                                    "task_failed",
                                ],
                            )
                        ),
                        name="events_event_type_valid",
                    ),
                    models.CheckConstraint(
                        condition=models.Q(("subject_id", ""), _negated=True),
                        name="events_subject_id_not_blank",
                    ),
                ],
            },
        ),
        migrations.AddIndex(
            model_name="task",
            index=models.Index(fields=["created_at"], name="tasks_created_idx"),
        ),
        migrations.AddIndex(
            model_name="task",
            index=models.Index(fields=["status", "created_at"], name="tasks_status_created_idx"),
        ),
        migrations.AddIndex(
            model_name="task",
            index=models.Index(fields=["project", "created_at"], name="tasks_project_created_idx"),
        ),
        migrations.AddIndex(
            model_name="task",
            index=models.Index(
                condition=models.Q(("external_ai_model", ""), _negated=True),
                fields=["external_ai_model"],
                name="tasks_external_ai_model_idx",
            ),
        ),
        migrations.AddConstraint(
            model_name="task",
            constraint=models.UniqueConstraint(fields=("thread_id",), name="tasks_thread_id_key"),
        ),
        migrations.AddConstraint(
            model_name="task",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    (
                        "status__in",
                        ["pending", "approved", "executing", "completed", "failed", "rejected"],
                    )
                ),
                name="tasks_status_valid",
            ),
        ),
        migrations.AddConstraint(
            model_name="task",
            constraint=models.CheckConstraint(
                condition=models.Q(("version__gte", 1)), name="tasks_version_positive"
            ),
        ),
        migrations.AddConstraint(
            model_name="task",
            constraint=models.CheckConstraint(
                condition=models.Q(("external_ai_tokens__gte", 0)),
                name="tasks_external_ai_tokens_not_negative",
            ),
        ),
        migrations.AddConstraint(
            model_name="task",
            constraint=models.CheckConstraint(
                condition=models.Q(("external_ai_cost__gte", 0)),
                name="tasks_external_ai_cost_not_negative",
            ),
        ),
        migrations.AddConstraint(
            model_name="task",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(("external_ai_model", ""), _negated=True),
                    models.Q(("external_ai_cost", Decimal("0")), ("external_ai_tokens", 0)),
                    _connector="OR",
                ),
                name="tasks_external_ai_usage_has_model",
            ),
        ),
        migrations.AddConstraint(
            model_name="task",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(
                        ("status__in", ("approved", "executing", "completed", "failed")),
                        _negated=True,
                    ),
                    ("approved_at__isnull", False),
                    _connector="OR",
                ),
                name="tasks_approved_states_have_approved_at",
            ),
        ),
        migrations.AddConstraint(
            model_name="task",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(("status__in", ("completed", "failed")), _negated=True),
                    ("completed_at__isnull", False),
                    _connector="OR",
                ),
                name="tasks_finished_states_have_completed_at",
            ),
        ),
        migrations.AddIndex(
            model_name="executionlog",
            index=models.Index(fields=["timestamp"], name="execution_logs_timestamp_idx"),
        ),
        migrations.AddIndex(
            model_name="executionlog",
            index=models.Index(
                fields=["agent_type", "timestamp"], name="execution_logs_agent_time_idx"
            ),
        ),
        migrations.AddIndex(
            model_name="executionlog",
            index=models.Index(
                fields=["status", "timestamp"], name="execution_logs_status_time_idx"
            ),
        ),
        migrations.AddConstraint(
            model_name="executionlog",
            constraint=models.UniqueConstraint(
                fields=("task", "step_number"), name="execution_logs_task_step_key"
            ),
        ),
        migrations.AddConstraint(
            model_name="executionlog",
            constraint=models.CheckConstraint(
                condition=models.Q(("step_number__gte", 1)),
                name="execution_logs_step_number_positive",
            ),
        ),
        migrations.AddConstraint(
            model_name="executionlog",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("agent_type__in", ["orchestrator", "infra", "desktop", "code", "research"])
                ),
                name="execution_logs_agent_type_valid",
            ),
        ),
        migrations.AddConstraint(
            model_name="executionlog",
            constraint=models.CheckConstraint(
                condition=models.Q(("status__in", ["running", "completed", "failed"])),
                name="execution_logs_status_valid",
            ),
        ),
        migrations.AddConstraint(
            model_name="executionlog",
            constraint=models.CheckConstraint(
                condition=models.Q(("duration_ms__gte", 0)),
                name="execution_logs_duration_ms_not_negative",
            ),
        ),
        migrations.AddIndex(
            model_name="artifact",
            index=models.Index(fields=["task", "created_at"], name="artifacts_task_created_idx"),
        ),
        migrations.AddConstraint(
            model_name="artifact",
            constraint=models.UniqueConstraint(
                fields=("storage_key",), name="artifacts_storage_key_key"
            ),
        ),
        migrations.AddConstraint(
            model_name="artifact",
            constraint=models.CheckConstraint(
                condition=models.Q(("size_bytes__gte", 0)), name="artifacts_size_bytes_not_negative"
            ),
        ),
        migrations.AddConstraint(
            model_name="artifact",
            constraint=models.CheckConstraint(
                condition=models.Q(("sha256__regex", "^[0-9a-f]{64}$")), name="artifacts_sha256_hex"
            ),
        ),
        migrations.AddConstraint(
            model_name="artifact",
            constraint=models.CheckConstraint(
                condition=models.Q(("storage_key", ""), _negated=True),
                name="artifacts_storage_key_not_blank",
            ),
        ),
    ]
