"""Search over 20,000 chunks: selective filters still return k rows from the vector leg, the plans
use the indexes they should, and the HNSW results agree with exact ones.

The corpus (tests/knowledge/search_corpus.py) has clustered 384-dimension unit vectors from a
seeded generator, written with COPY and indexed after loading, as real data is; it is built once
for the module (about 7 s) and deleted afterwards."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

import knowledge.search
from knowledge.search import knowledge_search
from tests.knowledge.search_corpus import (
    MINILM,
    SyntheticCorpus,
    delete_synthetic_corpus,
    synthetic_corpus,
)

pytestmark = [pytest.mark.django_db, pytest.mark.slow]

HNSW = MINILM.index_name
ONE_PERCENT = {"metadata": {"bucket": 7}}  # 200 of the 20,000 chunks


@pytest.fixture(scope="module")
def corpus(django_db_setup: None, django_db_blocker: Any) -> Iterator[SyntheticCorpus]:
    with django_db_blocker.unblock():
        built = synthetic_corpus()
    yield built
    with django_db_blocker.unblock():
        delete_synthetic_corpus()


def captured_search(**kwargs: Any) -> tuple[Any, list[str]]:
    """The result, and the SQL of each statement the search ran."""
    with CaptureQueriesContext(connection) as captured:
        result = knowledge_search(**{"query": "amber", **kwargs})
    return result, [query["sql"] for query in captured.captured_queries]


def search_statements(statements: list[str]) -> list[str]:
    return [sql for sql in statements if sql.startswith("WITH ")]


def settings_statement(statements: list[str]) -> str:
    return next(sql for sql in statements if "set_config" in sql)


def run(sql: str, *, settings_sql: str, iterative_scan: str | None = None) -> list[Any]:
    """Run a captured statement again, under the search's settings (changed as asked)."""
    if iterative_scan is not None:
        settings_sql = settings_sql.replace("'relaxed_order'", f"'{iterative_scan}'")
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(settings_sql)
        cursor.execute(sql)
        rows = cursor.fetchall()
        transaction.set_rollback(True)
    return rows


def plan(sql: str, *, settings_sql: str) -> str:
    (rows) = run("EXPLAIN (COSTS OFF) " + sql, settings_sql=settings_sql)
    return "\n".join(re.sub(r"'\[[^\]]*\]'", "'[...]'", row[0]) for row in rows)


def exact_top(corpus: SyntheticCorpus, query: list[float], k: int, mask: Any = None) -> list[str]:
    """The k nearest chunks by brute force in numpy (chunk n is synthetic-<n // 100>-chunk-<i>)."""
    similarity = corpus.vectors @ np.asarray(query, dtype=np.float32)
    if mask is not None:
        similarity = np.where(mask, similarity, -np.inf)
    best = np.argsort(-similarity)[:k]
    per = corpus.chunks_per_source
    return [f"synthetic-{n // per:04d}-chunk-{n % per}" for n in best]


def bucket_mask(corpus: SyntheticCorpus, bucket: int) -> Any:
    return np.arange(corpus.size) % 100 == bucket


# --- a selective filter still returns k rows ---------------------------------------------------


@pytest.mark.parametrize("mode", ["vector", "hybrid"])
def test_a_filter_matching_1_percent_still_returns_k_from_the_vector_leg(corpus, mode):
    query = corpus.query_near(3, seed=1)
    # "zzz" is in no chunk: the hybrid's hits are all its vector leg's
    result = knowledge_search(query="zzz", k=10, mode=mode, filters=ONE_PERCENT, query_vector=query)
    assert len(result.hits) == 10
    assert all(hit.vector and hit.metadata["bucket"] == 7 for hit in result.hits)
    # 200 chunks match: compared one by one, exactly
    assert [hit.document_id for hit in result.hits] == exact_top(
        corpus, query, 10, bucket_mask(corpus, 7)
    )


@pytest.mark.parametrize("mode", ["vector", "hybrid"])
def test_on_the_hnsw_index_it_is_the_iterative_scan_that_returns_k(corpus, mode, settings):
    # given the 1% filter sent to the index (an exact scan would take it otherwise)
    settings.KNOWLEDGE_SEARCH_EXACT_MAX_CHUNKS = 100
    query = corpus.query_near(3, seed=2)
    # when
    result, statements = captured_search(
        query="zzz", k=10, mode=mode, filters=ONE_PERCENT, query_vector=query
    )
    # then the index was walked until 10 chunks of bucket 7 were found
    (statement,) = search_statements(statements)
    settings_sql = settings_statement(statements)
    assert f"Index Scan using {HNSW}" in plan(statement, settings_sql=settings_sql)
    assert len(result.hits) == 10
    assert all(hit.metadata["bucket"] == 7 for hit in result.hits)
    # and the same statement without iterative scans stops after ef_search (200) candidates,
    # of which about 1% pass the filter
    assert len(run(statement, settings_sql=settings_sql, iterative_scan="off")) < 10


