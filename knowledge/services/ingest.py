"""Ingesting a document: its chunks and their vectors, replaced so that no reader sees a mix.

``document_ingest`` runs in two phases:

1. **Prepare**, outside any transaction (``document_ingest_prepare``): check the input (an
   ``InvalidInput`` naming every bad field; nothing is read or written before), split the text
   (``knowledge.chunking``) or take the caller's chunks, read the document's current chunks
   without a lock, and find the chunk hashes that will need a vector under the model. A vector
   already stored for the same (model, content_hash) on a chunk of the same document (moved, or
   repeated) is read and reused; only the rest is embedded, in batches
   (``knowledge.embedder``). Embedding takes seconds, and no lock or transaction is held
   meanwhile.
2. **Apply**, one transaction (``document_ingest_apply``): lock the source row (``SELECT ... FOR
   UPDATE``, or ``INSERT ... ON CONFLICT (document_id) DO NOTHING`` and lock it then, so two
   concurrent ingests of one document serialize, the very first included), re-read its chunks
   under the lock, and diff them with the new ones by ``chunk_index`` and ``content_hash``: the
   same hash at the same index is unchanged (rewritten only when its position, metadata or
   source path changed), a different hash is updated, a new index added, a missing one
   deleted. Each kind of write is one statement; vectors are upserted; vectors that no longer
   match their chunk's content are deleted (a chunk is never found by a stale vector); the
   source row is updated. Readers see the old chunk set or the new one, never a mix.

If the re-read under the lock shows chunks the plan has no vector for (another ingest of the
same document committed in between) and no stored vector has their hash, the transaction is
rolled back and the whole ingest starts again, at most ``INGEST_ATTEMPTS`` times; a third loss
is a 409 ``ingest_conflict``.

Re-ingesting identical content (same metadata, source path and chunking) runs SELECTs only.
Without a usable embedder (``embedder.unavailable_reason()``) and without client vectors, the
chunks are stored without vectors (stored vectors of the same content are still reused) and the
result says why (``embedding_status`` ``skipped``).
"""

from __future__ import annotations

import json
from collections.abc import Collection, Mapping
from dataclasses import dataclass, replace
from typing import Any, NamedTuple

from django.db import connection, transaction
from django.db.models import Exists, OuterRef, Q, Subquery

from commerce.models import User
from devskyy.errors import Conflict, NotPermitted
from knowledge import embedder
from knowledge.chunking import DEFAULT_CHUNK_OVERLAP, DEFAULT_CHUNK_SIZE
from knowledge.embedding_models import EmbeddingModel
from knowledge.models import ChunkEmbedding, RAGDocument, Source
from knowledge.services.inputs import (
    DocumentInput,
    chunk_document_id,
    document_input,
    same_json,
    vector_literal,
)

INGEST_ATTEMPTS = 3

COMPUTED, CLIENT, REUSED, SKIPPED = "computed", "client", "reused", "skipped"
EMBEDDING_STATUSES = (COMPUTED, CLIENT, REUSED, SKIPPED)


class IngestPlanStale(Conflict):
    """The document changed between the prepare phase and the lock, and the new state needs
    vectors the plan does not have: prepare again."""

    code = "ingest_conflict"
    default_message = (
        "The document kept changing while this ingest computed its vectors; send it again."
    )


@dataclass(frozen=True)
class IngestResult:
    source: Source
    created: bool
    added: int
    updated: int
    unchanged: int
    deleted: int
    embedded: int  # vectors the server computed for this ingest
    embedding_model: str | None
    embedding_status: str  # computed | client | reused | skipped
    embedding_skipped_reason: str | None

    def counts(self) -> dict[str, int]:
        return {
            "added": self.added,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "deleted": self.deleted,
        }


@dataclass(frozen=True)
class IngestPlan:
    """A checked document with the vectors it needs, computed outside any transaction."""

    document: DocumentInput
    # content hash -> vector (pgvector text), computed by the server or read from storage
    vectors: Mapping[str, str]
    # one per chunk, when the caller sent vectors
    client_vectors: tuple[str, ...] | None
    embedded: int
    # why the server cannot compute vectors for this document (None: it can, or needs not)
    skipped_reason: str | None


