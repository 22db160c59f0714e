"""Corpora for the search tests, written straight into the tables (not through ingestion), with
the chunk rows the data rules describe: ``<source>-chunk-<i>`` ids, the parent, the chunk's
SHA-256, the source's path and metadata plus ``parent_doc_id``, and ``embedding_model`` naming
the vector's model (None without one).

- ``insert_passages``: a few hand-written documents, one chunk each or more, with vectors given
  per chunk (the real model's, or synthetic ones).
- ``synthetic_corpus``: many chunks with clustered unit vectors from a seeded generator, written
  with COPY, and the model's HNSW index rebuilt over them (as an index built on loaded data is).
"""

from __future__ import annotations

import hashlib
import json
import random
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from django.db import connection, transaction
from pgvector.psycopg.vector import register_vector_info
from psycopg.types import TypeInfo

from knowledge.embedding_models import EMBEDDING_MODELS, EmbeddingModel
from knowledge.models import ChunkEmbedding, RAGDocument, Source

MINILM = EMBEDDING_MODELS["all-MiniLM-L6-v2"]


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


@dataclass
class Passage:
    """A source document and its chunks; ``vectors[i]`` is chunk i's vector (None: none)."""

    document_id: str
    chunks: list[str]
    source_path: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    vectors: Sequence[Sequence[float] | None] = ()
    model: EmbeddingModel = MINILM


def insert_passages(passages: Sequence[Passage]) -> dict[str, RAGDocument]:
    """Write the passages' sources, chunks and vectors; return the chunks by document_id."""
    sources = Source.objects.bulk_create(
        Source(
            document_id=p.document_id,
            source_path=p.source_path,
            metadata=p.metadata,
            text_hash=sha256("\n\n".join(p.chunks)),
            char_count=sum(len(c) for c in p.chunks),
            total_chunks=len(p.chunks),
            chunk_size=1000,
            chunk_overlap=0,
        )
        for p in passages
    )
    chunks: list[RAGDocument] = []
    embeddings: list[ChunkEmbedding] = []
    for passage, source in zip(passages, sources, strict=True):
        vectors = list(passage.vectors) or [None] * len(passage.chunks)
        for i, (content, vector) in enumerate(zip(passage.chunks, vectors, strict=True)):
            chunk = RAGDocument(
                document_id=f"{passage.document_id}-chunk-{i}",
                parent=source,
                chunk_index=i,
                total_chunks=len(passage.chunks),
                content=content,
                content_hash=sha256(content),
                source_path=passage.source_path,
                metadata={**passage.metadata, "parent_doc_id": passage.document_id},
                embedding_model=passage.model.name if vector is not None else None,
            )
            chunks.append(chunk)
            if vector is not None:
                embeddings.append(
                    ChunkEmbedding(
                        chunk=chunk,
                        model=passage.model.name,
                        content_hash=chunk.content_hash,
                        embedding=list(vector),
                    )
                )
    RAGDocument.objects.bulk_create(chunks)
    ChunkEmbedding.objects.bulk_create(embeddings)
    return {chunk.document_id: chunk for chunk in chunks}


def unit_vectors(count: int, dimensions: int = MINILM.dimensions, *, seed: int) -> np.ndarray:
    """``count`` random unit vectors (float32), the same for the same seed."""
    rng = np.random.default_rng(seed)
    vectors = rng.standard_normal((count, dimensions)).astype(np.float32)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


@dataclass(frozen=True)
class SyntheticCorpus:
    """``sources`` documents of ``chunks_per_source`` chunks. Chunk ``n`` (0-based, in order of
    its source and index) has metadata ``bucket = n % 100`` (so one bucket is 1%), ``lang``
    ("en" for even sources, "de" for odd), ``year`` = 2015 + source % 10, and lives under
    ``synthetic/group-<source % 10>/``; its content is eight words drawn from ``WORDS``.
    Vectors are clustered: ``clusters`` random centres, each chunk near a random one."""

    sources: int
    chunks_per_source: int
    clusters: int
    seed: int
    centres: np.ndarray
    vectors: np.ndarray

    @property
    def size(self) -> int:
        return self.sources * self.chunks_per_source

    def query_near(self, cluster: int, *, seed: int) -> list[float]:
        """A unit vector close to a cluster's centre (as a query about that topic would be)."""
        rng = np.random.default_rng(seed)
        vector = self.centres[cluster] + 0.05 * rng.standard_normal(self.centres.shape[1])
        return [float(x) for x in vector / np.linalg.norm(vector)]


WORDS = ["amber", "basalt", "cedar", "delta", "ember", "fjord", "garnet", "harbor", "indigo"]


