"""bench/knowledge_base.py (part of `make bench`) runs end to end at tiny sizes, in a child
process on the test database as `make bench` runs it on its own: every figure it reports is
there, its targets hold, it leaves its corpus (and nothing of its ingestion) behind, and a
later run reuses that corpus only when it is the same."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from unittest import mock

import pytest

from knowledge.models import ChunkEmbedding, RAGDocument, Source
from tests.processes import PYTHON, ROOT, child_env

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

SIZES = ["--chunks", "2000", "--topics", "20", "--queries", "20", "--documents", "10"]


def bench_module() -> ModuleType:
    """The script as a module (bench/ is not a package). Its environment defaults (its own
    database, ...) stay out of this process's environment, which later children inherit."""
    spec = importlib.util.spec_from_file_location(
        "bench_knowledge_base", ROOT / "bench" / "knowledge_base.py"
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    with mock.patch.dict(os.environ):
        spec.loader.exec_module(module)
    return module


def test_the_knowledge_benchmark_measures_everything_and_meets_its_targets(tmp_path: Path):
    output = tmp_path / "knowledge.json"

    run = subprocess.run(  # noqa: S603 (our interpreter, fixed arguments)
        [PYTHON, "bench/knowledge_base.py", *SIZES, "--ef-search", "40", "--output", str(output)],
        cwd=ROOT,
        env=child_env(),
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )

    assert run.returncode == 0, run.stdout + run.stderr
    assert "all targets met" in run.stdout
    results = json.loads(output.read_text())
    # 1. the corpus: loaded by COPY, its index builds timed
    assert results["corpus"]["reused"] is False
    assert results["corpus"]["chunks"] == 2000
    assert results["corpus"]["hnsw_build_seconds"] >= 0
    # 2. latency of every mode, without and with each filter, and end to end
    assert set(results["search_ms"]) == {
        "fulltext",
        "fulltext + filter 1 %",
        "fulltext + filter 10 %",
        "vector",
        "vector + filter 1 %",
        "vector + filter 10 %",
        "hybrid",
        "hybrid + filter 1 %",
        "hybrid + filter 10 %",
        "hybrid, server embeds the query",
    }
    for name, leg in results["search_ms"].items():
        assert 0 < leg["p50_ms"] <= leg["p99_ms"], name
        assert leg["queries"] == 20
        if not name.startswith("fulltext"):
            assert leg["hits_min"] == 10, name
    assert results["search_ms"]["fulltext"]["hits_min"] > 0  # the queries' terms are in the texts
    # 3. recall against exact search, the product's and the index query's alone
    assert set(results["recall_at_10"]["knowledge_search"]) == {
        "no filter",
        "filter 1 %",
        "filter 10 %",
    }
    assert min(results["recall_at_10"]["knowledge_search"].values()) >= 0.95
    assert [row["ef_search"] for row in results["recall_at_10"]["index_query_by_ef_search"]] == [
        40,
        40,
        40,
    ]
    # 4. ingestion: without the embedder, with it, and again unchanged (nothing written)
    plain, embedded, again = (
        results["ingestion"][phase]
        for phase in ("without embedder", "with embedder", "unchanged again")
    )
    assert plain["chunks"] == plain["added"] > 0
    assert plain["embedded"] == 0
    assert embedded["chunks"] == embedded["added"] == embedded["embedded"] == plain["chunks"]
    assert embedded["embedding_status"] == {"computed": 10}
    assert again["unchanged"] == again["chunks"] == plain["chunks"]
    assert again["added"] == again["updated"] == again["deleted"] == again["embedded"] == 0
    assert results["failures"] == []
    # left behind: the corpus with its vectors, none of the ingested documents
    corpus = RAGDocument.objects.filter(source_path__startswith="bench-corpus/")
    assert corpus.count() == 2000
    assert ChunkEmbedding.objects.filter(chunk__in=corpus).count() == 2000
    assert not Source.objects.filter(source_path__startswith="bench-ingest/").exists()

    # a later run reuses the corpus only while it is the same one
    bench = bench_module()
    with bench.connect() as conn:
        same = bench.Corpus.plan(chunks=2000, topics=20, seed=9)
        assert bench.corpus_loaded(conn, same)["hnsw_build_seconds"] >= 0
        assert bench.corpus_loaded(conn, bench.Corpus.plan(chunks=2000, topics=20, seed=8)) is None
        assert bench.corpus_loaded(conn, bench.Corpus.plan(chunks=3000, topics=20, seed=9)) is None
        corpus.filter(document_id="bench-corpus-000000-chunk-0").delete()
        assert bench.corpus_loaded(conn, same) is None
