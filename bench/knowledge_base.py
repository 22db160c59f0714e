"""Knowledge-base benchmark (part of `make bench`): ingestion, search latency and HNSW recall.

    .venv/bin/python bench/knowledge_base.py [--chunks 100000] [--queries 200] [--documents 300]
                                             [--reload] [--ef-search 40,64,100,200] [--output F]

In one run, on one database (the embedded PostgreSQL in .devskyy, database
`devskyy_bench_knowledge`, or DATABASE_URL's server):

1. The search corpus: ``--chunks`` chunks in sources of 20, each with an all-MiniLM-L6-v2 vector,
   written with COPY (psycopg's ``copy``). Texts are sentences of English function and common
   words mixed with topic terms (made-up words, 40 per topic, 300 topics), so that a full-text
   query of two topic terms matches tens to hundreds of chunks. Vectors are not uniform noise
   (HNSW recall on that is unrepresentative): each topic has a centroid and a 16-dimensional
   subspace; a source sits near its topic's centroid, its chunks near the source (cosine about
   0.75 between chunks of one source, 0.45 within a topic, 0 across topics), unit-normalised,
   384 dimensions. Each source is in one of 100 collections (``metadata.collection``, 1 % of
   the chunks each), independent of its topic. The full-text and metadata GIN indexes and the
   model's HNSW index are dropped before the COPY and built again after it, in the same
   transaction (each build timed). The corpus is kept between runs: a marker source records
   what was loaded and how long that took; ``--reload`` loads it again.
2. Search latency: ``--queries`` calls of ``knowledge.search.knowledge_search`` per mode
   (fulltext, vector, hybrid), k = 10, after 10 untimed warm-up calls, each without a filter
   and with a metadata filter on one collection (1 % of the chunks). A query lies near a random
   source (as its chunks do) with a text of two of its topic's terms; its filter names the
   collection of another source of the same topic, so the filter holds related chunks but not
   the nearest ones, which the index must pass over. The query vectors are computed in advance
   and passed as ``query_vector``: the time measured is the database's plus devskyy's Python
   around it (building the SQL, making the hits), no embedding. Then hybrid again with the
   server embedding each query text: end to end.
3. Recall@10 of the vector searches of step 2 against exact search on the same data (the same
   ``ORDER BY`` on the untyped column, which the model's partial expression index cannot serve;
   EXPLAIN checks both plans), without and with the filter; target >= 0.95. Beside it, the
   recall and latency of the HNSW index query alone (raw SQL) at each ``--ef-search`` value.
4. Ingestion through ``knowledge.services.document_ingest`` of ``--documents`` generated prose
   documents (2 to 8 paragraphs; seeded, the same every run), one at a time, into the knowledge
   base holding the corpus of step 1: (a) without the embedder (``KNOWLEDGE_SERVER_EMBEDDINGS``
   off), (b) with the server's embedder (loaded before the clock starts), (c) the documents of
   (b) again, unchanged: nothing may be written or embedded. Chunks per second. The ingested
   sources are deleted afterwards, and the tables vacuumed. (Their vectors went into the
   corpus's HNSW index and out again: the graph a later run searches differs a little from a
   fresh build; recall moved by less than 0.005 between runs here. ``--reload`` builds it anew.)

Needs the ``embeddings`` extra (``make`` installs it; numpy comes with it). Exit status 1 when
the recall@10 of knowledge_search is under 0.95, when a filtered vector search returned fewer
than k hits, or when re-ingesting unchanged documents wrote or embedded anything; 2 when the
server cannot embed. Results are printed and written to .devskyy/bench/knowledge-<UTC stamp>.json
(or ``--output``).

(Not ``bench/knowledge.py``: a script of that name would shadow the ``knowledge`` package for
mypy and for its own imports.)
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import os
import statistics
import sys
import time
import uuid
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DEVSKYY_DB_NAME", "devskyy_bench_knowledge")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "devskyy.settings.local")
os.environ.setdefault("DJANGO_DEBUG", "0")  # DEBUG would record every query
os.environ.setdefault("DB_STATEMENT_TIMEOUT_MS", "0")  # building an index is not a request

import django  # noqa: E402

django.setup()

import numpy as np  # noqa: E402
import psycopg  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection, connections  # noqa: E402
from django.test import override_settings  # noqa: E402
from pgvector.psycopg import register_vector  # noqa: E402
from psycopg import sql  # noqa: E402
from psycopg.types.json import Jsonb  # noqa: E402

from knowledge import embedder  # noqa: E402
from knowledge.chunking import DEFAULT_CHUNK_OVERLAP, DEFAULT_CHUNK_SIZE  # noqa: E402
from knowledge.embedding_models import EMBEDDING_MODELS  # noqa: E402
from knowledge.search import knowledge_search  # noqa: E402
from knowledge.services import document_ingest, sources_delete  # noqa: E402

RESULTS = ROOT / ".devskyy" / "bench"
MODEL = EMBEDDING_MODELS["all-MiniLM-L6-v2"]  # the server's model: real index, real embedder
GENERATOR_VERSION = 1  # bump when the corpus generator changes: the next run reloads
RECALL_TARGET = 0.95
K = 10

CORPUS_PREFIX = "bench-corpus/"
MARKER_ID = "bench-corpus-marker"
INGEST_PREFIX = "bench-ingest/"
CHUNKS_PER_SOURCE = 20
COLLECTIONS = 100
# Built again after the COPY: maintaining them row by row would take several times longer.
REBUILT_INDEXES = {
    "hnsw": MODEL.index_name,
    "fulltext_gin": "rag_docs_search_vector_idx",
    "metadata_gin": "rag_docs_metadata_idx",
}

# --- text -------------------------------------------------------------------------------------


def _words(text: str) -> list[str]:
    return text.split()


FUNCTION_WORDS = _words(
    "the of and to a in is that for it as with on be by this are or from at which not can when "
    "an each its all should will if may"
)
COMMON_WORDS = _words(
    "system order customer account return shipping policy payment product service support team "
    "request report data record change update process time day week month year number total "
    "price cost invoice refund delivery address email message note item list page document "
    "file folder version release feature issue error problem question answer guide step rule "
    "limit user agent tool task job queue worker server client network database table index "
    "query search result score filter source chunk model vector text word line section chapter "
    "store warehouse stock supplier carrier package label box size weight color material "
    "quality review rating warranty repair replacement exchange credit balance discount coupon "
    "tax region country city street phone contact manager owner member group role access key "
    "password login session token security audit event log history status state level stage "
    "plan project budget contract agreement term condition notice period deadline schedule "
    "meeting call visit trip travel booking reservation ticket seat room hotel flight train "
    "check send receive open close start stop create delete keep move copy print sign pay buy "
    "sell ship pack track find read write show hide allow deny approve reject cancel confirm "
    "new old first last next previous main other same different large small long short high "
    "low fast slow early late full empty free paid public private local remote current final "
    "daily weekly monthly annual internal external standard special general specific simple"
)
SYLLABLE_ONSETS = _words("b c d f g k l m n p r s t v z br cr dr fl gr kl pl pr st tr")
SYLLABLE_VOWELS = _words("a e i o u ai ou ea io")
SYLLABLE_CODAS = ["", "", "n", "r", "s", "l", "x", "m", "nd", "rt"]
TERMS = 4000
TERMS_PER_TOPIC = 40


class Vocabulary:
    """Function words (30 % of the words), common words (Zipf-distributed) and the terms of
    the paragraph's topic (``term_share`` of the words; the first of a topic's 40 terms are
    the most frequent)."""

    def __init__(self, topics: int, seed: int) -> None:
        rng = np.random.default_rng([seed, 1])
        terms: set[str] = set()
        while len(terms) < TERMS:
            word = "".join(
                rng.choice(SYLLABLE_ONSETS)
                + rng.choice(SYLLABLE_VOWELS)
                + rng.choice(SYLLABLE_CODAS)
                for _ in range(int(rng.integers(2, 4)))
            )
            if len(word) >= 5:
                terms.add(word)
        self.terms = np.array(sorted(terms), dtype=object)
        self.topic_terms = np.stack(
            [rng.choice(TERMS, size=TERMS_PER_TOPIC, replace=False) for _ in range(topics)]
        )
        self.function = np.array(FUNCTION_WORDS, dtype=object)
        self.common = np.array(rng.permutation(COMMON_WORDS), dtype=object)
        common_weights = 1 / np.arange(1, len(self.common) + 1) ** 0.8
        self.common_p = common_weights / common_weights.sum()
        term_weights = 1 / np.arange(1, TERMS_PER_TOPIC + 1) ** 0.8
        self.term_p = term_weights / term_weights.sum()

    def paragraphs(
        self,
        rng: np.random.Generator,
        topics: np.ndarray,
        words: np.ndarray,
        term_share: float = 0.22,
    ) -> list[str]:
        """One paragraph per (topic, word count): sentences of 6 to 20 words."""
        total = int(words.sum())
        topic_of_word = np.repeat(topics, words)
        kind = rng.random(total)
        picked = np.empty(total, dtype=object)
        function = kind < 0.30
        common = (kind >= 0.30) & (kind < 1 - term_share)
        term = kind >= 1 - term_share
        picked[function] = self.function[rng.integers(len(self.function), size=function.sum())]
        picked[common] = self.common[
            rng.choice(len(self.common), size=common.sum(), p=self.common_p)
        ]
        ranks = rng.choice(TERMS_PER_TOPIC, size=term.sum(), p=self.term_p)
        picked[term] = self.terms[self.topic_terms[topic_of_word[term], ranks]]
        sentence_lengths = rng.integers(6, 21, size=total // 6 + 1).tolist()
        flat: list[str] = picked.tolist()
        out, position, sentence = [], 0, 0
        for count in words.tolist():
            end, sentences = position + count, []
            while position < end:
                stop = min(end, position + sentence_lengths[sentence])
                sentence += 1
                text = " ".join(flat[position:stop])
                sentences.append(text[0].upper() + text[1:] + ".")
                position = stop
            out.append(" ".join(sentences))
        return out

    def query(self, rng: np.random.Generator, topic: int) -> str:
        """Two of the topic's ten most frequent terms: a websearch_to_tsquery AND of both."""
        first, second = rng.choice(10, size=2, replace=False)
        terms = self.terms[self.topic_terms[topic, [first, second]]]
        return f"{terms[0]} {terms[1]}"


