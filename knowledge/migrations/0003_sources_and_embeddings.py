"""Ingested documents (``rag_sources``), chunk vectors (``rag_embeddings``, with one HNSW index per
registered embedding model) and the pgvector extension.

``rag_documents`` gets a nullable ``parent_id`` (a catalogue-only change) here; its indexes are
built CONCURRENTLY in 0005. The new tables are empty, so their indexes are built in place.
"""

import uuid

import django.contrib.postgres.functions
import django.contrib.postgres.indexes
import django.db.models.deletion
import django.db.models.functions.comparison
import pgvector.django.indexes
import pgvector.django.vector
from django.conf import settings
from django.db import migrations, models
from pgvector.django import VectorExtension

import devskyy.models
from devskyy.migration_operations import UpdatedAtTrigger


class Migration(migrations.Migration):
    dependencies = [
        ("knowledge", "0002_keyset_indexes"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        VectorExtension(),
        migrations.CreateModel(
            name="Source",
            fields=[
                (
                    "id",
                    models.UUIDField(
                        db_default=django.contrib.postgres.functions.RandomUUID(),
                        default=uuid.uuid4,
                        editable=False,
                        primary_key=True,
                        serialize=False,
                    ),
                ),
                (
                    "created_at",
                    models.DateTimeField(db_default=devskyy.models.DatabaseNow(), editable=False),
                ),
                (
                    "updated_at",
                    models.DateTimeField(db_default=devskyy.models.DatabaseNow(), editable=False),
                ),
                ("document_id", models.CharField(max_length=100)),
                ("source_path", models.CharField(blank=True, max_length=500, null=True)),
                (
                    "metadata",
                    models.JSONField(
                        blank=True,
                        db_default=models.Value({}, output_field=models.JSONField()),
                        default=devskyy.models.empty_json_object,
                    ),
                ),
                (
                    "text_hash",
                    models.CharField(help_text="SHA-256 of the whole text, hex", max_length=64),
                ),
                ("char_count", models.IntegerField(db_default=0)),
                ("total_chunks", models.IntegerField(db_default=0)),
                ("chunk_size", models.IntegerField(help_text="Target chunk size in characters")),
                (
                    "chunk_overlap",
                    models.IntegerField(help_text="Overlap between chunks of one long paragraph"),
                ),
                (
                    "created_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="knowledge_sources",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            options={
                "verbose_name": "knowledge source",
                "db_table": "rag_sources",
                "ordering": ["document_id"],
                "indexes": [
                    models.Index(
                        django.contrib.postgres.indexes.OpClass(
                            "source_path", name="varchar_pattern_ops"
                        ),
                        name="rag_sources_source_path_idx",
                    ),
                    models.Index(fields=["created_at"], name="rag_sources_created_idx"),
                ],
                "constraints": [
                    models.UniqueConstraint(
                        fields=("document_id",), name="rag_sources_document_id_key"
                    ),
                    models.CheckConstraint(
                        condition=models.Q(("total_chunks__gte", 0)),
                        name="rag_sources_total_chunks_not_negative",
                    ),
                    models.CheckConstraint(
                        condition=models.Q(("char_count__gte", 0)),
                        name="rag_sources_char_count_not_negative",
                    ),
                ],
            },
        ),
        UpdatedAtTrigger(table="rag_sources"),
        migrations.CreateModel(
            name="ChunkEmbedding",
            fields=[
                ("id", models.BigAutoField(primary_key=True, serialize=False)),
                ("model", models.CharField(max_length=100)),
                (
                    "content_hash",
                    models.CharField(
                        help_text="SHA-256 of the chunk content this vector was computed from",
                        max_length=64,
                    ),
                ),
                ("embedding", pgvector.django.vector.VectorField()),
                (
                    "created_at",
                    models.DateTimeField(db_default=devskyy.models.DatabaseNow(), editable=False),
                ),
                (
                    "chunk",
                    models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="embeddings",
                        to="knowledge.ragdocument",
                    ),
                ),
            ],
            options={
                "verbose_name": "chunk embedding",
                "db_table": "rag_embeddings",
                "indexes": [
                    models.Index(
                        fields=["model", "content_hash"], name="rag_embeddings_model_hash_idx"
                    ),
                    pgvector.django.indexes.HnswIndex(
                        django.contrib.postgres.indexes.OpClass(
                            django.db.models.functions.comparison.Cast(
                                "embedding", pgvector.django.vector.VectorField(dimensions=384)
                            ),
                            name="vector_cosine_ops",
                        ),
                        condition=models.Q(("model", "all-MiniLM-L6-v2")),
                        ef_construction=64,
                        m=16,
                        name="rag_emb_minilm_l6_v2_hnsw",
                    ),
                    pgvector.django.indexes.HnswIndex(
                        django.contrib.postgres.indexes.OpClass(
                            django.db.models.functions.comparison.Cast(
                                "embedding", pgvector.django.vector.VectorField(dimensions=1536)
                            ),
                            name="vector_cosine_ops",
                        ),
                        condition=models.Q(("model", "text-embedding-3-small")),
                        ef_construction=64,
                        m=16,
                        name="rag_emb_oai_3_small_hnsw",
                    ),
                ],
                "constraints": [
                    models.UniqueConstraint(
                        fields=("chunk", "model"), name="rag_embeddings_chunk_model_key"
                    ),
                    models.CheckConstraint(
                        condition=models.Q(
                            ("model__in", ["all-MiniLM-L6-v2", "text-embedding-3-small"])
                        ),
                        name="rag_embeddings_model_registered",
                    ),
                ],
            },
        ),
        migrations.AddField(
            model_name="ragdocument",
            name="parent",
            field=models.ForeignKey(
                blank=True,
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.DO_NOTHING,
                related_name="chunks",
                to="knowledge.source",
            ),
        ),
    ]
