"""What the database itself enforces for the operations tables (Django 5.2 cannot express it):

- ``updated_at`` triggers on projects and tasks;
- a task's execution steps and artifacts go with it (ON DELETE CASCADE);
- tasks and events outlive the accounts that created, approved or acted (ON DELETE SET NULL);
- events are append-only: UPDATE and DELETE are refused, except the SET NULL of ``actor_id``.

Separate from 0006 because Django creates foreign keys at the end of a migration.
"""

from django.db import migrations

from devskyy.migration_operations import (
    AppendOnlyTrigger,
    ForeignKeyOnDeleteCascade,
    ForeignKeyOnDeleteSetNull,
    UpdatedAtTrigger,
)


class Migration(migrations.Migration):
    dependencies = [("agents_audit", "0006_projects_tasks_execution_logs_artifacts_events")]

    operations = [
        UpdatedAtTrigger(table="projects"),
        UpdatedAtTrigger(table="tasks"),
        ForeignKeyOnDeleteCascade(model_name="executionlog", field_name="task"),
        ForeignKeyOnDeleteCascade(model_name="artifact", field_name="task"),
        ForeignKeyOnDeleteSetNull(model_name="task", field_name="created_by"),
        ForeignKeyOnDeleteSetNull(model_name="task", field_name="approved_by"),
        ForeignKeyOnDeleteSetNull(model_name="event", field_name="actor"),
        AppendOnlyTrigger(table="events", set_null_columns=["actor_id"]),
    ]
