"""POST /api/v1/search/: every API role searches; the body is checked by the serializer and the
filter language; the response carries each hit's per-leg ranks and scores."""

from __future__ import annotations

from typing import Any

import pytest
from jsonschema import Draft7Validator  # type: ignore[import-untyped]  # no stubs installed

from devskyy.models import IdempotencyRecord
from tests.conftest import error_codes
from tests.knowledge.search_corpus import Passage, insert_passages
from tests.knowledge.test_search_filters import BAD_FILTERS, CASES

pytestmark = pytest.mark.django_db

URL = "/api/v1/search/"
DIMS = 384
NEAR = [1.0] + [0.0] * (DIMS - 1)


@pytest.fixture
def corpus() -> dict[str, Any]:
    return insert_passages(
        [
            Passage(
                document_id="returns",
                source_path="policies/returns.md",
                metadata={"lang": "en"},
                chunks=["Unworn items may be returned within 30 days for a refund."],
                vectors=[NEAR],
            ),
            Passage(
                document_id="shipping",
                source_path="policies/shipping.md",
                metadata={"lang": "en"},
                chunks=["Orders over $100 ship free; a refund of shipping is not possible."],
                vectors=[[0.0, 1.0] + [0.0] * (DIMS - 2)],
            ),
        ]
    )


@pytest.mark.parametrize("caller", ["agent_client", "operator_api", "admin_api"])
def test_every_api_role_searches(request, corpus, caller):
    client = request.getfixturevalue(caller)
    response = client.post(URL, {"query": "refund", "mode": "fulltext", "k": 1}, format="json")
    assert response.status_code == 200
    chunk = corpus["returns-chunk-0"]
    assert response.json() == {
        "results": [
            {
                "id": str(chunk.id),
                "document_id": "returns-chunk-0",
                "parent_document_id": "returns",
                "source_path": "policies/returns.md",
                "chunk_index": 0,
                "total_chunks": 1,
                "content": "Unworn items may be returned within 30 days for a refund.",
                "metadata": {"lang": "en", "parent_doc_id": "returns"},
                "embedding_model": "all-MiniLM-L6-v2",
                "score": response.json()["results"][0]["score"],
                "rank": 1,
                "fulltext": {"rank": 1, "score": response.json()["results"][0]["score"]},
                "vector": None,
            }
        ],
        "mode": "fulltext",
        "requested_mode": "fulltext",
        "fallback_reason": None,
        "embedding_model": None,
    }
    assert 0 < response.json()["results"][0]["score"] < 1


def test_hybrid_hits_carry_both_legs(agent_client, corpus):
    body = agent_client.post(
        URL, {"query": "refund", "query_vector": NEAR, "k": 2}, format="json"
    ).json()
    assert (body["mode"], body["embedding_model"]) == ("hybrid", "all-MiniLM-L6-v2")
    first, second = body["results"]
    assert first["document_id"] == "returns-chunk-0"
    assert (first["fulltext"]["rank"], first["vector"]) == (1, {"rank": 1, "score": 1.0})
    assert (second["fulltext"]["rank"], second["vector"]["rank"]) == (2, 2)
    assert first["score"] == pytest.approx(2 / 61)


def test_filters_apply(agent_client, corpus):
    body = agent_client.post(
        URL,
        {
            "query": "refund",
            "mode": "fulltext",
            "filters": {"source_path": {"prefix": "policies/ship"}, "metadata": {"lang": "en"}},
        },
        format="json",
    ).json()
    assert [hit["document_id"] for hit in body["results"]] == ["shipping-chunk-0"]


def test_without_a_query_vector_the_response_says_it_fell_back(agent_client, corpus, settings):
    settings.KNOWLEDGE_SERVER_EMBEDDINGS = False
    body = agent_client.post(URL, {"query": "refund", "mode": "vector"}, format="json").json()
    assert (body["mode"], body["requested_mode"], body["embedding_model"]) == (
        "fulltext",
        "vector",
        None,
    )
    assert body["fallback_reason"] == (
        "no query vector: server-side embeddings are turned off (KNOWLEDGE_SERVER_EMBEDDINGS=0)"
    )
    assert [hit["document_id"] for hit in body["results"]] == [
        "returns-chunk-0",
        "shipping-chunk-0",
    ]


