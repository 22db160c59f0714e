"""Issue 9's finish line, end to end through the API with an agent's key: an agent ingests a
folder twice and gets exactly the same tables, finds the passage it needs with a natural-language
query that shares no word with it, and filters by source without losing results."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.management import call_command

from tests.knowledge.conftest import table_rows

pytestmark = pytest.mark.django_db

FOLDER = Path(__file__).resolve().parents[2] / "examples" / "knowledge"


def ingest_folder(client) -> list[dict]:
    answers = []
    for path in sorted(FOLDER.rglob("*.md")):
        relative = path.relative_to(FOLDER.parent).as_posix()  # knowledge/policies/returns.md
        response = client.post(
            "/api/v1/documents/ingest/",
            {
                "document_id": relative.replace("/", ":"),
                "text": path.read_text(),
                "source_path": relative,
                "metadata": {"section": path.parent.name},
            },
            format="json",
        )
        assert response.status_code in (200, 201), response.json()
        answers.append(response.json())
    return answers


def search(client, query: str, **body) -> dict:
    response = client.post("/api/v1/search/", {"query": query, **body}, format="json")
    assert response.status_code == 200, response.json()
    return response.json()


def test_an_agent_ingests_a_folder_twice_finds_the_passage_and_filters_by_source(agent_client):
    first = ingest_folder(agent_client)
    assert all(a["created"] and a["embedding_status"] == "computed" for a in first)
    tables = table_rows()
    assert len(tables["rag_sources"]) == 7
    assert len(tables["rag_embeddings"]) == len(tables["rag_documents"]) > 0

    second = ingest_folder(agent_client)
    assert all(
        (a["added"], a["updated"], a["deleted"], a["embedded"]) == (0, 0, 0, 0) for a in second
    )
    assert table_rows() == tables  # exactly the same rows, every column

    question = "can I send back a ring I never wore"
    for mode in ("vector", "hybrid"):
        found = search(agent_client, question, mode=mode, k=3)
        assert found["mode"] == mode
        top = found["results"][0]
        assert top["source_path"] == "knowledge/policies/returns.md", (mode, found["results"])
        assert top["vector"]["rank"] == 1
        assert top["fulltext"] is None  # no word in common: the vector leg found it
    # The words alone do not find it.
    words = search(agent_client, question, mode="fulltext", k=3)
    assert "knowledge/policies/returns.md" not in [r["source_path"] for r in words["results"]]

    # Filtering by source keeps every match: k rows from the guides only, and all of them.
    guides_chunks = sum(a["total_chunks"] for a in first if ":guides:" in a["document_id"])
    for mode in ("vector", "hybrid", "fulltext"):
        query = "ring" if mode == "fulltext" else question
        hits = search(
            agent_client,
            query,
            mode=mode,
            k=100,
            filters={"source_path": {"prefix": "knowledge/guides/"}},
        )["results"]
        assert hits, mode
        assert {h["source_path"].split("/")[1] for h in hits} == {"guides"}
        if mode != "fulltext":
            assert len(hits) == guides_chunks, mode


def test_the_ingest_command_on_an_unchanged_folder_reports_everything_unchanged(capsys):
    call_command("ingest", str(FOLDER))
    tables = table_rows()
    capsys.readouterr()

    call_command("ingest", str(FOLDER))

    out = capsys.readouterr().out
    assert table_rows() == tables
    chunks = len(tables["rag_documents"])
    assert f"7 file(s): 0 chunk(s) added, 0 chunk(s) updated, {chunks} chunk(s) unchanged" in out
