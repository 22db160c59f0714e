"""POST /api/v1/documents/ingest/: the counts, 201 then 200, idempotent bodies, per-field 400s
with nothing written, ownership, and vectors computed before the transaction."""

from __future__ import annotations

import pytest
from django.db import connection

from devskyy.models import IdempotencyRecord
from knowledge import services
from knowledge.models import ChunkEmbedding, RAGDocument, Source
from tests.conftest import error_codes
from tests.knowledge.conftest import document, paragraph, table_rows

URL = "/api/v1/documents/ingest/"
MINILM = "all-MiniLM-L6-v2"

pytestmark = pytest.mark.django_db


def post(client, body, **headers):
    return client.post(URL, body, format="json", headers=headers)


def test_a_new_document_is_a_201_with_its_counts(agent_client, agent_a, embed_spy):
    response = post(
        agent_client,
        {
            "document_id": "handbook",
            "text": document(range(3)),
            "source_path": "docs/handbook.md",
            "metadata": {"lang": "en"},
        },
    )

    assert response.status_code == 201, response.json()
    assert response.json() == {
        "document_id": "handbook",
        "created": True,
        "added": 3,
        "updated": 0,
        "unchanged": 0,
        "deleted": 0,
        "total_chunks": 3,
        "embedded": 3,
        "embedding_model": MINILM,
        "embedding_status": "computed",
        "embedding_skipped_reason": None,
    }
    assert Source.objects.get().created_by == agent_a
    assert RAGDocument.objects.count() == ChunkEmbedding.objects.count() == 3


def test_the_same_body_twice_changes_nothing(agent_client):
    body = {"document_id": "handbook", "text": document(range(3)), "metadata": {"tag": ["a"]}}
    post(agent_client, body)
    before = table_rows()

    response = post(agent_client, body)

    assert response.status_code == 200
    assert response.json() == {
        "document_id": "handbook",
        "created": False,
        "added": 0,
        "updated": 0,
        "unchanged": 3,
        "deleted": 0,
        "total_chunks": 3,
        "embedded": 0,
        "embedding_model": MINILM,
        "embedding_status": "reused",
        "embedding_skipped_reason": None,
    }
    assert table_rows() == before


def test_an_edit_reports_what_changed(agent_client, embed_spy):
    post(agent_client, {"document_id": "handbook", "text": document(range(4))})
    embed_spy.calls.clear()

    response = post(agent_client, {"document_id": "handbook", "text": document([0, 1, 9])})

    body = response.json()
    assert (body["added"], body["updated"], body["unchanged"], body["deleted"]) == (0, 1, 2, 1)
    assert (body["embedded"], body["total_chunks"]) == (1, 3)
    assert embed_spy.texts == [paragraph(9)]


def test_with_an_idempotency_key_a_retry_replays_the_first_answer(agent_client):
    body = {"document_id": "handbook", "text": document(range(2))}
    first = post(agent_client, body, **{"Idempotency-Key": "ingest-1"})
    again = post(agent_client, body, **{"Idempotency-Key": "ingest-1"})

    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"


def test_pre_chunked_content_with_vectors(agent_client):
    response = post(
        agent_client,
        {
            "document_id": "notes",
            "chunks": [
                {"content": "First.", "embedding": [0.5] * 384},
                {"content": "Second.", "embedding": [0.25] * 384},
            ],
            "embedding_model": MINILM,
        },
    )

    assert response.status_code == 201
    assert (response.json()["embedding_status"], response.json()["embedded"]) == ("client", 0)
    assert ChunkEmbedding.objects.count() == 2


@pytest.mark.parametrize(
    ("body", "errors"),
    [
        ({"document_id": "a"}, {"text": ["required"]}),
        ({"document_id": "a", "text": "x", "chunks": [{"content": "y"}]}, {"chunks": ["invalid"]}),
        ({"document_id": "a/b", "text": "x"}, {"document_id": ["invalid"]}),
        ({"document_id": "a", "text": "   "}, {"text": ["blank"]}),
        ({"document_id": "a", "text": 5}, {"text": ["invalid"]}),
        ({"document_id": "a", "text": "x", "chunk_size": 99}, {"chunk_size": ["min_value"]}),
        (
            {"document_id": "a", "text": "x", "chunk_size": 200, "chunk_overlap": 150},
            {"chunk_overlap": ["max_value"]},
        ),
        (
            {"document_id": "a", "chunks": [{"content": "y"}], "chunk_size": 500},
            {"chunk_size": ["only_with_text"]},
        ),
        (
            {"document_id": "a", "text": "x", "metadata": {"a": {"b": 1}}},
            {"metadata": ["invalid_value"]},
        ),
        ({"document_id": "a", "text": "x", "metadata": {"9": 1}}, {"metadata": ["invalid_key"]}),
        (
            {"document_id": "a", "text": "x", "metadata": {"parent_doc_id": "z"}},
            {"metadata": ["reserved_key"]},
        ),
        (
            {"document_id": "a", "text": "x", "embedding_model": "text-embedding-3-small"},
            {"embedding_model": ["client_only_model"]},
        ),
        (
            {"document_id": "a", "text": "x", "embedding_model": "nope"},
            {"embedding_model": ["invalid_choice"]},
        ),
        (
            {"document_id": "a", "chunks": []},
            {
                "chunks": {
                    "non_field_errors": [
                        {"message": "This list may not be empty.", "code": "empty"}
                    ]
                }
            },
        ),
        ({"document_id": "a", "text": "x", "extra": 1}, {"extra": ["unknown_field"]}),
    ],
)
def test_bad_input_is_a_400_under_its_field_with_nothing_written(agent_client, body, errors):
    response = post(agent_client, body)

    assert response.status_code == 400
    assert error_codes(response.json()) == errors
    assert not Source.objects.exists()


