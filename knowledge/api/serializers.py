from __future__ import annotations

from typing import Any

from django.conf import settings
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from devskyy.api.serializers import (
    JSONNumberField,
    JSONObjectField,
    QueryParametersSerializer,
    StrictInputSerializer,
)
from devskyy.json_codec import INT64_MAX, INT64_MIN
from knowledge.chunking import MAX_CHUNK_SIZE, MIN_CHUNK_SIZE
from knowledge.embedding_models import EMBEDDING_MODELS, MAX_INDEXED_DIMENSIONS
from knowledge.models import RAGDocument, Source
from knowledge.services import IngestResult
from knowledge.services.ingest import EMBEDDING_STATUSES
from knowledge.services.inputs import (
    DOCUMENT_ID_MAX_LENGTH,
    DOCUMENT_ID_REGEX,
    METADATA_MAX_KEYS,
    METADATA_MAX_LIST,
    METADATA_MAX_STRING,
    SOURCE_PATH_MAX_LENGTH,
)


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


def _scalar_schemas() -> list[dict[str, Any]]:
    return [
        {"type": "string", "maxLength": METADATA_MAX_STRING},
        {"type": "integer", "minimum": INT64_MIN, "maximum": INT64_MAX},
        {"type": "number", "minimum": INT64_MIN, "maximum": -INT64_MIN, "exclusiveMaximum": True},
        {"type": "boolean"},
    ]


@extend_schema_field(
    {
        "type": "object",
        "maxProperties": METADATA_MAX_KEYS,
        "additionalProperties": {
            "nullable": True,
            "anyOf": [
                *_scalar_schemas(),
                {
                    "type": "array",
                    "maxItems": METADATA_MAX_LIST,
                    "items": {"nullable": True, "anyOf": _scalar_schemas()},
                },
            ],
        },
        "description": f"Flat metadata, copied onto every chunk (where search filters it): at "
        f"most {METADATA_MAX_KEYS} keys of 1 to 64 letters, digits, `_`, `.` or `-` "
        "(starting with a letter or `_`; `parent_doc_id` is reserved); values are strings (at "
        f"most {METADATA_MAX_STRING} characters), numbers, booleans, null or lists of at most "
        f"{METADATA_MAX_LIST} of those; at most 16 KB as JSON. A key or size the rules refuse "
        "is a 400 under `metadata`.",
    }
)
class MetadataField(JSONObjectField):
    """A source's metadata (checked by ``knowledge.services.validate_metadata``)."""


class IngestChunkSerializer(StrictInputSerializer):
    """One chunk of a pre-chunked document, with its vector if you computed it."""

    content = serializers.CharField(
        max_length=MAX_CHUNK_SIZE, help_text="The chunk's text (outer whitespace is dropped)."
    )
    embedding = serializers.ListField(
        child=JSONNumberField(),
        min_length=1,
        max_length=MAX_INDEXED_DIMENSIONS,
        required=False,
        allow_null=True,
        help_text="Its vector under `embedding_model`: exactly that model's dimensions (384 for "
        "all-MiniLM-L6-v2, 1536 for text-embedding-3-small), finite, of length between 1e-12 "
        "and 1e12 (compared in single precision). Give one for every chunk or for none.",
    )