# --- vectors ----------------------------------------------------------------------------------

SUBSPACE = 16
SOURCE_SPREAD, CHUNK_SPREAD, NOISE = 0.82, 0.67, 0.32  # see VectorSpace


def _unit(rows: np.ndarray) -> np.ndarray:
    return (rows / np.linalg.norm(rows, axis=-1, keepdims=True)).astype(np.float32)


class VectorSpace:
    """Topic centroids with a 16-dimensional subspace each. A source is its topic's centroid
    plus an offset of norm ~0.82 in that subspace; a chunk is its source plus another (~0.67)
    and isotropic noise (~0.32), normalised: cosine ~0.75 between chunks of one source, ~0.45
    within a topic, ~0 across topics (all-MiniLM-L6-v2 gives related passages 0.4 to 0.7)."""

    def __init__(self, topics: int, dimensions: int, seed: int) -> None:
        rng = np.random.default_rng([seed, 2])
        self.dimensions = dimensions
        self.centroids = _unit(rng.standard_normal((topics, dimensions)))
        self.bases = _unit(rng.standard_normal((topics, SUBSPACE, dimensions)))

    def _in_subspace(self, rng: np.random.Generator, topics: np.ndarray, norm: float) -> np.ndarray:
        out = np.empty((len(topics), self.dimensions), dtype=np.float32)
        weights = rng.standard_normal((len(topics), SUBSPACE)).astype(np.float32)
        for topic in np.unique(topics):
            rows = np.nonzero(topics == topic)[0]
            out[rows] = weights[rows] @ self.bases[topic]
        return out * (norm / math.sqrt(SUBSPACE))

    def source_offsets(self, rng: np.random.Generator, topics: np.ndarray) -> np.ndarray:
        return self._in_subspace(rng, topics, SOURCE_SPREAD)

    def points(
        self, rng: np.random.Generator, topics: np.ndarray, source_offsets: np.ndarray
    ) -> np.ndarray:
        """Unit vectors near the given sources (one row per point)."""
        noise = rng.standard_normal((len(topics), self.dimensions)).astype(np.float32)
        return _unit(
            self.centroids[topics]
            + source_offsets
            + self._in_subspace(rng, topics, CHUNK_SPREAD)
            + noise * (NOISE / math.sqrt(self.dimensions))
        )


