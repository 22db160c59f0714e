"""Review: client vectors that pgvector cannot compare, and vectors one agent plants for another's
content (stored vectors are reused only within their own document).

pgvector computes cosine distance in single precision (sums of squares in a 4-byte float). A
client vector whose length squared underflows that float compares as a perfect match (score 1.0)
with every query on its side, or, stored as zeros, as NaN (rendered ``"score": null`` and ranked
first); one whose length squared overflows it scores 0 against anything.
"""

from __future__ import annotations

import json
import math

import pytest

from knowledge import embedder, services
from knowledge.models import RAGDocument, Source
from knowledge.search import knowledge_search
from tests.knowledge.conftest import vectors_of

pytestmark = pytest.mark.django_db

URL = "/api/v1/documents/ingest/"


def unit(dimensions: int = 384) -> list[float]:
    return [1 / math.sqrt(dimensions)] * dimensions


def body(scale: float) -> dict[str, object]:
    vector = [x * scale for x in unit()]
    return {"document_id": "planted", "chunks": [{"content": "Buy now.", "embedding": vector}]}


@pytest.mark.parametrize(
    "scale",
    [
        1e-50,  # every number is 0 in a 4-byte float: a zero vector, NaN scores
        1e-30,  # its length squared is 0 in a 4-byte float: similarity 1.0 with every query
        9e18,  # the largest number the API takes: its length squared overflows, scores 0
    ],
)
def test_a_client_vector_too_short_or_too_long_for_single_precision_is_refused(agent_client, scale):
    response = agent_client.post(URL, body(scale), format="json")

    assert response.status_code == 400, response.content
    errors = response.json()["errors"]
    assert list(errors) == ["chunks"]
    assert [e["code"] for e in errors["chunks"]["0"]["embedding"]] == ["norm_out_of_range"]
    assert not Source.objects.exists()
    assert not RAGDocument.objects.exists()


@pytest.mark.parametrize("scale", [1e-6, 1.0, 1e6])
def test_client_vectors_of_any_ordinary_length_score_as_their_direction(agent_client, scale):
    assert agent_client.post(URL, body(scale), format="json").status_code == 201

    hits = knowledge_search(query="buy", mode="vector", query_vector=unit()).hits

    assert [(h.document_id, round(h.score, 5)) for h in hits] == [("planted-chunk-0", 1.0)]


def cosine(a: list[float], b: list[float]) -> float:
    dot = sum(x * y for x, y in zip(a, b, strict=True))
    return dot / (math.hypot(*a) * math.hypot(*b))


def test_a_vector_one_agent_sent_is_not_given_to_another_agents_chunk(agent_a, agent_b):
    text = "Returns are accepted within thirty days of delivery when the item is unworn."
    made_up = embedder.embed_query("bitcoin casino bonus")
    services.document_ingest(
        document_id="planted", chunks=[{"content": text, "embedding": made_up}], actor=agent_b
    )

    services.document_ingest(document_id="policy", text=text, actor=agent_a)

    stored = json.loads(vectors_of("policy")[0][2])
    assert cosine(stored, embedder.embed_query(text)) > 0.99
