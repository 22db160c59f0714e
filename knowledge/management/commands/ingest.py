"""Ingest files and folders into the knowledge base.

    manage.py ingest PATH... [--source-prefix PREFIX] [--chunk-size N] [--chunk-overlap N]
                             [--glob PATTERN]...

Folders are searched recursively for .txt, .md, .markdown, .rst and .pdf files (hidden ones
skipped); ``source_path`` is each file's path relative to its argument's parent folder, and its
``document_id`` is derived from that path (see ``knowledge.files``), so running the command
again on the same folder re-ingests the same documents: unchanged files write nothing and
report every chunk unchanged. Each file is one ``document_ingest``: embedded outside any
transaction, written in one. A progress bar (stderr) follows the files; a table (stdout) ends
the run: per file, its chunks added, updated, unchanged and deleted, with the totals. Empty
files (and PDFs without text) are listed as skipped. A bad argument, or a file that cannot be
read or ingested, is one line on stderr and exit status 1 (the files before it are ingested).
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from devskyy.errors import DomainError, InvalidInput
from knowledge.chunking import DEFAULT_CHUNK_OVERLAP, DEFAULT_CHUNK_SIZE
from knowledge.files import DocumentFile, UnreadableFile, document_files, read_text
from knowledge.management.console import console
from knowledge.services import document_ingest
from knowledge.services.inputs import SOURCE_PATH_MAX_LENGTH, chunking_errors

COUNTS = ("added", "updated", "unchanged", "deleted")


def _whole_number(name: str, text: str) -> int:
    if not (text.isascii() and text.isdigit()) or len(text) > 9:
        raise CommandError(f"--{name}: '{text}' is not a whole number")
    return int(text)


def _errors_line(error: InvalidInput) -> str:
    def flatten(tree: Any, where: str) -> list[str]:
        if isinstance(tree, dict):
            return [m for key, sub in tree.items() for m in flatten(sub, f"{where}{key}.")]
        return [f"{where.rstrip('.')}: {e.message}" for e in tree]

    return "; ".join(flatten(error.errors, ""))


class Command(BaseCommand):
    help = "Ingest text, markdown, reStructuredText and PDF files (or folders of them)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("paths", nargs="+", metavar="PATH", help="Files or folders.")
        parser.add_argument(
            "--source-prefix",
            default="",
            help="Put in front of every source path (e.g. 'handbook/').",
        )
        parser.add_argument(
            "--chunk-size",
            default=str(DEFAULT_CHUNK_SIZE),
            help=f"Target chunk size in characters (default {DEFAULT_CHUNK_SIZE}).",
        )
        parser.add_argument(
            "--chunk-overlap",
            default=str(DEFAULT_CHUNK_OVERLAP),
            help=f"Overlap within long paragraphs (default {DEFAULT_CHUNK_OVERLAP}).",
        )
        parser.add_argument(
            "--glob",
            action="append",
            default=[],
            help="Only files whose path (relative to the argument's parent) matches; "
            "'*' crosses folders ('*.md', 'docs/api/*'). Repeat for several.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        chunk_size = _whole_number("chunk-size", options["chunk_size"])
        chunk_overlap = _whole_number("chunk-overlap", options["chunk_overlap"])
        for name, errors in chunking_errors(chunk_size, chunk_overlap).items():
            raise CommandError(f"--{name.replace('_', '-')}: {errors[0].message}")
        prefix: str = options["source_prefix"]
        if len(prefix) > SOURCE_PATH_MAX_LENGTH or "\x00" in prefix:
            raise CommandError("--source-prefix: too long, or holds a NUL character")
        try:
            files = document_files(options["paths"], source_prefix=prefix, globs=options["glob"])
        except FileNotFoundError as error:
            raise CommandError(f"{error.args[0]}: no such file or folder") from None
        if not files:
            raise CommandError("no .txt, .md, .markdown, .rst or .pdf files found")
        # Two different files with one source path would be one document, each replacing the
        # other on every run: refuse them before anything is written.
        seen: dict[str, DocumentFile] = {}
        for file in files:
            other = seen.setdefault(file.document_id, file)
            if other is not file:
                raise CommandError(
                    f"{other.path} and {file.path} both have the source path "
                    f"'{file.source_path}' (one document): ingest one of them with a "
                    "--source-prefix"
                )

        out = console(self.stdout, soft_wrap=True, width=200)
        progress = Progress(
            TextColumn("[progress.description]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console(self.stderr),
            transient=True,
        )
        rows: list[tuple[str, str, dict[str, int]]] = []
        try:
            with progress:
                task = progress.add_task("Ingesting", total=len(files))
                for file in files:
                    progress.update(task, description=file.source_path[-60:])
                    rows.append(self._ingest(file, chunk_size, chunk_overlap))
                    progress.advance(task)
        finally:
            if rows:
                out.print(self._table(rows))
        totals = {name: sum(counts.get(name, 0) for _, _, counts in rows) for name in COUNTS}
        self.stdout.write(
            f"{len(rows)} file(s): "
            + ", ".join(f"{totals[name]} chunk(s) {name}" for name in COUNTS)
            + "."
        )

    def _ingest(
        self, file: DocumentFile, chunk_size: int, chunk_overlap: int
    ) -> tuple[str, str, dict[str, int]]:
        try:
            text = read_text(file.path)
        except UnreadableFile as error:
            raise CommandError(f"{file.path}: {error}") from None
        if not text.strip():
            return file.source_path, "skipped (empty)", {}
        try:
            result = document_ingest(
                document_id=file.document_id,
                text=text,
                source_path=file.source_path,
                chunk_size=chunk_size,
                chunk_overlap=chunk_overlap,
            )
        except InvalidInput as error:
            raise CommandError(f"{file.path}: {_errors_line(error)}") from None
        except DomainError as error:
            raise CommandError(f"{file.path}: {error.message}") from None
        counts = result.counts()
        if result.created:
            state = "new"
        elif counts["added"] or counts["updated"] or counts["deleted"]:
            state = "changed"
        else:
            state = "unchanged"
        if result.embedding_status == "skipped":
            state += " (no vectors)"
        return file.source_path, state, counts

    def _table(self, rows: list[tuple[str, str, dict[str, int]]]) -> Table:
        table = Table(title="Ingested", show_footer=True)
        table.add_column("file", footer="total")
        table.add_column("state")
        for name in COUNTS:
            total = sum(counts.get(name, 0) for _, _, counts in rows)
            table.add_column(name, justify="right", footer=str(total))
        for source_path, state, counts in rows:
            table.add_row(source_path, state, *(str(counts[n]) if counts else "-" for n in COUNTS))
        return table
