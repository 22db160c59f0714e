"""Review: ``manage.py ingest`` with two arguments whose files get the same source path."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from knowledge.models import RAGDocument, Source

pytestmark = pytest.mark.django_db


def test_two_files_that_would_be_one_document_are_refused_before_anything_is_ingested(
    tmp_path, no_server_embeddings
):
    # given: two folders named docs, each with its own a.md ("docs/a.md" for both)
    first, second = tmp_path / "x" / "docs", tmp_path / "y" / "docs"
    for folder, text in ((first, "The first guide."), (second, "Another guide.")):
        folder.mkdir(parents=True)
        (folder / "a.md").write_text(text)

    # when
    with pytest.raises(CommandError) as raised:
        call_command("ingest", str(first), str(second), stdout=StringIO(), stderr=StringIO())

    # then: both files are named, and nothing was written (before, the second silently
    # replaced the first, and every later run rewrote the document twice)
    assert "docs/a.md" in str(raised.value)
    assert str(first / "a.md") in str(raised.value)
    assert str(second / "a.md") in str(raised.value)
    assert not Source.objects.exists()
    assert not RAGDocument.objects.exists()


def test_a_file_named_twice_is_ingested_once(tmp_path, no_server_embeddings):
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "a.md").write_text("The guide.")

    call_command("ingest", str(folder), str(folder), stdout=StringIO(), stderr=StringIO())

    assert list(Source.objects.values_list("source_path", flat=True)) == ["docs/a.md"]
