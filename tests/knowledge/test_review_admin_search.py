"""Review: the admin's search page and ``knowledge_search`` refuse, as form errors and
``InvalidInput``, what they answered with a 500: JSON nested deeper than Python's recursion limit
and lone surrogates (a ``"\\ud800"`` escape typed into the metadata box)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from devskyy.errors import InvalidInput
from knowledge.search import knowledge_search

pytestmark = pytest.mark.django_db

SEARCH = reverse("admin:knowledge_source_search")


@pytest.mark.parametrize(
    "metadata",
    [
        "[" * 5000 + "]" * 5000,
        '{"lang": ' * 5000 + "1" + "}" * 5000,
        '{"lang": "\\ud800"}',
        '{"lang": {"in": ["en", "\\udfff"]}}',
        '{"lang": {"gte": "\\ud800"}}',
    ],
)
def test_the_search_pages_metadata_box_refuses_what_cannot_be_searched(
    operator_client, no_server_embeddings, metadata
):
    page = operator_client.get(
        SEARCH, {"query": "refund", "mode": "fulltext", "k": 10, "metadata": metadata}
    )

    assert page.status_code == 200
    assert page.context["result"] is None
    assert list(page.context["form"].errors) == ["metadata"]


@pytest.mark.parametrize(
    ("arguments", "field"),
    [
        ({"query": "refund \ud800"}, "query"),
        ({"query": "refund", "filters": {"source_path": "docs/\udc80.md"}}, "filters"),
        ({"query": "refund", "filters": {"source_path": {"prefix": "\ud800"}}}, "filters"),
        ({"query": "refund", "filters": {"source_path": {"in": ["a", "\ud800"]}}}, "filters"),
        ({"query": "refund", "filters": {"document_id": "doc\ud800"}}, "filters"),
        ({"query": "refund", "filters": {"metadata": {"lang": "\ud800"}}}, "filters"),
    ],
)
def test_search_refuses_lone_surrogates_under_their_field(no_server_embeddings, arguments, field):
    with pytest.raises(InvalidInput) as raised:
        knowledge_search(mode="fulltext", **arguments)

    assert list(raised.value.errors) == [field]