# --- the search corpus ------------------------------------------------------------------------


@dataclass
class Corpus:
    """The layout of the search corpus, cheap to make: sources, their topics and collections,
    their places in the vector space. Texts and chunk vectors are made only to load it."""

    chunks: int
    topics: int
    seed: int
    vocabulary: Vocabulary
    space: VectorSpace
    source_topics: np.ndarray
    source_offsets: np.ndarray
    source_sizes: np.ndarray

    @classmethod
    def plan(cls, *, chunks: int, topics: int, seed: int) -> Corpus:
        rng = np.random.default_rng([seed, 3])
        sources = math.ceil(chunks / CHUNKS_PER_SOURCE)
        sizes = np.full(sources, CHUNKS_PER_SOURCE)
        sizes[-1] = chunks - CHUNKS_PER_SOURCE * (sources - 1)
        source_topics = rng.integers(topics, size=sources)
        space = VectorSpace(topics, MODEL.dimensions, seed)
        return cls(
            chunks=chunks,
            topics=topics,
            seed=seed,
            vocabulary=Vocabulary(topics, seed),
            space=space,
            source_topics=source_topics,
            source_offsets=space.source_offsets(rng, source_topics),
            source_sizes=sizes,
        )

    def signature(self) -> dict[str, int]:
        return {
            "generator": GENERATOR_VERSION,
            "chunks": self.chunks,
            "topics": self.topics,
            "seed": self.seed,
        }

    @staticmethod
    def document_id(source: int) -> str:
        return f"bench-corpus-{source:06d}"

    @staticmethod
    def collection(source: int) -> str:
        return f"c{source % COLLECTIONS:02d}"

    def source_metadata(self, source: int) -> dict[str, Any]:
        return {
            "collection": self.collection(source),
            "topic": f"t{int(self.source_topics[source]):03d}",
            "year": 2018 + source % 9,
            "lang": "en",
        }

    def rows(self) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]], list[tuple[Any, ...]]]:
        """(sources, chunks, vectors) rows for COPY, in the tables' column order of ``load``."""
        rng = np.random.default_rng([self.seed, 4])
        chunk_topics = np.repeat(self.source_topics, self.source_sizes)
        texts = self.vocabulary.paragraphs(
            rng, chunk_topics, rng.integers(40, 161, size=self.chunks)
        )
        vectors = self.space.points(
            rng, chunk_topics, np.repeat(self.source_offsets, self.source_sizes, axis=0)
        )
        ids = [
            uuid.UUID(bytes=rng.bytes(16), version=4)
            for _ in range(self.chunks + len(self.source_sizes))
        ]
        sources, chunks, embeddings = [], [], []
        position = 0
        for source, size in enumerate(self.source_sizes.tolist()):
            source_id, document_id = ids[self.chunks + source], self.document_id(source)
            path = f"{CORPUS_PREFIX}{self.collection(source)}/{document_id}.md"
            metadata = self.source_metadata(source)
            own = texts[position : position + size]
            whole = "\n\n".join(own)
            sources.append(
                (
                    source_id,
                    document_id,
                    path,
                    Jsonb(metadata),
                    hashlib.sha256(whole.encode()).hexdigest(),
                    len(whole),
                    size,
                    DEFAULT_CHUNK_SIZE,
                    DEFAULT_CHUNK_OVERLAP,
                )
            )
            chunk_metadata = Jsonb({**metadata, "parent_doc_id": document_id})
            for index, text in enumerate(own):
                digest = hashlib.sha256(text.encode()).hexdigest()
                chunk_id = ids[position + index]
                chunks.append(
                    (
                        chunk_id,
                        f"{document_id}-chunk-{index}",
                        path,
                        text,
                        digest,
                        index,
                        size,
                        MODEL.name,
                        chunk_metadata,
                        source_id,
                    )
                )
                embeddings.append((chunk_id, MODEL.name, digest, vectors[position + index]))
            position += size
        return sources, chunks, embeddings

    def queries(self, count: int) -> list[Query]:
        """Each near a random source of the corpus (as a chunk of it would be), with a text of
        two of that source's topic's frequent terms. Its filters: the collection of another
        source of the same topic (1 % of the chunks), and that one with 9 others (10 %), never
        the query's own source's: the filter holds related chunks, but not the nearest ones,
        which the index must pass over."""
        rng = np.random.default_rng([self.seed, 5])
        sources = rng.integers(len(self.source_sizes), size=count)
        topics = self.source_topics[sources]
        vectors = self.space.points(rng, topics, self.source_offsets[sources])
        source_collections = np.arange(len(self.source_sizes)) % COLLECTIONS
        queries = []
        for source, topic, vector in zip(sources.tolist(), topics.tolist(), vectors, strict=True):
            own = source % COLLECTIONS
            related = np.nonzero((self.source_topics == topic) & (source_collections != own))[0]
            first = (
                int(rng.choice(related)) % COLLECTIONS
                if len(related)
                else int(rng.choice([c for c in range(COLLECTIONS) if c != own]))
            )
            others = [c for c in range(COLLECTIONS) if c not in (own, first)]
            chosen = [first, *rng.choice(others, size=9, replace=False).tolist()]
            queries.append(
                Query(
                    text=self.vocabulary.query(rng, topic),
                    vector=vector,
                    collections=[f"c{c:02d}" for c in chosen],
                )
            )
        return queries


