"""LangGraph checkpoint tables (issue 10): threads, checkpoints, channel blobs and pending
writes; their database rules follow in 0016."""

import django.contrib.postgres.indexes
import django.db.models.deletion
import django.db.models.fields.json
from django.conf import settings
from django.db import migrations, models

import devskyy.models


class Migration(migrations.Migration):
    dependencies = [
        ("agents_audit", "0014_jobs_dedupe_key_per_task"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="CheckpointThread",
            fields=[
                ("thread_id", models.CharField(max_length=255, primary_key=True, serialize=False)),
                (
                    "created_at",
                    models.DateTimeField(db_default=devskyy.models.DatabaseNow(), editable=False),
                ),
                (
                    "owner",
                    models.ForeignKey(
                        blank=True,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="checkpoint_threads",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            options={
                "db_table": "checkpoint_threads",
                "ordering": ["-created_at", "-thread_id"],
            },
        ),
        migrations.CreateModel(
            name="CheckpointBlob",
            fields=[
                ("id", models.BigAutoField(primary_key=True, serialize=False)),
                ("checkpoint_ns", models.TextField(blank=True, db_default="", default="")),
                ("channel", models.TextField()),
                ("version", models.TextField()),
                ("type", models.TextField()),
                ("blob", models.BinaryField(blank=True, null=True)),
                (
                    "thread",
                    models.ForeignKey(
                        db_column="thread_id",
                        db_index=False,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        to="agents_audit.checkpointthread",
                    ),
                ),
            ],
            options={
                "db_table": "checkpoint_blobs",
                "ordering": ["thread", "checkpoint_ns", "channel", "version"],
            },
        ),
        migrations.CreateModel(
            name="Checkpoint",
            fields=[
                ("id", models.BigAutoField(primary_key=True, serialize=False)),
                ("checkpoint_ns", models.TextField(blank=True, db_default="", default="")),
                ("checkpoint_id", models.TextField()),
                ("parent_checkpoint_id", models.TextField(blank=True, null=True)),
                ("checkpoint", models.JSONField()),
                (
                    "metadata",
                    models.JSONField(
                        blank=True,
                        db_default=models.Value({}, output_field=models.JSONField()),
                        default=devskyy.models.empty_json_object,
                    ),
                ),
                (
                    "created_at",
                    models.DateTimeField(db_default=devskyy.models.DatabaseNow(), editable=False),
                ),
                (
                    "thread",
                    models.ForeignKey(
                        db_column="thread_id",
                        db_index=False,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        to="agents_audit.checkpointthread",
                    ),
                ),
            ],
            options={
                "db_table": "checkpoints",
                "ordering": ["thread", "checkpoint_ns", "-checkpoint_id"],
            },
        ),
        migrations.CreateModel(
            name="CheckpointWrite",
            fields=[
                ("id", models.BigAutoField(primary_key=True, serialize=False)),
                ("checkpoint_ns", models.TextField(blank=True, db_default="", default="")),
                ("checkpoint_id", models.TextField()),
                ("task_id", models.TextField()),
                ("task_path", models.TextField(blank=True, db_default="", default="")),
                ("idx", models.IntegerField()),
                ("channel", models.TextField()),
                ("type", models.TextField()),
                ("blob", models.BinaryField()),
                (
                    "created_at",
                    models.DateTimeField(db_default=devskyy.models.DatabaseNow(), editable=False),
                ),
                (
                    "thread",
                    models.ForeignKey(
                        db_column="thread_id",
                        db_index=False,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        to="agents_audit.checkpointthread",
                    ),
                ),
            ],
            options={
                "db_table": "checkpoint_writes",
                "ordering": [
                    "thread",
                    "checkpoint_ns",
                    "checkpoint_id",
                    "task_path",
                    "task_id",
                    "idx",
                ],
            },
        ),
        migrations.AddIndex(
            model_name="checkpointthread",
            index=models.Index(
                fields=["created_at", "thread_id"], name="checkpoint_threads_created_idx"
            ),
        ),
        migrations.AddIndex(
            model_name="checkpointthread",
            index=models.Index(
                fields=["owner", "created_at", "thread_id"], name="checkpoint_threads_owner_idx"
            ),
        ),
        migrations.AddConstraint(
            model_name="checkpointblob",
            constraint=models.UniqueConstraint(
                fields=("thread", "checkpoint_ns", "channel", "version"),
                name="checkpoint_blobs_thread_ns_channel_version_key",
            ),
        ),
        migrations.AddIndex(
            model_name="checkpoint",
            index=models.Index(
                fields=["thread", "checkpoint_id"], name="checkpoints_thread_id_idx"
            ),
        ),
        migrations.AddIndex(
            model_name="checkpoint",
            index=django.contrib.postgres.indexes.GinIndex(
                fields=["metadata"], name="checkpoints_metadata_gin", opclasses=["jsonb_path_ops"]
            ),
        ),
        migrations.AddIndex(
            model_name="checkpoint",
            index=models.Index(
                django.db.models.fields.json.KeyTextTransform("run_id", "metadata"),
                condition=models.Q(("metadata__has_key", "run_id")),
                name="checkpoints_run_id_idx",
            ),
        ),
        migrations.AddConstraint(
            model_name="checkpoint",
            constraint=models.UniqueConstraint(
                fields=("thread", "checkpoint_ns", "checkpoint_id"),
                name="checkpoints_thread_ns_id_key",
            ),
        ),
        migrations.AddConstraint(
            model_name="checkpointwrite",
            constraint=models.UniqueConstraint(
                fields=("thread", "checkpoint_ns", "checkpoint_id", "task_id", "idx"),
                name="checkpoint_writes_thread_ns_id_task_idx_key",
            ),
        ),
    ]
