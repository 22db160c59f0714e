"""The knowledge base in the admin: sources grouped by path with their chunks, read-only chunks,
deletion through ``document_delete``, and a search page that shows each leg's rank and score."""

from __future__ import annotations

import pytest
from django.test import override_settings
from django.urls import reverse

from knowledge.models import ChunkEmbedding, RAGDocument, Source
from knowledge.services import document_ingest

pytestmark = pytest.mark.django_db

RETURNS = (
    "Items that are unused and in their original packaging may be returned within 30 days of "
    "delivery for a full refund.\n\nJewellery can be returned if it has not been worn and the "
    "security tag is still attached."
)
SHIPPING = (
    "Orders placed before 2 pm leave the warehouse the same day. Standard delivery takes three "
    "to five business days; express delivery arrives the next business day."
)
CHANGELIST = reverse("admin:knowledge_source_changelist")
SEARCH = reverse("admin:knowledge_source_search")


def ingest(document_id: str, text: str, source_path: str, **kwargs):
    return document_ingest(document_id=document_id, text=text, source_path=source_path, **kwargs)


@pytest.fixture
def no_vectors():
    with override_settings(KNOWLEDGE_SERVER_EMBEDDINGS=False):
        yield


def test_the_source_list_groups_documents_by_folder(operator_client, no_vectors):
    ingest("returns", RETURNS, "policies/returns.md")
    ingest("shipping", SHIPPING, "policies/shipping.md")
    ingest("sizing", "Measure the finger at the end of the day.", "guides/sizing.md")

    page = operator_client.get(CHANGELIST)
    assert page.status_code == 200
    folders = [
        choice["display"]
        for choice in page.context["cl"].filter_specs[0].choices(page.context["cl"])
    ]
    assert folders == ["All", "guides/", "policies/"]

    policies = operator_client.get(CHANGELIST, {"folder": "policies"})
    assert [s.document_id for s in policies.context["cl"].result_list] == ["returns", "shipping"]


def test_sources_are_found_by_exact_id_or_path_prefix_with_their_indexes(
    operator_client, no_vectors
):
    ingest("returns", RETURNS, "policies/returns.md")
    ingest("returns-old", SHIPPING, "archive/returns.md")

    by_id = operator_client.get(CHANGELIST, {"q": "returns"})
    assert [s.document_id for s in by_id.context["cl"].result_list] == ["returns"]
    by_path = operator_client.get(CHANGELIST, {"q": "archive/"})
    assert [s.document_id for s in by_path.context["cl"].result_list] == ["returns-old"]
    # a LIKE wildcard typed by the operator is a literal character
    assert list(operator_client.get(CHANGELIST, {"q": "%"}).context["cl"].result_list) == []


def test_a_source_page_lists_its_chunks_and_offers_no_save(operator_client, no_vectors):
    source = ingest(
        "returns", RETURNS, "policies/returns.md", chunk_size=100, chunk_overlap=0
    ).source
    page = operator_client.get(reverse("admin:knowledge_source_change", args=[source.pk]))
    html = page.content.decode()
    assert page.status_code == 200
    assert 'name="_save"' not in html
    for chunk in RAGDocument.objects.filter(parent=source):
        assert reverse("admin:knowledge_ragdocument_change", args=[chunk.pk]) in html
    assert "no vector" in html
    assert f"?parent__id__exact={source.pk}" in html
    chunks = operator_client.get(
        reverse("admin:knowledge_ragdocument_changelist"), {"parent__id__exact": source.pk}
    )
    assert chunks.status_code == 200
    assert {c.parent_id for c in chunks.context["cl"].result_list} == {source.pk}


def test_sources_cannot_be_added_in_the_admin(operator_client):
    assert operator_client.get(reverse("admin:knowledge_source_add")).status_code == 403


def test_deleting_a_source_removes_its_chunks_and_vectors_through_the_service(operator_client):
    source = ingest("returns", RETURNS, "policies/returns.md").source
    assert ChunkEmbedding.objects.filter(chunk__parent=source).exists()
    delete = reverse("admin:knowledge_source_delete", args=[source.pk])

    confirmation = operator_client.get(delete)
    assert confirmation.status_code == 200
    response = operator_client.post(delete, {"post": "yes"})

    assert response.status_code == 302
    assert not Source.objects.filter(pk=source.pk).exists()
    assert not RAGDocument.objects.filter(document_id__startswith="returns-chunk-").exists()
    assert not ChunkEmbedding.objects.exists()


