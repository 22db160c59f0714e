from __future__ import annotations

from typing import Any

from commerce.models import User
from devskyy.api.viewsets import ReadOnlyModelViewSet
from knowledge import selectors
from knowledge.api.serializers import RAGDocumentSerializer
from knowledge.filters import RAGDocumentFilter
from knowledge.models import RAGDocument


class RAGDocumentViewSet(ReadOnlyModelViewSet):
    """Knowledge-base chunks (one row per chunk of a source document)."""

    queryset = RAGDocument.objects.none()  # the model, for the schema; rows: get_queryset
    serializer_class = RAGDocumentSerializer
    filterset_class = RAGDocumentFilter
    roles = {"list": User.API_ROLES, "retrieve": User.API_ROLES}

    def get_queryset(self) -> Any:
        return selectors.document_chunk_list()
