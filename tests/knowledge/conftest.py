"""Shared pieces of the knowledge base's tests.

The real embedder (all-MiniLM-L6-v2) loads once per test process (about 5 s, cached by
``knowledge.embedder``); ``embed_spy`` counts the texts given to it while still computing their
real vectors. ``no_server_embeddings`` turns it off for a test, as ``KNOWLEDGE_SERVER_EMBEDDINGS=0``
does for a server.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest
from django.db import connection

from knowledge import embedder

TOPICS = [
    "Returns are accepted within thirty days of delivery when the item is unworn and in its "
    "original packaging; the refund goes back to the card used for the order.",
    "Shipping is free for orders above fifty dollars; other orders pay a flat fee, and express "
    "delivery reaches most addresses within two working days.",
    "Rings can be resized once without charge during the first year; engraved pieces are made "
    "to order and cannot be returned unless they arrive damaged.",
    "Gift cards never expire, can be combined with one promotion code, and are delivered by "
    "email within minutes of the payment being confirmed.",
    "Silver jewellery darkens with time; a soft cloth and a little warm soapy water bring back "
    "its shine, while harsh chemicals damage the plating of gilded pieces.",
    "Our workshop recycles precious metals from old jewellery brought to any store, and the "
    "value of the metal is credited towards a new purchase.",
    "Warranty claims cover manufacturing defects for two years from purchase; wear and tear, "
    "lost stones after impacts and changes made elsewhere are excluded.",
    "Customers can book a private appointment online to see pieces from the archive and talk "
    "about a custom design with one of the goldsmiths.",
]


def paragraph(i: int) -> str:
    """A paragraph long enough to be one chunk of its own (default chunk sizes)."""
    topic = TOPICS[i % len(TOPICS)]
    return f"Section {i}. {topic} This paragraph is number {i} of the handbook."


def document(indexes: Sequence[int]) -> str:
    """A document made of these paragraphs, one chunk each."""
    return "\n\n".join(paragraph(i) for i in indexes)


def refused(error: Any, field: str) -> list[tuple[str, str]]:
    """(code, message) of each error an ``InvalidInput`` holds under ``field``."""
    return [(e.code, e.message) for e in error.errors[field]]


def table_rows() -> dict[str, list[tuple[Any, ...]]]:
    """Every row of the knowledge base's three tables, every column, in a stable order: two
    snapshots are equal only if nothing was written in between."""
    queries = {
        "rag_sources": "SELECT * FROM rag_sources ORDER BY id",
        "rag_documents": "SELECT * FROM rag_documents ORDER BY id",
        "rag_embeddings": "SELECT id, chunk_id, model, content_hash, embedding::text, created_at "
        "FROM rag_embeddings ORDER BY id",
    }
    rows = {}
    with connection.cursor() as cursor:
        for table, sql in queries.items():
            cursor.execute(sql)
            rows[table] = cursor.fetchall()
    return rows


def vectors_of(document_id: str, model: str = "all-MiniLM-L6-v2") -> dict[int, tuple[Any, ...]]:
    """Chunk index -> (vector row id, content hash, vector text, created_at) of a document."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.chunk_index, e.id, e.content_hash, e.embedding::text, e.created_at "
            "FROM rag_documents c JOIN rag_sources s ON s.id = c.parent_id "
            "JOIN rag_embeddings e ON e.chunk_id = c.id AND e.model = %s "
            "WHERE s.document_id = %s",
            [model, document_id],
        )
        return {row[0]: row[1:] for row in cursor.fetchall()}


class EmbedSpy:
    def __init__(self) -> None:
        self.calls: list[list[str]] = []
        self.in_transaction: list[bool] = []

    @property
    def texts(self) -> list[str]:
        return [text for call in self.calls for text in call]


@pytest.fixture
def embed_spy(monkeypatch: pytest.MonkeyPatch) -> EmbedSpy:
    """Records what reaches ``embedder.embed_texts`` (and whether a transaction was open),
    then computes the real vectors."""
    spy = EmbedSpy()
    real = embedder.embed_texts

    def counting(texts: Sequence[str], **kwargs: Any) -> list[list[float]]:
        spy.calls.append(list(texts))
        spy.in_transaction.append(connection.in_atomic_block)
        return real(texts, **kwargs)

    monkeypatch.setattr(embedder, "embed_texts", counting)
    return spy


@pytest.fixture
def no_server_embeddings(settings: Any) -> None:
    settings.KNOWLEDGE_SERVER_EMBEDDINGS = False
