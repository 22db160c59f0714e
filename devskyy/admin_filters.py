"""Changelist filters that stay fast on tables of millions of rows (issue 11): filter instead of
sorting by a column no index orders.

- ``DistinctValuesFilter``: one value of a column (a tool, an agent). Its choices are the
  column's values read by a loose index scan (one index probe per value, never a
  ``SELECT DISTINCT`` over the table), at most ``MAX_CHOICES`` of them, remembered per process
  for ``ADMIN_FILTER_CHOICES_SECONDS``. Any value can still be asked for in the query string.
- ``CreatedWithinFilter``: rows of the last hour, day or week.

A value a filter does not know is the admin's usual "invalid filter" page (``?e=1``), never a
500.
"""

from __future__ import annotations

import datetime
import time
from typing import Any, ClassVar

from django.conf import settings
from django.contrib import admin
from django.contrib.admin.options import IncorrectLookupParameters
from django.core.exceptions import ValidationError
from django.db import connection
from django.db.models import CharField, Model, QuerySet
from django.http import HttpRequest
from django.utils import timezone

# (table, column, limit) -> (monotonic deadline, values)
_choices: dict[tuple[str, str, int], tuple[float, list[Any]]] = {}


def distinct_values(model: type[Model], field_name: str, limit: int) -> list[Any]:
    """The first ``limit`` distinct non-null values of a column, in order, read by a loose index
    scan: a recursive query that asks an index leading with the column for the next value
    after the last one (``limit`` short probes, whatever the table's size). The column must
    lead an index."""
    name = str(model._meta.get_field(field_name).column)  # type: ignore[union-attr]
    table = connection.ops.quote_name(model._meta.db_table)
    column = connection.ops.quote_name(name)
    key = (model._meta.db_table, name, limit)
    seconds = settings.ADMIN_FILTER_CHOICES_SECONDS
    hit = _choices.get(key)
    if seconds and hit is not None and hit[0] > time.monotonic():
        return hit[1]
    sql = (
        f"WITH RECURSIVE v(value) AS ("  # noqa: S608  (names quoted; the limit is a parameter)
        f" (SELECT {column} FROM {table} WHERE {column} IS NOT NULL ORDER BY {column} LIMIT 1)"
        f" UNION ALL"
        f" SELECT (SELECT {column} FROM {table} WHERE {column} > v.value ORDER BY {column} LIMIT 1)"
        f" FROM v WHERE v.value IS NOT NULL"
        f") SELECT value FROM v WHERE value IS NOT NULL LIMIT %s"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [limit])
        values = [row[0] for row in cursor.fetchall()]
    if seconds:
        _choices[key] = (time.monotonic() + seconds, values)
    return values


def forget_choices() -> None:
    """Drop the remembered choices (tests, after writing rows)."""
    _choices.clear()


class DistinctValuesFilter(admin.SimpleListFilter):
    """Rows whose ``parameter_name`` column (a field of the model) equals the chosen value.
    Subclasses set ``title`` and ``parameter_name``; the column must lead an index that also
    serves the changelist's order (e.g. ``(tool_name, created_at)``)."""

    MAX_CHOICES: ClassVar[int] = 100

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        values = [str(v) for v in distinct_values(model_admin.model, self.field, self.MAX_CHOICES)]
        chosen = self.value()
        if chosen is not None and chosen not in values:
            values.append(chosen)  # asked for by a link or the query string: still shown
        return [(value, value) for value in values]

    @property
    def field(self) -> str:
        return str(self.parameter_name)

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        value = self.value()
        if value is None:
            return queryset
        field = queryset.model._meta.get_field(self.field)
        if isinstance(field, CharField) and field.max_length and len(value) > field.max_length:
            raise IncorrectLookupParameters(f"{self.field}: longer than any value")
        try:
            cleaned = field.to_python(value)
        except ValidationError as exc:
            raise IncorrectLookupParameters(exc) from exc
        return queryset.filter(**{self.field: cleaned})


class CreatedWithinFilter(admin.SimpleListFilter):
    """Rows written in the last hour, day or week (by ``field``, an indexed timestamp)."""

    title = "created"
    parameter_name = "created"
    field: ClassVar[str] = "created_at"
    WINDOWS: ClassVar[dict[str, tuple[str, datetime.timedelta]]] = {
        "hour": ("Last hour", datetime.timedelta(hours=1)),
        "day": ("Last day", datetime.timedelta(days=1)),
        "week": ("Last week", datetime.timedelta(weeks=1)),
    }

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [(key, label) for key, (label, _) in self.WINDOWS.items()]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        value = self.value()
        if value is None:
            return queryset
        if value not in self.WINDOWS:
            raise IncorrectLookupParameters(f"{self.parameter_name}: no window {value!r}")
        since = timezone.now() - self.WINDOWS[value][1]
        return queryset.filter(**{f"{self.field}__gte": since})
