"""Dedupe keys are per task: another task's live job with the same key must neither answer an
enqueue (its payload is not the caller's to read) nor block it.

The unique index is swapped with ``CREATE``/``DROP INDEX CONCURRENTLY`` (hence ``atomic =
False``): writes to ``jobs`` go on while the new index is built; the old one holds until the
new one is valid.
"""

from django.db import migrations, models

LIVE = "('queued', 'running', 'failed')"
NEW = (
    "CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS jobs_live_task_dedupe_key_uniq "
    "ON jobs (task_id, job_type, dedupe_key) "
    f"WHERE status IN {LIVE} AND NOT dedupe_key = ''"
)
OLD = (
    "CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS jobs_live_dedupe_key_uniq "
    "ON jobs (job_type, dedupe_key) "
    f"WHERE status IN {LIVE} AND NOT dedupe_key = ''"
)


class Migration(migrations.Migration):
    atomic = False

    dependencies = [("agents_audit", "0013_jobs_autovacuum")]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[
                migrations.RunSQL(
                    NEW, "DROP INDEX CONCURRENTLY IF EXISTS jobs_live_task_dedupe_key_uniq"
                ),
                migrations.RunSQL(
                    "DROP INDEX CONCURRENTLY IF EXISTS jobs_live_dedupe_key_uniq", OLD
                ),
            ],
            state_operations=[
                migrations.RemoveConstraint(model_name="job", name="jobs_live_dedupe_key_uniq"),
                migrations.AddConstraint(
                    model_name="job",
                    constraint=models.UniqueConstraint(
                        condition=models.Q(
                            ("status__in", ("queued", "running", "failed")),
                            models.Q(("dedupe_key", ""), _negated=True),
                        ),
                        fields=("task", "job_type", "dedupe_key"),
                        name="jobs_live_task_dedupe_key_uniq",
                    ),
                ),
            ],
        )
    ]
