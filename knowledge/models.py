"""The RAG knowledge base.

- ``Source`` (``rag_sources``): one ingested document: its id, source path, metadata and the hash
  of its whole text. The unit of ingestion, locked while its chunks are replaced.
- ``RAGDocument`` (seed 001's ``rag_documents``): one row per chunk, ``document_id`` =
  ``<source document_id>-chunk-<i>``. devskyy adds ``parent_id`` (its source; one chunk per
  (parent, chunk_index)) and ``search_vector`` (a generated ``tsvector`` for full-text search).
- ``ChunkEmbedding`` (``rag_embeddings``): a chunk's vector under one embedding model; each model
  has its own partial HNSW index (see ``knowledge.embedding_models``).
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.postgres.indexes import GinIndex, OpClass
from django.contrib.postgres.search import SearchVector, SearchVectorField
from django.db import models
from django.db.models import Q
from django.db.models.functions import Cast
from pgvector.django import HnswIndex, VectorField

from devskyy.models import DatabaseNow, TimestampedModel, metadata_field
from knowledge.embedding_models import EMBEDDING_MODELS

# The text search configuration of ``rag_documents.search_vector`` (fixed in the generated
# column's expression; queries must use the same one).
TEXT_SEARCH_CONFIG = "english"


class Source(TimestampedModel):
    """One ingested document; its chunks are ``RAGDocument`` rows whose ``parent`` it is."""

    document_id = models.CharField(max_length=100)
    source_path = models.CharField(max_length=500, null=True, blank=True)  # noqa: DJ001
    metadata = metadata_field()
    text_hash = models.CharField(max_length=64, help_text="SHA-256 of the whole text, hex")
    char_count = models.IntegerField(db_default=0)
    total_chunks = models.IntegerField(db_default=0)
    chunk_size = models.IntegerField(help_text="Target chunk size in characters")
    chunk_overlap = models.IntegerField(help_text="Overlap between chunks of one long paragraph")
    # Who ingested it first: agents re-ingest and delete only their own sources; operators any.
    # ON DELETE SET NULL in the database (migration 0004).
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.DO_NOTHING,
        null=True,
        blank=True,
        related_name="knowledge_sources",
    )

    class Meta:
        db_table = "rag_sources"
        verbose_name = "knowledge source"
        ordering = ["document_id"]
        constraints = [
            models.UniqueConstraint(fields=["document_id"], name="rag_sources_document_id_key"),
            models.CheckConstraint(
                condition=Q(total_chunks__gte=0), name="rag_sources_total_chunks_not_negative"
            ),
            models.CheckConstraint(
                condition=Q(char_count__gte=0), name="rag_sources_char_count_not_negative"
            ),
        ]
        indexes = [
            # exact and prefix (LIKE 'p%') matches whatever the database's collation
            models.Index(
                OpClass("source_path", name="varchar_pattern_ops"),
                name="rag_sources_source_path_idx",
            ),
            models.Index(fields=["created_at"], name="rag_sources_created_idx"),
            # The admin's list, grouped by path (the pattern index above cannot order).
            models.Index(fields=["source_path", "document_id"], name="rag_sources_path_order_idx"),
        ]

    def __str__(self) -> str:
        return self.document_id


class RAGDocument(TimestampedModel):
    document_id = models.CharField(max_length=100)
    source_path = models.CharField(max_length=500, null=True, blank=True)  # noqa: DJ001
    content = models.TextField()
    content_hash = models.CharField(max_length=64, help_text="SHA-256 of content, hex")
    chunk_index = models.IntegerField(null=True, blank=True)
    total_chunks = models.IntegerField(null=True, blank=True)
    embedding_model = models.CharField(max_length=100, null=True, blank=True)  # noqa: DJ001
    metadata = metadata_field()
    # devskyy's columns beyond the seed (nullable or generated: raw writers that know only the
    # seed's columns are unaffected). ON DELETE CASCADE in the database (migration 0004).
    parent = models.ForeignKey(
        Source,
        on_delete=models.DO_NOTHING,
        null=True,
        blank=True,
        related_name="chunks",
        db_index=False,  # rag_documents_parent_chunk_key leads with parent_id
    )
    search_vector = models.GeneratedField(
        expression=SearchVector("content", config=TEXT_SEARCH_CONFIG),
        output_field=SearchVectorField(),
        db_persist=True,
    )

    class Meta:
        db_table = "rag_documents"
        verbose_name = "RAG document chunk"
        ordering = ["document_id"]
        constraints = [
            models.UniqueConstraint(fields=["document_id"], name="rag_documents_document_id_key"),
            models.UniqueConstraint(
                fields=["parent", "chunk_index"], name="rag_documents_parent_chunk_key"
            ),
            models.CheckConstraint(
                condition=Q(chunk_index__gte=0), name="rag_documents_chunk_index_not_negative"
            ),
            models.CheckConstraint(
                condition=Q(total_chunks__gte=1), name="rag_documents_total_chunks_positive"
            ),
            models.CheckConstraint(
                condition=Q(chunk_index__lt=models.F("total_chunks")),
                name="rag_documents_chunk_index_in_range",
            ),
        ]
        indexes = [
            models.Index(fields=["source_path", "created_at"], name="rag_docs_source_created_idx"),
            models.Index(fields=["content_hash"], name="rag_docs_content_hash_idx"),
            models.Index(
                fields=["embedding_model", "created_at"], name="rag_docs_embedding_model_idx"
            ),
            models.Index(fields=["created_at"], name="rag_docs_created_idx"),
            # source_path prefix filters (LIKE 'p%') whatever the database's collation
            models.Index(
                OpClass("source_path", name="varchar_pattern_ops"),
                name="rag_docs_source_prefix_idx",
            ),
            GinIndex(fields=["search_vector"], name="rag_docs_search_vector_idx"),
            # metadata filters: containment (@>) for equality and ``in``
            GinIndex(OpClass("metadata", name="jsonb_path_ops"), name="rag_docs_metadata_idx"),
        ]

    def __str__(self) -> str:
        return self.document_id


class ChunkEmbedding(models.Model):
    """A chunk's vector under one embedding model (``model``), computed from ``content_hash``."""

    id = models.BigAutoField(primary_key=True)
    chunk = models.ForeignKey(
        RAGDocument,
        on_delete=models.DO_NOTHING,  # ON DELETE CASCADE in the database (migration 0004)
        related_name="embeddings",
        db_index=False,  # rag_embeddings_chunk_model_key leads with chunk_id
    )
    model = models.CharField(max_length=100)
    content_hash = models.CharField(
        max_length=64, help_text="SHA-256 of the chunk content this vector was computed from"
    )
    # No fixed dimension: each model's rows are cast to its own in that model's index.
    embedding = VectorField()
    created_at = models.DateTimeField(db_default=DatabaseNow(), editable=False)

    class Meta:
        db_table = "rag_embeddings"
        verbose_name = "chunk embedding"
        constraints = [
            models.UniqueConstraint(
                fields=["chunk", "model"], name="rag_embeddings_chunk_model_key"
            ),
            models.CheckConstraint(
                condition=Q(model__in=sorted(EMBEDDING_MODELS)),
                name="rag_embeddings_model_registered",
            ),
        ]
        indexes = [
            models.Index(fields=["model", "content_hash"], name="rag_embeddings_model_hash_idx"),
            *(
                HnswIndex(
                    OpClass(
                        Cast("embedding", VectorField(dimensions=spec.dimensions)),
                        name="vector_cosine_ops",
                    ),
                    name=spec.index_name,
                    condition=Q(model=spec.name),
                    m=16,
                    ef_construction=64,
                )
                for spec in EMBEDDING_MODELS.values()
            ),
        ]

    def __str__(self) -> str:
        return f"{self.chunk_id} ({self.model})"
