"""Splitting a document into chunks for the knowledge base (issue 9's ingestion).

Sizes are in characters. The rules, in order:

1. Line endings become ``\\n``; the text is cut into paragraphs at blank lines.
2. A paragraph that fits in ``chunk_size`` is one piece. A longer one is cut at sentence ends
   (``.``, ``!``, ``?`` or ``…`` followed by whitespace), sentences packed greedily into pieces of
   at most ``chunk_size - chunk_overlap``; a sentence longer than that is cut at the last
   whitespace before the limit (or at the limit, for a run without any).
3. Consecutive short paragraphs (under ``min_size``, default a fifth of ``chunk_size``) are
   joined, with a blank line between them, into one chunk while it fits; every other piece is a
   chunk of its own.
4. The pieces of one long paragraph overlap: each but the first starts with the last
   ``chunk_overlap`` characters of the one before (from a word boundary), so a sentence cut
   across two chunks is still whole in one of them. Chunks of different paragraphs never
   overlap.

Why paragraphs are never packed together beyond rule 3: an edit must change only the chunks of
the paragraph it touches. Greedy packing across paragraphs would move every later boundary when
one paragraph grows, and re-ingesting would re-embed the rest of the document. Here a chunk's
content depends only on its own paragraph (and, for short ones, its short neighbours).

Each chunk carries its SHA-256 (``content_hash``, hex, of its UTF-8 text) and the span
``[start, end)`` of the normalized text that it covers without its overlap.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

DEFAULT_CHUNK_SIZE = 1000
DEFAULT_CHUNK_OVERLAP = 100
MIN_CHUNK_SIZE = 100
MAX_CHUNK_SIZE = 8000

_PARAGRAPH_BREAK = re.compile(r"\n[ \t]*\n+")
_SENTENCE_END = re.compile(r"(?<=[.!?…])\s+")


@dataclass(frozen=True)
class Chunk:
    index: int
    text: str
    start: int
    end: int

    @property
    def content_hash(self) -> str:
        return content_hash(self.text)


def content_hash(text: str) -> str:
    """SHA-256 of ``text`` (UTF-8), hex: the seed's ``content_hash``."""
    return hashlib.sha256(text.encode()).hexdigest()


def normalize(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _paragraphs(text: str) -> list[tuple[int, int]]:
    """The ``[start, end)`` spans of the paragraphs of ``text``, stripped of outer whitespace."""
    spans = []
    position = 0
    for separator in [*_PARAGRAPH_BREAK.finditer(text), None]:
        end = len(text) if separator is None else separator.start()
        start = position
        while start < end and text[start].isspace():
            start += 1
        stop = end
        while stop > start and text[stop - 1].isspace():
            stop -= 1
        if stop > start:
            spans.append((start, stop))
        if separator is not None:
            position = separator.end()
    return spans


def _cut(text: str, start: int, end: int, limit: int) -> list[tuple[int, int]]:
    """``[start, end)`` cut into spans of at most ``limit`` characters: at sentence ends when
    it can, else at the last whitespace before the limit, else at the limit."""
    sentences: list[tuple[int, int]] = []
    position = start
    for match in _SENTENCE_END.finditer(text, start, end):
        sentences.append((position, match.start()))
        position = match.end()
    sentences.append((position, end))

    pieces: list[tuple[int, int]] = []
    current: tuple[int, int] | None = None
    for sentence_start, sentence_end in sentences:
        for part in _hard_cut(text, sentence_start, sentence_end, limit):
            if current is not None and part[1] - current[0] <= limit:
                current = (current[0], part[1])
            else:
                if current is not None:
                    pieces.append(current)
                current = part
    if current is not None:
        pieces.append(current)
    return pieces


def _hard_cut(text: str, start: int, end: int, limit: int) -> list[tuple[int, int]]:
    parts = []
    while end - start > limit:
        cut = text.rfind(" ", start + 1, start + limit + 1)
        cut = cut if cut > start else start + limit
        parts.append((start, cut))
        start = cut
        while start < end and text[start].isspace():
            start += 1
    if end > start:
        parts.append((start, end))
    return parts


def _overlap_start(text: str, start: int, end: int, overlap: int) -> int:
    """Where the last ``overlap`` characters of ``[start, end)`` begin, moved forward to a word
    boundary."""
    begin = max(start, end - overlap)
    if begin > start and not text[begin - 1].isspace():
        space = text.find(" ", begin, end)
        begin = end if space == -1 else space + 1
    return begin


def split_text(
    text: str,
    *,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    chunk_overlap: int = DEFAULT_CHUNK_OVERLAP,
    min_size: int | None = None,
) -> list[Chunk]:
    """``text`` as chunks (see the module's rules). ``chunk_size``: 100 to 8000 characters;
    ``chunk_overlap``: 0 to half of ``chunk_size``. Raises ``ValueError`` for others."""
    if not MIN_CHUNK_SIZE <= chunk_size <= MAX_CHUNK_SIZE:
        raise ValueError(f"chunk_size must be between {MIN_CHUNK_SIZE} and {MAX_CHUNK_SIZE}.")
    if not 0 <= chunk_overlap <= chunk_size // 2:
        raise ValueError("chunk_overlap must be between 0 and half of chunk_size.")
    short = chunk_size // 5 if min_size is None else min_size
    text = normalize(text)

    # (span with overlap, span without) per chunk
    spans: list[tuple[int, int, int]] = []  # text start, own start, end
    pending: tuple[int, int] | None = None  # short paragraphs joined so far
    for start, end in _paragraphs(text):
        length = end - start
        if length < short:
            if pending is not None and end - pending[0] <= chunk_size:
                pending = (pending[0], end)
                continue
            if pending is not None:
                spans.append((pending[0], pending[0], pending[1]))
            pending = (start, end)
            continue
        if pending is not None:
            spans.append((pending[0], pending[0], pending[1]))
            pending = None
        if length <= chunk_size:
            spans.append((start, start, end))
            continue
        previous: tuple[int, int] | None = None
        # Room for the overlap and the space that joins it.
        limit = chunk_size - chunk_overlap - (1 if chunk_overlap else 0)
        for piece_start, piece_end in _cut(text, start, end, limit):
            begin = piece_start
            if previous is not None and chunk_overlap:
                begin = _overlap_start(text, previous[0], previous[1], chunk_overlap)
            spans.append((begin, piece_start, piece_end))
            previous = (piece_start, piece_end)
    if pending is not None:
        spans.append((pending[0], pending[0], pending[1]))

    chunks = []
    for index, (begin, own_start, end) in enumerate(spans):
        head = text[begin:own_start].strip()
        body = text[own_start:end]
        chunks.append(
            Chunk(
                index=index,
                text=f"{head} {body}" if head else body,
                start=own_start,
                end=end,
            )
        )
    return chunks
