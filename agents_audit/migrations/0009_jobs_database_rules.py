"""The jobs table's database rules: an ``updated_at`` trigger, and jobs go with their task
(ON DELETE CASCADE). Separate from 0008 because Django creates foreign keys at the end of a
migration."""

from django.db import migrations

from devskyy.migration_operations import ForeignKeyOnDeleteCascade, UpdatedAtTrigger


class Migration(migrations.Migration):
    dependencies = [("agents_audit", "0008_jobs")]

    operations = [
        UpdatedAtTrigger(table="jobs"),
        ForeignKeyOnDeleteCascade(model_name="job", field_name="task"),
    ]
