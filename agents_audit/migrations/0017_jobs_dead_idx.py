"""The admin dashboard's dead jobs of the last days: a partial index over dead jobs only, so that
counting them reads a few index entries instead of every job finished in the window (at 1,000,000
jobs, a 200 ms scan). Built and dropped CONCURRENTLY (no write lock on the queue), so this
migration is not atomic."""

from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import migrations, models


class Migration(migrations.Migration):
    atomic = False

    dependencies = [("agents_audit", "0016_checkpoints_database_rules")]

    operations = [
        AddIndexConcurrently(
            model_name="job",
            index=models.Index(
                condition=models.Q(("status", "dead")),
                fields=["finished_at"],
                name="jobs_dead_idx",
            ),
        ),
    ]
