"""Query plans of admin pages, for tests that prove a page is served by an index (issue 11).

On small test tables PostgreSQL would rather scan and sort than use an index; with
``enable_seqscan`` and ``enable_sort`` off (for one transaction) it picks an index whenever one
can serve the query, so a sequential scan or a sort left in the plan means that no index does.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from django.contrib import admin
from django.contrib.admin.templatetags.admin_list import result_headers
from django.db import connection, transaction
from django.db.models import DateTimeField, Model, QuerySet
from django.test import RequestFactory

from commerce.models import User


def registered_admins() -> list[tuple[str, admin.ModelAdmin[Any]]]:
    """Every registered ModelAdmin (future ones included), by model label."""
    return sorted(
        ((model._meta.label, model_admin) for model, model_admin in admin.site._registry.items()),
        key=lambda item: item[0],
    )


def changelist(model_admin: admin.ModelAdmin[Any], user: User, **params: str) -> Any:
    """The ChangeList the admin builds for ``/?<params>`` (ordering, filters, search)."""
    request = RequestFactory().get("/", params)
    request.user = user
    return model_admin.get_changelist_instance(request)


def sortable_columns(model_admin: admin.ModelAdmin[Any], user: User) -> list[tuple[int, str]]:
    """(index, header) of each column the changelist offers to sort by."""
    cl = changelist(model_admin, user)
    return [
        (index, str(header["text"]))
        for index, header in enumerate(result_headers(cl))
        if header["sortable"]
    ]


def first_page(cl: Any) -> QuerySet[Any]:
    """The query of the changelist's first page, as its paginator runs it."""
    queryset: QuerySet[Any] = cl.queryset
    return queryset[: cl.list_per_page]


def explain(queryset: QuerySet[Any], *, search: bool = False) -> dict[str, Any]:
    return explain_sql(*queryset.query.sql_with_params(), search=search)


def explain_sql(sql: str, params: Any = (), *, search: bool = False) -> dict[str, Any]:
    """The plan, with sequential scans and sorts priced out. For a ``search`` (whose matches are
    sorted once found), sorts are allowed and plain index scans priced out instead: a table is
    then read only through the conditions an index answers (bitmap scans), never by walking a
    whole index and testing each row."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        if search:
            cursor.execute("SET LOCAL enable_indexscan = off")
            cursor.execute("SET LOCAL enable_indexonlyscan = off")
        else:
            cursor.execute("SET LOCAL enable_sort = off")
        cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}", params)
        document = cursor.fetchone()[0]
    plan = document if isinstance(document, list) else json.loads(document)
    return dict(plan[0]["Plan"])


def nodes(plan: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield plan
    for child in plan.get("Plans", ()):
        yield from nodes(child)


def _bare(key: str) -> str:
    """``tool_executions.created_at DESC`` -> ``created_at``."""
    return key.split(" ")[0].split(".")[-1].strip('"()')


def _fine_grained_columns(model: type[Model]) -> set[str]:
    """Columns whose equal values are a handful of rows: unique ones and timestamps."""
    unique = {
        constraint.fields[0]
        for constraint in model._meta.total_unique_constraints
        if len(constraint.fields) == 1
    }
    return {
        field.column
        for field in model._meta.concrete_fields
        if field.unique or field.name in unique or isinstance(field, DateTimeField)
    }


def unserved(queryset: QuerySet[Any], model: type[Model]) -> list[str]:
    """What in the query's plan no index serves: a sequential scan, a sort. An incremental sort
    is allowed only over rows presorted by a unique column or a timestamp: it then orders a
    handful of rows sharing one value (the keyset indexes leave id out on purpose, and sort a
    bulk batch's ties on created_at by id, see ToolExecution), never a table's worth of rows
    sharing a status or a name."""
    fine = _fine_grained_columns(model)
    problems = []
    for node in nodes(explain(queryset)):
        kind = node["Node Type"]
        if kind == "Seq Scan":
            problems.append(f"Seq Scan on {node['Relation Name']}")
        elif kind == "Sort":
            problems.append(f"Sort by {node['Sort Key']}")
        elif kind == "Incremental Sort" and not fine & {
            _bare(key) for key in node["Presorted Key"]
        }:
            problems.append(
                f"Incremental Sort by {node['Sort Key']} of rows presorted by "
                f"{node['Presorted Key']}"
            )
    return problems
