"""A search during a re-ingest sees the document's old chunks or its new ones, never some of each:
both legs of a hybrid search, and the chunks they return, are read by one statement."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from django.db import connection, transaction

from knowledge.models import ChunkEmbedding, RAGDocument, Source
from knowledge.search import knowledge_search
from tests.knowledge.search_corpus import Passage, insert_passages, sha256, unit_vectors

CHUNKS = 3
VECTORS = [[float(x) for x in v] for v in unit_vectors(CHUNKS, seed=5)]


def replace_chunks(source: Source, version: str) -> None:
    """What a re-ingest does: the document's chunks replaced in one transaction."""
    with transaction.atomic():
        RAGDocument.objects.filter(parent=source).delete()
        chunks = RAGDocument.objects.bulk_create(
            RAGDocument(
                document_id=f"doc-chunk-{i}",
                parent=source,
                chunk_index=i,
                total_chunks=CHUNKS,
                content=f"Version {version}, part {i}.",
                content_hash=sha256(f"Version {version}, part {i}."),
                metadata={"parent_doc_id": "doc"},
                embedding_model="all-MiniLM-L6-v2",
            )
            for i in range(CHUNKS)
        )
        ChunkEmbedding.objects.bulk_create(
            ChunkEmbedding(
                chunk=chunk, model="all-MiniLM-L6-v2", content_hash=chunk.content_hash, embedding=v
            )
            for chunk, v in zip(chunks, VECTORS, strict=True)
        )


@pytest.mark.django_db(transaction=True)
def test_a_search_during_a_reingest_sees_one_version_of_the_document() -> None:
    insert_passages(
        [Passage(document_id="doc", chunks=[f"Version alpha, part {i}." for i in range(CHUNKS)])]
    )
    source = Source.objects.get(document_id="doc")
    replace_chunks(source, "alpha")
    done = threading.Event()
    failures: list[BaseException] = []

    def reingest() -> None:
        try:
            for round_ in range(150):
                replace_chunks(source, "beta" if round_ % 2 == 0 else "alpha")
        except BaseException as exc:  # reported by the main thread
            failures.append(exc)
        finally:
            done.set()
            connection.close()

    writer = threading.Thread(target=reingest)
    writer.start()
    seen: list[tuple[Any, ...]] = []
    try:
        while not done.is_set():
            result = knowledge_search(
                query="alpha or beta", k=100, mode="hybrid", query_vector=VECTORS[0]
            )
            versions = {hit.content.split(",")[0] for hit in result.hits}
            seen.append((len(result.hits), tuple(sorted(versions))))
    finally:
        writer.join()
    assert failures == []
    assert len(seen) > 20  # the searches did overlap the re-ingests
    # every search: the three chunks of one version, found by both legs
    assert {count for count, _ in seen} == {CHUNKS}
    assert {versions for _, versions in seen} == {("Version alpha",), ("Version beta",)}