def test_when_the_scan_limit_stops_the_index_the_search_compares_exactly(
    corpus, settings, monkeypatch
):
    settings.KNOWLEDGE_SEARCH_EXACT_MAX_CHUNKS = 100
    monkeypatch.setattr(knowledge.search, "MAX_SCAN_TUPLES", 200)  # about 2 chunks of bucket 7
    query = corpus.query_near(5, seed=3)
    result, statements = captured_search(
        k=10, mode="vector", filters=ONE_PERCENT, query_vector=query
    )
    first, second = search_statements(statements)
    assert HNSW in plan(first, settings_sql=settings_statement(statements))
    assert HNSW not in plan(second, settings_sql=settings_statement(statements))
    assert [hit.document_id for hit in result.hits] == exact_top(
        corpus, query, 10, bucket_mask(corpus, 7)
    )


# --- plans ------------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["vector", "hybrid"])
@pytest.mark.parametrize(
    "filters",
    [None, {"metadata": {"lang": "en"}}, {"source_path": {"prefix": "synthetic/group-3/"}}],
    ids=["no filter", "half", "a tenth"],
)
def test_normally_the_vector_leg_walks_the_hnsw_index(corpus, mode, filters):
    result, statements = captured_search(
        mode=mode, filters=filters, query_vector=corpus.query_near(11, seed=4)
    )
    (statement,) = search_statements(statements)
    explained = plan(statement, settings_sql=settings_statement(statements))
    assert f"Index Scan using {HNSW} on rag_embeddings" in explained
    assert f"Order By: ((embedding)::vector({MINILM.dimensions}) <=> '[...]'" in explained
    assert len(result.hits) == 10


@pytest.mark.parametrize("mode", ["vector", "hybrid"])
def test_a_tiny_filter_is_compared_exactly_without_the_index(corpus, mode):
    query = corpus.query_near(11, seed=5)
    result, statements = captured_search(
        query="zzz", k=10, mode=mode, filters={"document_id": "synthetic-0042"}, query_vector=query
    )
    (statement,) = search_statements(statements)
    explained = plan(statement, settings_sql=settings_statement(statements))
    assert HNSW not in explained
    # the chunks of document 42 are numbers 4200 to 4299
    mask = (np.arange(corpus.size) // corpus.chunks_per_source) == 42
    assert [hit.document_id for hit in result.hits] == exact_top(corpus, query, 10, mask)


def test_the_hnsw_results_agree_with_exact_ones(corpus):
    recalls = []
    for seed in range(20):
        query = corpus.query_near(seed % corpus.clusters, seed=100 + seed)
        found = knowledge_search(query="amber", k=10, mode="vector", query_vector=query)
        exact = set(exact_top(corpus, query, 10))
        recalls.append(len({hit.document_id for hit in found.hits} & exact) / 10)
    assert sum(recalls) / len(recalls) >= 0.95


@pytest.mark.parametrize(
    ("filters", "index"),
    [
        (ONE_PERCENT, "Bitmap Index Scan on rag_docs_metadata_idx"),
        ({"metadata": {"bucket": {"in": [7, 8]}}}, "Bitmap Index Scan on rag_docs_metadata_idx"),
        ({"source_path": {"prefix": "synthetic/group-3/doc-0013"}}, "rag_docs_source_prefix_idx"),
    ],
    ids=["containment", "in", "prefix"],
)
@pytest.mark.parametrize("mode", ["fulltext", "vector"])
def test_selective_filters_are_served_by_their_indexes(corpus, mode, filters, index):
    _, statements = captured_search(
        mode=mode, filters=filters, query_vector=corpus.query_near(1, seed=6)
    )
    # fulltext: the search itself; vector: the count that chooses between index and exact scan
    (statement,) = [sql for sql in statements if sql.startswith(("WITH ft_hits", "SELECT count"))]
    assert index in plan(statement, settings_sql=settings_statement(statements))


def test_fulltext_is_served_by_the_search_vector_index(corpus):
    result, statements = captured_search(query="passage 4242", mode="fulltext")
    assert [hit.document_id for hit in result.hits] == ["synthetic-0042-chunk-42"]
    (statement,) = search_statements(statements)
    explained = plan(statement, settings_sql=settings_statement(statements))
    assert "Bitmap Index Scan on rag_docs_search_vector_idx" in explained