class IngestSerializer(StrictInputSerializer):
    """A document to ingest: its `text`, which the server splits into chunks, or its `chunks`
    (pre-chunked, optionally with vectors)."""

    document_id = serializers.RegexField(
        rf"\A{DOCUMENT_ID_REGEX}\Z",
        max_length=DOCUMENT_ID_MAX_LENGTH,
        trim_whitespace=False,
        help_text="Your id for the document (its chunks are `<document_id>-chunk-<i>`).",
        error_messages={
            "invalid": "Use 1 to 80 letters, digits, '.', '_', ':', '@', '+' or '-', starting "
            "with a letter or digit."
        },
    )
    text = serializers.CharField(
        required=False,
        max_length=settings.KNOWLEDGE_MAX_DOCUMENT_CHARS,
        help_text=f"The whole document (at most {settings.KNOWLEDGE_MAX_DOCUMENT_CHARS} "
        f"characters, and at most {settings.KNOWLEDGE_MAX_CHUNKS} chunks once split). Give "
        "`text` or `chunks`.",
    )
    chunks = IngestChunkSerializer(
        many=True,
        required=False,
        allow_empty=False,
        max_length=settings.KNOWLEDGE_MAX_CHUNKS,  # type: ignore[call-arg]
        help_text="The document already split, in order. Give `text` or `chunks`.",
    )
    source_path = serializers.CharField(
        max_length=SOURCE_PATH_MAX_LENGTH,
        required=False,
        allow_null=True,
        help_text="Where the document comes from (a path or URL); filters match it exactly or "
        "by prefix.",
    )
    metadata = MetadataField(required=False)
    chunk_size = serializers.IntegerField(
        min_value=MIN_CHUNK_SIZE,
        max_value=MAX_CHUNK_SIZE,
        required=False,
        help_text="With `text`: the target chunk size in characters (default 1000).",
    )
    chunk_overlap = serializers.IntegerField(
        min_value=0,
        max_value=MAX_CHUNK_SIZE // 2,
        required=False,
        help_text="With `text`: characters shared by consecutive chunks of one long paragraph "
        "(default 100, at most half of `chunk_size`).",
    )
    embedding_model = serializers.ChoiceField(
        choices=sorted(EMBEDDING_MODELS),
        required=False,
        help_text="The model of the vectors: with `text`, one the server computes; with "
        "`chunks`, the model of the embeddings you send. Default: the server's active model.",
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if "chunks" in attrs:
            only_text = [name for name in ("chunk_size", "chunk_overlap") if name in attrs]
            if only_text:
                raise serializers.ValidationError(
                    {
                        name: serializers.ErrorDetail(
                            "Only with `text`: chunks are stored as you sent them.",
                            code="only_with_text",
                        )
                        for name in only_text
                    }
                )
        return attrs


class IngestResultSerializer(serializers.Serializer):
    """What an ingest did: chunks added, updated (new content at an index), unchanged (kept,
    not embedded again) and deleted, and how the vectors were obtained."""

    document_id = serializers.CharField()
    created = serializers.BooleanField(help_text="Whether this ingest created the document.")
    added = serializers.IntegerField()
    updated = serializers.IntegerField()
    unchanged = serializers.IntegerField()
    deleted = serializers.IntegerField()
    total_chunks = serializers.IntegerField()
    embedded = serializers.IntegerField(help_text="Vectors the server computed for this ingest.")
    embedding_model = serializers.CharField(allow_null=True)
    embedding_status = serializers.ChoiceField(
        choices=EMBEDDING_STATUSES,
        help_text="`computed` (the server embedded new content), `reused` (every vector was "
        "already stored), `client` (your vectors), `skipped` (the server cannot embed: "
        "chunks without vectors are found by full-text search only; see "
        "`embedding_skipped_reason`).",
    )
    embedding_skipped_reason = serializers.CharField(allow_null=True)


def ingest_result_body(result: IngestResult) -> dict[str, Any]:
    return {
        "document_id": result.source.document_id,
        "created": result.created,
        **result.counts(),
        "total_chunks": result.source.total_chunks,
        "embedded": result.embedded,
        "embedding_model": result.embedding_model,
        "embedding_status": result.embedding_status,
        "embedding_skipped_reason": result.embedding_skipped_reason,
    }


class SourceSerializer(serializers.ModelSerializer[Source]):
    """An ingested document; its chunks are listed by `GET /api/v1/documents/?parent=<id>`."""

    class Meta:
        model = Source
        fields = [
            "id",
            "document_id",
            "source_path",
            "metadata",
            "total_chunks",
            "char_count",
            "text_hash",
            "chunk_size",
            "chunk_overlap",
            "created_by",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields
        extra_kwargs = {
            "total_chunks": {"help_text": "How many chunks it has."},
            "chunk_size": {"help_text": "0 for a document sent pre-chunked."},
            "created_by": {
                "help_text": "The user who ingested it first (agents change only their own)."
            },
        }


class DeletedSourceSerializer(serializers.Serializer):
    """A deleted document: its chunks and their vectors went with it."""

    document_id = serializers.CharField()
    source_path = serializers.CharField(allow_null=True)
    chunks = serializers.IntegerField(help_text="How many chunks were deleted with it.")


class DeletedSourcesSerializer(serializers.Serializer):
    deleted = DeletedSourceSerializer(many=True)


class SourceDeleteQuerySerializer(QueryParametersSerializer):
    source_path = serializers.CharField(
        max_length=SOURCE_PATH_MAX_LENGTH,
        required=False,
        help_text="Delete the documents with exactly this source path.",
    )
    source_path_prefix = serializers.CharField(
        max_length=SOURCE_PATH_MAX_LENGTH,
        required=False,
        help_text="Delete the documents whose source path starts with this.",
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if len(attrs) != 1:
            message = (
                "Give source_path or source_path_prefix, not both."
                if attrs
                else "Give source_path or source_path_prefix."
            )
            raise serializers.ValidationError(
                {"source_path": serializers.ErrorDetail(message, code="required")}
            )
        return attrs
