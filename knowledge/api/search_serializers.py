"""The search endpoint's request and response, and the OpenAPI schema of the filter language."""

from __future__ import annotations

import copy
from typing import Any

from drf_spectacular.extensions import OpenApiSerializerFieldExtension
from drf_spectacular.plumbing import ResolvedComponent
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from devskyy.api.serializers import JSONNumberField, StrictInputSerializer
from knowledge.embedding_models import EMBEDDING_MODELS
from knowledge.search import MAX_K, MAX_QUERY_LENGTH, MODES
from knowledge.search_filters import (
    MAX_CONDITIONS,
    MAX_DEPTH,
    MAX_DOCUMENT_ID_LENGTH,
    MAX_LIST_ITEMS,
    MAX_SOURCE_PATH_LENGTH,
    MAX_STRING_LENGTH,
)


class SearchFiltersField(serializers.Field):
    """A filters object; ``knowledge.search_filters`` validates what is inside (a 400 whose
    messages name the path of each bad part)."""

    default_error_messages = {"not_an_object": "Must be a JSON object."}

    def to_internal_value(self, data: Any) -> Any:
        if not isinstance(data, dict):
            self.fail("not_an_object")
        return data

    def to_representation(self, value: Any) -> Any:
        return value


DIMENSIONS = sorted({model.dimensions for model in EMBEDDING_MODELS.values()})


@extend_schema_field(
    {
        "type": "array",
        "items": {"type": "number", "format": "double"},
        "nullable": True,
        # one of the registered models' dimensions; which one depends on the model searched
        "anyOf": [{"minItems": dims, "maxItems": dims} for dims in DIMENSIONS],
    }
)
class QueryVectorField(serializers.ListField):
    """A query embedding; its length is checked against the model searched by the search."""


class SearchRequestSerializer(StrictInputSerializer):
    query = serializers.CharField(
        max_length=MAX_QUERY_LENGTH,
        help_text='What to look for. Full text reads it with web-search syntax (`"exact '
        'phrase"`, `or`, `-excluded`); the vector leg embeds it (or uses `query_vector`).',
    )
    k = serializers.IntegerField(
        min_value=1, max_value=MAX_K, default=10, help_text="How many hits, at most."
    )
    mode = serializers.ChoiceField(
        choices=MODES,
        default="hybrid",
        help_text="`fulltext`, `vector`, or `hybrid` (both, fused by reciprocal rank).",
    )
    filters = SearchFiltersField(
        required=False,
        help_text="Which chunks may be found; the same language in every mode.",
    )
    min_score = JSONNumberField(
        required=False,
        allow_null=True,
        default=None,
        help_text="Drop hits scoring below this, on the mode's scale: `vector` cosine "
        "similarity (-1 to 1), `fulltext` ts_rank_cd normalised to [0, 1), `hybrid` the RRF "
        "score (at most 2/61). Not applied after a fallback to full text.",
    )
    query_vector = QueryVectorField(
        child=JSONNumberField(),
        required=False,
        allow_null=True,
        default=None,
        min_length=min(DIMENSIONS),
        max_length=max(DIMENSIONS),
        help_text="Your own embedding of the query, of the search model's dimension "
        "(`filters.embedding_model`, else the server's model); not all zeros. Without it the "
        "server embeds `query` when it can, else searches full text only.",
    )


class LegScoreSerializer(serializers.Serializer):
    """A hit's place in one leg of the search."""

    rank = serializers.IntegerField(help_text="1-based, among the leg's candidates.")
    score = serializers.FloatField(
        help_text="`fulltext`: ts_rank_cd normalised to [0, 1); `vector`: cosine similarity."
    )


class SearchHitSerializer(serializers.Serializer):
    """A chunk found, with its score in the mode used and in each leg that found it."""

    id = serializers.UUIDField()
    document_id = serializers.CharField(help_text="The chunk's id: `<document>-chunk-<i>`.")
    parent_document_id = serializers.CharField(
        allow_null=True, help_text="The ingested document the chunk belongs to."
    )
    source_path = serializers.CharField(allow_null=True)
    chunk_index = serializers.IntegerField(allow_null=True)
    total_chunks = serializers.IntegerField(allow_null=True)
    content = serializers.CharField()
    # JSONField, not DictField: a row a raw SQL writer made may hold any JSON here.
    metadata = serializers.JSONField(help_text="The chunk's metadata (an object).")
    embedding_model = serializers.CharField(
        allow_null=True, help_text="The model of the chunk's vector; null without one."
    )
    score = serializers.FloatField(help_text="The mode's score (see `min_score`).")
    rank = serializers.IntegerField(help_text="1-based position in `results`.")
    fulltext = LegScoreSerializer(
        allow_null=True, help_text="Null if the full-text leg did not find this chunk."
    )
    vector = LegScoreSerializer(
        allow_null=True, help_text="Null if the vector leg did not find this chunk."
    )


class SearchResponseSerializer(serializers.Serializer):
    """The hits, best first, and how they were found."""

    results = SearchHitSerializer(many=True, source="hits")
    mode = serializers.ChoiceField(choices=MODES, help_text="The mode used.")
    requested_mode = serializers.ChoiceField(choices=MODES)
    fallback_reason = serializers.CharField(
        allow_null=True,
        help_text="Why a vector or hybrid search ran as full text (no query vector); "
        "null otherwise.",
    )
    embedding_model = serializers.CharField(
        allow_null=True, help_text="The vector leg's model; null without a vector leg."
    )


