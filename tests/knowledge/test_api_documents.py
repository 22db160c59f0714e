from __future__ import annotations

import pytest

from tests.knowledge.factories import RAGDocumentFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/documents/"


@pytest.mark.parametrize("field", ["source_path", "content_hash", "embedding_model"])
def test_chunks_filter_by_indexed_fields(agent_client, field):
    wanted = RAGDocumentFactory.create(source_path="a.md", embedding_model="m-1")
    RAGDocumentFactory.create(source_path="b.md", embedding_model="m-2")
    value = getattr(wanted, field)
    body = agent_client.get(URL, {field: value}).json()
    assert [d["id"] for d in body["results"]] == [str(wanted.id)]


def test_a_chunk_is_retrieved_by_id(agent_client):
    chunk = RAGDocumentFactory.create()
    body = agent_client.get(f"{URL}{chunk.id}/").json()
    assert body["content_hash"] == chunk.content_hash
    assert body["document_id"] == chunk.document_id


def test_list_runs_a_constant_number_of_queries(agent_client, django_assert_num_queries):
    RAGDocumentFactory.create_batch(15)
    with django_assert_num_queries(2):
        assert len(agent_client.get(URL).json()["results"]) == 15
