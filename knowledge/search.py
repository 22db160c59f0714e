"""Knowledge search: full text, vector, or both fused with reciprocal rank fusion.

``knowledge_search(query=..., k=10, mode="hybrid", filters=None, min_score=None,
query_vector=None)`` returns the ``k`` best chunks that match ``filters`` (the language of
``knowledge.search_filters``), each with its score and rank in each leg that found it.

- **fulltext**: ``websearch_to_tsquery('english', query)`` against ``rag_documents.search_vector``
  (GIN index); score = ``ts_rank_cd(search_vector, query, 32)``, i.e. rank / (rank + 1), in
  [0, 1).
- **vector**: cosine distance between the query vector and the chunks' vectors under one model
  (``filters.embedding_model``, else the active model ``KNOWLEDGE_EMBEDDING_MODEL``); score =
  cosine similarity (1 - distance), in [-1, 1]. The query vector is ``query_vector`` (the
  client's, of the model's dimension) or, when the server can embed with that model, the
  embedding of ``query``. Only vectors computed from the chunk's present content count.
  It runs over the model's partial HNSW index with pgvector's iterative index scans
  (``hnsw.iterative_scan = relaxed_order``): the scan goes on until enough rows pass the
  filters, so a selective filter still returns ``k`` rows; the candidates are then re-sorted by
  exact distance. When the filters match at most ``KNOWLEDGE_SEARCH_EXACT_MAX_CHUNKS`` chunks
  (a bounded count decides), their vectors are compared one by one instead: exact, and faster
  than walking the graph for a few matches. If the walk stops at ``hnsw.max_scan_tuples``
  before ``k`` vectors passed the filters, the search is repeated exactly.
- **hybrid**: both legs, each taking a pool of candidates (``max(4k, 40)``, at most 400), fused
  with reciprocal rank fusion: score = sum over legs of 1 / (60 + rank in that leg), so at most
  2/61. A hit found by one leg only has ``None`` for the other.
- Without a query vector (no ``query_vector``, and the server cannot embed with the model: the
  extra is missing, ``KNOWLEDGE_SERVER_EMBEDDINGS`` is off, or the model's vectors come only from
  clients), vector and hybrid searches fall back to full text: the result says ``mode
  "fulltext"``, the ``requested_mode`` and the ``fallback_reason``. ``min_score`` is then not
  applied (its scale was the requested mode's).
- ``min_score`` drops hits scoring below it, on the mode's own scale (above).

Every search runs in one short read-only transaction (so that ``SET LOCAL`` settings end with
it; inside a caller's transaction, a savepoint that is rolled back). Each mode's results come
from ONE statement, so from one snapshot: a concurrent re-ingest shows its old chunks or its new
ones, never a mix.
"""

from __future__ import annotations

import logging
import math
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from django.conf import settings
from django.db import connection, transaction

from devskyy.errors import FieldError, InvalidInput
from devskyy.json_codec import loads, number_out_of_range
from knowledge import embedder
from knowledge.embedding_models import EMBEDDING_MODELS, EmbeddingModel
from knowledge.models import TEXT_SEARCH_CONFIG
from knowledge.search_filters import CompiledFilter, compile_filters, has_surrogates

logger = logging.getLogger(__name__)

MODES = ("hybrid", "vector", "fulltext")
MAX_K = 100
MAX_QUERY_LENGTH = 1000
RRF_K = 60  # reciprocal rank fusion's constant (Cormack et al., 2009)
# Candidates per leg: enough for fusion to reorder, and for re-sorting the relaxed HNSW order.
POOL_FACTOR, POOL_MIN, POOL_MAX = 4, 40, 400
# pgvector: hnsw.ef_search may be 1 to 1,000. hnsw.max_scan_tuples bounds how far an iterative
# scan walks for rows that pass the filters (pgvector's default: 20,000).
MAX_EF_SEARCH = 1000
# On the 20,000-chunk test corpus (clustered vectors), ef_search 40 missed the query's cluster
# for 2 queries in 100 (recall@10 0.968). On the benchmark's 100,000 chunks (near-ties within a
# source) recall@10 was 0.92 at 100, 0.96 at 150, 0.97 at 200 for about 1 ms more: 200.
EF_SEARCH_MIN = 200
MAX_SCAN_TUPLES = 20_000


