"""Delete finished jobs (succeeded, dead, cancelled) older than a duration, in batches.

    manage.py queue_prune --older-than 7d [--batch-size 1000] [--dry-run]

Durations: a whole number and a unit, ``m`` minutes, ``h`` hours, ``d`` days or ``w`` weeks
(``30m``, ``12h``, ``7d``, ``2w``). Each batch is its own short transaction (never one long
transaction over the whole table); a line on stderr reports each batch's progress, and the last
line on stdout the total. ``--dry-run`` counts what would be deleted and deletes nothing. Their
events stay (the trail is append-only and outlives its jobs). A bad argument is one line on
stderr and exit status 1.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from agents_audit.services.jobs import jobs_prune

UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}
DURATION_RE = re.compile(r"(\d{1,6})([mhdw])")


def parse_duration(text: str) -> timedelta:
    """``7d`` -> 7 days. Raises ValueError for anything else, or for zero."""
    match = DURATION_RE.fullmatch(text.strip())
    if match is None:
        raise ValueError(f"'{text}' is not a duration like 30m, 12h, 7d or 2w")
    amount, unit = int(match[1]), match[2]
    if amount == 0:
        raise ValueError(f"'{text}' is zero; prune jobs older than a positive duration")
    return timedelta(**{UNITS[unit]: amount})


class Command(BaseCommand):
    help = "Delete finished jobs older than a duration (30m, 12h, 7d, 2w), in batches."

    def add_arguments(self, parser: CommandParser) -> None:
        # Read as text and checked in handle(): a bad value is one CommandError line, exit 1.
        parser.add_argument("--older-than", help="Finished longer ago than this (e.g. 7d).")
        parser.add_argument("--batch-size", default="1000", help="Rows per batch (default 1000).")
        parser.add_argument("--dry-run", action="store_true", help="Count, delete nothing.")

    def handle(self, *args: Any, **options: Any) -> None:
        older_text, batch_text = options["older_than"], options["batch_size"]
        if older_text is None:
            raise CommandError("--older-than is required (e.g. --older-than 7d)")
        try:
            older_than = parse_duration(older_text)
        except ValueError as error:
            raise CommandError(f"--older-than: {error}") from None
        try:
            batch_size = int(batch_text)
        except ValueError:
            raise CommandError(f"--batch-size: '{batch_text}' is not a whole number") from None
        if not 1 <= batch_size <= 100_000:
            raise CommandError(f"--batch-size: {batch_size} is not between 1 and 100000")

        if options["dry_run"]:
            count = jobs_prune(older_than=older_than, batch_size=batch_size, dry_run=True)
            self.stdout.write(f"Would delete {count} finished job(s) older than {older_text}.")
            return

        done = 0

        def progress(deleted: int) -> None:
            nonlocal done
            done += deleted
            self.stderr.write(f"... {done} deleted")

        total = jobs_prune(older_than=older_than, batch_size=batch_size, on_batch=progress)
        self.stdout.write(f"Deleted {total} finished job(s) older than {older_text}.")
