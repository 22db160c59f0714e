"""knowledge_search: what each mode scores, reciprocal rank fusion, min_score, k, the fallback to
full text, query vectors, and the one short read-only transaction a search runs in.

Vectors here are hand-made (the client's ``query_vector``), so no test loads the real model;
tests/knowledge/test_search_ranking.py does."""

from __future__ import annotations

import logging
import math
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from devskyy.errors import FieldError, InvalidInput
from knowledge import embedder
from knowledge.search import MAX_K, RRF_K, _Search, knowledge_search
from tests.knowledge.search_corpus import Passage, insert_passages

pytestmark = pytest.mark.django_db

DIMS = 384


def axis(*weights: float) -> list[float]:
    """A unit vector with these weights on the first axes."""
    norm = math.hypot(*weights)
    return [w / norm for w in weights] + [0.0] * (DIMS - len(weights))


QUERY = axis(1.0)


@pytest.fixture
def corpus() -> dict[str, Any]:
    """A says "delivery" three times and has no vector; B says it once and is near the query;
    C never says it and points where the query does; D neither says it nor points there."""
    return insert_passages(
        [
            Passage(document_id="a", chunks=["Delivery, delivery and delivery again."]),
            Passage(
                document_id="b", chunks=["Next-day delivery by courier."], vectors=[axis(1, 0.5)]
            ),
            Passage(document_id="c", chunks=["Couriers bring parcels."], vectors=[axis(1)]),
            Passage(document_id="d", chunks=["Gift cards never expire."], vectors=[axis(0, 1)]),
        ]
    )


def search(**kwargs: Any) -> Any:
    return knowledge_search(**{"query": "delivery", "query_vector": QUERY, **kwargs})


def ids(result: Any) -> list[str]:
    return [hit.document_id.split("-chunk-")[0] for hit in result.hits]


# --- modes and scores -------------------------------------------------------------------------


def test_fulltext_finds_the_words_and_ranks_by_ts_rank_cd(corpus):
    result = search(mode="fulltext")
    assert (result.mode, result.requested_mode, result.fallback_reason) == ("fulltext",) * 2 + (
        None,
    )
    assert result.embedding_model is None
    assert ids(result) == ["a", "b"]
    a, b = result.hits
    assert a.score > b.score > 0
    # ts_rank_cd normalised with 32: rank / (rank + 1)
    assert a.score < 1
    assert (a.fulltext, a.vector) == (type(a.fulltext)(rank=1, score=a.score), None)


def test_vector_ranks_by_cosine_similarity(corpus):
    result = search(mode="vector")
    assert result.embedding_model == "all-MiniLM-L6-v2"
    assert ids(result) == ["c", "b", "d"]  # A has no vector
    assert [round(hit.score, 6) for hit in result.hits] == [1.0, round(2 / math.sqrt(5), 6), 0.0]
    assert [(hit.vector.rank, hit.fulltext) for hit in result.hits] == [
        (1, None),
        (2, None),
        (3, None),
    ]


def test_hybrid_fuses_the_legs_by_reciprocal_rank(corpus):
    result = search(mode="hybrid")
    # B: 2nd in both legs; A: 1st in full text only; C: 1st in vectors only; D: 3rd in vectors
    assert ids(result) == ["b", "a", "c", "d"]
    b, a, c, d = result.hits
    assert (b.fulltext.rank, b.vector.rank) == (2, 2)
    assert (a.fulltext.rank, a.vector) == (1, None)
    assert (c.fulltext, c.vector.rank) == (None, 1)
    assert (d.fulltext, d.vector.rank) == (None, 3)
    assert b.score == pytest.approx(2 / (RRF_K + 2))
    assert a.score == c.score == pytest.approx(1 / (RRF_K + 1))  # a tie: by document id
    assert d.score == pytest.approx(1 / (RRF_K + 3))
    assert [hit.rank for hit in result.hits] == [1, 2, 3, 4]


def test_hybrid_reports_each_legs_own_ranks_and_scores(corpus):
    hybrid = search(mode="hybrid", k=10)
    fulltext = {hit.id: hit for hit in search(mode="fulltext", k=10).hits}
    vector = {hit.id: hit for hit in search(mode="vector", k=10).hits}
    for hit in hybrid.hits:
        assert hit.fulltext == (fulltext[hit.id].fulltext if hit.id in fulltext else None)
        assert hit.vector == (vector[hit.id].vector if hit.id in vector else None)
        assert hit.score == pytest.approx(
            sum(1 / (RRF_K + leg.rank) for leg in (hit.fulltext, hit.vector) if leg)
        )
    assert [hit.score for hit in hybrid.hits] == sorted(
        (hit.score for hit in hybrid.hits), reverse=True
    )