def test_bad_filters_are_a_400_naming_the_bad_part(agent_client):
    response = agent_client.post(
        URL,
        {"query": "refund", "filters": {"or": [{"metadata": {"year": {"gt3": 2024}}}]}},
        format="json",
    )
    assert response.status_code == 400
    assert response.json() == {
        "code": "invalid",
        "detail": "Invalid input.",
        "errors": {
            "filters": [
                {
                    "message": "filters.or.0.metadata.year: unknown operator 'gt3' (use eq, ne, "
                    "in, nin, gt, gte, lt, lte, exists, contains)",
                    "code": "unknown_operator",
                }
            ]
        },
    }


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"query": "x", "k": 0}, {"k": ["min_value"]}),
        ({"query": "x", "k": 101}, {"k": ["max_value"]}),
        ({"query": "x", "k": "10"}, {"k": ["invalid"]}),
        ({"query": "  "}, {"query": ["blank"]}),
        ({}, {"query": ["required"]}),
        ({"query": "x", "mode": "semantic"}, {"mode": ["invalid_choice"]}),
        ({"query": "x", "filters": []}, {"filters": ["not_an_object"]}),
        ({"query": "x", "filters": None}, {"filters": ["null"]}),
        ({"query": "x", "query_vector": [0.5] * 383}, {"query_vector": ["min_length"]}),
        ({"query": "x", "query_vector": [0.5] * 385}, {"query_vector": ["wrong_dimensions"]}),
        ({"query": "x", "query_vector": [0] * DIMS}, {"query_vector": ["zero_vector"]}),
        (
            {
                "query": "x",
                "query_vector": NEAR,
                "filters": {"embedding_model": "text-embedding-3-small"},
            },
            {"query_vector": ["wrong_dimensions"]},
        ),
        ({"query": "x", "min_score": "0.5"}, {"min_score": ["invalid"]}),
        ({"query": "x", "top_k": 5}, {"top_k": ["unknown_field"]}),
    ],
)
def test_bad_bodies_are_400s_by_field(agent_client, body, expected):
    response = agent_client.post(URL, body, format="json")
    assert response.status_code == 400
    assert error_codes(response.json()) == expected


def test_a_search_is_a_read_and_takes_no_idempotency_key(agent_client, corpus):
    for _ in range(2):
        response = agent_client.post(
            URL, {"query": "refund", "mode": "fulltext"}, format="json", HTTP_IDEMPOTENCY_KEY="k-1"
        )
        assert response.status_code == 200
        assert "Idempotent-Replayed" not in response
    assert not IdempotencyRecord.objects.exists()


def test_a_search_runs_a_constant_number_of_queries(
    agent_client, corpus, django_assert_num_queries
):
    agent_client.post(URL, {"query": "refund", "query_vector": NEAR}, format="json")  # warm
    # the API key, then: savepoint, settings, the bounded count, the search, rollback, release
    with django_assert_num_queries(7):
        response = agent_client.post(
            URL, {"query": "refund", "query_vector": NEAR, "k": 100}, format="json"
        )
    assert len(response.json()["results"]) == 2


# --- the OpenAPI document describes the filter language ---------------------------------------

# What JSON Schema cannot say here: a metadata key's pattern (keys of free-form objects), the
# depth limit (a recursive structure), numbers beyond 64 bits (refused by the JSON parser).
BEYOND_THE_SCHEMA = {"invalid_key", "too_deep", "number_out_of_range"}


@pytest.fixture(scope="module")
def filters_validator(django_db_blocker: Any) -> Any:
    from django.test import Client

    with django_db_blocker.unblock():
        document = Client().get("/api/schema/", {"format": "json"}).json()
    components = as_json_schema(document["components"]["schemas"])
    return Draft7Validator({**components["SearchFilters"], "definitions": components})


def as_json_schema(node: Any) -> Any:
    """OpenAPI 3.0's ``nullable`` and component references, in plain JSON Schema."""
    if isinstance(node, list):
        return [as_json_schema(item) for item in node]
    if not isinstance(node, dict):
        return node
    node = {key: as_json_schema(value) for key, value in node.items()}
    if "$ref" in node:
        node["$ref"] = node["$ref"].replace("#/components/schemas/", "#/definitions/")
    if node.pop("nullable", False):
        return {"anyOf": [node, {"type": "null"}]}
    return node


@pytest.mark.parametrize(("filters", "expected"), CASES, ids=[str(f) for f, _ in CASES])
def test_the_schema_accepts_every_filter_the_server_accepts(filters_validator, filters, expected):
    assert list(filters_validator.iter_errors(filters)) == []


@pytest.mark.parametrize(
    ("filters", "error"), BAD_FILTERS, ids=[str(f)[:60] for f, _ in BAD_FILTERS]
)
def test_the_schema_refuses_the_bad_filters_it_can_describe(filters_validator, filters, error):
    _, code = error
    assert filters_validator.is_valid(filters) == (code in BEYOND_THE_SCHEMA)


def test_the_document_is_the_same_each_time_it_is_generated(django_db_blocker):
    from django.test import Client

    with django_db_blocker.unblock():
        first, second = (Client().get("/api/schema/", {"format": "json"}).json() for _ in "12")
    assert first == second
    filters = second["components"]["schemas"]["SearchFilters"]
    assert filters["properties"]["embedding_model"]["allOf"] == [
        {"$ref": "#/components/schemas/EmbeddingModelEnum"}
    ]
    assert second["components"]["schemas"]["EmbeddingModelEnum"]["enum"] == [
        "all-MiniLM-L6-v2",
        "text-embedding-3-small",
    ]


def test_a_search_takes_no_idempotency_key_header(django_db_blocker):
    from django.test import Client

    with django_db_blocker.unblock():
        document = Client().get("/api/schema/", {"format": "json"}).json()
    operation = document["paths"][URL]["post"]
    assert "Idempotency-Key" not in {p["name"] for p in operation.get("parameters", [])}
    assert {"200", "400", "401", "403", "429"} <= set(operation["responses"])
