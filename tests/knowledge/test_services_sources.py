"""document_delete and sources_delete: a document goes with its chunks and vectors, all in one
transaction, and agents delete only what they ingested."""

from __future__ import annotations

import pytest

from devskyy.errors import InvalidInput, NotFound, NotPermitted
from knowledge.models import ChunkEmbedding, RAGDocument, Source
from knowledge.services import DeletedSource, document_delete, document_ingest, sources_delete
from tests.commerce.factories import AgentUserFactory, OperatorFactory
from tests.knowledge.conftest import document, refused, table_rows
from tests.knowledge.factories import SourceFactory

pytestmark = pytest.mark.django_db


def test_deleting_a_document_takes_its_chunks_and_vectors_and_says_what_went():
    document_ingest(document_id="handbook", text=document(range(3)), source_path="docs/h.md")
    document_ingest(document_id="other", text=document([4]))

    deleted = document_delete(document_id="handbook")

    assert deleted == DeletedSource(document_id="handbook", source_path="docs/h.md", chunks=3)
    assert list(Source.objects.values_list("document_id", flat=True)) == ["other"]
    assert list(RAGDocument.objects.values_list("document_id", flat=True)) == ["other-chunk-0"]
    assert ChunkEmbedding.objects.count() == 1


def test_deleting_an_unknown_document_is_not_found():
    SourceFactory.create(document_id="known")

    with pytest.raises(NotFound, match="No source 'unknown'"):
        document_delete(document_id="unknown")

    assert Source.objects.count() == 1


def test_an_agent_deletes_only_the_documents_it_ingested():
    owner, other = AgentUserFactory.create(), AgentUserFactory.create()
    SourceFactory.create(document_id="notes", created_by=owner, chunks=2)
    before = table_rows()

    with pytest.raises(NotPermitted):
        document_delete(document_id="notes", actor=other)

    assert table_rows() == before
    assert document_delete(document_id="notes", actor=owner).chunks == 2


@pytest.mark.parametrize("actor", [None, "operator"])
def test_operators_and_commands_delete_any_document(actor):
    SourceFactory.create(document_id="notes", created_by=AgentUserFactory.create(), chunks=1)

    document_delete(document_id="notes", actor=OperatorFactory.create() if actor else None)

    assert not Source.objects.exists()
    assert not RAGDocument.objects.exists()


def test_deleting_by_exact_source_path_leaves_the_paths_that_merely_start_alike():
    SourceFactory.create(document_id="a", source_path="docs/a.md", chunks=2)
    SourceFactory.create(document_id="a2", source_path="docs/a.md", chunks=1)
    SourceFactory.create(document_id="b", source_path="docs/a.md.bak")

    deleted = sources_delete(source_path="docs/a.md")

    assert deleted == [
        DeletedSource(document_id="a", source_path="docs/a.md", chunks=2),
        DeletedSource(document_id="a2", source_path="docs/a.md", chunks=1),
    ]
    assert list(Source.objects.values_list("document_id", flat=True)) == ["b"]


def test_deleting_by_prefix_takes_the_prefix_literally():
    SourceFactory.create(document_id="api", source_path="docs/api/a.md")
    SourceFactory.create(document_id="api2", source_path="docs/api/v2/b.md")
    SourceFactory.create(document_id="apix", source_path="docs/apix/c.md")
    SourceFactory.create(document_id="pct", source_path="docs/100%/d.md")
    SourceFactory.create(document_id="pcx", source_path="docs/100x/e.md")
    SourceFactory.create(document_id="none", source_path=None)

    assert [d.document_id for d in sources_delete(source_path="docs/api/", prefix=True)] == [
        "api",
        "api2",
    ]
    # LIKE's wildcards are plain characters here
    assert [d.document_id for d in sources_delete(source_path="docs/100%", prefix=True)] == ["pct"]
    assert [d.document_id for d in sources_delete(source_path="docs/a_ix", prefix=True)] == []
    assert sorted(Source.objects.values_list("document_id", flat=True)) == ["apix", "none", "pcx"]


def test_a_delete_by_path_that_matches_nothing_deletes_nothing():
    SourceFactory.create(source_path="docs/a.md")

    assert sources_delete(source_path="nothing/", prefix=True) == []
    assert Source.objects.count() == 1


def test_a_delete_by_path_is_all_or_nothing_for_an_agent():
    owner, other = AgentUserFactory.create(), AgentUserFactory.create()
    SourceFactory.create(document_id="mine", source_path="team/mine.md", created_by=owner)
    SourceFactory.create(document_id="theirs", source_path="team/theirs.md", created_by=other)

    with pytest.raises(NotPermitted, match="1 of these sources \\(theirs\\)"):
        sources_delete(source_path="team/", prefix=True, actor=owner)

    assert Source.objects.count() == 2
    assert [d.document_id for d in sources_delete(source_path="team/mine.md", actor=owner)] == [
        "mine"
    ]


@pytest.mark.parametrize(
    ("source_path", "code"), [("", "blank"), ("  ", "blank"), ("x" * 501, "max_length")]
)
def test_a_delete_by_path_needs_a_path(source_path, code):
    SourceFactory.create(source_path="docs/a.md")

    with pytest.raises(InvalidInput) as raised:
        sources_delete(source_path=source_path, prefix=True)

    assert [c for c, _ in refused(raised.value, "source_path_prefix")] == [code]
    assert Source.objects.count() == 1
