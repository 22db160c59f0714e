"""Concurrent ingests of one document serialize, and readers never see a mix of two versions:
real threads, each with its own PostgreSQL connection."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from django.db import connection

from knowledge.models import RAGDocument, Source
from knowledge.services import IngestResult, document_delete, document_ingest
from tests.concurrency import run_concurrently
from tests.knowledge.conftest import document, paragraph

pytestmark = pytest.mark.django_db(transaction=True)


def state(document_id: str) -> tuple[list[str], list[str | None], str]:
    """(chunk contents in order, each chunk's vector hash, the source's text hash)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.content, c.content_hash, e.content_hash FROM rag_documents c "
            "JOIN rag_sources s ON s.id = c.parent_id "
            "LEFT JOIN rag_embeddings e ON e.chunk_id = c.id "
            "WHERE s.document_id = %s ORDER BY c.chunk_index",
            [document_id],
        )
        rows = cursor.fetchall()
    source = Source.objects.get(document_id=document_id)
    assert all(vector in (None, content_hash) for _, content_hash, vector in rows), rows
    return [r[0] for r in rows], [r[2] for r in rows], source.text_hash


VERSIONS = {
    "short": [0, 1, 2],
    "long": [0, 3, 4, 5, 6, 2],
    "moved": [5, 0, 1],
}


def keep_every_paragraphs_vector() -> None:
    """Another document holding every paragraph: its vectors are reused by content hash, so
    the ingests below compute none (the CPU model would make each take a tenth of a second)."""
    document_ingest(document_id="bank", text=document(range(8)), source_path="bank.md")


def test_concurrent_ingests_of_one_document_end_as_exactly_one_of_them(embed_spy):
    keep_every_paragraphs_vector()
    document_ingest(document_id="handbook", text=document([0, 1]))
    for _ in range(4):
        results = run_concurrently(
            *(
                lambda p=paragraphs: document_ingest(document_id="handbook", text=document(p))
                for paragraphs in VERSIONS.values()
            )
        )
        assert all(isinstance(r, IngestResult) for r in results), results

        contents, vectors, _ = state("handbook")
        assert contents in [[paragraph(i) for i in p] for p in VERSIONS.values()]
        assert None not in vectors  # every chunk found by its own vector
        # no duplicate, no leftover
        assert RAGDocument.objects.filter(parent__document_id="handbook").count() == len(contents)
        assert Source.objects.get(document_id="handbook").total_chunks == len(contents)
    assert set(embed_spy.in_transaction) == {False}  # embedding never held a transaction


def test_two_first_ingests_of_a_new_document_serialize_on_its_row():
    for round_number in range(5):
        document_id = f"new-{round_number}"
        texts = [document([0, 1]), document([2, 3, 4])]

        results = run_concurrently(
            *(
                lambda t=text, d=document_id: document_ingest(document_id=d, text=t)
                for text in texts
            )
        )

        assert sorted(r.created for r in results) == [False, True], results
        assert Source.objects.filter(document_id=document_id).count() == 1
        contents, vectors, text_hash = state(document_id)
        assert "\n\n".join(contents) in texts
        assert None not in vectors
        loser = next(r for r in results if not r.created)
        assert loser.source.text_hash == text_hash  # the second one's text is what stays


def test_a_delete_racing_an_ingest_leaves_the_document_whole_or_gone(no_server_embeddings):
    for _ in range(5):
        document_ingest(document_id="handbook", text=document([0, 1, 2]))
        results = run_concurrently(
            lambda: document_ingest(document_id="handbook", text=document([3, 4])),
            lambda: document_delete(document_id="handbook"),
        )

        assert not isinstance(results[0], Exception), results
        if Source.objects.filter(document_id="handbook").exists():  # the ingest came second
            assert state("handbook")[0] == [paragraph(3), paragraph(4)]
        else:
            assert not RAGDocument.objects.exists()
        Source.objects.all().delete()


def test_a_reader_during_replacements_sees_the_old_chunks_or_the_new_ones_never_a_mix():
    old, new = document([0, 1, 2, 3]), document([4, 1, 5, 6, 7])
    versions = {
        tuple(paragraph(i) for i in [0, 1, 2, 3]),
        tuple(paragraph(i) for i in [4, 1, 5, 6, 7]),
    }
    keep_every_paragraphs_vector()
    document_ingest(document_id="handbook", text=old)
    stop = threading.Event()
    seen: list[tuple[str, ...]] = []
    mixed: list[Any] = []

    def read() -> None:
        try:
            with connection.cursor() as cursor:
                while not stop.is_set():
                    # one statement: what a search sees (chunks and the vectors it ranks by)
                    cursor.execute(
                        "SELECT c.content, c.content_hash, e.content_hash FROM rag_documents c "
                        "LEFT JOIN rag_embeddings e ON e.chunk_id = c.id "
                        "WHERE c.source_path IS NULL ORDER BY c.chunk_index"
                    )
                    rows = cursor.fetchall()
                    contents = tuple(r[0] for r in rows)
                    seen.append(contents)
                    if contents not in versions or any(r[2] not in (None, r[1]) for r in rows):
                        mixed.append(rows)
        finally:
            connection.close()

    reader = threading.Thread(target=read)
    reader.start()
    try:
        for _ in range(15):
            document_ingest(document_id="handbook", text=old)
            document_ingest(document_id="handbook", text=new)
    finally:
        stop.set()
        reader.join(timeout=60)

    assert mixed == []
    assert len(set(seen)) == 2  # the reader did see both versions come and go
