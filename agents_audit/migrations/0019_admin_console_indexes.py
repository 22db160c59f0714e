"""The operator console at a million rows: one event type's events newest first (a rare type
walked the whole primary key: 300-500 ms), an exact search by event type or by subject id
whatever the subject's type, and one job type's jobs newest first (its filter and its search).
Built and dropped CONCURRENTLY (no write lock on the events or the queue), so this migration is
not atomic."""

from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import migrations, models


class Migration(migrations.Migration):
    atomic = False

    dependencies = [("agents_audit", "0018_admin_list_indexes")]

    operations = [
        AddIndexConcurrently(
            model_name="event",
            index=models.Index(
                models.F("event_type"),
                models.OrderBy(models.F("id"), descending=True),
                name="events_type_idx",
            ),
        ),
        AddIndexConcurrently(
            model_name="event",
            index=models.Index(fields=["subject_id"], name="events_subject_id_idx"),
        ),
        AddIndexConcurrently(
            model_name="job",
            index=models.Index(fields=["job_type", "id"], name="jobs_type_idx"),
        ),
    ]
