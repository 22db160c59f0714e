from __future__ import annotations

from django.db.models import QuerySet

from commerce.models import User
from knowledge.models import RAGDocument


def document_chunk_list(*, viewer: User) -> QuerySet[RAGDocument]:
    """The knowledge base is shared: every API user reads every chunk."""
    return RAGDocument.objects.all()
