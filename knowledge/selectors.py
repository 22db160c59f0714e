from __future__ import annotations

from django.db.models import QuerySet

from knowledge.models import RAGDocument, Source


def document_chunk_list() -> QuerySet[RAGDocument]:
    """The knowledge base is shared: every API user reads every chunk."""
    return RAGDocument.objects.all()


def source_list() -> QuerySet[Source]:
    """The ingested documents, shared like their chunks."""
    return Source.objects.all()