def test_hits_carry_the_chunk_and_its_document(corpus):
    (hit,) = search(mode="fulltext", k=1).hits
    chunk = corpus["a-chunk-0"]
    assert (
        hit.id,
        hit.document_id,
        hit.parent_document_id,
        hit.source_path,
        hit.chunk_index,
        hit.total_chunks,
        hit.content,
        hit.metadata,
        hit.embedding_model,
    ) == (
        chunk.id,
        "a-chunk-0",
        "a",
        None,
        0,
        1,
        "Delivery, delivery and delivery again.",
        {"parent_doc_id": "a"},
        None,
    )


def test_websearch_syntax(corpus):
    assert ids(search(mode="fulltext", query='"next-day delivery"')) == ["b"]
    assert ids(search(mode="fulltext", query="delivery -courier")) == ["a"]
    # English stemming: "Couriers" is a courier
    assert ids(search(mode="fulltext", query="gift or courier")) == ["b", "c", "d"]


# --- min_score and k --------------------------------------------------------------------------


def test_min_score_drops_weak_hits_on_each_modes_scale(corpus):
    vector = search(mode="vector", min_score=0.5)
    assert ids(vector) == ["c", "b"]
    fulltext = search(mode="fulltext")
    between = (fulltext.hits[0].score + fulltext.hits[1].score) / 2
    assert ids(search(mode="fulltext", min_score=between)) == ["a"]
    hybrid = search(mode="hybrid", min_score=1.5 / (RRF_K + 1))
    assert ids(hybrid) == ["b"]
    assert [hit.rank for hit in hybrid.hits] == [1]


@pytest.mark.parametrize("mode", ["fulltext", "vector", "hybrid"])
def test_k_bounds_the_hits(corpus, mode):
    assert len(search(mode=mode, k=1).hits) == 1
    assert len(search(mode=mode, k=MAX_K).hits) == {"fulltext": 2, "vector": 3, "hybrid": 4}[mode]


@pytest.mark.parametrize(
    ("arguments", "field", "code"),
    [
        ({"k": 0}, "k", "invalid"),
        ({"k": MAX_K + 1}, "k", "invalid"),
        ({"k": True}, "k", "invalid"),
        ({"query": "   "}, "query", "blank"),
        ({"query": "x" * 1001}, "query", "max_length"),
        ({"mode": "semantic"}, "mode", "invalid_choice"),
        ({"min_score": math.nan}, "min_score", "invalid"),
        ({"query_vector": [1.0] * 383}, "query_vector", "wrong_dimensions"),
        ({"query_vector": [0.0] * DIMS}, "query_vector", "zero_vector"),
        ({"query_vector": [math.inf] + [0.0] * 383}, "query_vector", "invalid"),
        ({"query_vector": [True] * DIMS}, "query_vector", "invalid"),
        ({"query_vector": [10**400] + [0] * 383}, "query_vector", "invalid"),
        ({"filters": {"metadata": {"x": {"gt3": 1}}}}, "filters", "unknown_operator"),
    ],
)
def test_bad_arguments_are_refused_by_field(arguments, field, code):
    with pytest.raises(InvalidInput) as caught:
        search(**arguments)
    assert list(caught.value.errors) == [field]
    assert [error.code for error in field_errors(caught.value, field)] == [code]


def field_errors(error: InvalidInput, field: str) -> list[FieldError]:
    errors = error.errors[field]
    assert isinstance(errors, list)
    return errors


def test_a_query_vector_has_the_dimension_of_the_model_searched():
    with pytest.raises(InvalidInput) as caught:
        search(filters={"embedding_model": "text-embedding-3-small"})  # QUERY has 384
    (error,) = field_errors(caught.value, "query_vector")
    assert error.message == (
        "Must be a list of 1536 numbers, the dimension of text-embedding-3-small."
    )


def test_a_query_vectors_length_does_not_matter(corpus):
    scaled = [1e-30 * x for x in axis(1, 0.5)]  # cosine similarity is scale-free
    (hit, *_) = search(mode="vector", query_vector=scaled).hits
    assert hit.document_id == "b-chunk-0"
    assert hit.score == pytest.approx(1.0)


# --- fallback to full text --------------------------------------------------------------------


