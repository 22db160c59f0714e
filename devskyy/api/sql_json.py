"""Let PostgreSQL render list pages as JSON.

A list page of 50 audit rows costs Python far more to load into models, serialize field by field
and encode again than it costs PostgreSQL to build the JSON text itself. ``json_object`` builds
that expression from model fields, in the same shapes DRF's serializers give (UUIDs and
timestamps as strings in ``REST_FRAMEWORK["DATETIME_FORMAT"]``, JSON columns embedded as JSON);
the keyset paginator then only joins the rows' texts. Tests check that both paths agree.
"""

from __future__ import annotations

from typing import Any

from django.db import connection, models, router
from django.db.models import F, Func, Value
from django.db.models.expressions import RawSQL
from django.db.models.functions import Cast

# REST_FRAMEWORK["DATETIME_FORMAT"] = "%Y-%m-%dT%H:%M:%S.%fZ", in to_char's words
PG_DATETIME_FORMAT = 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'


class UTCTimestampText(Func):
    template = "to_char(%(expressions)s AT TIME ZONE 'UTC', '" + PG_DATETIME_FORMAT + "')"
    output_field = models.TextField()


class JSONBuildObject(Func):
    function = "json_build_object"
    output_field = models.TextField()


def _value(model: type[models.Model], name: str, source: str) -> Any:
    field = model._meta.get_field(source)
    if isinstance(field, models.DateTimeField):
        return UTCTimestampText(F(source))
    if isinstance(field, models.UUIDField | models.ForeignKey):
        return Cast(F(field.attname), models.TextField())
    if isinstance(field, models.DecimalField):
        return Cast(F(source), models.TextField())  # money as a decimal string, like DRF
    return F(source)


def json_object(model: type[models.Model], fields: dict[str, str]) -> Cast:
    """``json_build_object(...)::text`` of ``{output key: model field name}``, in that order."""
    args: list[Any] = []
    for name, source in fields.items():
        args += [Value(name), _value(model, name, source)]
    return Cast(JSONBuildObject(*args), models.TextField())


class PrecompiledJSONObject:
    """``json_object`` compiled to SQL once, then used as ``RawSQL``: resolving and compiling an
    expression of two dozen nodes on every request costs more than the query it is part of."""

    def __init__(self, model: type[models.Model], fields: dict[str, str]) -> None:
        self.model, self.fields = model, fields
        self._raw: RawSQL | None = None

    def expression(self) -> RawSQL:
        if self._raw is None:
            query = self.model._default_manager.values_list(json_object(self.model, self.fields))
            compiler = query.query.get_compiler(using=router.db_for_read(self.model))
            (sql, params), *_ = (col[1] for col in compiler.get_select()[0])
            # SQL compiled by Django from model fields; no caller input reaches it.
            self._raw = RawSQL(sql, tuple(params), output_field=models.TextField())  # noqa: S611
        return self._raw


SQL_OPERATORS = {"exact": "=", "gte": ">=", "gt": ">", "lte": "<=", "lt": "<"}


class KeysetListSQL:
    """A list page as one SQL statement, built from strings: no ORM compile per request.

    ``SELECT <json_object>, created_at, id FROM <table> WHERE <conditions> [AND (created_at, id)
    < (%s, %s)] ORDER BY created_at DESC, id DESC LIMIT %s``. Conditions are Django-style
    ``{"field__lookup": value}`` (exact, gt, gte, lt, lte) on the model's own columns; anything
    else is a programming error (KeyError), and values are always parameters.
    """

    def __init__(self, model: type[models.Model], fields: dict[str, str]) -> None:
        self.model = model
        self.json = PrecompiledJSONObject(model, fields)
        self.columns = {f.attname: f.column for f in model._meta.concrete_fields}
        self.columns.update({f.name: f.column for f in model._meta.concrete_fields})

    def fetch(
        self, conditions: dict[str, Any], position: Any, backwards: bool, limit: int
    ) -> list[tuple[Any, ...]]:
        select = self.json.expression()
        clauses: list[str] = []
        params: list[Any] = list(select.params)
        for lookup, value in conditions.items():
            name, _, operator = lookup.rpartition("__")
            clauses.append(f'"{self.columns[name]}" {SQL_OPERATORS[operator]} %s')
            params.append(value)
        if position is not None:
            clauses.append(f'("created_at", "id") {">" if backwards else "<"} (%s, %s)')
            params += list(position)
        order = "ASC" if backwards else "DESC"
        where = f"WHERE {' AND '.join(clauses)} " if clauses else ""
        sql = (
            f'SELECT {select.sql}, "created_at", "id" FROM "{self.model._meta.db_table}" '  # noqa: S608
            f'{where}ORDER BY "created_at" {order}, "id" {order} LIMIT %s'
        )
        params.append(limit)
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchall()