@dataclass
class Query:
    text: str
    vector: np.ndarray
    collections: list[str]  # the filters' collections, the 1 % filter's first

    def filter_collections(self, share: int) -> list[str]:
        """The collections of the ``share`` % filter (``share`` of the 100)."""
        return self.collections[:share]

    def filters(self, share: int) -> dict[str, Any] | None:
        """knowledge_search's filters matching ``share`` % of the chunks (None for 0)."""
        if not share:
            return None
        collections = self.filter_collections(share)
        if len(collections) == 1:
            return {"metadata": {"collection": collections[0]}}
        return {"metadata": {"collection": {"in": collections}}}


FILTER_SHARES = (0, 1, 10)  # % of the chunks that a search's filter matches; 0: no filter


def filter_name(share: int) -> str:
    return f"filter {share} %" if share else "no filter"


def connect() -> psycopg.Connection[Any]:
    """A plain psycopg connection to the bench database (COPY, DDL, exact search), vectors
    adapted both ways, statements never prepared (the partial index's predicate is matched
    against the statement's literal model name)."""
    params = connections["default"].get_connection_params()
    keep = {"dbname", "user", "password", "host", "port"}
    conn = psycopg.connect(**{k: v for k, v in params.items() if k in keep}, autocommit=True)
    conn.prepare_threshold = None
    register_vector(conn)
    return conn


def corpus_loaded(conn: psycopg.Connection[Any], corpus: Corpus) -> dict[str, Any] | None:
    """The marker's record of the load when the corpus in the database is this one, else None."""
    row = conn.execute(
        "SELECT metadata FROM rag_sources WHERE document_id = %s", [MARKER_ID]
    ).fetchone()
    if row is None or any(row[0].get(key) != value for key, value in corpus.signature().items()):
        return None
    (chunks,) = conn.execute(
        "SELECT count(*) FROM rag_documents WHERE source_path LIKE %s", [CORPUS_PREFIX + "%"]
    ).fetchone() or (0,)
    (vectors,) = conn.execute(
        "SELECT count(*) FROM rag_embeddings e JOIN rag_documents d ON d.id = e.chunk_id"
        " WHERE d.source_path LIKE %s AND e.model = %s",
        [CORPUS_PREFIX + "%", MODEL.name],
    ).fetchone() or (0,)
    if chunks != corpus.chunks or vectors != corpus.chunks:
        return None
    return dict(row[0])


def load(conn: psycopg.Connection[Any], corpus: Corpus) -> dict[str, Any]:
    """Replace the corpus: in one transaction, drop the rebuilt indexes, delete the old corpus,
    COPY the new one, build the indexes again, write the marker. Then VACUUM ANALYZE."""
    began = time.monotonic()
    sources, chunks, embeddings = corpus.rows()
    timings: dict[str, Any] = {"generate_seconds": round(time.monotonic() - began, 1)}
    with conn.transaction():
        # The HNSW graph of 100,000 vectors of 384 dimensions is built in memory (~300 MB).
        conn.execute("SET LOCAL maintenance_work_mem = '1GB'")
        # Django's foreign keys are deferred: checked at commit, their pending checks would
        # forbid CREATE INDEX on the table. Checked row by row during the COPY instead.
        conn.execute("SET CONSTRAINTS ALL IMMEDIATE")
        definitions = dict(
            conn.execute(
                "SELECT c.relname, pg_get_indexdef(c.oid) FROM pg_class c"
                " WHERE c.relkind = 'i' AND c.relname = ANY(%s) AND pg_table_is_visible(c.oid)",
                [list(REBUILT_INDEXES.values())],
            ).fetchall()
        )
        missing = set(REBUILT_INDEXES.values()) - set(definitions)
        if missing:
            raise SystemExit(f"bench: indexes {sorted(missing)} missing: is the database migrated?")
        for name in definitions:
            conn.execute(sql.SQL("DROP INDEX {}").format(sql.Identifier(name)))
        began = time.monotonic()
        delete_corpus(conn)
        timings["delete_seconds"] = round(time.monotonic() - began, 1)
        tables = (
            (
                "COPY rag_sources (id, document_id, source_path, metadata, text_hash, char_count,"
                " total_chunks, chunk_size, chunk_overlap) FROM STDIN",
                None,
                sources,
            ),
            (
                "COPY rag_documents (id, document_id, source_path, content, content_hash,"
                " chunk_index, total_chunks, embedding_model, metadata, parent_id) FROM STDIN",
                None,
                chunks,
            ),
            (
                "COPY rag_embeddings (chunk_id, model, content_hash, embedding)"
                " FROM STDIN (FORMAT BINARY)",
                ["uuid", "varchar", "varchar", "vector"],
                embeddings,
            ),
        )
        with conn.cursor() as cursor:
            for (statement, types, rows), key in zip(
                tables, ("sources", "chunks", "vectors"), strict=True
            ):
                began = time.monotonic()
                with cursor.copy(statement) as copy:
                    if types:
                        copy.set_types(types)
                    for row in rows:
                        copy.write_row(row)
                timings[f"copy_{key}_seconds"] = round(time.monotonic() - began, 1)
        for key, name in REBUILT_INDEXES.items():
            began = time.monotonic()
            conn.execute(definitions[name])
            timings[f"{key}_build_seconds"] = round(time.monotonic() - began, 1)
        marker = {
            **corpus.signature(),
            **timings,
            "loaded_at": datetime.now(UTC).isoformat(timespec="seconds"),
        }
        conn.execute(
            "INSERT INTO rag_sources (document_id, source_path, metadata, text_hash, chunk_size,"
            " chunk_overlap) VALUES (%s, %s, %s, %s, %s, %s)",
            [MARKER_ID, MARKER_ID, Jsonb(marker), hashlib.sha256(b"").hexdigest(), 0, 0],
        )
    began = time.monotonic()
    conn.execute("VACUUM ANALYZE rag_sources, rag_documents, rag_embeddings")
    marker["vacuum_seconds"] = round(time.monotonic() - began, 1)
    conn.execute(
        "UPDATE rag_sources SET metadata = %s WHERE document_id = %s", [Jsonb(marker), MARKER_ID]
    )
    return marker


