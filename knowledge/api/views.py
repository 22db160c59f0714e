"""The knowledge base over HTTP: chunks, ingestion and the ingested documents (sources).

Thin views over ``knowledge.services`` and ``knowledge.selectors``. An ingest computes its
vectors before its transaction (``idempotent_prepared``), then writes and renders its response
inside one.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from commerce.api.authentication import caller
from commerce.models import User
from devskyy.api.idempotency import idempotent_prepared
from devskyy.api.serializers import represent
from devskyy.api.viewsets import APIViewSet
from devskyy.api.writes import render_before_commit
from knowledge import selectors, services
from knowledge.api import serializers as s
from knowledge.filters import RAGDocumentFilter, SourceFilter
from knowledge.models import RAGDocument, Source
from knowledge.services.inputs import DOCUMENT_ID_REGEX


def _prepare_ingest(view: Any, request: Request) -> services.IngestPlan:
    """Check the body and compute the vectors it needs, outside any transaction."""
    data = s.IngestSerializer(data=request.data)
    data.is_valid(raise_exception=True)
    return services.document_ingest_prepare(**data.validated_data, actor=caller(request))


@extend_schema_view(
    list=extend_schema(
        summary="List knowledge-base chunks",
        description="Chunks of the ingested documents, newest first, with cursor pagination; "
        "filter by `parent` (a document's `document_id`), `source_path`, `content_hash` or "
        "`embedding_model`.",
    ),
    retrieve=extend_schema(
        summary="Get a knowledge-base chunk",
        description="One chunk by id, with its content, source and position in its document.",
    ),
)
class RAGDocumentViewSet(APIViewSet):
    """Knowledge-base chunks (one row per chunk of a source document)."""

    queryset = RAGDocument.objects.none()  # the model, for the schema; rows: get_queryset
    serializer_class = s.RAGDocumentSerializer
    filterset_class = RAGDocumentFilter
    roles = {"list": User.API_ROLES, "retrieve": User.API_ROLES, "ingest": User.API_ROLES}

    def get_queryset(self) -> Any:
        return selectors.document_chunk_list()

    @extend_schema(
        summary="Ingest a document",
        description="Store a document as chunks for search: send its `text` (split by the "
        "server at paragraph and sentence boundaries, `chunk_size` characters, "
        "`chunk_overlap` within long paragraphs) or its `chunks` (pre-chunked, optionally "
        "with their `embedding`s). Re-ingesting a `document_id` replaces its chunks in one "
        "transaction (searches see the old chunks or the new ones, never a mix): chunks whose "
        "content is unchanged are kept and not embedded again, changed and new ones are "
        "written, missing ones deleted; the same body twice changes nothing. The server "
        "embeds new content with its model when it can; otherwise the chunks are stored "
        "without vectors and `embedding_skipped_reason` says why. 201 when the document is "
        "new, 200 otherwise. Agents may re-ingest only the documents they ingested (else "
        "403). A rule the schema cannot state (`text` or `chunks`, not both; the chunk "
        "limit; an embedding's dimensions; metadata keys) is a 400 under its field; a "
        "document that kept changing during the ingest is a 409 `ingest_conflict`.",
        request=s.IngestSerializer,
        responses={
            201: s.IngestResultSerializer,
            200: OpenApiResponse(
                s.IngestResultSerializer, description="The document existed: what changed."
            ),
        },
    )
    @action(detail=False, methods=["post"])
    @idempotent_prepared(_prepare_ingest, again_on=services.IngestPlanStale)
    def ingest(self, request: Request, prepared: services.IngestPlan) -> Response:
        result = services.document_ingest_apply(plan=prepared, actor=caller(request))
        return Response(
            s.ingest_result_body(result),
            status=status.HTTP_201_CREATED if result.created else status.HTTP_200_OK,
        )


@extend_schema_view(
    list=extend_schema(
        summary="List ingested documents",
        description="The documents of the knowledge base, newest first, with cursor "
        "pagination and their chunk counts; filter by `source_path` (exact) or "
        "`source_path_prefix`.",
    ),
    retrieve=extend_schema(
        summary="Get an ingested document",
        description="One document by its `document_id`; its chunks: "
        "`GET /api/v1/documents/?parent=<document_id>`.",
    ),
)
class SourceViewSet(APIViewSet):
    """The ingested documents (sources of chunks)."""

    queryset = Source.objects.none()
    serializer_class = s.SourceSerializer
    filterset_class = SourceFilter
    lookup_field = "document_id"
    lookup_value_regex = DOCUMENT_ID_REGEX
    roles = {
        "list": User.API_ROLES,
        "retrieve": User.API_ROLES,
        "destroy": User.API_ROLES,
        "destroy_by_path": User.API_ROLES,
    }

    def get_queryset(self) -> Any:
        return selectors.source_list()

    @extend_schema(
        summary="Delete an ingested document",
        description="Delete the document with all its chunks and their vectors, in one "
        "transaction; the answer says what was deleted. Agents may delete only the documents "
        "they ingested (else 403).",
        responses={200: s.DeletedSourceSerializer},
    )
    @render_before_commit
    def destroy(self, request: Request, document_id: str) -> Response:
        deleted = services.document_delete(document_id=document_id, actor=caller(request))
        return Response(represent(s.DeletedSourceSerializer, deleted))

    @extend_schema(
        operation_id="sources_destroy_by_path",
        summary="Delete ingested documents by source path",
        description="Delete every document whose `source_path` is `source_path`, or starts "
        "with `source_path_prefix` (give one of them), with their chunks and vectors, in one "
        "transaction; the answer lists what was deleted (empty when nothing matched). "
        "All or nothing: an agent asking to delete a document it did not ingest gets a 403 "
        "and nothing is deleted.",
        parameters=[s.SourceDeleteQuerySerializer],
        responses={200: s.DeletedSourcesSerializer},
        filters=False,
    )
    @render_before_commit
    def destroy_by_path(self, request: Request) -> Response:
        query = s.SourceDeleteQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        path = query.validated_data.get("source_path")
        prefix = query.validated_data.get("source_path_prefix")
        deleted = services.sources_delete(
            source_path=prefix if path is None else path,
            prefix=path is None,
            actor=caller(request),
        )
        return Response(
            {"deleted": [represent(s.DeletedSourceSerializer, item) for item in deleted]}
        )
