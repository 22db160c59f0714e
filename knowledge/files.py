"""Files as documents, for ``manage.py ingest``: which files, their text, their ids.

- A path argument is a file, or a folder searched recursively for ``.txt``, ``.md``,
  ``.markdown``, ``.rst`` and ``.pdf`` files (any case), skipping hidden files and folders
  (names starting with ``.``). A file named explicitly is taken whatever its extension, read as
  text unless it ends in ``.pdf``.
- ``source_path`` is the file's path relative to the argument's parent folder, with ``/``:
  ``ingest docs`` gives ``docs/guide.md``, ``ingest docs/guide.md`` gives ``guide.md``; a
  ``--source-prefix`` goes in front (``kb/`` + ``docs/guide.md``).
- ``document_id`` is derived from ``source_path`` alone, so the same file gets the same id on
  every run and machine: the path with ``/`` written ``:`` (``docs:guide.md``) when that is a
  valid id that cannot be mistaken for another path's; otherwise its characters outside the
  id alphabet become ``-``, cut to fit, followed by ``-`` and 16 hex digits of the path's
  SHA-256 (``docs-my-notes-8f2c...``).
- Text files are UTF-8 (a byte-order mark is dropped); PDFs are read with ``pypdf``, page by
  page, pages separated by a blank line.
"""

from __future__ import annotations

import fnmatch
import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from knowledge.services.inputs import DOCUMENT_ID_MAX_LENGTH, DOCUMENT_ID_PATTERN

TEXT_SUFFIXES = frozenset({".txt", ".md", ".markdown", ".rst"})
PDF_SUFFIX = ".pdf"
SUFFIXES = TEXT_SUFFIXES | {PDF_SUFFIX}

_OUTSIDE_ALPHABET = re.compile(r"[^A-Za-z0-9._@+-]+")
_DIGEST_LENGTH = 16


class UnreadableFile(Exception):
    """A file that cannot be read as a document: the message says why."""


@dataclass(frozen=True)
class DocumentFile:
    path: Path
    source_path: str
    document_id: str


def document_id_for(source_path: str) -> str:
    """A stable, valid ``document_id`` for ``source_path`` (see the module)."""
    plain = source_path.replace("/", ":")
    if ":" not in source_path and DOCUMENT_ID_PATTERN.match(plain):
        return plain
    digest = hashlib.sha256(source_path.encode("utf-8", "surrogateescape")).hexdigest()
    digest = digest[:_DIGEST_LENGTH]
    slug = _OUTSIDE_ALPHABET.sub("-", source_path).strip("-._@+")
    slug = slug[: DOCUMENT_ID_MAX_LENGTH - _DIGEST_LENGTH - 1].rstrip("-._@+")
    return f"{slug}-{digest}" if slug else digest


def document_files(
    arguments: Iterable[str], *, source_prefix: str = "", globs: Iterable[str] = ()
) -> list[DocumentFile]:
    """The files the arguments name, in a stable order (by argument, then by path); raises
    ``FileNotFoundError`` for an argument that does not exist. ``globs`` (fnmatch patterns on
    the source path before the prefix, ``*`` crossing ``/``) keep only the files that match
    one of them."""
    patterns = list(globs)
    found: dict[Path, DocumentFile] = {}
    for argument in arguments:
        root = Path(argument)
        if not root.exists():
            raise FileNotFoundError(argument)
        root = root.resolve()
        base = root.parent
        if root.is_dir():
            candidates = sorted(
                path
                for path in root.rglob("*")
                if path.is_file()
                and path.suffix.lower() in SUFFIXES
                and not any(part.startswith(".") for part in path.relative_to(root).parts)
            )
        else:
            candidates = [root]
        for path in candidates:
            relative = path.relative_to(base).as_posix()
            if patterns and not any(fnmatch.fnmatchcase(relative, p) for p in patterns):
                continue
            source_path = f"{source_prefix}{relative}"
            found.setdefault(path, DocumentFile(path, source_path, document_id_for(source_path)))
    return list(found.values())


def read_text(path: Path) -> str:
    """The document text of a file: UTF-8 text, or the text of a PDF's pages."""
    if path.suffix.lower() == PDF_SUFFIX:
        return _pdf_text(path)
    try:
        return path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise UnreadableFile(f"not UTF-8 text (byte {error.start})") from None
    except OSError as error:
        raise UnreadableFile(error.strerror or str(error)) from None


def _pdf_text(path: Path) -> str:
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(path)
        if reader.is_encrypted:
            raise UnreadableFile("an encrypted PDF")
        pages = [page.extract_text() or "" for page in reader.pages]
    except (PdfReadError, ValueError, KeyError, OSError) as error:
        raise UnreadableFile(f"not a readable PDF ({error})") from None
    return "\n\n".join(page.strip() for page in pages if page.strip())
