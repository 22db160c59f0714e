from __future__ import annotations

import django_filters

from knowledge.models import RAGDocument


class RAGDocumentFilter(django_filters.FilterSet):
    """Each filter leads an index (see RAGDocument.Meta.indexes)."""

    source_path = django_filters.CharFilter(max_length=500)
    content_hash = django_filters.CharFilter(max_length=64)
    embedding_model = django_filters.CharFilter(max_length=100)

    class Meta:
        model = RAGDocument
        fields = ["source_path", "content_hash", "embedding_model"]