@dataclass(frozen=True)
class LegScore:
    rank: int  # 1-based, within the leg's candidates
    score: float  # fulltext: ts_rank_cd (normalised 32); vector: cosine similarity


@dataclass(frozen=True)
class SearchHit:
    id: uuid.UUID
    document_id: str
    parent_document_id: str | None
    source_path: str | None
    chunk_index: int | None
    total_chunks: int | None
    content: str
    metadata: dict[str, Any]
    embedding_model: str | None
    score: float  # the mode's final score
    rank: int  # 1-based position in the results
    fulltext: LegScore | None
    vector: LegScore | None


@dataclass(frozen=True)
class SearchResult:
    mode: str  # the mode used
    requested_mode: str
    fallback_reason: str | None
    embedding_model: str | None  # the vector leg's model, None without a vector leg
    hits: list[SearchHit]


def knowledge_search(
    *,
    query: str,
    k: int = 10,
    mode: str = "hybrid",
    filters: Any = None,
    min_score: float | None = None,
    query_vector: Sequence[float] | None = None,
) -> SearchResult:
    """The ``k`` best chunks for ``query`` (see the module's docstring); ``InvalidInput`` for
    bad arguments or filters."""
    compiled, model, client_vector = _validated(
        query=query, k=k, mode=mode, filters=filters, min_score=min_score, vector=query_vector
    )
    used, fallback_reason, vector = mode, None, client_vector
    if mode != "fulltext" and vector is None:
        # outside the transaction: the first call loads the model (seconds)
        vector, fallback_reason = _server_query_vector(query, model)
        if vector is None:
            used = "fulltext"
    search = _Search(
        query=query, k=k, mode=used, filters=compiled, model=model, vector=vector or []
    )
    with transaction.atomic(), connection.cursor() as cursor:
        rows = search.run(cursor)
        # Nothing was written: roll back, which also ends the SET LOCALs when this is a
        # savepoint in the caller's transaction.
        transaction.set_rollback(True)
    hits = [_hit(row) for row in rows]
    if min_score is not None and fallback_reason is None:
        hits = [hit for hit in hits if hit.score >= min_score]
    return SearchResult(
        mode=used,
        requested_mode=mode,
        fallback_reason=fallback_reason,
        embedding_model=model.name if used != "fulltext" else None,
        hits=[replace(hit, rank=rank) for rank, hit in enumerate(hits, start=1)],
    )


def _validated(
    *,
    query: Any,
    k: Any,
    mode: Any,
    filters: Any,
    min_score: Any,
    vector: Any,
) -> tuple[CompiledFilter, EmbeddingModel, list[float] | None]:
    errors: dict[str, list[FieldError]] = {}
    if not isinstance(query, str) or not query.strip():
        errors["query"] = [FieldError("Must be a non-empty string.", "blank")]
    elif len(query) > MAX_QUERY_LENGTH:
        errors["query"] = [FieldError(f"At most {MAX_QUERY_LENGTH} characters.", "max_length")]
    elif "\x00" in query:
        errors["query"] = [FieldError("Must not contain NUL characters.")]
    elif has_surrogates(query):
        errors["query"] = [FieldError("Must not contain surrogate characters.")]
    if isinstance(k, bool) or not isinstance(k, int) or not 1 <= k <= MAX_K:
        errors["k"] = [FieldError(f"Must be an integer from 1 to {MAX_K}.")]
    if mode not in MODES:
        errors["mode"] = [FieldError(f"Must be one of {', '.join(MODES)}.", "invalid_choice")]
    if min_score is not None and (
        isinstance(min_score, bool)
        or not isinstance(min_score, int | float)
        or number_out_of_range(min_score)
    ):
        errors["min_score"] = [FieldError("Must be a finite number.")]
    compiled = CompiledFilter("TRUE", [])
    try:
        compiled = compile_filters(filters)
    except InvalidInput as exc:
        errors.update(exc.errors)  # type: ignore[arg-type]
    model = compiled.embedding_model or embedder.active_model()
    client_vector = None
    if vector is not None:
        client_vector, problem = _unit_vector(vector, model)
        if problem is not None:
            errors["query_vector"] = [problem]
    if errors:
        raise InvalidInput(errors)
    return compiled, model, client_vector


