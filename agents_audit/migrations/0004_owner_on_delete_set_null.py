"""Executions and round-table results outlive a deleted user, also for a raw `DELETE FROM users`."""

from django.db import migrations

from devskyy.migration_operations import ForeignKeyOnDeleteSetNull


class Migration(migrations.Migration):
    dependencies = [("agents_audit", "0003_agentexecution_llmroundtableresult_user")]

    operations = [
        ForeignKeyOnDeleteSetNull(model_name="agentexecution", field_name="user"),
        ForeignKeyOnDeleteSetNull(model_name="llmroundtableresult", field_name="user"),
    ]