def may_change(*, created_by_id: Any, actor: User | None) -> bool:
    """Agents change only the sources they ingested; operators, admins and commands (no
    actor) change any."""
    return actor is None or actor.role in User.STAFF_ROLES or created_by_id == actor.pk


def _refuse(document_id: str) -> NotPermitted:
    return NotPermitted(
        f"The source {document_id!r} was ingested by someone else; agents may change only "
        "the sources they ingested."
    )


def _stored_vectors(
    model: EmbeddingModel, hashes: Collection[str], document_id: str
) -> dict[str, str]:
    """A stored vector (text) per content hash that has one under ``model`` on a chunk of this
    document. Only the document's own: a vector may have come from a client, and one agent's
    made-up vector must never be given to another's identical content."""
    if not hashes:
        return {}
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT DISTINCT ON (e.content_hash) e.content_hash, e.embedding::text "
            "FROM rag_embeddings e JOIN rag_documents c ON c.id = e.chunk_id "
            "JOIN rag_sources s ON s.id = c.parent_id "
            "WHERE s.document_id = %s AND e.model = %s AND e.content_hash = ANY(%s) "
            "ORDER BY e.content_hash",
            [document_id, model.name, list(hashes)],
        )
        return dict(cursor.fetchall())


def document_ingest_prepare(
    *,
    document_id: Any,
    text: Any = None,
    chunks: Any = None,
    source_path: Any = None,
    metadata: Any = None,
    chunk_size: Any = DEFAULT_CHUNK_SIZE,
    chunk_overlap: Any = DEFAULT_CHUNK_OVERLAP,
    embedding_model: Any = None,
    actor: User | None = None,
    known_vectors: Mapping[str, str] | None = None,
) -> IngestPlan:
    """Phase 1 (see the module): check, split, and compute the vectors that will be needed.
    Call it outside a transaction; it writes nothing. ``known_vectors`` (hash -> vector) are
    vectors computed by an earlier attempt."""
    document = document_input(
        document_id=document_id,
        text=text,
        chunks=chunks,
        source_path=source_path,
        metadata=metadata,
        chunk_size=chunk_size,
        chunk_overlap=chunk_overlap,
        embedding_model=embedding_model,
        active=embedder.active_model(),
    )
    # Checked again under the lock; here it saves embedding for a request that will be refused.
    owner = Source.objects.filter(document_id=document.document_id).values("created_by_id")
    row = owner.first()
    if row is not None and not may_change(created_by_id=row["created_by_id"], actor=actor):
        raise _refuse(document.document_id)

    if document.client_vectors is not None:
        return IngestPlan(
            document=document,
            vectors={},
            client_vectors=tuple(vector_literal(v) for v in document.client_vectors),
            embedded=0,
            skipped_reason=None,
        )

    model = document.model
    vector = ChunkEmbedding.objects.filter(chunk=OuterRef("pk"), model=model.name)
    current = {
        index: (content_hash, vector_hash)
        for index, content_hash, vector_hash in RAGDocument.objects.filter(
            parent__document_id=document.document_id
        )
        .annotate(vector_hash=Subquery(vector.values("content_hash")[:1]))
        .values_list("chunk_index", "content_hash", "vector_hash")
    }
    hashes = document.hashes
    known = dict(known_vectors or {})
    needed = {h for i, h in enumerate(hashes) if current.get(i) != (h, h)} - known.keys()
    vectors = {**known, **_stored_vectors(model, needed, document.document_id)}
    texts = dict(zip(hashes, document.contents, strict=True))
    missing = [h for h in dict.fromkeys(hashes) if h in needed and h not in vectors]
    reason = embedder.unavailable_reason(model)
    embedded = 0
    if missing and reason is None:
        computed = embedder.embed_texts([texts[h] for h in missing], model=model)
        vectors.update(zip(missing, map(vector_literal, computed), strict=True))
        embedded = len(missing)
    return IngestPlan(
        document=document,
        vectors=vectors,
        client_vectors=None,
        embedded=embedded,
        skipped_reason=reason,
    )


_INSERT_SOURCE = """
INSERT INTO rag_sources (document_id, source_path, metadata, text_hash, char_count,
                         total_chunks, chunk_size, chunk_overlap, created_by_id)
VALUES (%s, %s, %s::jsonb, %s, %s, %s, %s, %s, %s)
ON CONFLICT (document_id) DO NOTHING
RETURNING id, created_at, updated_at
"""