def delete_corpus(conn: psycopg.Connection[Any]) -> None:
    """The corpus's rows, table by table (set-wise; the cascades would go row by row)."""
    pattern = CORPUS_PREFIX + "%"
    conn.execute(
        "DELETE FROM rag_embeddings WHERE chunk_id IN"
        " (SELECT id FROM rag_documents WHERE source_path LIKE %s)",
        [pattern],
    )
    conn.execute("DELETE FROM rag_documents WHERE source_path LIKE %s", [pattern])
    conn.execute(
        "DELETE FROM rag_sources WHERE source_path LIKE %s OR document_id = %s",
        [pattern, MARKER_ID],
    )


# --- search latency ---------------------------------------------------------------------------


def percentile(sorted_values: Sequence[float], fraction: float) -> float:
    return sorted_values[min(len(sorted_values) - 1, int(len(sorted_values) * fraction))]


@dataclass
class Leg:
    """One line of the latency table: a mode, with or without a filter."""

    mode: str
    share: int  # the filter's share of the chunks, 0 for none
    embed: bool = False  # the server embeds the query text (no query_vector)

    @property
    def name(self) -> str:
        if self.embed:
            return f"{self.mode}, server embeds the query"
        return f"{self.mode}{f' + {filter_name(self.share)}' if self.share else ''}"


def run_leg(
    leg: Leg, queries: Sequence[Query], warm_up: int
) -> tuple[dict[str, Any], list[list[str]]]:
    """Latency figures of ``leg`` over ``queries`` and the chunk ids each call returned. The
    warm-up calls (untimed) also record each vector statement's plan and hnsw settings."""

    def call(query: Query) -> Any:
        vector = None if leg.embed or leg.mode == "fulltext" else query.vector.tolist()
        result = knowledge_search(
            query=query.text,
            k=K,
            mode=leg.mode,
            filters=query.filters(leg.share),
            query_vector=vector,
        )
        if result.mode != leg.mode:
            raise SystemExit(
                f"bench: {leg.name}: searched in {result.mode} mode ({result.fallback_reason})"
            )
        return result

    plans = []
    for query in queries[:warm_up]:
        with vector_statements() as statements:
            call(query)
        if statements:
            plans.append(statements[-1])  # the statement whose rows were returned
    latencies, hits = [], []
    for query in queries:
        began = time.perf_counter()
        result = call(query)
        latencies.append((time.perf_counter() - began) * 1000)
        hits.append([str(hit.id) for hit in result.hits])
    latencies.sort()
    counts = [len(ids) for ids in hits]
    figures: dict[str, Any] = {
        "p50_ms": round(statistics.median(latencies), 2),
        "p99_ms": round(percentile(latencies, 0.99), 2),
        "mean_ms": round(statistics.fmean(latencies), 2),
        "hits_min": min(counts),
        "hits_mean": round(statistics.fmean(counts), 2),
        "queries": len(queries),
    }
    if plans:
        figures["hnsw_index_used"] = f"{sum(plan['hnsw_index'] for plan in plans)}/{len(plans)}"
        figures["hnsw_settings"] = sorted(
            {(plan["ef_search"], plan["iterative_scan"]) for plan in plans}
        )
    return figures, hits


@contextmanager
def vector_statements() -> Iterator[list[dict[str, Any]]]:
    """While active, for each statement that reads rag_embeddings on Django's connection: does
    its plan walk the model's HNSW index, with which hnsw.ef_search and hnsw.iterative_scan.
    Asked right after the statement, on the same connection and in the same transaction (so
    with the settings the search made), with another cursor (the statement's rows are in)."""
    seen: list[dict[str, Any]] = []

    def wrapper(execute: Any, statement: str, params: Any, many: bool, context: Any) -> Any:
        result = execute(statement, params, many, context)
        if "rag_embeddings" in statement and statement.lstrip().upper().startswith(
            ("SELECT", "WITH")
        ):
            with psycopg.ClientCursor(context["connection"].connection) as cursor:
                cursor.execute("EXPLAIN (FORMAT JSON) " + statement, params)
                (plan,) = cursor.fetchone() or ([],)
                cursor.execute(
                    "SELECT current_setting('hnsw.ef_search', true),"
                    " current_setting('hnsw.iterative_scan', true)"
                )
                ef_search, iterative_scan = cursor.fetchone() or (None, None)
            seen.append(
                {
                    "hnsw_index": uses_hnsw_index(plan),
                    "ef_search": ef_search,
                    "iterative_scan": iterative_scan,
                }
            )
        return result

    with connection.execute_wrapper(wrapper):
        yield seen


