"""Which files ``manage.py ingest`` takes, the source paths and document ids it gives them, and
how it reads them."""

from __future__ import annotations

import pytest

from knowledge.files import UnreadableFile, document_files, document_id_for, read_text
from knowledge.services.inputs import DOCUMENT_ID_PATTERN


def pdf_bytes(lines: list[str]) -> bytes:
    """A one-page PDF whose text is ``lines`` (Helvetica), written by hand."""
    text = " ".join(f"({line}) Tj 0 -20 Td" for line in lines)
    stream = f"BT /F1 12 Tf 72 720 Td {text} ET".encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
        b"/Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(out)


@pytest.fixture
def tree(tmp_path):
    root = tmp_path / "handbook"
    (root / "policies").mkdir(parents=True)
    (root / ".git").mkdir()
    (root / "guide.md").write_text("Guide.")
    (root / "policies" / "returns.txt").write_text("Returns.")
    (root / "policies" / "notes.RST").write_text("Notes.")
    (root / "policies" / "image.png").write_bytes(b"\x89PNG")
    (root / ".git" / "HEAD.md").write_text("hidden")
    (root / ".draft.md").write_text("hidden")
    return root


def test_a_folder_gives_its_text_files_with_paths_from_its_parent(tree):
    files = document_files([str(tree)])

    assert [(f.source_path, f.document_id) for f in files] == [
        ("handbook/guide.md", "handbook:guide.md"),
        ("handbook/policies/notes.RST", "handbook:policies:notes.RST"),
        ("handbook/policies/returns.txt", "handbook:policies:returns.txt"),
    ]


def test_a_file_argument_is_named_from_its_own_folder(tree):
    (file,) = document_files([str(tree / "policies" / "returns.txt")])

    assert (file.source_path, file.document_id) == ("returns.txt", "returns.txt")


def test_a_prefix_and_globs_shape_the_selection(tree):
    files = document_files([str(tree)], source_prefix="kb/", globs=["*.txt", "*/guide.md"])

    assert [f.source_path for f in files] == [
        "kb/handbook/guide.md",
        "kb/handbook/policies/returns.txt",
    ]


def test_a_missing_path_is_an_error(tmp_path):
    with pytest.raises(FileNotFoundError):
        document_files([str(tmp_path / "nope")])


@pytest.mark.parametrize(
    "source_path",
    [
        "docs/my notes.md",
        "docs/a:b.md",
        "_drafts/x.md",
        "docs/" + "long-name/" * 20 + "x.md",
        "données/été.md",
        "....md",
    ],
)
def test_paths_that_are_no_valid_id_get_a_readable_one_with_a_hash(source_path):
    document_id = document_id_for(source_path)

    assert DOCUMENT_ID_PATTERN.match(document_id), document_id
    assert document_id == document_id_for(source_path)  # stable
    assert len(document_id.rsplit("-", 1)[-1]) == 16


def test_different_paths_never_share_an_id():
    paths = ["a/b.md", "a:b.md", "a-b.md", "a b.md", "a/b.md ", "A/b.md", "a/b/c.md", "a/b:c.md"]

    assert len({document_id_for(p) for p in paths}) == len(paths)


def test_text_is_utf8_without_its_byte_order_mark(tmp_path):
    path = tmp_path / "a.md"
    path.write_bytes("\ufeffCafé.".encode())

    assert read_text(path) == "Café."


def test_a_file_that_is_not_utf8_is_unreadable(tmp_path):
    path = tmp_path / "a.txt"
    path.write_bytes(b"caf\xe9")

    with pytest.raises(UnreadableFile, match="not UTF-8 text"):
        read_text(path)


def test_a_pdf_gives_the_text_of_its_pages(tmp_path):
    path = tmp_path / "policy.pdf"
    path.write_bytes(pdf_bytes(["Returns within 30 days.", "Shipping is free."]))

    assert read_text(path) == "Returns within 30 days.\nShipping is free."


def test_a_broken_pdf_is_unreadable(tmp_path):
    path = tmp_path / "broken.pdf"
    path.write_bytes(b"%PDF-1.4 nothing else")

    with pytest.raises(UnreadableFile, match="not a readable PDF"):
        read_text(path)
