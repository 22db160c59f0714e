"""Fill the database with sample data (``agents_audit.sample_data``): users, products, orders,
tool and agent executions, round-table results, tasks in every state with execution logs, and
jobs in every state with one paused job type.

    manage.py seed_sample_data                    # seed 2024, 20 tasks
    manage.py seed_sample_data --seed 7 --size 50
    manage.py seed_sample_data --reset            # delete the sample rows, then seed again

Idempotent: rows already there are kept, a second run adds nothing. The same ``--seed`` gives
the same data. A bad argument is one line on stderr and exit status 1.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from agents_audit import sample_data


def _whole_number(name: str, text: str, low: int, high: int) -> int:
    try:
        value = int(text)
    except ValueError:
        raise CommandError(f"--{name} must be a whole number, not '{text}'.") from None
    if not low <= value <= high:
        raise CommandError(f"--{name} must be between {low} and {high}.")
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
            default=str(sample_data.DEFAULT_SIZE),
            help=f"Number of tasks and tool executions (default {sample_data.DEFAULT_SIZE}, "
            f"at most {sample_data.MAX_SIZE}).",
        )
        parser.add_argument(
            "--reset", action="store_true", help="Delete the sample data first, then seed."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        seed = _whole_number("seed", options["seed"], 0, 2**63 - 1)
        size = _whole_number("size", options["size"], 1, sample_data.MAX_SIZE)
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