def _unit_vector(
    vector: Any, model: EmbeddingModel
) -> tuple[list[float] | None, FieldError | None]:
    """The client's vector scaled to length 1: cosine distance does not change, and pgvector's
    single-precision arithmetic neither overflows nor underflows."""
    if not isinstance(vector, list | tuple) or len(vector) != model.dimensions:
        return None, FieldError(
            f"Must be a list of {model.dimensions} numbers, the dimension of {model.name}.",
            "wrong_dimensions",
        )
    if any(
        isinstance(x, bool) or not isinstance(x, int | float) or number_out_of_range(x)
        for x in vector
    ):
        return None, FieldError("Must hold finite numbers (within the signed 64-bit range).")
    norm = math.hypot(*vector)
    if norm == 0:
        return None, FieldError("Must not be all zeros: it has no direction.", "zero_vector")
    return [x / norm for x in vector], None


def _server_query_vector(
    query: str, model: EmbeddingModel
) -> tuple[list[float] | None, str | None]:
    """The embedding of ``query`` under ``model``, or None and why the server cannot make it."""
    reason = embedder.unavailable_reason(model)
    if reason is None:
        try:
            return embedder.embed_query(query, model=model), None
        except embedder.EmbedderUnavailable as exc:
            reason = str(exc)
        except Exception:  # a broken model install: search answers, with full text
            logger.exception("the server's embedder failed; searching full text only")
            reason = f"the server's {model.name} embedder failed (see the server's log)"
    return None, f"no query vector: {reason}"


