"""document_ingest: a document's chunks and vectors, replaced without duplicates, re-embedding
only what changed, and refusing bad input before anything is written."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from devskyy.errors import InvalidInput, NotPermitted
from knowledge import embedder
from knowledge.models import ChunkEmbedding, RAGDocument, Source
from knowledge.services import document_ingest, document_ingest_apply, document_ingest_prepare
from knowledge.services import ingest as ingest_module
from tests.commerce.factories import AgentUserFactory, OperatorFactory
from tests.knowledge.conftest import document, paragraph, refused, table_rows, vectors_of
from tests.knowledge.factories import RAGDocumentFactory

pytestmark = pytest.mark.django_db

MINILM = "all-MiniLM-L6-v2"


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def chunks_of(document_id: str) -> list[RAGDocument]:
    return list(RAGDocument.objects.filter(parent__document_id=document_id).order_by("chunk_index"))


def test_a_first_ingest_writes_the_seed_layout_with_one_vector_per_chunk(embed_spy):
    result = document_ingest(
        document_id="handbook",
        text=document(range(4)),
        source_path="docs/handbook.md",
        metadata={"lang": "en", "year": 2026},
    )

    assert result.created is True
    assert result.counts() == {"added": 4, "updated": 0, "unchanged": 0, "deleted": 0}
    assert (result.embedded, result.embedding_status) == (4, "computed")
    assert (result.embedding_model, result.embedding_skipped_reason) == (MINILM, None)
    source = Source.objects.get(document_id="handbook")
    assert (source.total_chunks, source.source_path, source.metadata) == (
        4,
        "docs/handbook.md",
        {"lang": "en", "year": 2026},
    )
    assert source.text_hash == sha256(document(range(4)))
    assert [
        (c.document_id, c.chunk_index, c.total_chunks, c.content, c.content_hash)
        for c in chunks_of("handbook")
    ] == [(f"handbook-chunk-{i}", i, 4, paragraph(i), sha256(paragraph(i))) for i in range(4)]
    for chunk in chunks_of("handbook"):
        assert chunk.metadata == {"lang": "en", "year": 2026, "parent_doc_id": "handbook"}
        assert chunk.source_path == "docs/handbook.md"
        assert chunk.embedding_model == MINILM
    vectors = vectors_of("handbook")
    assert {i: v[1] for i, v in vectors.items()} == {i: sha256(paragraph(i)) for i in range(4)}
    assert embed_spy.texts == [paragraph(i) for i in range(4)]


@pytest.mark.django_db(transaction=True)  # committed: a rewrite would show in updated_at
def test_reingesting_identical_text_writes_nothing_and_reports_every_chunk_unchanged(embed_spy):
    arguments: dict[str, Any] = {
        "document_id": "handbook",
        "text": document(range(5)),
        "source_path": "docs/handbook.md",
        "metadata": {"lang": "en", "tags": ["policy", "faq"]},
    }
    document_ingest(**arguments)
    before = table_rows()
    embed_spy.calls.clear()

    with CaptureQueriesContext(connection) as queries:
        result = document_ingest(**arguments)

    assert result.created is False
    assert result.counts() == {"added": 0, "updated": 0, "unchanged": 5, "deleted": 0}
    assert (result.embedded, result.embedding_status) == (0, "reused")
    assert embed_spy.calls == []
    statements = [q["sql"].split()[0].upper() for q in queries.captured_queries]
    assert set(statements) == {"BEGIN", "SELECT", "COMMIT"}, statements
    assert table_rows() == before  # updated_at, vectors and their created_at included


def test_a_one_paragraph_edit_updates_and_embeds_only_that_chunk(embed_spy):
    document_ingest(document_id="handbook", text=document(range(6)))
    before = vectors_of("handbook")
    embed_spy.calls.clear()
    edited = document(range(6)).replace(paragraph(3), paragraph(3) + " Since May, 45 days.")

    result = document_ingest(document_id="handbook", text=edited)

    assert result.counts() == {"added": 0, "updated": 1, "unchanged": 5, "deleted": 0}
    assert embed_spy.texts == [paragraph(3) + " Since May, 45 days."]
    after = vectors_of("handbook")
    assert {i: after[i] for i in range(6) if i != 3} == {i: before[i] for i in range(6) if i != 3}
    assert after[3][1] == sha256(paragraph(3) + " Since May, 45 days.")
    assert after[3][2] != before[3][2]


def test_chunks_that_move_keep_their_vectors_and_removed_ones_go_with_theirs(embed_spy):
    document_ingest(document_id="handbook", text=document([0, 1, 2, 3, 4]))
    embed_spy.calls.clear()

    result = document_ingest(document_id="handbook", text=document([0, 2, 3, 4]))

    # indexes 1..3 now hold paragraphs 2..4: new content there, vectors found by content hash
    assert result.counts() == {"added": 0, "updated": 3, "unchanged": 1, "deleted": 1}
    assert (result.embedded, result.embedding_status) == (0, "reused")
    assert embed_spy.calls == []
    vectors = vectors_of("handbook")
    assert {i: v[1] for i, v in vectors.items()} == {
        i: sha256(paragraph(p)) for i, p in enumerate([0, 2, 3, 4])
    }
    assert RAGDocument.objects.filter(parent__document_id="handbook").count() == 4
    assert ChunkEmbedding.objects.count() == 4


def test_appending_a_paragraph_adds_one_chunk_and_rewrites_only_the_counts(embed_spy):
    document_ingest(document_id="handbook", text=document(range(3)))
    embed_spy.calls.clear()

    result = document_ingest(document_id="handbook", text=document(range(4)))

    assert result.counts() == {"added": 1, "updated": 0, "unchanged": 3, "deleted": 0}
    assert embed_spy.texts == [paragraph(3)]
    assert [c.total_chunks for c in chunks_of("handbook")] == [4, 4, 4, 4]


def test_new_metadata_rewrites_the_chunks_without_embedding_them(embed_spy):
    document_ingest(document_id="handbook", text=document(range(3)), metadata={"lang": "en"})
    embed_spy.calls.clear()

    result = document_ingest(
        document_id="handbook", text=document(range(3)), metadata={"lang": "de"}
    )

    assert result.counts() == {"added": 0, "updated": 0, "unchanged": 3, "deleted": 0}
    assert embed_spy.calls == []
    assert [c.metadata for c in chunks_of("handbook")] == [
        {"lang": "de", "parent_doc_id": "handbook"}
    ] * 3
    assert Source.objects.get(document_id="handbook").metadata == {"lang": "de"}


def test_without_a_usable_embedder_chunks_are_stored_without_vectors_and_say_why(
    no_server_embeddings,
):
    result = document_ingest(document_id="handbook", text=document(range(3)))

    assert result.counts() == {"added": 3, "updated": 0, "unchanged": 0, "deleted": 0}
    assert (result.embedding_status, result.embedding_model, result.embedded) == (
        "skipped",
        None,
        0,
    )
    assert result.embedding_skipped_reason == (
        "server-side embeddings are turned off (KNOWLEDGE_SERVER_EMBEDDINGS=0)"
    )
    assert [c.embedding_model for c in chunks_of("handbook")] == [None] * 3
    assert ChunkEmbedding.objects.count() == 0


def test_an_edit_without_an_embedder_drops_the_stale_vector_and_keeps_the_others(settings):
    document_ingest(document_id="handbook", text=document(range(3)))
    before = vectors_of("handbook")
    settings.KNOWLEDGE_SERVER_EMBEDDINGS = False

    result = document_ingest(
        document_id="handbook", text=document(range(3)).replace(paragraph(1), "A new rule.")
    )

    assert result.counts()["updated"] == 1
    assert result.embedding_status == "skipped"
    assert vectors_of("handbook") == {0: before[0], 2: before[2]}  # never found by a stale one
    assert [c.embedding_model for c in chunks_of("handbook")] == [MINILM, None, MINILM]


def test_without_an_embedder_the_documents_own_vectors_of_moved_content_are_reused(settings):
    document_ingest(document_id="handbook", text=document(range(3)))
    old = vectors_of("handbook")
    settings.KNOWLEDGE_SERVER_EMBEDDINGS = False

    result = document_ingest(document_id="handbook", text=document([2, 1]))

    assert result.embedding_status == "reused"
    new = vectors_of("handbook")
    assert (new[0][1:3], new[1][1:3]) == (old[2][1:3], old[1][1:3])


def test_another_documents_vectors_are_never_reused(settings):
    """A stored vector may have come from a client: identical content in another document gets
    its own (here: none, without an embedder)."""
    document_ingest(document_id="old-handbook", text=document(range(3)))
    settings.KNOWLEDGE_SERVER_EMBEDDINGS = False

    result = document_ingest(document_id="new-handbook", text=document([2, 1]))

    assert result.embedding_status == "skipped"
    assert vectors_of("new-handbook") == {}


def test_a_document_that_a_concurrent_ingest_changed_since_it_was_prepared_starts_again(
    embed_spy, settings, monkeypatch
):
    """The plan for the new text keeps paragraph 1's vector (unchanged at index 1); before it
    locks the source, another ingest (without an embedder) puts new text at index 1 and that
    vector goes. Under the lock the plan lacks a vector it needs: the ingest prepares again,
    embeds paragraph 1, and ends with the new text, every chunk with its vector."""
    document_ingest(document_id="handbook", text=document(range(3)))
    embed_spy.calls.clear()
    real_prepare = ingest_module.document_ingest_prepare
    wanted = document([0, 1, 2, 5])
    prepared = []

    def prepare_then_lose_the_race(**kwargs):
        plan = real_prepare(**kwargs)
        if kwargs["text"] == wanted:
            prepared.append(plan)
            if len(prepared) == 1:  # the other ingest commits before this one locks
                settings.KNOWLEDGE_SERVER_EMBEDDINGS = False
                document_ingest(document_id="handbook", text=document([0, 7, 2]))
                settings.KNOWLEDGE_SERVER_EMBEDDINGS = True
        return plan

    monkeypatch.setattr(ingest_module, "document_ingest_prepare", prepare_then_lose_the_race)

    result = document_ingest(document_id="handbook", text=wanted)

    assert len(prepared) == 2
    assert embed_spy.calls == [[paragraph(5)], [paragraph(1)]]
    assert result.counts() == {"added": 1, "updated": 1, "unchanged": 2, "deleted": 0}
    assert (result.embedded, result.embedding_status) == (2, "computed")
    assert {i: v[1] for i, v in vectors_of("handbook").items()} == {
        i: sha256(paragraph(p)) for i, p in enumerate([0, 1, 2, 5])
    }


def test_a_stale_plan_is_refused_under_the_lock_with_everything_rolled_back(settings):
    document_ingest(document_id="handbook", text=document(range(3)))
    plan = document_ingest_prepare(document_id="handbook", text=document([0, 1, 2, 5]))
    settings.KNOWLEDGE_SERVER_EMBEDDINGS = False
    document_ingest(document_id="handbook", text=document([0, 7, 2]))
    settings.KNOWLEDGE_SERVER_EMBEDDINGS = True
    before = table_rows()

    with pytest.raises(ingest_module.IngestPlanStale):
        document_ingest_apply(plan=plan)

    assert table_rows() == before


def test_pre_chunked_content_with_client_vectors_is_stored_as_sent():
    vectors = [[1.0, 0.5] + [0.0] * 382, [0.25] * 384]
    chunks = [
        {"content": "First chunk.", "embedding": vectors[0]},
        {"content": "Second.", "embedding": vectors[1]},
    ]

    result = document_ingest(document_id="notes", chunks=chunks, embedding_model=MINILM)

    assert result.counts() == {"added": 2, "updated": 0, "unchanged": 0, "deleted": 0}
    assert (result.embedding_status, result.embedding_model, result.embedded) == (
        "client",
        MINILM,
        0,
    )
    stored = vectors_of("notes")
    assert [stored[i][2] for i in (0, 1)] == [
        "[" + ",".join(format(x, "g") for x in v) + "]" for v in vectors
    ]
    source = Source.objects.get(document_id="notes")
    assert (source.chunk_size, source.chunk_overlap, source.total_chunks) == (0, 0, 2)
    assert [c.embedding_model for c in chunks_of("notes")] == [MINILM, MINILM]


def test_sending_the_same_client_vectors_again_writes_nothing():
    chunks = [{"content": f"Chunk {i}.", "embedding": [0.1 * (i + 1)] * 384} for i in range(3)]
    document_ingest(document_id="notes", chunks=chunks)
    before = table_rows()

    result = document_ingest(document_id="notes", chunks=chunks)

    assert result.counts() == {"added": 0, "updated": 0, "unchanged": 3, "deleted": 0}
    assert table_rows() == before


def test_client_vectors_of_another_model_leave_the_chunks_without_an_active_model_vector():
    result = document_ingest(
        document_id="notes",
        chunks=[{"content": "Only chunk.", "embedding": [0.5] * 1536}],
        embedding_model="text-embedding-3-small",
    )

    assert (result.embedding_status, result.embedding_model) == ("client", "text-embedding-3-small")
    assert list(vectors_of("notes", "text-embedding-3-small")) == [0]
    assert [c.embedding_model for c in chunks_of("notes")] == [None]  # the active model's only


@pytest.mark.parametrize(
    ("chunks", "errors"),
    [
        (
            [{"content": "a", "embedding": [0.1] * 3}],
            {"0": {"embedding": ["invalid_dimensions"]}},
        ),
        ([{"content": "a", "embedding": [0.0] * 384}], {"0": {"embedding": ["invalid"]}}),
        ([{"content": "a", "embedding": [float("nan")] * 384}], {"0": {"embedding": ["invalid"]}}),
        ([{"content": "a", "embedding": [1e39] * 384}], {"0": {"embedding": ["invalid"]}}),
        ([{"content": "   "}], {"0": {"content": ["blank"]}}),
        ([{"content": "a\x00b"}], {"0": {"content": ["null_characters_not_allowed"]}}),
        ([{"content": "x" * 8001}], {"0": {"content": ["max_length"]}}),
        ([{"content": "a", "vector": [1]}], {"0": {"vector": ["unknown_field"]}}),
        ([], ["empty"]),
        (
            [{"content": "a", "embedding": [0.1] * 384}, {"content": "b"}],
            ["mixed_embeddings"],
        ),
    ],
)
def test_bad_chunks_are_refused_per_item_and_nothing_is_written(chunks, errors):
    with pytest.raises(InvalidInput) as raised:
        document_ingest(document_id="notes", chunks=chunks)

    found: Any = raised.value.errors["chunks"]
    codes = (
        {i: {k: [e.code for e in v] for k, v in item.items()} for i, item in found.items()}
        if isinstance(found, dict)
        else [e.code for e in found]
    )
    assert codes == errors
    assert not Source.objects.exists()
    assert not RAGDocument.objects.exists()


@pytest.mark.parametrize(
    ("arguments", "field", "code"),
    [
        ({"document_id": "a/b", "text": "x"}, "document_id", "invalid"),
        ({"document_id": "-a", "text": "x"}, "document_id", "invalid"),
        ({"document_id": "a" * 81, "text": "x"}, "document_id", "invalid"),
        ({"document_id": "a"}, "text", "required"),
        ({"document_id": "a", "text": "x", "chunks": [{"content": "x"}]}, "chunks", "invalid"),
        ({"document_id": "a", "text": " \n\n "}, "text", "blank"),
        ({"document_id": "a", "text": "a\x00b"}, "text", "null_characters_not_allowed"),
        ({"document_id": "a", "text": "a\ud800"}, "text", "surrogate_characters_not_allowed"),
        ({"document_id": "a", "text": "x", "chunk_size": 99}, "chunk_size", "min_value"),
        ({"document_id": "a", "text": "x", "chunk_size": 8001}, "chunk_size", "max_value"),
        (
            {"document_id": "a", "text": "x", "chunk_size": 200, "chunk_overlap": 101},
            "chunk_overlap",
            "max_value",
        ),
        ({"document_id": "a", "text": "x", "source_path": " "}, "source_path", "blank"),
        ({"document_id": "a", "text": "x", "source_path": "p" * 501}, "source_path", "max_length"),
        (
            {"document_id": "a", "text": "x", "embedding_model": "gpt"},
            "embedding_model",
            "invalid_choice",
        ),
        (
            {"document_id": "a", "text": "x", "embedding_model": "text-embedding-3-small"},
            "embedding_model",
            "client_only_model",
        ),
    ],
)
def test_bad_input_is_refused_under_its_field_and_nothing_is_written(arguments, field, code):
    with pytest.raises(InvalidInput) as raised:
        document_ingest(**arguments)

    assert [c for c, _ in refused(raised.value, field)] == [code]
    assert not Source.objects.exists()


@pytest.mark.parametrize(
    ("metadata", "code"),
    [
        ([], "not_an_object"),
        ({"nested": {"a": 1}}, "invalid_value"),
        ({"list": [{"a": 1}]}, "invalid_value"),
        ({"list": [[1]]}, "invalid_value"),
        ({"list": list(range(101))}, "invalid_value"),
        ({"long": "x" * 1001}, "invalid_value"),
        ({"big": 2**63}, "invalid_value"),
        ({"inf": float("inf")}, "invalid_value"),
        ({"9lives": 1}, "invalid_key"),
        ({"has space": 1}, "invalid_key"),
        ({"k" * 65: 1}, "invalid_key"),
        ({"parent_doc_id": "other"}, "reserved_key"),
        ({f"k{i}": i for i in range(51)}, "max_keys"),
        ({f"k{i}": "x" * 1000 for i in range(17)}, "too_large"),
    ],
)
def test_metadata_must_be_a_small_flat_object(metadata, code):
    with pytest.raises(InvalidInput) as raised:
        document_ingest(document_id="a", text="x", metadata=metadata)

    assert code in [c for c, _ in refused(raised.value, "metadata")]
    assert not Source.objects.exists()


def test_accepted_metadata_is_stored_on_the_source_and_every_chunk(no_server_embeddings):
    metadata = {
        "lang": "en",
        "year": 2026,
        "score": 0.5,
        "draft": False,
        "reviewer": None,
        "tags": ["a", 1, 2.5, True, None],
        "a.b-c_d": "x" * 1000,
    }

    document_ingest(document_id="a", text="Some text.", metadata=metadata)

    assert Source.objects.get().metadata == metadata
    assert RAGDocument.objects.get().metadata == {**metadata, "parent_doc_id": "a"}


def test_a_text_longer_than_the_limit_is_refused(settings):
    settings.KNOWLEDGE_MAX_DOCUMENT_CHARS = 1000

    with pytest.raises(InvalidInput) as raised:
        document_ingest(document_id="a", text="x" * 1001)

    assert refused(raised.value, "text") == [
        ("max_length", "Ensure this field has no more than 1000 characters (it has 1001).")
    ]
    assert not Source.objects.exists()


def test_a_text_that_splits_into_too_many_chunks_is_refused(settings, no_server_embeddings):
    settings.KNOWLEDGE_MAX_CHUNKS = 3

    with pytest.raises(InvalidInput) as raised:
        document_ingest(document_id="a", text=document(range(4)))

    ((code, message),) = refused(raised.value, "text")
    assert code == "too_many_chunks"
    assert "splits into 4 chunks; at most 3" in message
    document_ingest(document_id="a", text=document(range(3)))  # at the limit: fine


def test_too_many_chunks_sent_are_refused(settings):
    settings.KNOWLEDGE_MAX_CHUNKS = 2

    with pytest.raises(InvalidInput) as raised:
        document_ingest(document_id="a", chunks=[{"content": "x"}] * 3)

    assert [c for c, _ in refused(raised.value, "chunks")] == ["max_length"]


def test_an_agent_may_reingest_only_its_own_documents(no_server_embeddings):
    owner, other = AgentUserFactory.create(), AgentUserFactory.create()
    document_ingest(document_id="notes", text=document(range(2)), actor=owner)
    before = table_rows()

    with pytest.raises(NotPermitted):
        document_ingest(document_id="notes", text=document(range(3)), actor=other)

    assert table_rows() == before
    assert document_ingest(document_id="notes", text=document(range(3)), actor=owner).added == 1
    operator = OperatorFactory.create()
    assert document_ingest(document_id="notes", text=document(range(4)), actor=operator).added == 1
    assert document_ingest(document_id="notes", text=document(range(5))).added == 1
    assert Source.objects.get().created_by == owner


def test_the_ownership_rule_holds_under_the_lock_too(no_server_embeddings):
    """A plan prepared before another agent created the document is refused when applied."""
    owner, other = AgentUserFactory.create(), AgentUserFactory.create()
    plan = document_ingest_prepare(document_id="notes", text=document(range(2)), actor=other)
    document_ingest(document_id="notes", text=document(range(3)), actor=owner)

    with pytest.raises(NotPermitted):
        document_ingest_apply(plan=plan, actor=other)

    assert RAGDocument.objects.count() == 3


def test_rows_without_a_parent_that_hold_the_documents_chunk_ids_are_replaced(
    no_server_embeddings,
):
    """Rows written by the seed's own code (no parent) under ``<id>-chunk-<i>``."""
    RAGDocumentFactory.create(document_id="legacy-chunk-0", content="Old.")
    RAGDocumentFactory.create(document_id="unrelated-chunk-0", content="Kept.")

    result = document_ingest(document_id="legacy", text=document(range(2)))

    assert result.counts() == {"added": 2, "updated": 0, "unchanged": 0, "deleted": 1}
    assert sorted(RAGDocument.objects.values_list("document_id", flat=True)) == [
        "legacy-chunk-0",
        "legacy-chunk-1",
        "unrelated-chunk-0",
    ]
    assert chunks_of("legacy")[0].content == paragraph(0)


def test_the_server_vectors_are_the_embedders_unit_length_vectors_of_the_content():
    document_ingest(document_id="handbook", text=document(range(2)))
    expected = embedder.embed_texts([paragraph(0), paragraph(1)])

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.chunk_index, vector_norm(e.embedding), e.embedding <=> %s::vector "
            "FROM rag_embeddings e JOIN rag_documents c ON c.id = e.chunk_id "
            "ORDER BY c.chunk_index",
            ["[" + ",".join(map(str, expected[1])) + "]"],
        )
        rows = cursor.fetchall()

    assert [index for index, _, _ in rows] == [0, 1]
    assert all(abs(norm - 1) < 1e-5 for _, norm, _ in rows)
    assert rows[1][2] < 1e-6 < rows[0][2]  # chunk 1's vector is paragraph 1's, not 0's