def test_a_wrong_vector_dimension_is_a_400_under_its_chunk(agent_client):
    response = post(
        agent_client,
        {
            "document_id": "notes",
            "chunks": [
                {"content": "ok", "embedding": [0.5] * 384},
                {"content": "short", "embedding": [0.5] * 3},
            ],
        },
    )

    assert response.status_code == 400
    assert response.json()["errors"] == {
        "chunks": {
            "1": {
                "embedding": [
                    {
                        "message": "all-MiniLM-L6-v2 vectors have 384 numbers; this one has 3.",
                        "code": "invalid_dimensions",
                    }
                ]
            }
        }
    }
    assert not Source.objects.exists()


def test_the_size_limits_are_400s(agent_client, settings):
    settings.KNOWLEDGE_MAX_DOCUMENT_CHARS = 500
    too_long = post(agent_client, {"document_id": "a", "text": "word " * 101})
    settings.KNOWLEDGE_MAX_DOCUMENT_CHARS = 10_000
    settings.KNOWLEDGE_MAX_CHUNKS = 2
    too_many = post(agent_client, {"document_id": "a", "text": document(range(3))})

    assert error_codes(too_long.json()) == {"text": ["max_length"]}
    assert error_codes(too_many.json()) == {"text": ["too_many_chunks"]}
    assert not Source.objects.exists()


def test_a_body_over_the_api_limit_is_a_413(agent_client, settings):
    settings.API_MAX_BODY_BYTES = 10_000

    response = post(agent_client, {"document_id": "a", "text": "word " * 3000})

    assert response.status_code == 413
    assert response.json()["code"] == "request_too_large"
    assert not Source.objects.exists()


def test_an_agent_may_not_reingest_another_agents_document(agent_client, agent_b_client):
    post(agent_client, {"document_id": "notes", "text": document(range(2))})
    before = table_rows()

    response = post(agent_b_client, {"document_id": "notes", "text": document(range(3))})

    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"
    assert table_rows() == before


def test_operators_reingest_any_document(agent_client, operator_api):
    post(agent_client, {"document_id": "notes", "text": document(range(2))})

    response = post(operator_api, {"document_id": "notes", "text": document(range(3))})

    assert (response.status_code, response.json()["added"]) == (200, 1)


def test_without_server_embeddings_the_answer_says_why(agent_client, no_server_embeddings):
    response = post(agent_client, {"document_id": "notes", "text": document(range(2))})

    assert response.status_code == 201
    body = response.json()
    assert (body["embedding_status"], body["embedding_model"], body["embedded"]) == (
        "skipped",
        None,
        0,
    )
    assert body["embedding_skipped_reason"] == (
        "server-side embeddings are turned off (KNOWLEDGE_SERVER_EMBEDDINGS=0)"
    )
    assert RAGDocument.objects.count() == 2
    assert not ChunkEmbedding.objects.exists()


def test_a_plan_outdated_under_the_lock_is_prepared_again(agent_client, monkeypatch):
    real_apply = services.document_ingest_apply
    applied = []

    def apply_losing_the_first_race(**kwargs):
        applied.append(kwargs["plan"])
        if len(applied) == 1:
            raise services.IngestPlanStale()
        return real_apply(**kwargs)

    monkeypatch.setattr(services, "document_ingest_apply", apply_losing_the_first_race)

    response = post(
        agent_client, {"document_id": "a", "text": "Some text."}, **{"Idempotency-Key": "k"}
    )

    assert response.status_code == 201
    assert len(applied) == 2
    assert applied[0] is not applied[1]  # prepared again
    assert IdempotencyRecord.objects.get().state == IdempotencyRecord.State.COMPLETED


def test_a_document_that_keeps_changing_is_a_409_and_the_key_is_released(agent_client, monkeypatch):
    def always_stale(**kwargs):
        raise services.IngestPlanStale()

    monkeypatch.setattr(services, "document_ingest_apply", always_stale)

    response = post(
        agent_client, {"document_id": "a", "text": "Some text."}, **{"Idempotency-Key": "k"}
    )

    assert response.status_code == 409
    assert response.json()["code"] == "ingest_conflict"
    assert not IdempotencyRecord.objects.exists()  # the caller may retry with the same key


@pytest.mark.django_db(transaction=True)
def test_the_vectors_are_computed_before_the_transaction_that_writes_them(
    agent_client, embed_spy, monkeypatch
):
    real_apply = services.document_ingest_apply
    inside = []

    def apply(**kwargs):
        inside.append(connection.in_atomic_block)
        return real_apply(**kwargs)

    monkeypatch.setattr(services, "document_ingest_apply", apply)

    response = post(
        agent_client, {"document_id": "a", "text": document(range(2))}, **{"Idempotency-Key": "k"}
    )

    assert response.status_code == 201
    assert embed_spy.in_transaction == [False]
    assert inside == [True]
