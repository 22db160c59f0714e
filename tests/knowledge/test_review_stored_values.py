"""Review: no value a raw SQL writer stores in the knowledge base's jsonb columns can make a read
fail (issue 7's rule): the search results and the sources' admin pages included."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests.api.test_stored_values_always_read import STORED, exact, same, store
from tests.knowledge.factories import SourceFactory

pytestmark = pytest.mark.django_db


def test_search_renders_any_metadata_a_chunk_holds(agent_client, no_server_embeddings):
    expected = {}
    for name, value in STORED.items():
        source = SourceFactory.create(chunks=1)
        chunk = source.chunks.get()
        expected[chunk.document_id] = (name, store(chunk, "metadata", value))

    response = agent_client.post(
        "/api/v1/search/", {"query": "paragraph", "mode": "fulltext", "k": 100}, format="json"
    )

    assert response.status_code == 200, response.content[:300]
    hits = exact(response.content)["results"]
    assert len(hits) == len(STORED)
    for hit in hits:
        name, stored = expected[hit["document_id"]]
        assert same(hit["metadata"], stored), name


def test_a_sources_admin_pages_load_whatever_metadata_it_holds(admin_client):
    for name, value in STORED.items():
        source = SourceFactory.create(chunks=1)
        store(source, "metadata", value)

        for view in ("change", "delete"):
            url = reverse(f"admin:knowledge_source_{view}", args=[source.pk])
            assert admin_client.get(url).status_code == 200, (name, view)
