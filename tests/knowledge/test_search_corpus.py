"""The search tests' corpus builder (tests/knowledge/search_corpus.py) stays fast whatever ran
before it on the same connection."""

from __future__ import annotations

import pytest
from django.db import connection

from tests.knowledge.search_corpus import Passage, insert_passages, synthetic_corpus, unit_vectors

pytestmark = pytest.mark.django_db


def rows_read_sequentially(table: str) -> int:
    """Rows of ``table`` read by sequential scans in this transaction so far."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT seq_tup_read FROM pg_stat_xact_user_tables WHERE relname = %s", [table]
        )
        (rows,) = cursor.fetchone()
    return int(rows)


def test_the_corpus_checks_its_foreign_keys_by_index_after_they_were_planned_on_empty_tables():
    # given: this connection checked chunk and vector foreign keys while the tables were empty
    # and analysed, more than the five times after which PostgreSQL keeps a generic plan (a
    # sequential scan, for an empty table) for each check
    vector = [float(x) for x in unit_vectors(1, seed=1)[0]]
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE rag_sources, rag_documents, rag_embeddings")
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    for i in range(8):
        insert_passages([Passage(document_id=f"primer-{i}", chunks=["x"], vectors=[vector])])
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL DEFERRED")
    before = rows_read_sequentially("rag_documents")

    # when
    corpus = synthetic_corpus(sources=5)

    # then: each of its 500 vectors found its chunk by the primary key, instead of scanning
    # the chunks up to it (125,000 rows here; 25 s at the 20,000 chunks of test_search_scale)
    assert rows_read_sequentially("rag_documents") - before < corpus.size