class _Search:
    """The statements of one search. SQL is assembled from fixed fragments; every value is a
    parameter, except the registered model's name and dimension (code, not input), which the
    planner must see as constants to match the model's partial index."""

    HIT_COLUMNS = (
        "d.id, d.document_id, src.document_id, d.source_path, d.chunk_index, "
        "d.total_chunks, d.content, d.metadata, d.embedding_model"
    )

    def __init__(
        self,
        *,
        query: str,
        k: int,
        mode: str,
        filters: CompiledFilter,
        model: EmbeddingModel,
        vector: list[float],
    ) -> None:
        self.query, self.k, self.mode, self.filters = query, k, mode, filters
        self.model, self.vector = model, vector
        self.pool = min(max(k * POOL_FACTOR, POOL_MIN), POOL_MAX)
        self.exact = False

    def run(self, cursor: Any) -> list[tuple[Any, ...]]:
        vector_leg = self.mode in ("vector", "hybrid")
        config = [("transaction_read_only", "on")]
        if vector_leg:
            config += [
                ("hnsw.iterative_scan", "relaxed_order"),
                ("hnsw.ef_search", str(min(max(self.pool, EF_SEARCH_MIN), MAX_EF_SEARCH))),
                ("hnsw.max_scan_tuples", str(MAX_SCAN_TUPLES)),
            ]
        cursor.execute(
            "SELECT " + ", ".join(["set_config(%s, %s, true)"] * len(config)),
            [item for pair in config for item in pair],
        )
        if not vector_leg:
            return self._fetch(cursor)
        self.exact = self._filters_match_at_most(cursor, settings.KNOWLEDGE_SEARCH_EXACT_MAX_CHUNKS)
        rows = self._fetch(cursor)
        found = rows[0][-1] if rows else 0  # the vector leg's candidates
        if not self.exact and found < self.k:
            # The iterative scan stopped (hnsw.max_scan_tuples) before k vectors passed the
            # filters: few of the matching chunks have vectors, or theirs lie far from the
            # query. Compare them all instead, so that k rows come back whenever k exist.
            self.exact = True
            rows = self._fetch(cursor)
        return rows

    def _fetch(self, cursor: Any) -> list[tuple[Any, ...]]:
        sql, params = self.statement()
        cursor.execute(sql, params)
        return list(cursor.fetchall())

    def _filters_match_at_most(self, cursor: Any, limit: int) -> bool:
        """Do the filters match at most ``limit`` chunks? Reads at most ``limit + 1`` rows."""
        cursor.execute(
            f"SELECT count(*) FROM (SELECT 1 FROM rag_documents d WHERE {self.filters.sql} "  # noqa: S608 (fixed fragments; values are parameters)
            "LIMIT %s) AS matching",
            [*self.filters.params, limit + 1],
        )
        return bool(cursor.fetchone()[0] <= limit)

    def statement(self) -> tuple[str, list[Any]]:
        ctes: list[str] = []
        params: list[Any] = []
        if self.mode in ("fulltext", "hybrid"):
            sql, leg_params = self._fulltext_leg(self.k if self.mode == "fulltext" else self.pool)
            ctes.append(sql)
            params += leg_params
        if self.mode in ("vector", "hybrid"):
            sql, leg_params = self._vector_leg()
            ctes.append(sql)
            params += leg_params
        if self.mode == "hybrid":
            fused = (
                "fused AS (SELECT coalesce(ft.id, vec.id) AS id, "  # noqa: S608 (fixed fragments; values are parameters)
                "ft.rank AS ft_rank, ft.score AS ft_score, "
                "vec.rank AS vec_rank, vec.score AS vec_score, "
                f"coalesce(1.0::float8 / ({RRF_K} + ft.rank), 0) "
                f"+ coalesce(1.0::float8 / ({RRF_K} + vec.rank), 0) AS score "
                "FROM ft FULL JOIN vec ON vec.id = ft.id)"
            )
        elif self.mode == "fulltext":
            fused = (
                "fused AS (SELECT id, rank AS ft_rank, score AS ft_score, "
                "NULL::bigint AS vec_rank, NULL::float8 AS vec_score, score FROM ft)"
            )
        else:
            fused = (
                "fused AS (SELECT id, NULL::bigint AS ft_rank, NULL::float8 AS ft_score, "
                "rank AS vec_rank, score AS vec_score, score FROM vec)"
            )
        ctes.append(fused)
        sql = (
            "WITH " + ",\n".join(ctes) + "\n"  # noqa: S608 (fixed fragments; values are parameters)
            f"SELECT {self.HIT_COLUMNS}, f.score, f.ft_rank, f.ft_score, f.vec_rank, f.vec_score, "
            f"{'(SELECT count(*) FROM vec)' if self.mode != 'fulltext' else 'NULL'} "
            "FROM fused f JOIN rag_documents d ON d.id = f.id "
            "LEFT JOIN rag_sources src ON src.id = d.parent_id "
            "ORDER BY f.score DESC, least(f.ft_rank, f.vec_rank), d.document_id "
            "LIMIT %s"
        )
        return sql, [*params, self.k]

    def _fulltext_leg(self, limit: int) -> tuple[str, list[Any]]:
        # websearch_to_tsquery with a fixed configuration is immutable: folded into a constant
        # at planning, so the GIN index on search_vector serves the match.
        tsquery = f"websearch_to_tsquery('{TEXT_SEARCH_CONFIG}', %s)"
        sql = (
            "ft_hits AS ("  # noqa: S608 (fixed fragments; values are parameters)
            f"SELECT d.id, d.document_id, ts_rank_cd(d.search_vector, {tsquery}, 32)::float8 "
            "AS score "
            f"FROM rag_documents d WHERE d.search_vector @@ {tsquery} AND {self.filters.sql} "
            "ORDER BY score DESC, d.document_id LIMIT %s),\n"
            "ft AS (SELECT id, score, "
            "row_number() OVER (ORDER BY score DESC, document_id) AS rank FROM ft_hits)"
        )
        return sql, [self.query, self.query, *self.filters.params, limit]

    def _vector_leg(self) -> tuple[str, list[Any]]:
        assert self.model.name in EMBEDDING_MODELS  # a registered name: safe as a literal
        vector = "[" + ",".join(repr(x) for x in self.vector) + "]"
        model = "'" + self.model.name.replace("'", "''") + "'"
        # A vector counts only while it describes the chunk's present content. (IS TRUE: the
        # same test on NOT NULL columns, but no index condition, so that the chunk is found by
        # its primary key, not among every chunk sharing its hash.)
        chunk = "d.id = e.chunk_id AND (d.content_hash = e.content_hash) IS TRUE"
        if self.exact:
            # The untyped column does not match the index's expression: a plain, exact
            # comparison of the few vectors the filters leave (the planner starts from them).
            candidates = (
                "SELECT e.chunk_id AS id, d.document_id, e.embedding <=> %s::vector AS distance "  # noqa: S608 (fixed fragments; values are parameters)
                f"FROM rag_embeddings e JOIN rag_documents d ON {chunk} "
                f"WHERE e.model = {model} AND {self.filters.sql} "
                "ORDER BY distance, d.document_id LIMIT %s"
            )
            params = [vector, *self.filters.params, self.pool]
        else:
            # Exactly the expression of the model's partial HNSW index, so that the planner
            # walks it in distance order; the iterative scan goes on until `pool` vectors pass
            # the filters. OFFSET 0 keeps the chunk's checks a subquery run per vector: flattened
            # into a join, the planner's guess of how many chunks pass (rough for jsonb, and
            # the hash check's selectivity multiplied with the join's) makes it sort every
            # vector instead. Whether the filters leave enough chunks for the index is decided
            # by the bounded count, on real numbers.
            dims = int(self.model.dimensions)
            distance = f"(e.embedding::vector({dims})) <=> %s::vector({dims})"
            candidates = (
                f"SELECT e.chunk_id AS id, d.document_id, {distance} AS distance "  # noqa: S608 (fixed fragments; values are parameters)
                "FROM rag_embeddings e CROSS JOIN LATERAL ("
                f"SELECT d.document_id FROM rag_documents d WHERE {chunk} "
                f"AND {self.filters.sql} OFFSET 0) d "
                f"WHERE e.model = {model} ORDER BY {distance} LIMIT %s"
            )
            params = [vector, *self.filters.params, vector, self.pool]
        sql = (
            f"vec_hits AS ({candidates}),\n"  # noqa: S608 (fixed fragments; values are parameters)
            # the relaxed order of an iterative scan, re-sorted exactly
            "vec AS (SELECT id, 1 - distance AS score, "
            "row_number() OVER (ORDER BY distance, document_id) AS rank FROM vec_hits)"
        )
        return sql, params


def _hit(row: tuple[Any, ...]) -> SearchHit:
    (
        id_,
        document_id,
        parent_document_id,
        source_path,
        chunk_index,
        total_chunks,
        content,
        metadata,
        embedding_model,
        score,
        ft_rank,
        ft_score,
        vec_rank,
        vec_score,
        _,
    ) = row
    return SearchHit(
        id=id_,
        document_id=document_id,
        parent_document_id=parent_document_id,
        source_path=source_path,
        chunk_index=chunk_index,
        total_chunks=total_chunks,
        content=content,
        metadata=loads(metadata) if isinstance(metadata, str) else metadata,
        embedding_model=embedding_model,
        score=float(score),
        rank=0,
        fulltext=LegScore(int(ft_rank), float(ft_score)) if ft_rank is not None else None,
        vector=LegScore(int(vec_rank), float(vec_score)) if vec_rank is not None else None,
    )
