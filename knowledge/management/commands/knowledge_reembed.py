"""Compute the vectors that chunks lack, or whose content changed, in batches.

    manage.py knowledge_reembed [--model NAME] [--batch-size N] [--all] [--before ISO-TIME]

Chunks without a vector under the model (the active one by default), or with a stale one
(computed from other content), get one; ``--all`` recomputes every vector, ``--before T``
every vector computed before T (``--all`` is ``--before`` the moment the run starts, printed
first: pass it to resume an interrupted ``--all``). Batches of ``--batch-size`` chunks (default
256) are embedded outside any transaction and written in a short one each; search keeps
answering throughout (old vectors stay until replaced). Stopped halfway, a run loses at most
one batch: running it again does only the rest. A progress bar goes to stderr, the totals to
stdout. A model the server cannot compute (client-only, no ``embeddings`` extra, server
embeddings off) or a bad argument is one line on stderr and exit status 1.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from knowledge import embedder
from knowledge.embedding_models import EMBEDDING_MODELS
from knowledge.management.console import console
from knowledge.services import chunks_needing_vectors, chunks_reembed
from knowledge.services.reembed import database_now

DEFAULT_BATCH_SIZE = 256


class Command(BaseCommand):
    help = "Compute missing and stale chunk vectors in batches (resumable)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--model", help=f"A registered model (default: {settings.KNOWLEDGE_EMBEDDING_MODEL})."
        )
        parser.add_argument(
            "--batch-size",
            default=str(DEFAULT_BATCH_SIZE),
            help=f"Chunks per batch (default {DEFAULT_BATCH_SIZE}).",
        )
        parser.add_argument(
            "--all", action="store_true", help="Recompute every vector, not only missing ones."
        )
        parser.add_argument(
            "--before",
            help="Recompute vectors computed before this ISO 8601 time (resumes an --all run).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        name = options["model"] or settings.KNOWLEDGE_EMBEDDING_MODEL
        if name not in EMBEDDING_MODELS:
            raise CommandError(
                f"--model: '{name}' is not a registered model "
                f"(one of: {', '.join(sorted(EMBEDDING_MODELS))})"
            )
        model = EMBEDDING_MODELS[name]
        reason = embedder.unavailable_reason(model)
        if reason is not None:
            raise CommandError(f"--model {name}: {reason}")
        text = options["batch_size"]
        if not (text.isascii() and text.isdigit()) or not 1 <= int(text) <= 10_000:
            raise CommandError(f"--batch-size: '{text}' is not a whole number from 1 to 10000")
        batch_size = int(text)
        before = self._before(options)

        total = chunks_needing_vectors(model=model, recompute_before=before)
        if before is not None and options["all"]:
            self.stderr.write(
                f"Recomputing every {name} vector computed before {before.isoformat()}; if "
                f"interrupted, resume with --before {before.isoformat()}"
            )
        progress = Progress(
            TextColumn(f"Embedding ({name})"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console(self.stderr),
            transient=True,
        )
        with progress:
            task = progress.add_task("embed", total=total)
            result = chunks_reembed(
                model=model,
                batch_size=batch_size,
                recompute_before=before,
                on_batch=lambda done, skipped: progress.advance(task, done + skipped),
            )
        skipped = (
            f" ({result.skipped} skipped: changing while embedded; their ingest embeds them)"
            if result.skipped
            else ""
        )
        self.stdout.write(f"Embedded {result.embedded} chunk(s) with {name}{skipped}.")

    def _before(self, options: dict[str, Any]) -> dt.datetime | None:
        text = options["before"]
        if text is None:
            return database_now() if options["all"] else None
        try:
            moment = dt.datetime.fromisoformat(text)
        except ValueError:
            raise CommandError(f"--before: '{text}' is not an ISO 8601 date and time") from None
        if moment.tzinfo is None:
            raise CommandError(f"--before: '{text}' needs a UTC offset (e.g. +00:00)")
        return moment