def test_the_bulk_delete_action_deletes_each_source(operator_client, no_vectors):
    a = ingest("a", RETURNS, "x/a.md").source
    b = ingest("b", SHIPPING, "x/b.md").source
    response = operator_client.post(
        CHANGELIST,
        {"action": "delete_selected", "_selected_action": [a.pk, b.pk], "post": "yes"},
    )
    assert response.status_code == 302
    assert not Source.objects.exists()
    assert not RAGDocument.objects.exists()


def test_chunks_are_read_only(operator_client, no_vectors):
    source = ingest("returns", RETURNS, "policies/returns.md").source
    chunk = source.chunks.get()
    change = reverse("admin:knowledge_ragdocument_change", args=[chunk.pk])
    assert operator_client.post(change, {"content": "rewritten"}).status_code == 403
    assert operator_client.get(reverse("admin:knowledge_ragdocument_add")).status_code == 403
    html = operator_client.get(change).content.decode()
    assert "none (full-text search only)" in html
    chunk.refresh_from_db()
    assert chunk.content == RETURNS.replace("\n\n", "\n\n")


def test_the_search_page_shows_each_legs_rank_and_score(operator_client):
    ingest("returns", RETURNS, "policies/returns.md")
    ingest("shipping", SHIPPING, "policies/shipping.md")
    assert operator_client.get(CHANGELIST).content.decode().count(SEARCH) == 1

    page = operator_client.get(
        SEARCH, {"query": "can I send back a ring I never wore", "mode": "hybrid", "k": 5}
    )

    assert page.status_code == 200
    result = page.context["result"]
    assert result.mode == "hybrid"
    assert result.hits[0].document_id == "returns-chunk-0"
    assert result.hits[0].vector is not None
    html = page.content.decode()
    assert "Vector rank" in html
    assert "Full-text rank" in html
    assert reverse("admin:knowledge_ragdocument_change", args=[result.hits[0].id]) in html


def test_the_search_page_filters_by_source_path_prefix(operator_client, no_vectors):
    ingest("returns", RETURNS, "policies/returns.md")
    ingest("returns-copy", RETURNS, "archive/returns.md")
    page = operator_client.get(
        SEARCH, {"query": "refund", "mode": "fulltext", "k": 10, "source_path": "archive/"}
    )
    assert [hit.parent_document_id for hit in page.context["result"].hits] == ["returns-copy"]


def test_the_search_page_says_when_it_fell_back_to_full_text(operator_client, no_vectors):
    ingest("returns", RETURNS, "policies/returns.md")
    page = operator_client.get(SEARCH, {"query": "refund", "mode": "vector", "k": 10})
    assert page.context["result"].mode == "fulltext"
    assert "Searched full text only (vector was asked for)" in page.content.decode()


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"query": "", "mode": "hybrid", "k": 10}, "This field is required."),
        ({"query": "x", "mode": "hybrid", "k": 101}, "less than or equal to 100"),
        ({"query": "x", "mode": "nearest", "k": 10}, "Select a valid choice"),
        ({"query": "x", "mode": "fulltext", "k": 10, "metadata": "[1]"}, "A JSON object"),
        ({"query": "x", "mode": "fulltext", "k": 10, "metadata": '{"year": {"gt3": 1}}'}, "gt3"),
    ],
)
def test_bad_search_input_is_a_form_error(operator_client, params, message):
    page = operator_client.get(SEARCH, params)
    assert page.status_code == 200
    assert page.context["result"] is None
    assert message in page.content.decode()


def test_only_staff_reach_the_search_page(client, agent_user):
    client.force_login(agent_user)
    assert client.get(SEARCH).status_code in (302, 403)


def test_a_source_deleted_meanwhile_is_not_an_error_for_the_admins_delete(operator, rf):
    from django.contrib import admin as django_admin

    request = rf.post("/")
    request.user = operator
    source_admin = django_admin.site._registry[Source]
    source_admin.delete_model(request, Source(document_id="deleted-meanwhile"))
    assert not Source.objects.exists()
