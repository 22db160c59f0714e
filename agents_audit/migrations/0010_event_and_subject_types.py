"""The job queue's and the project deletion's event types, and the ``job_type`` subject (a job
type is paused or resumed).

The events table only grows, so its CHECK constraints are replaced without a long lock:
``ReplaceCheckConstraint`` swaps each in a short transaction (``NOT VALID``) and validates the
existing rows afterwards under a lock that lets writes go on; hence ``atomic = False``. Changing
``choices`` alone writes no SQL.
"""

from django.db import migrations, models

from devskyy.migration_operations import ReplaceCheckConstraint

EVENT_TYPES = [
    ("project_created", "Project created"),
    ("project_updated", "Project updated"),
    ("project_deleted", "Project deleted"),
    ("task_created", "Task created"),
    ("task_updated", "Task updated"),
    ("task_approved", "Task approved"),
    ("task_rejected", "Task rejected"),
    ("task_started", "Task started"),
    ("task_completed", "Task completed"),
    ("task_failed", "Task failed"),
    ("job_enqueued", "Job enqueued"),
    ("job_claimed", "Job claimed by a worker"),
    ("job_succeeded", "Job succeeded"),
    ("job_failed", "Job failed, retry scheduled"),
    ("job_dead", "Job dead (retries exhausted or not retryable)"),
    ("job_lease_expired", "Job's lease expired, recovered"),
    ("job_cancelled", "Job cancelled"),
    ("job_retried", "Job retried by an operator"),
    ("job_type_paused", "Job type paused"),
    ("job_type_resumed", "Job type resumed"),
]
SUBJECT_TYPES = [
    ("project", "Project"),
    ("task", "Task"),
    ("job", "Job"),
    ("order", "Order"),
    ("job_type", "Job type"),
]


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("agents_audit", "0009_jobs_database_rules"),
    ]

    operations = [
        migrations.AlterField(
            model_name="event",
            name="event_type",
            field=models.CharField(choices=EVENT_TYPES, max_length=50),
        ),
        migrations.AlterField(
            model_name="event",
            name="subject_type",
            field=models.CharField(choices=SUBJECT_TYPES, max_length=20),
        ),
        ReplaceCheckConstraint(
            model_name="event",
            constraint=models.CheckConstraint(
                condition=models.Q(subject_type__in=[value for value, _ in SUBJECT_TYPES]),
                name="events_subject_type_valid",
            ),
        ),
        ReplaceCheckConstraint(
            model_name="event",
            constraint=models.CheckConstraint(
                condition=models.Q(event_type__in=[value for value, _ in EVENT_TYPES]),
                name="events_event_type_valid",
            ),
        ),
    ]
