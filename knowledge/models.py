"""The RAG knowledge base: seed 001's ``rag_documents`` (one row per chunk)."""

from __future__ import annotations

from django.db import models
from django.db.models import Q

from devskyy.models import TimestampedModel, metadata_field


class RAGDocument(TimestampedModel):
    document_id = models.CharField(max_length=100)
    source_path = models.CharField(max_length=500, null=True, blank=True)  # noqa: DJ001
    content = models.TextField()
    content_hash = models.CharField(max_length=64, help_text="SHA-256 of content, hex")
    chunk_index = models.IntegerField(null=True, blank=True)
    total_chunks = models.IntegerField(null=True, blank=True)
    embedding_model = models.CharField(max_length=100, null=True, blank=True)  # noqa: DJ001
    metadata = metadata_field()

    class Meta:
        db_table = "rag_documents"
        verbose_name = "RAG document chunk"
        ordering = ["document_id"]
        constraints = [
            models.UniqueConstraint(fields=["document_id"], name="rag_documents_document_id_key"),
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
        ]

    def __str__(self) -> str:
        return self.document_id
