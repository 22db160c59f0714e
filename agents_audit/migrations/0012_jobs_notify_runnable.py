"""Wake waiting workers: a trigger on ``jobs`` sends ``NOTIFY devskyy_jobs, '<job_type>'`` when
a job becomes runnable (inserted or moved to ``queued``/``failed``), and a paused job type's
name when it is resumed (its row in ``job_type_pauses`` deleted), whoever writes it (the
services, psql, another service).

PostgreSQL delivers a notification when its transaction commits, never before and never for a
rolled-back one, and folds identical notifications of one transaction into one: a thousand jobs
of one type enqueued in one transaction wake the listeners once. A job scheduled for later
(``run_after`` in the future) is notified too; the waiting claim finds it not yet due and waits
until its ``run_after`` (``agents_audit.job_wakeups``).
"""

from django.db import migrations

CHANNEL = "devskyy_jobs"

FORWARDS = f"""
CREATE FUNCTION jobs_notify_runnable() RETURNS trigger AS $$
BEGIN
    PERFORM pg_notify('{CHANNEL}', NEW.job_type);
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER jobs_notify_runnable_insert
    AFTER INSERT ON jobs
    FOR EACH ROW WHEN (NEW.status IN ('queued', 'failed'))
    EXECUTE FUNCTION jobs_notify_runnable();

CREATE TRIGGER jobs_notify_runnable_update
    AFTER UPDATE OF status ON jobs
    FOR EACH ROW WHEN (
        NEW.status IN ('queued', 'failed') AND OLD.status IS DISTINCT FROM NEW.status
    )
    EXECUTE FUNCTION jobs_notify_runnable();

CREATE FUNCTION job_type_pauses_notify_resumed() RETURNS trigger AS $$
BEGIN
    PERFORM pg_notify('{CHANNEL}', OLD.job_type);
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER job_type_pauses_notify_resumed
    AFTER DELETE ON job_type_pauses
    FOR EACH ROW EXECUTE FUNCTION job_type_pauses_notify_resumed();
"""

BACKWARDS = """
DROP TRIGGER job_type_pauses_notify_resumed ON job_type_pauses;
DROP FUNCTION job_type_pauses_notify_resumed();
DROP TRIGGER jobs_notify_runnable_update ON jobs;
DROP TRIGGER jobs_notify_runnable_insert ON jobs;
DROP FUNCTION jobs_notify_runnable();
"""


class Migration(migrations.Migration):
    dependencies = [("agents_audit", "0011_job_retry_backoff_and_job_type_pauses")]

    operations = [migrations.RunSQL(FORWARDS, BACKWARDS)]
