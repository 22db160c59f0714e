"""A source's chunks go with it, and a chunk's vectors with the chunk (ON DELETE CASCADE), for
the ORM and raw SQL alike; a source outlives the account that ingested it (ON DELETE SET NULL). Separate from 0003 because Django creates foreign keys at the end of a
migration."""

from django.db import migrations

from devskyy.migration_operations import ForeignKeyOnDeleteCascade, ForeignKeyOnDeleteSetNull


class Migration(migrations.Migration):
    dependencies = [("knowledge", "0003_sources_and_embeddings")]

    operations = [
        ForeignKeyOnDeleteCascade(model_name="ragdocument", field_name="parent"),
        ForeignKeyOnDeleteCascade(model_name="chunkembedding", field_name="chunk"),
        ForeignKeyOnDeleteSetNull(model_name="source", field_name="created_by"),
    ]