def synthetic_corpus(
    *,
    sources: int = 200,
    chunks_per_source: int = 100,
    clusters: int = 50,
    seed: int = 20251126,
    model: EmbeddingModel = MINILM,
) -> SyntheticCorpus:
    """Write the corpus with COPY, rebuild the model's HNSW index over it and ANALYZE."""
    rng = np.random.default_rng(seed)
    centres = unit_vectors(clusters, model.dimensions, seed=seed)
    size = sources * chunks_per_source
    assignment = rng.integers(0, clusters, size)  # independent of the metadata
    noise = rng.standard_normal((size, model.dimensions)).astype(np.float32)
    vectors = centres[assignment] + 0.04 * noise
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    words = random.Random(seed)  # noqa: S311 (test data)

    source_rows, chunk_rows, embedding_rows = [], [], []
    for s in range(sources):
        source_id, document_id = uuid.uuid4(), f"synthetic-{s:04d}"
        path = f"synthetic/group-{s % 10}/doc-{s:04d}.md"
        metadata = {"lang": "en" if s % 2 == 0 else "de", "year": 2015 + s % 10}
        contents = []
        for i in range(chunks_per_source):
            n = s * chunks_per_source + i
            content = f"Passage {n}: " + " ".join(words.choices(WORDS, k=8))
            contents.append(content)
            chunk_id = uuid.uuid4()
            chunk_metadata = {**metadata, "bucket": n % 100, "parent_doc_id": document_id}
            chunk_rows.append(
                (
                    chunk_id,
                    f"{document_id}-chunk-{i}",
                    source_id,
                    i,
                    chunks_per_source,
                    content,
                    sha256(content),
                    path,
                    json.dumps(chunk_metadata),
                    model.name,
                )
            )
            embedding_rows.append((chunk_id, model.name, sha256(content), vectors[n]))
        text = "\n\n".join(contents)
        source_rows.append(
            (
                source_id,
                document_id,
                path,
                json.dumps(metadata),
                sha256(text),
                len(text),
                chunks_per_source,
                1000,
                0,
            )
        )

    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT pg_get_indexdef(%s::regclass)", [model.index_name])
        (index_definition,) = cursor.fetchone()
        cursor.execute(f"DROP INDEX {model.index_name}")
        _copy(
            cursor,
            "rag_sources (id, document_id, source_path, metadata, text_hash, char_count, "
            "total_chunks, chunk_size, chunk_overlap)",
            source_rows,
        )
        _copy(
            cursor,
            "rag_documents (id, document_id, parent_id, chunk_index, total_chunks, content, "
            "content_hash, source_path, metadata, embedding_model)",
            chunk_rows,
        )
        # vectors in pgvector's binary form: formatting 7.7 million floats as text takes seconds
        register_vector_info(cursor.cursor, TypeInfo.fetch(cursor.connection, "vector"))
        with cursor.copy(
            "COPY rag_embeddings (chunk_id, model, content_hash, embedding) FROM STDIN "
            "(FORMAT BINARY)"
        ) as copy:
            copy.set_types(["uuid", "varchar", "varchar", "vector"])
            for row in embedding_rows:
                copy.write_row(row)
        # Statistics first: each deferred foreign key check is a lookup by primary key, and a plan
        # this connection cached for it while the tables were empty (a sequential scan, kept
        # after five uses) would scan the loaded chunks once per vector: 25 s instead of 0.2 s.
        # ANALYZE replaces those plans.
        cursor.execute("ANALYZE rag_sources, rag_documents")
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # check the deferred foreign keys now
        cursor.execute("SET LOCAL maintenance_work_mem = '256MB'")
        cursor.execute(index_definition)
        # What autovacuum does to a loaded table: merge the GIN indexes' pending lists (rows
        # inserted after the index was built), which the planner counts as costly to scan.
        cursor.execute(
            "SELECT gin_clean_pending_list('rag_docs_metadata_idx'::regclass), "
            "gin_clean_pending_list('rag_docs_search_vector_idx'::regclass)"
        )
        cursor.execute("ANALYZE rag_sources, rag_documents, rag_embeddings")
    return SyntheticCorpus(
        sources=sources,
        chunks_per_source=chunks_per_source,
        clusters=clusters,
        seed=seed,
        centres=centres,
        vectors=vectors,
    )


def delete_synthetic_corpus() -> None:
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM rag_sources WHERE document_id LIKE 'synthetic-%'")


def _copy(cursor: Any, table: str, rows: list[tuple[Any, ...]]) -> None:
    with cursor.copy(f"COPY {table} FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


def delete_sources(document_ids: Sequence[str]) -> None:
    """Delete these sources with their chunks and vectors (ON DELETE CASCADE)."""
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM rag_sources WHERE document_id = ANY(%s)", [list(document_ids)])