def uses_hnsw_index(plan: list[dict[str, Any]]) -> bool:
    """Does an EXPLAIN (FORMAT JSON) plan scan the model's HNSW index?"""

    def walk(node: dict[str, Any]) -> Iterator[dict[str, Any]]:
        yield node
        for child in node.get("Plans", []):
            yield from walk(child)

    return any(node.get("Index Name") == MODEL.index_name for node in walk(plan[0]["Plan"]))


# --- recall -----------------------------------------------------------------------------------


def vector_query(*, exact: bool, filtered: bool) -> sql.Composed:
    """The vector leg in SQL: with the model's partial index (the typed expression of its
    definition and the model's name as a literal, as the index predicate needs), or exact (the
    untyped column: no index matches it, every row of the model is compared)."""
    distance = (
        sql.SQL("e.embedding <=> %(vector)s")
        if exact
        else sql.SQL("e.embedding::vector({dims}) <=> %(vector)s::vector({dims})").format(
            dims=sql.Literal(MODEL.dimensions)
        )
    )
    tables = sql.SQL(
        "rag_embeddings e JOIN rag_documents d ON d.id = e.chunk_id"
        if filtered
        else "rag_embeddings e"
    )
    where = sql.SQL("e.model = {model}").format(model=sql.Literal(MODEL.name))
    if filtered:
        where += sql.SQL(" AND d.metadata ->> 'collection' = ANY(%(collections)s)")
    return sql.SQL(
        "SELECT e.chunk_id FROM {tables} WHERE {where} ORDER BY {distance} LIMIT %(k)s"
    ).format(tables=tables, where=where, distance=distance)


def query_params(query: Query, share: int) -> dict[str, Any]:
    return {"vector": query.vector, "collections": query.filter_collections(share), "k": K}


def explain(
    conn: psycopg.Connection[Any], statement: sql.Composed, params: dict[str, Any]
) -> list[dict[str, Any]]:
    row = conn.execute(sql.SQL("EXPLAIN (FORMAT JSON) ") + statement, params).fetchone()
    assert row is not None
    return list(row[0])


def exact_neighbours(
    conn: psycopg.Connection[Any], queries: Sequence[Query], share: int
) -> list[set[str]]:
    statement = vector_query(exact=True, filtered=bool(share))
    if uses_hnsw_index(explain(conn, statement, query_params(queries[0], share))):
        raise SystemExit("bench: the exact query uses the HNSW index")
    return [
        {str(row[0]) for row in conn.execute(statement, query_params(query, share))}
        for query in queries
    ]


def recall(found: Sequence[Sequence[str]], exact: Sequence[set[str]]) -> float:
    return statistics.fmean(
        len(set(ids) & truth) / max(1, min(K, len(truth)))
        for ids, truth in zip(found, exact, strict=True)
    )


def ef_search_sweep(
    conn: psycopg.Connection[Any],
    queries: Sequence[Query],
    exact: dict[int, list[set[str]]],
    values: Sequence[int],
) -> list[dict[str, Any]]:
    """Recall and latency of the index query alone (LIMIT k, no re-sorting of a larger pool) at
    each ``hnsw.ef_search``, the index forced (sequential and bitmap scans and sorts off: on a
    small corpus, or with a filter, the planner may rightly prefer an exact plan), so that the
    figure is the index's. Filtered: with pgvector's iterative scan (relaxed order)."""
    rows = []
    for share in FILTER_SHARES:
        statement = vector_query(exact=False, filtered=bool(share))
        for ef_search in values:
            with conn.transaction():
                conn.execute(
                    sql.SQL("SET LOCAL hnsw.ef_search = {}").format(sql.Literal(ef_search))
                )
                for plan_node in ("seqscan", "bitmapscan", "sort"):
                    conn.execute(
                        sql.SQL("SET LOCAL {} = off").format(sql.Identifier(f"enable_{plan_node}"))
                    )
                if share:
                    conn.execute("SET LOCAL hnsw.iterative_scan = relaxed_order")
                if not uses_hnsw_index(explain(conn, statement, query_params(queries[0], share))):
                    raise SystemExit("bench: the index query does not use the HNSW index")
                found, latencies = [], []
                for query in queries:
                    began = time.perf_counter()
                    rows_found = conn.execute(statement, query_params(query, share)).fetchall()
                    latencies.append((time.perf_counter() - began) * 1000)
                    found.append([str(row[0]) for row in rows_found])
            latencies.sort()
            rows.append(
                {
                    "filter": filter_name(share),
                    "ef_search": ef_search,
                    "recall_at_10": round(recall(found, exact[share]), 4),
                    "p50_ms": round(statistics.median(latencies), 2),
                    "hits_min": min(len(ids) for ids in found),
                }
            )
    return rows


# --- ingestion --------------------------------------------------------------------------------


def prose_documents(count: int, seed: int) -> list[str]:
    """``count`` documents of 2 to 8 paragraphs (a topic each; one in five paragraphs is a
    line of 6 to 24 words, the others have 30 to 160, which the chunker may cut at sentence
    ends), topic terms being 8 % of the words: mostly plain English words."""
    rng = np.random.default_rng([seed, 6])
    vocabulary = Vocabulary(300, seed)
    paragraphs_per_document = rng.integers(2, 9, size=count)
    total = int(paragraphs_per_document.sum())
    topics = np.repeat(rng.integers(300, size=count), paragraphs_per_document)
    words = np.where(
        rng.random(total) < 0.2, rng.integers(6, 25, size=total), rng.integers(30, 161, size=total)
    )
    paragraphs = vocabulary.paragraphs(rng, topics, words, term_share=0.08)
    documents, position = [], 0
    for size in paragraphs_per_document.tolist():
        documents.append("\n\n".join(paragraphs[position : position + size]))
        position += size
    return documents


