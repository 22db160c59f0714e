"""``rag_documents``' full-text column and the indexes that search and ingestion use.

- ``search_vector``: a stored generated ``tsvector`` (``to_tsvector('english', content)``).
  Adding a stored generated column rewrites the table under an ACCESS EXCLUSIVE lock; at the
  knowledge base's sizes (50,000 chunks: about two seconds here) that is a short pause of chunk
  writes and reads, accepted once. PostgreSQL 18's virtual generated columns cannot be indexed.
- The indexes are built CONCURRENTLY (hence ``atomic = False``), writes go on meanwhile.
- One chunk per (parent, chunk_index): the unique index is built CONCURRENTLY, then becomes the
  constraint with ``ADD CONSTRAINT ... USING INDEX`` (a catalogue change).
"""

import django.contrib.postgres.indexes
import django.contrib.postgres.search
from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import migrations, models

PARENT_CHUNK_INDEX = (
    "CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS rag_documents_parent_chunk_key "
    "ON rag_documents (parent_id, chunk_index)"
)


class Migration(migrations.Migration):
    atomic = False

    dependencies = [("knowledge", "0004_knowledge_database_rules")]

    operations = [
        migrations.AddField(
            model_name="ragdocument",
            name="search_vector",
            field=models.GeneratedField(
                db_persist=True,
                expression=django.contrib.postgres.search.SearchVector("content", config="english"),
                output_field=django.contrib.postgres.search.SearchVectorField(),
            ),
        ),
        AddIndexConcurrently(
            model_name="ragdocument",
            index=django.contrib.postgres.indexes.GinIndex(
                fields=["search_vector"], name="rag_docs_search_vector_idx"
            ),
        ),
        AddIndexConcurrently(
            model_name="ragdocument",
            index=django.contrib.postgres.indexes.GinIndex(
                django.contrib.postgres.indexes.OpClass("metadata", name="jsonb_path_ops"),
                name="rag_docs_metadata_idx",
            ),
        ),
        AddIndexConcurrently(
            model_name="ragdocument",
            index=models.Index(
                django.contrib.postgres.indexes.OpClass("source_path", name="varchar_pattern_ops"),
                name="rag_docs_source_prefix_idx",
            ),
        ),
        migrations.SeparateDatabaseAndState(
            database_operations=[
                migrations.RunSQL(
                    PARENT_CHUNK_INDEX,
                    "DROP INDEX CONCURRENTLY IF EXISTS rag_documents_parent_chunk_key",
                ),
                migrations.RunSQL(
                    "ALTER TABLE rag_documents ADD CONSTRAINT rag_documents_parent_chunk_key "
                    "UNIQUE USING INDEX rag_documents_parent_chunk_key",
                    "ALTER TABLE rag_documents DROP CONSTRAINT rag_documents_parent_chunk_key",
                ),
            ],
            state_operations=[
                migrations.AddConstraint(
                    model_name="ragdocument",
                    constraint=models.UniqueConstraint(
                        fields=("parent", "chunk_index"), name="rag_documents_parent_chunk_key"
                    ),
                ),
            ],
        ),
    ]
