"""knowledge.chunking: paragraph- and sentence-aware chunks whose boundaries an edit moves only
locally (re-ingesting an edited document re-embeds only the chunks of what changed)."""

from __future__ import annotations

import itertools
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from knowledge.chunking import content_hash, normalize, split_text


def _words(text: str) -> list[str]:
    return text.split()


PARAGRAPHS = [
    "Returns policy. Unworn jewellery may be returned within 30 days of delivery for a full "
    "refund. Engraved items are final sale. " * 3,
    "Shipping. Orders over 100 dollars ship free. Express delivery takes two business days.",
    "Care. Clean silver with a soft cloth; avoid chlorine and perfume. " * 12,
    "Sizing. Rings come in sizes 4 to 12; half sizes on request.",
    "Warranty. Two years against manufacturing defects. " * 5,
]
DOCUMENT = "\n\n".join(PARAGRAPHS)


def test_a_short_document_is_one_chunk_with_its_hash():
    (chunk,) = split_text("A single paragraph about returns.")

    assert (chunk.index, chunk.text) == (0, "A single paragraph about returns.")
    assert chunk.content_hash == content_hash("A single paragraph about returns.")
    assert len(chunk.content_hash) == 64


def test_every_chunk_fits_and_the_chunks_cover_the_text_in_order():
    chunks = split_text(DOCUMENT, chunk_size=300, chunk_overlap=50)

    assert all(len(chunk.text) <= 300 for chunk in chunks)
    assert [chunk.index for chunk in chunks] == list(range(len(chunks)))
    own = [DOCUMENT[chunk.start : chunk.end] for chunk in chunks]
    assert _words(" ".join(own)) == _words(DOCUMENT)
    assert all(a.end <= b.start for a, b in itertools.pairwise(chunks))


def test_a_long_paragraph_is_cut_at_sentence_ends_with_overlap():
    chunks = split_text(PARAGRAPHS[2], chunk_size=200, chunk_overlap=40)

    assert len(chunks) > 1
    for before, after in itertools.pairwise(chunks):
        own = PARAGRAPHS[2][before.start : before.end]
        assert own.endswith(".")  # a sentence end, not mid-word
        head = after.text[: len(after.text) - (after.end - after.start)].strip()
        assert head
        assert own.endswith(head)  # the overlap is the previous chunk's tail


def test_short_paragraphs_are_joined_and_long_ones_stand_alone():
    text = "Title\n\nBy the team\n\n" + "A long paragraph. " * 20
    chunks = split_text(text, chunk_size=400, chunk_overlap=0)

    assert chunks[0].text == "Title\n\nBy the team"
    assert chunks[1].text == ("A long paragraph. " * 20).strip()


def test_editing_one_paragraph_changes_only_its_chunks():
    before = split_text(DOCUMENT, chunk_size=300, chunk_overlap=50)
    edited = PARAGRAPHS.copy()
    edited[1] = "Shipping. Orders over 150 dollars ship free, and returns are free too."
    after = split_text("\n\n".join(edited), chunk_size=300, chunk_overlap=50)

    old, new = {c.content_hash for c in before}, {c.content_hash for c in after}
    assert len(new - old) == 1
    assert len(old - new) == 1


def test_line_endings_do_not_change_the_chunks():
    windows = DOCUMENT.replace("\n", "\r\n")
    assert [c.text for c in split_text(windows)] == [c.text for c in split_text(DOCUMENT)]
    assert normalize("a\r\nb\rc") == "a\nb\nc"


def test_a_run_without_spaces_is_cut_at_the_limit():
    chunks = split_text("x" * 950, chunk_size=300, chunk_overlap=0)
    assert [len(c.text) for c in chunks] == [300, 300, 300, 50]


@pytest.mark.parametrize(("size", "overlap"), [(99, 0), (8001, 0), (1000, 501), (1000, -1)])
def test_sizes_out_of_range_are_refused(size, overlap):
    with pytest.raises(ValueError, match="chunk_"):
        split_text("text", chunk_size=size, chunk_overlap=overlap)


text_strategy = st.lists(
    st.text(alphabet=st.sampled_from("abc .!?\n\t"), min_size=0, max_size=400), max_size=8
).map("\n\n".join)


@settings(max_examples=200, deadline=None)
@given(text=text_strategy, size=st.integers(100, 600), overlap_share=st.floats(0, 0.5))
def test_any_text_is_covered_in_order_within_the_size(text, size, overlap_share):
    overlap = int(size * overlap_share)
    chunks = split_text(text, chunk_size=size, chunk_overlap=overlap)
    normalized = normalize(text)

    assert all(0 < len(c.text) <= size for c in chunks)
    assert _words(" ".join(normalized[c.start : c.end] for c in chunks)) == _words(normalized)
    assert all(a.end <= b.start for a, b in itertools.pairwise(chunks))
    assert split_text(text, chunk_size=size, chunk_overlap=overlap) == chunks  # deterministic
    assert not any(re.fullmatch(r"\s*", c.text) for c in chunks)
