"""The job queue's table (seed 003 `jobs`); its database rules follow in 0009."""

import django.db.models.deletion
from django.db import migrations, models

import devskyy.models


class Migration(migrations.Migration):
    dependencies = [
        ("agents_audit", "0007_operations_database_rules"),
    ]

    operations = [
        migrations.CreateModel(
            name="Job",
            fields=[
                ("id", models.BigAutoField(primary_key=True, serialize=False)),
                (
                    "created_at",
                    models.DateTimeField(db_default=devskyy.models.DatabaseNow(), editable=False),
                ),
                (
                    "updated_at",
                    models.DateTimeField(db_default=devskyy.models.DatabaseNow(), editable=False),
                ),
                ("job_type", models.CharField(max_length=100)),
                (
                    "priority",
                    models.SmallIntegerField(
                        db_default=0, default=0, help_text="Higher runs first."
                    ),
                ),
                (
                    "status",
                    models.CharField(
                        choices=[
                            ("queued", "Queued"),
                            ("running", "Running"),
                            ("succeeded", "Succeeded"),
                            ("failed", "Failed, waiting for a retry"),
                            ("dead", "Dead (retries exhausted)"),
                            ("cancelled", "Cancelled"),
                        ],
                        db_default="queued",
                        default="queued",
                        max_length=20,
                    ),
                ),
                (
                    "payload",
                    models.JSONField(
                        blank=True,
                        db_default=models.Value({}, output_field=models.JSONField()),
                        default=devskyy.models.empty_json_object,
                    ),
                ),
                ("result", models.JSONField(blank=True, null=True)),
                (
                    "worker_id",
                    models.CharField(blank=True, db_default="", default="", max_length=255),
                ),
                ("lease_token", models.UUIDField(blank=True, null=True)),
                ("lease_expires_at", models.DateTimeField(blank=True, null=True)),
                ("attempts", models.IntegerField(db_default=0, default=0)),
                ("max_retries", models.IntegerField(db_default=3, default=3)),
                ("run_after", models.DateTimeField(db_default=devskyy.models.DatabaseNow())),
                ("last_error", models.TextField(blank=True, db_default="", default="")),
                (
                    "dedupe_key",
                    models.CharField(blank=True, db_default="", default="", max_length=255),
                ),
                ("finished_at", models.DateTimeField(blank=True, null=True)),
                (
                    "task",
                    models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="jobs",
                        to="agents_audit.task",
                    ),
                ),
            ],
            options={
                "db_table": "jobs",
                "ordering": ["-id"],
                "indexes": [
                    models.Index(
                        models.F("job_type"),
                        models.OrderBy(models.F("priority"), descending=True),
                        models.F("run_after"),
                        models.F("id"),
                        condition=models.Q(("status__in", ("queued", "failed"))),
                        name="jobs_runnable_idx",
                    ),
                    models.Index(
                        condition=models.Q(("status", "running")),
                        fields=["lease_expires_at"],
                        name="jobs_running_lease_idx",
                    ),
                    models.Index(fields=["task", "id"], name="jobs_task_idx"),
                    models.Index(
                        condition=models.Q(("status__in", ("succeeded", "dead", "cancelled"))),
                        fields=["finished_at"],
                        name="jobs_finished_idx",
                    ),
                ],
                "constraints": [
                    models.CheckConstraint(
                        condition=models.Q(
                            (
                                "status__in",
                                ["queued", "running", "succeeded", "failed", "dead", "cancelled"],
                            )
                        ),
                        name="jobs_status_valid",
                    ),
                    models.CheckConstraint(
                        condition=models.Q(("attempts__gte", 0)), name="jobs_attempts_not_negative"
                    ),
                    models.CheckConstraint(
                        condition=models.Q(("max_retries__gte", 0)),
                        name="jobs_max_retries_not_negative",
                    ),
                    models.CheckConstraint(
                        condition=models.Q(("job_type", ""), _negated=True),
                        name="jobs_job_type_not_blank",
                    ),
                    models.CheckConstraint(
                        condition=models.Q(
                            models.Q(("status", "running"), _negated=True),
                            models.Q(
                                models.Q(("worker_id", ""), _negated=True),
                                ("lease_expires_at__isnull", False),
                                ("lease_token__isnull", False),
                            ),
                            _connector="OR",
                        ),
                        name="jobs_running_has_a_lease",
                    ),
                    models.CheckConstraint(
                        condition=models.Q(
                            models.Q(
                                ("status__in", ("succeeded", "dead", "cancelled")), _negated=True
                            ),
                            ("finished_at__isnull", False),
                            _connector="OR",
                        ),
                        name="jobs_finished_states_have_finished_at",
                    ),
                    models.UniqueConstraint(
                        condition=models.Q(
                            ("status__in", ("queued", "running", "failed")),
                            models.Q(("dedupe_key", ""), _negated=True),
                        ),
                        fields=("job_type", "dedupe_key"),
                        name="jobs_live_dedupe_key_uniq",
                    ),
                ],
            },
        ),
    ]
