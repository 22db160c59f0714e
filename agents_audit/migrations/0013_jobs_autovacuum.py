"""Autovacuum for a queue table: ``jobs`` rows are inserted, updated two or three times and
deleted within minutes, so the default thresholds (20 % of the table changed) leave dead rows in
the claim's partial index and stale statistics for long stretches. Vacuum and analyze after 2 %
(at least 1,000 rows). ``ALTER TABLE ... SET (...)`` takes a SHARE UPDATE EXCLUSIVE lock only:
reads and writes go on."""

from django.db import migrations

OPTIONS = (
    "autovacuum_vacuum_scale_factor",
    "autovacuum_vacuum_threshold",
    "autovacuum_analyze_scale_factor",
    "autovacuum_analyze_threshold",
)


class Migration(migrations.Migration):
    dependencies = [("agents_audit", "0012_jobs_notify_runnable")]

    operations = [
        migrations.RunSQL(
            "ALTER TABLE jobs SET (autovacuum_vacuum_scale_factor = 0.02, "
            "autovacuum_vacuum_threshold = 1000, autovacuum_analyze_scale_factor = 0.02, "
            "autovacuum_analyze_threshold = 1000)",
            f"ALTER TABLE jobs RESET ({', '.join(OPTIONS)})",
        )
    ]