def _lock_source(document: DocumentInput, actor: User | None) -> tuple[Source, bool]:
    """The document's source row, locked (FOR UPDATE) until the transaction ends; created
    (with its final values) if there is none. Two first ingests of one id meet at the unique
    index: the second waits for the first to commit, then locks its row."""
    for _ in range(INGEST_ATTEMPTS):
        source = Source.objects.select_for_update().filter(document_id=document.document_id)
        found = source.first()
        if found is not None:
            return found, False
        fields: dict[str, Any] = {
            "document_id": document.document_id,
            "source_path": document.source_path,
            "metadata": document.metadata,
            "text_hash": document.text_hash,
            "char_count": document.char_count,
            "total_chunks": len(document.contents),
            "chunk_size": document.chunk_size,
            "chunk_overlap": document.chunk_overlap,
            "created_by_id": actor.pk if actor is not None else None,
        }
        with connection.cursor() as cursor:
            parameters: list[Any] = [
                _json(v) if name == "metadata" else v for name, v in fields.items()
            ]
            cursor.execute(_INSERT_SOURCE, parameters)
            row = cursor.fetchone()
        if row is not None:
            pk, created_at, updated_at = row
            return Source(id=pk, created_at=created_at, updated_at=updated_at, **fields), True
        # Another ingest created it and a delete removed it before we could lock it: again.
    raise IngestPlanStale()


class _Row(NamedTuple):
    id: Any
    document_id: str
    parent_id: Any
    chunk_index: int | None
    content_hash: str
    total_chunks: int | None
    source_path: str | None
    metadata: Any
    embedding_model: str | None
    model_hash: str | None  # the content hash of its vector under the ingest's model
    active_hash: str | None  # ... under the active model
    stale: bool  # has a vector (any model) computed from other content


def _chunk_rows(
    source: Source, chunk_ids: list[str], model: EmbeddingModel, active: EmbeddingModel
) -> list[_Row]:
    """The source's chunks, and rows left without a parent by an older writer that hold this
    document's chunk ids (the seed's ``<id>-chunk-<i>``): they are replaced."""
    vectors = ChunkEmbedding.objects.filter(chunk=OuterRef("pk"))
    rows = (
        RAGDocument.objects.filter(
            Q(parent=source) | Q(parent__isnull=True, document_id__in=chunk_ids)
        )
        .annotate(
            model_hash=Subquery(vectors.filter(model=model.name).values("content_hash")[:1]),
            active_hash=Subquery(vectors.filter(model=active.name).values("content_hash")[:1]),
            stale=Exists(vectors.exclude(content_hash=OuterRef("content_hash"))),
        )
        .order_by()
        .values_list(*_Row._fields)
    )
    return [_Row(*row) for row in rows]


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


_DELETE_CHUNKS = "DELETE FROM rag_documents WHERE id = ANY(%s::uuid[])"

_UPDATE_CHUNKS = """
UPDATE rag_documents AS c
SET content = v.content, content_hash = v.content_hash, embedding_model = v.embedding_model,
    total_chunks = %s, source_path = %s, metadata = %s::jsonb
FROM unnest(%s::uuid[], %s::text[], %s::text[], %s::text[])
     AS v(id, content, content_hash, embedding_model)
WHERE c.id = v.id
"""

_INSERT_CHUNKS = """
INSERT INTO rag_documents (parent_id, total_chunks, source_path, metadata, document_id,
                           chunk_index, content, content_hash, embedding_model)
SELECT %s, %s, %s, %s::jsonb, v.document_id, v.chunk_index, v.content, v.content_hash,
       v.embedding_model
FROM unnest(%s::text[], %s::int[], %s::text[], %s::text[], %s::text[])
     AS v(document_id, chunk_index, content, content_hash, embedding_model)
"""

