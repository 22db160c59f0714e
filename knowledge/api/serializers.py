from __future__ import annotations

from rest_framework import serializers

from knowledge.models import RAGDocument


class RAGDocumentSerializer(serializers.ModelSerializer[RAGDocument]):
    """One chunk of a source document, as ingested for retrieval."""

    class Meta:
        model = RAGDocument
        fields = [
            "id",
            "document_id",
            "source_path",
            "content",
            "content_hash",
            "chunk_index",
            "total_chunks",
            "embedding_model",
            "metadata",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields
