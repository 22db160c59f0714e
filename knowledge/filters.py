from __future__ import annotations

import django_filters

from knowledge.models import RAGDocument, Source


class RAGDocumentFilter(django_filters.FilterSet):
    """Each filter leads an index (see RAGDocument.Meta.indexes)."""

    source_path = django_filters.CharFilter(max_length=500)
    content_hash = django_filters.CharFilter(max_length=64)
    embedding_model = django_filters.CharFilter(max_length=100)
    # the source's document_id: its unique index, then rag_documents_parent_chunk_key
    parent = django_filters.CharFilter(
        field_name="parent__document_id",
        max_length=80,
        label="The chunks of this document (its `document_id`, as ingested).",
    )

    class Meta:
        model = RAGDocument
        fields = ["source_path", "content_hash", "embedding_model", "parent"]


class SourceFilter(django_filters.FilterSet):
    """Both use rag_sources_source_path_idx (varchar_pattern_ops: exact and prefix)."""

    source_path = django_filters.CharFilter(max_length=500, label="Exactly this source path.")
    source_path_prefix = django_filters.CharFilter(
        field_name="source_path",
        lookup_expr="startswith",
        max_length=500,
        label="Source paths that start with this (e.g. `docs/`).",
    )

    class Meta:
        model = Source
        fields = ["source_path", "source_path_prefix"]