# Identical vectors are left alone (no new row version), so repeating an ingest with client
# vectors writes nothing. created_at is when the vector was computed (knowledge_reembed --all).
_UPSERT_VECTORS = """
INSERT INTO rag_embeddings AS e (chunk_id, model, content_hash, embedding)
SELECT c.id, %s, c.content_hash, v.embedding::vector
FROM unnest(%s::int[], %s::text[]) AS v(chunk_index, embedding)
JOIN rag_documents AS c ON c.parent_id = %s AND c.chunk_index = v.chunk_index
ON CONFLICT (chunk_id, model) DO UPDATE
SET content_hash = EXCLUDED.content_hash, embedding = EXCLUDED.embedding, created_at = now()
WHERE e.content_hash IS DISTINCT FROM EXCLUDED.content_hash
   OR e.embedding IS DISTINCT FROM EXCLUDED.embedding
"""

_DELETE_STALE_VECTORS = """
DELETE FROM rag_embeddings AS e USING rag_documents AS c
WHERE c.parent_id = %s AND e.chunk_id = c.id AND e.content_hash <> c.content_hash
"""


@transaction.atomic
def document_ingest_apply(*, plan: IngestPlan, actor: User | None = None) -> IngestResult:
    """Phase 2 (see the module): write the plan in one transaction, under the source's lock.
    Raises ``IngestPlanStale`` (everything rolled back) when the plan lacks vectors that the
    document's current state needs: prepare again and retry."""
    document = plan.document
    model, active = document.model, embedder.active_model()
    source, created = _lock_source(document, actor)
    if not created and not may_change(created_by_id=source.created_by_id, actor=actor):
        raise _refuse(document.document_id)

    hashes = document.hashes
    total = len(hashes)
    chunk_ids = [chunk_document_id(document.document_id, i) for i in range(total)]
    rows = _chunk_rows(source, chunk_ids, model, active)
    current: dict[int, _Row] = {
        row.chunk_index: row
        for row in rows
        if row.parent_id == source.pk and row.chunk_index is not None
    }
    doomed = [
        row for row in rows if row.chunk_index is None or current.get(row.chunk_index) is not row
    ]
    doomed += [row for index, row in current.items() if index >= total]

    # Which vector each chunk gets: its own (kept), one from the plan, or one stored elsewhere.
    writes: dict[int, str] = {}
    wanted: dict[int, str] = {}
    for index, content_hash in enumerate(hashes):
        row = current.get(index)
        if plan.client_vectors is not None:
            writes[index] = plan.client_vectors[index]
        elif row is not None and row.content_hash == content_hash == row.model_hash:
            continue  # keeps its vector
        elif content_hash in plan.vectors:
            writes[index] = plan.vectors[content_hash]
        else:
            wanted[index] = content_hash
    if wanted:
        found = _stored_vectors(model, set(wanted.values()), document.document_id)
        if plan.skipped_reason is None and not set(wanted.values()) <= found.keys():
            raise IngestPlanStale()
        writes.update({i: found[h] for i, h in wanted.items() if h in found})

    def has_vector(index: int, under: EmbeddingModel) -> bool:
        """Whether chunk ``index`` has a vector under ``under`` once the ingest is written."""
        row, content_hash = current.get(index), hashes[index]
        if under == model and index in writes:
            return True
        if row is None or row.content_hash != content_hash:
            return False  # new content: any vector it had is stale and goes
        return (row.model_hash if under == model else row.active_hash) == content_hash

    def embedding_model_of(index: int) -> str | None:
        return active.name if has_vector(index, active) else None

    metadata = document.chunk_metadata
    inserts, updates = [], []
    added = updated = unchanged = 0
    for index, content_hash in enumerate(hashes):
        row = current.get(index)
        values = (index, document.contents[index], content_hash, embedding_model_of(index))
        if row is None:
            added += 1
            inserts.append(values)
            continue
        if row.content_hash != content_hash:
            updated += 1
        else:
            unchanged += 1
            if (
                row.total_chunks == total
                and row.source_path == document.source_path
                and row.embedding_model == values[3]
                and same_json(row.metadata, metadata)
            ):
                continue
        updates.append((row.id, *values[1:]))

    deleted = len({row.id for row in doomed})
    with connection.cursor() as cursor:
        if doomed:
            cursor.execute(_DELETE_CHUNKS, [list({row.id for row in doomed})])
        if updates:
            ids, contents, content_hashes, models = map(list, zip(*updates, strict=True))
            cursor.execute(
                _UPDATE_CHUNKS,
                [
                    total,
                    document.source_path,
                    _json(metadata),
                    ids,
                    contents,
                    content_hashes,
                    models,
                ],
            )
        if inserts:
            indexes, contents, content_hashes, models = map(list, zip(*inserts, strict=True))
            cursor.execute(
                _INSERT_CHUNKS,
                [
                    source.pk,
                    total,
                    document.source_path,
                    _json(metadata),
                    [chunk_ids[i] for i in indexes],
                    indexes,
                    contents,
                    content_hashes,
                    models,
                ],
            )
        if writes:
            cursor.execute(
                _UPSERT_VECTORS, [model.name, list(writes), list(writes.values()), source.pk]
            )
        if updated or any(row.stale for row in current.values()):
            cursor.execute(_DELETE_STALE_VECTORS, [source.pk])

    if not created:
        _update_source(source, document)

    lacking = not all(has_vector(index, model) for index in range(total))
    if plan.client_vectors is not None:
        status, reason = CLIENT, None
    elif lacking:
        status, reason = SKIPPED, plan.skipped_reason
    else:
        status, reason = (COMPUTED if plan.embedded else REUSED), None
    return IngestResult(
        source=source,
        created=created,
        added=added,
        updated=updated,
        unchanged=unchanged,
        deleted=deleted,
        embedded=plan.embedded,
        embedding_model=None if status == SKIPPED else model.name,
        embedding_status=status,
        embedding_skipped_reason=reason,
    )