def test_without_server_embeddings_vector_and_hybrid_fall_back_to_fulltext(corpus, settings):
    settings.KNOWLEDGE_SERVER_EMBEDDINGS = False
    fulltext = search(mode="fulltext", query_vector=None)
    for mode in ("vector", "hybrid"):
        result = search(mode=mode, query_vector=None, min_score=0.99)
        assert (result.mode, result.requested_mode) == ("fulltext", mode)
        assert result.fallback_reason == (
            "no query vector: server-side embeddings are turned off (KNOWLEDGE_SERVER_EMBEDDINGS=0)"
        )
        assert result.embedding_model is None
        # the hits of a full-text search; min_score was on the requested mode's scale
        assert result.hits == fulltext.hits


def test_a_client_vector_needs_no_server_embedder(corpus, settings):
    settings.KNOWLEDGE_SERVER_EMBEDDINGS = False
    result = search(mode="hybrid")
    assert (result.mode, result.fallback_reason) == ("hybrid", None)


def test_a_client_only_model_without_a_query_vector_falls_back(corpus):
    result = search(
        mode="vector", query_vector=None, filters={"embedding_model": "text-embedding-3-small"}
    )
    assert (result.mode, result.requested_mode) == ("fulltext", "vector")
    assert result.fallback_reason == (
        "no query vector: the server does not compute text-embedding-3-small vectors; send "
        "them with the request"
    )
    assert result.hits == []  # no chunk has a text-embedding-3-small vector


def test_an_embedder_that_fails_falls_back_and_is_logged(corpus, monkeypatch, caplog):
    def broken(text: str, *, model: Any = None) -> list[float]:
        raise RuntimeError("CUDA kernel image missing")

    monkeypatch.setattr(embedder, "embed_query", broken)
    with caplog.at_level(logging.ERROR, logger="knowledge.search"):
        result = search(mode="hybrid", query_vector=None)
    assert result.mode == "fulltext"
    assert result.fallback_reason == (
        "no query vector: the server's all-MiniLM-L6-v2 embedder failed (see the server's log)"
    )
    assert "CUDA kernel image missing" in caplog.text


def test_an_unavailable_embedder_says_why(corpus, monkeypatch):
    def unavailable(text: str, *, model: Any = None) -> list[float]:
        raise embedder.EmbedderUnavailable("all-MiniLM-L6-v2 gives 768 dimensions, not 384")

    monkeypatch.setattr(embedder, "embed_query", unavailable)
    result = search(mode="vector", query_vector=None)
    assert result.fallback_reason == (
        "no query vector: all-MiniLM-L6-v2 gives 768 dimensions, not 384"
    )


# --- the transaction --------------------------------------------------------------------------


def statements(captured: CaptureQueriesContext) -> list[str]:
    return [query["sql"].split("(")[0].split(" ")[0] for query in captured.captured_queries]


@pytest.mark.parametrize(
    ("mode", "reads"),
    [("fulltext", ["WITH"]), ("vector", ["SELECT", "WITH"]), ("hybrid", ["SELECT", "WITH"])],
)
def test_a_search_reads_its_hits_in_one_statement(corpus, mode, reads):
    """One statement sees one snapshot: a re-ingest committed meanwhile shows its old chunks or
    its new ones, never some of each. (The SELECT before it, in vector modes, counts the chunks
    the filters match, to choose between the index and an exact scan.)"""
    with CaptureQueriesContext(connection) as captured:
        search(mode=mode)
    kinds = statements(captured)
    # inside the test's transaction: a savepoint, rolled back
    assert kinds[0] == "SAVEPOINT"
    assert kinds[1] == "SELECT"  # set_config: read only, and the HNSW settings
    assert kinds[2:-2] == reads
    assert kinds[-2:] == ["ROLLBACK", "RELEASE"]


def setting(name: str) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting(%s, true)", [name])
        return str(cursor.fetchone()[0])


def test_the_search_settings_end_with_the_search(corpus):
    # the caller's transaction (the test's) is neither read-only nor walking HNSW afterwards
    search(mode="hybrid")
    assert setting("transaction_read_only") == "off"
    assert setting("hnsw.iterative_scan") in ("", "off")
    insert_passages([Passage(document_id="after", chunks=["Written after a search."])])


def test_a_search_runs_read_only(corpus, monkeypatch):
    seen = []
    original = _Search._fetch

    def fetch(self: Any, cursor: Any) -> Any:
        cursor.execute("SELECT current_setting('transaction_read_only')")
        seen.append(cursor.fetchone()[0])
        return original(self, cursor)

    monkeypatch.setattr(_Search, "_fetch", fetch)
    search(mode="hybrid")
    assert seen == ["on"]
