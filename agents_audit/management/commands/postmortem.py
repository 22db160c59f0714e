"""Print a post-mortem report (``agents_audit.reports.REPORTS``) as a table, JSON or CSV.

    manage.py postmortem failed-tasks --days 14
    manage.py postmortem task-timeline --task <task id> --format json
    manage.py postmortem ai-cost-by-model --format csv > costs.csv
    manage.py postmortem resource-usage --limit 20

Every row of the window by default; ``--limit N`` (1 to 1000) prints the first N, and says so
when the window holds more (under the table, or on stderr for JSON and CSV, whose output stays
data only).

JSON is a list of objects, one per row; decimals are strings (exact), timestamps ISO 8601, ids
text. In CSV and the table, a missing value is empty and resources are JSON text. A bad name or
parameter is one line on stderr and exit status 1.
"""

from __future__ import annotations

import csv
import datetime
import decimal
import uuid
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from agents_audit.reports import MAX_LIMIT, REPORTS, Row
from devskyy import json_codec
from devskyy.errors import InvalidInput

FORMATS = ("table", "json", "csv")


def _json_default(value: Any) -> Any:
    if isinstance(value, decimal.Decimal | uuid.UUID):
        return str(value)
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


def _text(value: Any) -> str:
    """One cell of a table or a CSV file."""
    if value is None:
        return ""
    if isinstance(value, datetime.date):  # datetimes too
        return value.isoformat()
    if isinstance(value, dict | list):
        return json_codec.dumps(value, default=_json_default).decode()
    return str(value)


def _whole_number(option: str, text: str | None) -> int | None:
    if text is None:
        return None
    try:
        return int(text)
    except ValueError:
        raise CommandError(f"--{option}: '{text}' is not a whole number") from None


class Command(BaseCommand):
    help = "Print a post-mortem report: " + ", ".join(REPORTS) + "."

    def add_arguments(self, parser: CommandParser) -> None:
        # Everything is read as text and checked in handle(), so that a bad value is one
        # CommandError line and exit status 1, like a bad report name.
        parser.add_argument("name", help="The report: " + ", ".join(REPORTS) + ".")
        parser.add_argument("--days", help="The window in days (reports that take one).")
        parser.add_argument("--task", help="The task id (task-timeline).")
        parser.add_argument("--format", default="table", help="table (default), json or csv.")
        parser.add_argument(
            "--limit", help=f"Print the first N rows only (1 to {MAX_LIMIT}; default: every row)."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        name, days_text, output = options["name"], options["days"], options["format"]
        report = REPORTS.get(name)
        if report is None:
            raise CommandError(f"unknown report '{name}'; choose one of: {', '.join(REPORTS)}")
        if output not in FORMATS:
            raise CommandError(f"--format: '{output}' is not one of {', '.join(FORMATS)}")
        days = _whole_number("days", days_text)
        limit = _whole_number("limit", options["limit"])
        try:
            result = report.run(days=days, task=options["task"], limit=limit)
        except InvalidInput as error:
            field, errors = next(iter(error.errors.items()))
            message = errors[0].message if isinstance(errors, list) else str(errors)
            raise CommandError(f"--{field}: {message}") from None
        getattr(self, f"_write_{output}")(report.columns, result.rows)
        if result.more:
            rows = "row" if limit == 1 else f"{limit} rows"
            note = f"(the first {rows}; the window has more: raise --limit or narrow it)"
            (self.stdout if output == "table" else self.stderr).write(note)

    def _write_json(self, columns: tuple[str, ...], rows: list[Row]) -> None:
        self.stdout.write(json_codec.dumps(rows, default=_json_default).decode())

    def _write_csv(self, columns: tuple[str, ...], rows: list[Row]) -> None:
        writer = csv.writer(self.stdout, lineterminator="\n")
        writer.writerow(columns)
        writer.writerows([_text(row[column]) for column in columns] for row in rows)

    def _write_table(self, columns: tuple[str, ...], rows: list[Row]) -> None:
        cells = [[_text(row[column]) for column in columns] for row in rows]
        widths = [max([len(c), *(len(line[i]) for line in cells)]) for i, c in enumerate(columns)]
        for line in [list(columns), ["-" * width for width in widths], *cells]:
            self.stdout.write(
                "  ".join(cell.ljust(w) for cell, w in zip(line, widths, strict=True)).rstrip()
            )
        self.stdout.write(f"({len(rows)} row{'' if len(rows) == 1 else 's'})")
