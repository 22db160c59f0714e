"""GET/DELETE /api/v1/sources/: the ingested documents with their chunk counts, deleted by id or
by path; and the chunk list's ``parent`` filter."""

from __future__ import annotations

import pytest

from knowledge.models import RAGDocument, Source
from tests.conftest import error_codes
from tests.knowledge.factories import SourceFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/sources/"


def ids(response) -> list[str]:
    return [row["document_id"] for row in response.json()["results"]]


def test_the_list_shows_each_document_with_its_chunk_count(agent_client, agent_a):
    source = SourceFactory.create(
        document_id="handbook",
        source_path="docs/h.md",
        metadata={"lang": "en"},
        chunks=3,
        created_by=agent_a,
    )

    response = agent_client.get(URL)

    assert response.status_code == 200
    assert response.json()["results"] == [
        {
            "id": str(source.id),
            "document_id": "handbook",
            "source_path": "docs/h.md",
            "metadata": {"lang": "en"},
            "total_chunks": 3,
            "char_count": source.char_count,
            "text_hash": source.text_hash,
            "chunk_size": 1000,
            "chunk_overlap": 100,
            "created_by": str(agent_a.id),
            "created_at": source.created_at.isoformat().replace("+00:00", "Z"),
            "updated_at": source.updated_at.isoformat().replace("+00:00", "Z"),
        }
    ]


def test_the_list_filters_by_exact_path_and_by_prefix(agent_client):
    for document_id, path in [("a", "docs/a.md"), ("b", "docs/api/b.md"), ("c", "notes/c.md")]:
        SourceFactory.create(document_id=document_id, source_path=path)

    assert ids(agent_client.get(URL, {"source_path": "docs/a.md"})) == ["a"]
    assert sorted(ids(agent_client.get(URL, {"source_path_prefix": "docs/"}))) == ["a", "b"]
    assert sorted(ids(agent_client.get(URL, {"source_path_prefix": "docs/a"}))) == ["a", "b"]
    assert ids(agent_client.get(URL, {"source_path_prefix": "x"})) == []


def test_the_list_is_keyset_paginated_newest_first(agent_client):
    SourceFactory.create_batch(5)

    first = agent_client.get(URL, {"page_size": 3}).json()
    second = agent_client.get(first["next"]).json()

    everything = [r["document_id"] for r in first["results"] + second["results"]]
    assert len(everything) == len(set(everything)) == 5
    assert second["next"] is None


def test_the_list_runs_a_constant_number_of_queries(agent_client, django_assert_num_queries):
    SourceFactory.create_batch(10, chunks=2)
    with django_assert_num_queries(2):  # the API key, the page
        assert len(agent_client.get(URL).json()["results"]) == 10


def test_a_document_is_retrieved_by_its_document_id(agent_client):
    SourceFactory.create(document_id="docs:guide.md", chunks=2)

    response = agent_client.get(f"{URL}docs:guide.md/")

    assert (response.status_code, response.json()["total_chunks"]) == (200, 2)
    assert agent_client.get(f"{URL}unknown/").status_code == 404


def test_delete_by_id_removes_the_document_and_its_chunks(agent_client, agent_a):
    SourceFactory.create(document_id="notes", source_path="n.md", chunks=2, created_by=agent_a)
    SourceFactory.create(document_id="other", chunks=1)

    response = agent_client.delete(f"{URL}notes/")

    assert response.status_code == 200
    assert response.json() == {"document_id": "notes", "source_path": "n.md", "chunks": 2}
    assert list(Source.objects.values_list("document_id", flat=True)) == ["other"]
    assert RAGDocument.objects.count() == 1


def test_delete_of_an_unknown_document_is_a_404(agent_client):
    response = agent_client.delete(f"{URL}unknown/")

    assert response.status_code == 404
    assert response.json() == {"code": "not_found", "detail": "No source 'unknown'."}


def test_an_agent_may_not_delete_another_agents_document(agent_b_client, agent_a):
    SourceFactory.create(document_id="notes", chunks=2, created_by=agent_a)

    response = agent_b_client.delete(f"{URL}notes/")

    assert response.status_code == 403
    assert RAGDocument.objects.count() == 2


def test_delete_by_path_exact_or_prefix_lists_what_went(operator_api):
    SourceFactory.create(document_id="a", source_path="docs/a.md", chunks=1)
    SourceFactory.create(document_id="b", source_path="docs/api/b.md", chunks=2)
    SourceFactory.create(document_id="c", source_path="notes/c.md")

    exact = operator_api.delete(f"{URL}?source_path=docs/a.md")
    prefix = operator_api.delete(f"{URL}?source_path_prefix=docs/")
    nothing = operator_api.delete(f"{URL}?source_path_prefix=docs/")

    assert exact.json() == {
        "deleted": [{"document_id": "a", "source_path": "docs/a.md", "chunks": 1}]
    }
    assert prefix.json() == {
        "deleted": [{"document_id": "b", "source_path": "docs/api/b.md", "chunks": 2}]
    }
    assert (nothing.status_code, nothing.json()) == (200, {"deleted": []})
    assert list(Source.objects.values_list("document_id", flat=True)) == ["c"]


@pytest.mark.parametrize(
    "query", ["", "?source_path=a&source_path_prefix=b", "?source_path_prefix=x&page_size=2"]
)
def test_delete_by_path_takes_exactly_one_path_parameter(operator_api, query):
    SourceFactory.create(source_path="a")

    response = operator_api.delete(f"{URL}{query}")

    assert response.status_code == 400
    assert Source.objects.count() == 1


def test_delete_by_path_without_a_path_names_the_parameter(operator_api):
    response = operator_api.delete(URL)

    assert error_codes(response.json()) == {"source_path": ["required"]}


def test_delete_by_path_is_all_or_nothing_for_an_agent(agent_client, agent_a, agent_b):
    SourceFactory.create(source_path="team/a.md", created_by=agent_a)
    SourceFactory.create(source_path="team/b.md", created_by=agent_b)

    response = agent_client.delete(f"{URL}?source_path_prefix=team/")

    assert response.status_code == 403
    assert Source.objects.count() == 2


def test_the_chunk_list_filters_by_parent_document(agent_client):
    SourceFactory.create(document_id="handbook", chunks=3)
    SourceFactory.create(document_id="handbook-2", chunks=2)

    response = agent_client.get("/api/v1/documents/", {"parent": "handbook"})

    assert sorted(r["document_id"] for r in response.json()["results"]) == [
        "handbook-chunk-0",
        "handbook-chunk-1",
        "handbook-chunk-2",
    ]
    assert agent_client.get("/api/v1/documents/", {"parent": "nope"}).json()["results"] == []
