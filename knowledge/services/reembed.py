"""Computing the vectors that chunks lack, in batches, while search keeps running.

``chunks_reembed`` walks ``rag_documents`` in keyset batches by id and picks the chunks that have
no vector under the model, or a stale one (computed from other content), or, with
``recompute_before``, one computed before that moment. Each batch is embedded outside any
transaction, then written in a short one: the batch's chunks are locked ``FOR SHARE SKIP
LOCKED`` and only those whose content is still the one embedded get the vector (``INSERT ... ON
CONFLICT (chunk_id, model) DO UPDATE``); a chunk an ingest is rewriting at that moment is
skipped (the ingest gives it its vector). Old vectors stay until their replacement commits and
no index is dropped, so search answers throughout. Every batch commits: a run that is stopped
halfway loses at most one batch, and running it again does only the rest (for
``recompute_before``, pass the same moment again: vectors written here are stamped with the
database's clock at their batch, later than the moment a run started).
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from django.db import connection, transaction

from knowledge import embedder
from knowledge.embedding_models import EmbeddingModel
from knowledge.services.inputs import vector_literal

_NEEDS_VECTOR = """
FROM rag_documents AS c
LEFT JOIN rag_embeddings AS e ON e.chunk_id = c.id AND e.model = %(model)s
WHERE (e.id IS NULL OR e.content_hash <> c.content_hash OR e.created_at < %(before)s)
"""

_BATCH = (
    "SELECT c.id, c.content, c.content_hash "
    + _NEEDS_VECTOR
    + "AND c.id > %(after)s ORDER BY c.id LIMIT %(limit)s"
)

_WRITE = """
WITH locked AS (
    SELECT c.id, c.content_hash
    FROM rag_documents AS c
    JOIN unnest(%(ids)s::uuid[], %(hashes)s::text[]) AS v(id, content_hash)
      ON c.id = v.id AND c.content_hash = v.content_hash
    ORDER BY c.id
    FOR SHARE OF c SKIP LOCKED
)
INSERT INTO rag_embeddings AS e (chunk_id, model, content_hash, embedding, created_at)
SELECT l.id, %(model)s, l.content_hash, v.embedding::vector, clock_timestamp()
FROM locked AS l
JOIN unnest(%(ids)s::uuid[], %(vectors)s::text[]) AS v(id, embedding) ON v.id = l.id
ON CONFLICT (chunk_id, model) DO UPDATE
SET content_hash = EXCLUDED.content_hash, embedding = EXCLUDED.embedding,
    created_at = EXCLUDED.created_at
RETURNING chunk_id
"""

_MARK = """
UPDATE rag_documents SET embedding_model = %s
WHERE id = ANY(%s::uuid[]) AND embedding_model IS DISTINCT FROM %s
"""


@dataclass(frozen=True)
class ReembedResult:
    model: str
    embedded: int  # vectors written
    skipped: int  # chunks that changed while their batch was embedded (their ingest embeds them)


def database_now() -> dt.datetime:
    """The database's clock (what ``created_at`` is compared with), now: not the start of a
    transaction that may be open."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT clock_timestamp()")
        moment: dt.datetime = cursor.fetchone()[0]
    return moment


def chunks_needing_vectors(
    *, model: EmbeddingModel, recompute_before: dt.datetime | None = None
) -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) " + _NEEDS_VECTOR,
            {"model": model.name, "before": recompute_before},
        )
        count: int = cursor.fetchone()[0]
    return count


def chunks_reembed(
    *,
    model: EmbeddingModel,
    batch_size: int,
    recompute_before: dt.datetime | None = None,
    on_batch: Callable[[int, int], None] | None = None,
) -> ReembedResult:
    """Give every chunk a current vector under ``model`` (see the module); ``on_batch(embedded,
    skipped)`` after each batch. Raises ``embedder.EmbedderUnavailable`` when the server cannot
    compute ``model``'s vectors. Call it outside a transaction."""
    reason = embedder.unavailable_reason(model)
    if reason is not None:
        raise embedder.EmbedderUnavailable(reason)
    mark = model == embedder.active_model()
    after = uuid.UUID(int=0)
    embedded = skipped = 0
    while True:
        with connection.cursor() as cursor:
            cursor.execute(
                _BATCH,
                {
                    "model": model.name,
                    "before": recompute_before,
                    "after": after,
                    "limit": batch_size,
                },
            )
            batch = cursor.fetchall()
        if not batch:
            return ReembedResult(model=model.name, embedded=embedded, skipped=skipped)
        after = batch[-1][0]
        ids = [row[0] for row in batch]
        vectors = embedder.embed_texts([row[1] for row in batch], model=model)
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                _WRITE,
                {
                    "ids": ids,
                    "hashes": [row[2] for row in batch],
                    "vectors": [vector_literal(v) for v in vectors],
                    "model": model.name,
                },
            )
            written = [row[0] for row in cursor.fetchall()]
            if mark and written:
                cursor.execute(_MARK, [model.name, written, model.name])
        embedded += len(written)
        skipped += len(batch) - len(written)
        if on_batch is not None:
            on_batch(len(written), len(batch) - len(written))