def ingest_all(documents: Sequence[str], kind: str) -> dict[str, Any]:
    """Ingest every document (sequentially, as one client would); chunks per second."""
    totals: Counter[str] = Counter()
    statuses: Counter[str] = Counter()
    began = time.perf_counter()
    for number, text in enumerate(documents):
        result = document_ingest(
            document_id=f"bench-ingest-{kind}-{number:04d}",
            text=text,
            source_path=f"{INGEST_PREFIX}{kind}/doc-{number:04d}.md",
            metadata={"collection": f"c{number % COLLECTIONS:02d}", "lang": "en"},
        )
        totals.update(result.counts())
        totals["embedded"] += result.embedded
        statuses[result.embedding_status] += 1
    seconds = time.perf_counter() - began
    chunks = totals["added"] + totals["updated"] + totals["unchanged"]
    return {
        "documents": len(documents),
        "chunks": chunks,
        "seconds": round(seconds, 2),
        "chunks_per_second": round(chunks / seconds, 1),
        "documents_per_second": round(len(documents) / seconds, 1),
        **{key: totals[key] for key in ("added", "updated", "unchanged", "deleted", "embedded")},
        "embedding_status": dict(statuses),
    }


def clear_ingested(conn: psycopg.Connection[Any]) -> float:
    """Delete the ingestion phase's sources (with their chunks and vectors), then vacuum so
    that the HNSW index holds no dead entries; the seconds that took."""
    began = time.monotonic()
    if sources_delete(source_path=INGEST_PREFIX, prefix=True):
        conn.execute("VACUUM ANALYZE rag_sources, rag_documents, rag_embeddings")
    return time.monotonic() - began


# --- main -------------------------------------------------------------------------------------


def progress(label: str) -> None:
    print(f"  {label} ...", flush=True)