# --- OpenAPI: the filter language as recursive components ---------------------------------

_SCALAR: list[dict[str, Any]] = [
    {"type": "string", "maxLength": MAX_STRING_LENGTH, "nullable": True},
    {"type": "number"},
    {"type": "boolean"},
]
_RANGE_OPERAND: list[dict[str, Any]] = [
    {"type": "string", "maxLength": MAX_STRING_LENGTH},
    {"type": "number"},
]
_SCALARS = {
    "type": "array",
    "minItems": 1,
    "maxItems": MAX_LIST_ITEMS,
    "items": {"oneOf": _SCALAR},
}


def _text_or_in(max_length: int, *, prefix: bool) -> dict[str, Any]:
    text = {"type": "string", "minLength": 1, "maxLength": max_length}
    forms: list[dict[str, Any]] = [
        text,
        {
            "type": "object",
            "additionalProperties": False,
            "required": ["in"],
            "properties": {
                "in": {"type": "array", "minItems": 1, "maxItems": MAX_LIST_ITEMS, "items": text}
            },
        },
    ]
    if prefix:
        forms.insert(
            1,
            {
                "type": "object",
                "additionalProperties": False,
                "required": ["prefix"],
                "properties": {"prefix": text},
            },
        )
    return {"oneOf": forms}


def _filter_properties(*, top_level: bool) -> dict[str, Any]:
    nested = {"$ref": "#/components/schemas/SearchFilter"}
    junction = {"type": "array", "minItems": 1, "maxItems": MAX_CONDITIONS, "items": nested}
    properties: dict[str, Any] = {
        "source_path": {
            **_text_or_in(MAX_SOURCE_PATH_LENGTH, prefix=True),
            "description": 'The chunk\'s source path: exact, `{"prefix": ...}` or `{"in": [...]}`.',
        },
        "document_id": {
            **_text_or_in(MAX_DOCUMENT_ID_LENGTH, prefix=False),
            "description": 'The ingested document (its `document_id`), or `{"in": [...]}`.',
        },
        "metadata": {
            "type": "object",
            "maxProperties": MAX_CONDITIONS,
            "additionalProperties": {"$ref": "#/components/schemas/SearchMetadataCondition"},
            "description": "Per metadata key (`^[A-Za-z_][A-Za-z0-9_.-]{0,63}$`): a value "
            "(equality) or operators.",
        },
        "and": {**junction, "description": "Every filter matches."},
        "or": {**junction, "description": "At least one filter matches."},
        "not": {**nested, "description": "The filter does not match."},
    }
    if top_level:
        properties["embedding_model"] = {
            "type": "string",
            "enum": sorted(EMBEDDING_MODELS),
            "description": "Chunks with a current vector under this model; the vector leg "
            "searches this model's vectors.",
        }
    return properties


_LANGUAGE = (
    "Keys at one level are ANDed; `{}` matches every chunk. At most "
    f"{MAX_DEPTH} levels and {MAX_CONDITIONS} conditions in all."
)

FILTER_COMPONENTS: dict[str, dict[str, Any]] = {
    "SearchFilters": {
        "type": "object",
        "additionalProperties": False,
        "properties": _filter_properties(top_level=True),
        "description": "Which chunks a search may return. " + _LANGUAGE,
    },
    "SearchFilter": {
        "type": "object",
        "additionalProperties": False,
        "properties": _filter_properties(top_level=False),
        "description": "A nested filter (as SearchFilters, without `embedding_model`).",
    },
    "SearchMetadataCondition": {
        "oneOf": [*_SCALAR, {"$ref": "#/components/schemas/SearchMetadataOperators"}],
        "description": "A value (the key equals it) or an object of operators.",
    },
    "SearchMetadataOperators": {
        "type": "object",
        "additionalProperties": False,
        "minProperties": 1,
        "description": "Operators on one metadata key, ANDed. `ne` and `nin` also match "
        "chunks without the key; ranges compare numbers with numbers and strings with "
        "strings (by code point); `contains`: the value is a list holding this one.",
        "properties": {
            "eq": {"oneOf": _SCALAR},
            "ne": {"oneOf": _SCALAR},
            "in": _SCALARS,
            "nin": _SCALARS,
            **{op: {"oneOf": _RANGE_OPERAND} for op in ("gt", "gte", "lt", "lte")},
            "exists": {"type": "boolean"},
            "contains": {"oneOf": _SCALAR},
        },
    },
}


class SearchFiltersFieldExtension(OpenApiSerializerFieldExtension):
    target_class = SearchFiltersField

    def map_serializer_field(self, auto_schema: Any, direction: Any) -> Any:
        for name, schema in FILTER_COMPONENTS.items():
            # A copy: drf-spectacular's enum hook rewrites schemas in place (the model enum
            # becomes a reference to a component), and each generation needs the original.
            auto_schema.registry.register_on_missing(
                ResolvedComponent(
                    name=name,
                    type=ResolvedComponent.SCHEMA,
                    object=name,
                    schema=copy.deepcopy(schema),
                )
            )
        return {"$ref": "#/components/schemas/SearchFilters"}
