from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema, extend_schema_view

from commerce.models import User
from devskyy.api.viewsets import APIViewSet
from knowledge import selectors
from knowledge.api.serializers import RAGDocumentSerializer
from knowledge.filters import RAGDocumentFilter
from knowledge.models import RAGDocument


@extend_schema_view(
    list=extend_schema(
        summary="List knowledge-base chunks",
        description="Chunks of the ingested documents, newest first, with cursor pagination; "
        "filter by `source_path`, `content_hash` or `embedding_model`.",
    ),
    retrieve=extend_schema(
        summary="Get a knowledge-base chunk",
        description="One chunk by id, with its content, source and position in its document.",
    ),
)
class RAGDocumentViewSet(APIViewSet):
    """Knowledge-base chunks (one row per chunk of a source document)."""

    queryset = RAGDocument.objects.none()  # the model, for the schema; rows: get_queryset
    serializer_class = RAGDocumentSerializer
    filterset_class = RAGDocumentFilter
    roles = {"list": User.API_ROLES, "retrieve": User.API_ROLES}

    def get_queryset(self) -> Any:
        return selectors.document_chunk_list()
