"""The job queue's services need: ``jobs.retry_backoff_seconds`` (the base of a job's exponential
backoff; 10 s by default, 1 s to 1 day) and ``job_type_pauses`` (job types that claims skip),
whose ``paused_by`` is ON DELETE SET NULL in the database.

Adding a column with a constant default does not rewrite the table (PostgreSQL 11+); its CHECK
scans ``jobs`` once, and every row holds the default then."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

import devskyy.models
from devskyy.migration_operations import ForeignKeyOnDeleteSetNull


class Migration(migrations.Migration):
    dependencies = [
        ("agents_audit", "0010_event_and_subject_types"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="JobTypePause",
            fields=[
                ("job_type", models.CharField(max_length=100, primary_key=True, serialize=False)),
                (
                    "paused_at",
                    models.DateTimeField(db_default=devskyy.models.DatabaseNow(), editable=False),
                ),
            ],
            options={
                "db_table": "job_type_pauses",
                "ordering": ["job_type"],
            },
        ),
        migrations.AddField(
            model_name="job",
            name="retry_backoff_seconds",
            field=models.IntegerField(
                db_default=10,
                default=10,
                help_text="The base of the exponential backoff between retries, in seconds.",
            ),
        ),
        migrations.AddConstraint(
            model_name="job",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("retry_backoff_seconds__gte", 1), ("retry_backoff_seconds__lte", 86400)
                ),
                name="jobs_retry_backoff_seconds_range",
            ),
        ),
        migrations.AddField(
            model_name="jobtypepause",
            name="paused_by",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.DO_NOTHING,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        ForeignKeyOnDeleteSetNull(model_name="jobtypepause", field_name="paused_by"),
    ]