def _update_source(source: Source, document: DocumentInput) -> None:
    """Write what changed of the locked source row, if anything."""
    changed = [
        name
        for name, value in (
            ("source_path", document.source_path),
            ("text_hash", document.text_hash),
            ("char_count", document.char_count),
            ("total_chunks", len(document.contents)),
            ("chunk_size", document.chunk_size),
            ("chunk_overlap", document.chunk_overlap),
        )
        if getattr(source, name) != value
    ]
    if not same_json(source.metadata, document.metadata):
        changed.append("metadata")
    if not changed:
        return
    source.source_path, source.text_hash = document.source_path, document.text_hash
    source.char_count, source.total_chunks = document.char_count, len(document.contents)
    source.chunk_size, source.chunk_overlap = document.chunk_size, document.chunk_overlap
    source.metadata = document.metadata
    source.save(update_fields=changed)
    source.refresh_from_db(fields=["updated_at"])  # set by the table's trigger


def document_ingest(
    *,
    document_id: Any,
    text: Any = None,
    chunks: Any = None,
    source_path: Any = None,
    metadata: Any = None,
    chunk_size: Any = DEFAULT_CHUNK_SIZE,
    chunk_overlap: Any = DEFAULT_CHUNK_OVERLAP,
    embedding_model: Any = None,
    actor: User | None = None,
) -> IngestResult:
    """Ingest one document (see the module): ``text`` (split by ``knowledge.chunking``:
    ``chunk_size`` and ``chunk_overlap`` in characters) or ``chunks`` (pre-chunked:
    ``[{"content": str, "embedding": [float, ...] | None}]``, vectors of ``embedding_model``,
    the active model by default). Call it outside a transaction, so that embedding holds none.

    Raises ``InvalidInput`` (nothing written), ``NotPermitted`` (an agent and a source it did
    not ingest), ``IngestPlanStale`` (409, after ``INGEST_ATTEMPTS`` lost races)."""
    known: Mapping[str, str] = {}
    embedded = 0
    for attempt in range(1, INGEST_ATTEMPTS + 1):
        plan = document_ingest_prepare(
            document_id=document_id,
            text=text,
            chunks=chunks,
            source_path=source_path,
            metadata=metadata,
            chunk_size=chunk_size,
            chunk_overlap=chunk_overlap,
            embedding_model=embedding_model,
            actor=actor,
            known_vectors=known,
        )
        embedded += plan.embedded
        try:
            result = document_ingest_apply(plan=plan, actor=actor)
        except IngestPlanStale:
            if attempt == INGEST_ATTEMPTS:
                raise
            known = plan.vectors  # computed vectors are kept for the next attempt
            continue
        status = result.embedding_status
        if status == REUSED and embedded:  # computed by an earlier attempt, used by this one
            status = COMPUTED
        return replace(result, embedded=embedded, embedding_status=status)
    raise AssertionError("unreachable")  # pragma: no cover
