"""Indexes for the API's filters and keyset pagination.

Indexes are built and dropped CONCURRENTLY (no write lock on a big table), so this migration is
not atomic; new composites are built before the single-column ones they replace are dropped.
"""

from django.contrib.postgres.operations import AddIndexConcurrently, RemoveIndexConcurrently
from django.db import migrations, models


class Migration(migrations.Migration):
    atomic = False

    dependencies = [("knowledge", "0001_initial")]

    operations = [
        AddIndexConcurrently(
            model_name="ragdocument",
            index=models.Index(
                fields=["source_path", "created_at"], name="rag_docs_source_created_idx"
            ),
        ),
        AddIndexConcurrently(
            model_name="ragdocument",
            index=models.Index(
                fields=["embedding_model", "created_at"], name="rag_docs_embedding_model_idx"
            ),
        ),
        AddIndexConcurrently(
            model_name="ragdocument",
            index=models.Index(fields=["created_at"], name="rag_docs_created_idx"),
        ),
        RemoveIndexConcurrently(
            model_name="ragdocument",
            name="rag_docs_source_path_idx",
        ),
    ]
