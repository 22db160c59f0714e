"""The checkpoint tables' database rules: a thread's checkpoints, blobs and writes go with it
(ON DELETE CASCADE), and a thread outlives its owner's account (ON DELETE SET NULL). Separate
from 0015 because Django creates foreign keys at the end of a migration."""

from django.db import migrations

from devskyy.migration_operations import ForeignKeyOnDeleteCascade, ForeignKeyOnDeleteSetNull


class Migration(migrations.Migration):
    dependencies = [("agents_audit", "0015_checkpoints")]

    operations = [
        ForeignKeyOnDeleteCascade(model_name="checkpoint", field_name="thread"),
        ForeignKeyOnDeleteCascade(model_name="checkpointblob", field_name="thread"),
        ForeignKeyOnDeleteCascade(model_name="checkpointwrite", field_name="thread"),
        ForeignKeyOnDeleteSetNull(model_name="checkpointthread", field_name="owner"),
    ]