def table(title: str, header: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    cells = [[str(cell) for cell in row] for row in [header, *rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]
    print(f"\n{title}")
    for number, row in enumerate(cells):
        print(
            "  "
            + "  ".join(
                cell.ljust(width) if i == 0 else cell.rjust(width)
                for i, (cell, width) in enumerate(zip(row, widths, strict=True))
            )
        )
        if number == 0:
            print("  " + "  ".join("-" * width for width in widths))
    sys.stdout.flush()


def corpus_phase(conn: psycopg.Connection[Any], corpus: Corpus, reload: bool) -> dict[str, Any]:
    loaded = None if reload else corpus_loaded(conn, corpus)
    reused = loaded is not None
    if loaded is None:
        progress(f"loading {corpus.chunks:,} chunks (COPY, then the indexes)")
        loaded = load(conn, corpus)
    return {"reused": reused, **loaded}


def search_phase(queries: Sequence[Query]) -> tuple[dict[str, Any], dict[int, list[list[str]]]]:
    """The latency table's lines, and the vector legs' hits (for recall; by filter share)."""
    embedder.embed_query("warm-up", model=MODEL)  # loads the model (~5 s) before any clock starts
    legs = [
        Leg(mode, share) for mode in ("fulltext", "vector", "hybrid") for share in FILTER_SHARES
    ] + [Leg("hybrid", 0, embed=True)]
    latency: dict[str, Any] = {}
    vector_hits: dict[int, list[list[str]]] = {}
    for leg in legs:
        progress(f"searching: {leg.name}")
        latency[leg.name], hits = run_leg(leg, queries, warm_up=min(10, len(queries)))
        if leg.mode == "vector":
            vector_hits[leg.share] = hits
    return latency, vector_hits


def recall_phase(
    conn: psycopg.Connection[Any],
    queries: Sequence[Query],
    vector_hits: dict[int, list[list[str]]],
    ef_search_values: Sequence[int],
) -> dict[str, Any]:
    exact = {}
    for share in FILTER_SHARES:
        progress(f"exact search, {filter_name(share)}")
        exact[share] = exact_neighbours(conn, queries, share)
    progress("hnsw.ef_search sweep")
    return {
        "knowledge_search": {
            filter_name(share): round(recall(vector_hits[share], exact[share]), 4)
            for share in FILTER_SHARES
        },
        "target": RECALL_TARGET,
        "index_query_by_ef_search": ef_search_sweep(conn, queries, exact, ef_search_values),
    }


def ingestion_phase(conn: psycopg.Connection[Any], documents: Sequence[str]) -> dict[str, Any]:
    ingestion: dict[str, Any] = {}
    progress("ingesting without the embedder")
    with override_settings(KNOWLEDGE_SERVER_EMBEDDINGS=False):
        ingestion["without embedder"] = ingest_all(documents, "plain")
    embedder.embed_query("warm-up", model=MODEL)  # loaded already; outside the clock anyway
    progress("ingesting with the embedder")
    ingestion["with embedder"] = ingest_all(documents, "embedded")
    progress("ingesting the same documents again")
    ingestion["unchanged again"] = ingest_all(documents, "embedded")
    progress("deleting the ingested sources")
    ingestion["cleanup_seconds"] = round(clear_ingested(conn), 1)
    return ingestion


def failures_of(results: dict[str, Any]) -> list[str]:
    failures = []
    for name, value in results["recall_at_10"]["knowledge_search"].items():
        if value < RECALL_TARGET:
            failures.append(f"recall@10 ({name}) {value:.3f} < {RECALL_TARGET}")
    for share in FILTER_SHARES[1:]:
        fewest = results["search_ms"][Leg("vector", share).name]["hits_min"]
        if fewest < K:
            failures.append(f"a vector search, {filter_name(share)}, returned {fewest} hits")
    embedded = results["ingestion"]["with embedder"]
    if embedded["embedded"] != embedded["chunks"]:
        failures.append(f"the embedder embedded {embedded['embedded']} of {embedded['chunks']}")
    again = results["ingestion"]["unchanged again"]
    written = again["added"] + again["updated"] + again["deleted"]
    if written or again["embedded"]:
        failures.append(
            f"re-ingesting unchanged documents wrote {written} chunks, embedded {again['embedded']}"
        )
    return failures


def summary(results: dict[str, Any], args: argparse.Namespace) -> None:
    corpus = results["corpus"]
    table(
        f"search corpus: {args.chunks:,} chunks"
        + (f" (reused: loaded {corpus['loaded_at']})" if corpus["reused"] else ""),
        ["step", "seconds"],
        [
            ["generate (Python)", corpus["generate_seconds"]],
            ["COPY sources", corpus["copy_sources_seconds"]],
            ["COPY chunks (tsvector computed)", corpus["copy_chunks_seconds"]],
            ["COPY vectors", corpus["copy_vectors_seconds"]],
            ["HNSW index build", corpus["hnsw_build_seconds"]],
            ["full-text GIN index build", corpus["fulltext_gin_build_seconds"]],
            ["metadata GIN index build", corpus["metadata_gin_build_seconds"]],
            ["VACUUM ANALYZE", corpus["vacuum_seconds"]],
        ],
    )
    ingestion = results["ingestion"]
    table(
        f"ingestion: {args.documents} documents through document_ingest, one at a time",
        ["phase", "chunks", "seconds", "chunks/s", "docs/s", "written", "embedded"],
        [
            [
                name,
                phase["chunks"],
                phase["seconds"],
                phase["chunks_per_second"],
                phase["documents_per_second"],
                phase["added"] + phase["updated"] + phase["deleted"],
                phase["embedded"],
            ]
            for name, phase in ingestion.items()
            if name != "cleanup_seconds"
        ],
    )
    table(
        f"search latency, ms: knowledge_search, k={K}, {args.queries} queries per line, query"
        " vectors given (but on the last line); filters on metadata.collection",
        ["search", "p50", "p99", "mean", "hits min", "hits mean", "HNSW used", "ef_search"],
        [
            [
                name,
                leg["p50_ms"],
                leg["p99_ms"],
                leg["mean_ms"],
                leg["hits_min"],
                leg["hits_mean"],
                leg.get("hnsw_index_used", "-"),
                ", ".join(str(ef) for ef, _ in leg.get("hnsw_settings", [])) or "-",
            ]
            for name, leg in results["search_ms"].items()
        ],
    )
    recall_figures = results["recall_at_10"]
    sweep = recall_figures["index_query_by_ef_search"]
    names = [filter_name(share) for share in FILTER_SHARES]
    table(
        f"recall@10 against exact search (target >= {RECALL_TARGET}); index query: recall, p50 ms",
        ["search", *names],
        [
            [
                "knowledge_search, vector mode",
                *(recall_figures["knowledge_search"][name] for name in names),
            ],
            *(
                [
                    f"index query, hnsw.ef_search = {ef_search}",
                    *(
                        f"{row['recall_at_10']} ({row['p50_ms']})"
                        for name in names
                        for row in sweep
                        if row["ef_search"] == ef_search and row["filter"] == name
                    ),
                ]
                for ef_search in sorted({row["ef_search"] for row in sweep})
            ),
        ],
    )


@contextmanager
def bench_settings() -> Iterator[None]:
    """The server's model is the active one and may embed, whatever the environment says."""
    with override_settings(KNOWLEDGE_EMBEDDING_MODEL=MODEL.name, KNOWLEDGE_SERVER_EMBEDDINGS=True):
        yield


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--chunks", type=int, default=100_000, help="search corpus size")
    parser.add_argument("--topics", type=int, default=300, help="vector clusters, vocabularies")
    parser.add_argument("--queries", type=int, default=200, help="per search line, for recall")
    parser.add_argument("--documents", type=int, default=300, help="prose documents to ingest")
    parser.add_argument("--ef-search", default="40,64,100,200", help="hnsw.ef_search to sweep")
    parser.add_argument("--seed", type=int, default=9)
    parser.add_argument("--reload", action="store_true", help="load the corpus even if it is there")
    parser.add_argument("--output", type=Path, help="the JSON file (default .devskyy/bench/...)")
    args = parser.parse_args(argv)
    if args.chunks < CHUNKS_PER_SOURCE * COLLECTIONS:
        parser.error(f"--chunks must be at least {CHUNKS_PER_SOURCE * COLLECTIONS}")
    ef_search_values = [int(value) for value in args.ef_search.split(",")]

    with bench_settings():
        reason = embedder.unavailable_reason(MODEL)
        if reason is not None:
            print(f"bench: the server cannot embed: {reason}", file=sys.stderr)
            return 2
        call_command("migrate", verbosity=0)
        print(
            f"knowledge bench: {args.chunks:,} chunks, {args.queries} queries per line, "
            f"{args.documents} documents to ingest",
            flush=True,
        )
        with connect() as conn:
            clear_ingested(conn)  # what an interrupted run left
            corpus = Corpus.plan(chunks=args.chunks, topics=args.topics, seed=args.seed)
            queries = corpus.queries(args.queries)
            results: dict[str, Any] = {"k": K, "cpus": os.cpu_count()}
            results["corpus"] = corpus_phase(conn, corpus, args.reload)
            results["search_ms"], vector_hits = search_phase(queries)
            results["recall_at_10"] = recall_phase(conn, queries, vector_hits, ef_search_values)
            results["ingestion"] = ingestion_phase(conn, prose_documents(args.documents, args.seed))
    results["failures"] = failures = failures_of(results)
    summary(results, args)
    print()
    for failure in failures:
        print(f"  BELOW TARGET: {failure}")
    if not failures:
        print("  all targets met")
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    output = args.output or RESULTS / f"knowledge-{stamp}.json"
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(results, indent=2))
    print(f"  results: {output}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
