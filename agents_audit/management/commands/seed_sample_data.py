"""Fill the database with sample data (``agents_audit.sample_data``): users, products, orders,
tool and agent executions, round-table results, tasks in every state with execution logs, and
jobs in every state with one paused job type.

    manage.py seed_sample_data                    # seed 2024, 20 tasks
    manage.py seed_sample_data --seed 7 --size 50
    manage.py seed_sample_data --reset            # delete the sample rows, then seed again
    manage.py seed_sample_data --scale 1          # issue 11's sizes (agents_audit.scale_data)
    manage.py seed_sample_data --scale 1 --reset  # delete the scale rows first, then seed them

Idempotent: rows already there are kept, a second run adds nothing. The same ``--seed`` gives
the same data. A bad argument is one line on stderr and exit status 1.

``--scale F`` is another kind of data: millions of rows written with COPY, in one transaction,
with a progress bar and a summary (rows and seconds per table). It refuses (one line, exit
status 1, nothing written) when scale data is already there; ``--reset`` deletes the scale rows
first (and only those: ``agents_audit.scale_data.scale_data_reset``).
"""

from __future__ import annotations

import math
import time
from typing import IO, Any, cast

from django.core.management.base import BaseCommand, CommandError, CommandParser
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from agents_audit import sample_data, scale_data


def _whole_number(name: str, text: str, low: int, high: int) -> int:
    try:
        value = int(text)
    except ValueError:
        raise CommandError(f"--{name} must be a whole number, not '{text}'.") from None
    if not low <= value <= high:
        raise CommandError(f"--{name} must be between {low} and {high}.")
    return value


def _scale(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise CommandError(f"--scale must be a number, not '{text}'.") from None
    if not math.isfinite(value) or not 0 < value <= scale_data.MAX_SCALE:
        raise CommandError(
            f"--scale must be a number above 0 and at most {scale_data.MAX_SCALE:g}, not '{text}'."
        )
    return value


class Command(BaseCommand):
    help = "Seed sample data (idempotent; --reset starts over; --seed N for other data)."

    def add_arguments(self, parser: CommandParser) -> None:
        # Read as text and checked in handle(): a bad value is one CommandError line.
        parser.add_argument(
            "--seed", default=str(sample_data.DEFAULT_SEED), help="Random seed (default 2024)."
        )
        parser.add_argument(
            "--size",
            default=None,
            help=f"Number of tasks and tool executions (default {sample_data.DEFAULT_SIZE}, "
            f"at most {sample_data.MAX_SIZE}).",
        )
        parser.add_argument(
            "--reset", action="store_true", help="Delete the sample data first, then seed."
        )
        parser.add_argument(
            "--scale",
            default=None,
            help="Write data at scale with COPY instead: 1 is 1,000,000 tool and agent "
            "executions, jobs and events, 100,000 users, orders, tasks and chunks; 0.01 is a "
            "hundredth of it (agents_audit.scale_data). With --reset, the scale rows go first.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        seed = _whole_number("seed", options["seed"], 0, 2**63 - 1)
        if options["scale"] is not None:
            if options["size"] is not None:
                raise CommandError("--size and --scale do not go together.")
            self._seed_at_scale(_scale(options["scale"]), seed, reset=options["reset"])
            return
        size = _whole_number(
            "size", options["size"] or str(sample_data.DEFAULT_SIZE), 1, sample_data.MAX_SIZE
        )
        if options["reset"]:
            deleted = sample_data.sample_data_reset()
            self.stdout.write(
                "Reset: " + ", ".join(f"{kind} {count}" for kind, count in deleted.items()) + "."
            )
        try:
            report = sample_data.sample_data_seed(seed=seed, size=size)
        except sample_data.QueueBusy as exc:
            raise CommandError(str(exc)) from None
        if report.total == 0:
            self.stdout.write("Sample data already there; nothing added.")
        else:
            self.stdout.write(
                f"Seeded (seed {seed}): "
                + ", ".join(f"{kind} {count}" for kind, count in report.created.items())
                + "."
            )

    def _seed_at_scale(self, scale: float, seed: int, *, reset: bool) -> None:
        # the stream itself: OutputWrapper.write would end each of rich's writes with a newline
        console = Console(file=cast(IO[str], self.stdout._out), highlight=False)
        columns = (
            TextColumn("{task.description:<24}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
        )
        with Progress(*columns, console=console, transient=False) as bar:
            tasks: dict[str, Any] = {}

            def progress(table: str, done: int, total: int) -> None:
                if table not in tasks:
                    tasks[table] = bar.add_task(table, total=total)
                bar.update(tasks[table], completed=done, total=total)

            if reset:
                deleted = scale_data.scale_data_reset(progress)
                self.stdout.write(f"Reset: deleted {deleted.rows:,} scale rows.")
            started = time.perf_counter()
            try:
                report = scale_data.scale_data_seed(scale=scale, seed=seed, progress=progress)
            except scale_data.ScaleDataPresent as exc:
                raise CommandError(str(exc)) from None
        elapsed = time.perf_counter() - started
        table = Table(title=f"Scale {scale:g} (seed {seed})")
        table.add_column("table")
        table.add_column("rows", justify="right")
        table.add_column("seconds", justify="right")
        for name, entry in report.tables.items():
            table.add_row(name, f"{entry.rows:,}", f"{entry.seconds:.1f}")
        table.add_row("total", f"{report.rows:,}", f"{elapsed:.1f}")
        console.print(table)
