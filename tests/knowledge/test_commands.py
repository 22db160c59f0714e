"""``manage.py ingest`` and ``manage.py knowledge_reembed``."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from knowledge import embedder
from knowledge.models import ChunkEmbedding, RAGDocument, Source
from tests.knowledge.conftest import document, paragraph, table_rows
from tests.knowledge.test_files import pdf_bytes

pytestmark = pytest.mark.django_db


def ingest(*args: str) -> str:
    out = StringIO()
    call_command("ingest", *args, stdout=out, stderr=StringIO())
    return out.getvalue()


def reembed(*args: str) -> str:
    out = StringIO()
    call_command("knowledge_reembed", *args, stdout=out, stderr=StringIO())
    return out.getvalue()


def table(output: str) -> list[list[str]]:
    """The summary table's cells, row by row (rich's box drawing removed)."""
    rows = []
    for line in output.splitlines():
        line = line.replace("┃", "│")  # the header's heavy rule
        if "│" in line:
            rows.append([cell.strip() for cell in line.strip().strip("│").split("│")])
    return rows


@pytest.fixture
def handbook(tmp_path):
    root = tmp_path / "handbook"
    (root / "policies").mkdir(parents=True)
    (root / "guide.md").write_text(document([0, 1, 2]))
    (root / "policies" / "returns.txt").write_text(document([3, 4]))
    (root / "policies" / "shipping.pdf").write_bytes(pdf_bytes(["Shipping is free above 50."]))
    (root / "policies" / "empty.rst").write_text("\n")
    return root


@pytest.mark.django_db(transaction=True)  # committed: a rewrite would show in updated_at
def test_a_folder_ingested_twice_gives_exactly_the_same_tables(handbook):
    first = ingest(str(handbook))
    after_first = table_rows()

    second = ingest(str(handbook))

    assert table_rows() == after_first
    assert table(first) == [
        ["file", "state", "added", "updated", "unchanged", "deleted"],
        ["handbook/guide.md", "new", "3", "0", "0", "0"],
        ["handbook/policies/empty.rst", "skipped (empty)", "-", "-", "-", "-"],
        ["handbook/policies/returns.txt", "new", "2", "0", "0", "0"],
        ["handbook/policies/shipping.pdf", "new", "1", "0", "0", "0"],
        ["total", "", "6", "0", "0", "0"],
    ]
    assert table(second) == [
        ["file", "state", "added", "updated", "unchanged", "deleted"],
        ["handbook/guide.md", "unchanged", "0", "0", "3", "0"],
        ["handbook/policies/empty.rst", "skipped (empty)", "-", "-", "-", "-"],
        ["handbook/policies/returns.txt", "unchanged", "0", "0", "2", "0"],
        ["handbook/policies/shipping.pdf", "unchanged", "0", "0", "1", "0"],
        ["total", "", "0", "0", "6", "0"],
    ]
    assert second.splitlines()[-1] == (
        "4 file(s): 0 chunk(s) added, 0 chunk(s) updated, 6 chunk(s) unchanged, 0 chunk(s) deleted."
    )
    assert sorted(Source.objects.values_list("document_id", "source_path")) == [
        ("handbook:guide.md", "handbook/guide.md"),
        ("handbook:policies:returns.txt", "handbook/policies/returns.txt"),
        ("handbook:policies:shipping.pdf", "handbook/policies/shipping.pdf"),
    ]
    assert ChunkEmbedding.objects.count() == 6


def test_an_edited_file_reports_its_changes_and_the_others_stay_unchanged(handbook):
    ingest(str(handbook))
    (handbook / "guide.md").write_text(document([0, 9, 2, 5]))

    output = ingest(str(handbook), "--glob", "*.md")

    assert table(output)[1:] == [
        ["handbook/guide.md", "changed", "1", "1", "2", "0"],
        ["total", "", "1", "1", "2", "0"],
    ]


def test_options_shape_source_paths_and_chunks(handbook):
    ingest(
        str(handbook / "guide.md"),
        "--source-prefix",
        "kb/",
        "--chunk-size",
        "200",
        "--chunk-overlap",
        "20",
    )

    source = Source.objects.get()
    assert (source.document_id, source.source_path) == ("kb:guide.md", "kb/guide.md")
    assert (source.chunk_size, source.chunk_overlap) == (200, 20)
    assert source.total_chunks > 3  # 200-character chunks cut the long paragraphs


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["/nonexistent/x"], "/nonexistent/x: no such file or folder"),
        (["{root}", "--chunk-size", "ten"], "--chunk-size: 'ten' is not a whole number"),
        (["{root}", "--chunk-size", "50"], "--chunk-size: Ensure this value is at least 100."),
        (
            ["{root}", "--chunk-overlap", "900"],
            "--chunk-overlap: Ensure this value is at most half of chunk_size (500).",
        ),
        (["{root}", "--glob", "*.docx"], "no .txt, .md, .markdown, .rst or .pdf files found"),
    ],
)
def test_bad_arguments_are_one_line_and_ingest_nothing(handbook, args, message):
    with pytest.raises(CommandError) as refused:
        ingest(*(a.replace("{root}", str(handbook)) for a in args))

    assert str(refused.value) == message
    assert not Source.objects.exists()


def test_an_unreadable_file_stops_the_run_naming_it(handbook):
    (handbook / "policies" / "zz-latin1.txt").write_bytes(b"caf\xe9")

    with pytest.raises(CommandError) as refused:
        ingest(str(handbook))

    assert str(refused.value) == (
        f"{handbook / 'policies' / 'zz-latin1.txt'}: not UTF-8 text (byte 3)"
    )
    assert Source.objects.count() == 3  # the files before it


def test_a_file_the_service_refuses_is_one_line(handbook, settings):
    settings.KNOWLEDGE_MAX_CHUNKS = 2

    with pytest.raises(CommandError) as refused:
        ingest(str(handbook / "guide.md"))

    assert str(refused.value).endswith(
        "guide.md: text: The text splits into 3 chunks; at most 2 are allowed: raise "
        "chunk_size or split the document."
    )


def test_without_server_embeddings_the_table_says_no_vectors(handbook, no_server_embeddings):
    output = ingest(str(handbook / "guide.md"))

    assert table(output)[1] == ["guide.md", "new (no vectors)", "3", "0", "0", "0"]
    assert not ChunkEmbedding.objects.exists()


# --- knowledge_reembed ---------------------------------------------------------------------


class Killed(Exception):
    """The process dying halfway (a Ctrl-C, a deploy)."""


def chunks_without_vector() -> int:
    return RAGDocument.objects.filter(embeddings__isnull=True).count()


def ingest_without_vectors(settings, paragraphs: int) -> None:
    settings.KNOWLEDGE_SERVER_EMBEDDINGS = False
    from knowledge.services import document_ingest

    document_ingest(document_id="handbook", text=document(range(paragraphs)))
    settings.KNOWLEDGE_SERVER_EMBEDDINGS = True


def test_reembed_gives_every_chunk_a_vector_and_marks_it(settings, embed_spy):
    ingest_without_vectors(settings, 5)

    output = reembed("--batch-size", "2")

    assert output == "Embedded 5 chunk(s) with all-MiniLM-L6-v2.\n"
    assert [len(call) for call in embed_spy.calls] == [2, 2, 1]
    assert chunks_without_vector() == 0
    assert set(RAGDocument.objects.values_list("embedding_model", flat=True)) == {
        "all-MiniLM-L6-v2"
    }
    with connection.cursor() as cursor:  # each vector is its own chunk's
        cursor.execute(
            "SELECT count(*) FROM rag_embeddings e JOIN rag_documents c ON c.id = e.chunk_id "
            "WHERE e.content_hash <> c.content_hash"
        )
        assert cursor.fetchone()[0] == 0
    assert reembed() == "Embedded 0 chunk(s) with all-MiniLM-L6-v2.\n"


def test_a_stopped_reembed_resumes_with_only_the_rest(settings, monkeypatch):
    ingest_without_vectors(settings, 7)
    real = embedder.embed_texts
    embedded: list[str] = []
    batches = 0

    def die_on_the_third_batch(texts, **kwargs):
        nonlocal batches
        batches += 1
        if batches == 3:
            raise Killed
        embedded.extend(texts)
        return real(texts, **kwargs)

    monkeypatch.setattr(embedder, "embed_texts", die_on_the_third_batch)

    with pytest.raises(Killed):
        reembed("--batch-size", "2")
    assert chunks_without_vector() == 3

    output = reembed("--batch-size", "2")

    assert output == "Embedded 3 chunk(s) with all-MiniLM-L6-v2.\n"
    assert len(embedded) == 7  # nothing embedded twice
    assert chunks_without_vector() == 0


def test_reembed_all_recomputes_every_vector_and_resumes_from_its_start_time(settings, monkeypatch):
    from knowledge.services import document_ingest

    document_ingest(document_id="handbook", text=document(range(5)))
    real = embedder.embed_texts
    calls: list[int] = []

    def die_on_the_second_batch(texts, **kwargs):
        if len(calls) == 1:
            raise Killed
        calls.append(len(texts))
        return real(texts, **kwargs)

    monkeypatch.setattr(embedder, "embed_texts", die_on_the_second_batch)
    err = StringIO()
    with pytest.raises(Killed):
        call_command(
            "knowledge_reembed", "--all", "--batch-size", "2", stdout=StringIO(), stderr=err
        )
    before = err.getvalue().split("resume with --before ")[1].split()[0]
    monkeypatch.setattr(embedder, "embed_texts", real)

    output = reembed("--before", before, "--batch-size", "2")

    assert output == "Embedded 3 chunk(s) with all-MiniLM-L6-v2.\n"  # 2 were done already
    assert reembed("--before", before) == "Embedded 0 chunk(s) with all-MiniLM-L6-v2.\n"


def test_search_keeps_every_vector_while_reembed_all_replaces_them(monkeypatch):
    """Old vectors stay until their replacement commits: at each batch, every chunk has one."""
    from knowledge.services import document_ingest

    document_ingest(document_id="handbook", text=document(range(5)))
    real = embedder.embed_texts
    counts = []

    def count_then_embed(texts, **kwargs):
        counts.append(ChunkEmbedding.objects.count())
        return real(texts, **kwargs)

    monkeypatch.setattr(embedder, "embed_texts", count_then_embed)

    assert reembed("--all", "--batch-size", "2") == "Embedded 5 chunk(s) with all-MiniLM-L6-v2.\n"
    assert counts == [5, 5, 5]


def test_reembed_leaves_a_chunk_whose_content_changed_meanwhile_to_its_ingest(
    settings, monkeypatch
):
    ingest_without_vectors(settings, 2)
    real = embedder.embed_texts

    def change_a_chunk_then_embed(texts, **kwargs):
        RAGDocument.objects.filter(chunk_index=0).update(content="Changed.", content_hash="0" * 64)
        return real(texts, **kwargs)

    monkeypatch.setattr(embedder, "embed_texts", change_a_chunk_then_embed)

    output = reembed()

    assert output == (
        "Embedded 1 chunk(s) with all-MiniLM-L6-v2 (1 skipped: changing while embedded; "
        "their ingest embeds them).\n"
    )
    assert list(ChunkEmbedding.objects.values_list("content_hash", flat=True)) == [
        RAGDocument.objects.get(chunk_index=1).content_hash
    ]
    assert paragraph(1) in RAGDocument.objects.get(chunk_index=1).content


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--model", "text-embedding-3-small"],
            "--model text-embedding-3-small: the server does not compute text-embedding-3-small "
            "vectors; send them with the request",
        ),
        (
            ["--model", "gpt"],
            "--model: 'gpt' is not a registered model (one of: "
            "all-MiniLM-L6-v2, text-embedding-3-small)",
        ),
        (["--batch-size", "0"], "--batch-size: '0' is not a whole number from 1 to 10000"),
        (["--before", "yesterday"], "--before: 'yesterday' is not an ISO 8601 date and time"),
        (
            ["--before", "2026-01-01T00:00"],
            "--before: '2026-01-01T00:00' needs a UTC offset (e.g. +00:00)",
        ),
    ],
)
def test_reembed_refuses_what_it_cannot_do_in_one_line(args, message):
    with pytest.raises(CommandError) as refused:
        reembed(*args)

    assert str(refused.value) == message


def test_reembed_without_server_embeddings_says_so(no_server_embeddings):
    with pytest.raises(CommandError, match="server-side embeddings are turned off"):
        reembed()
