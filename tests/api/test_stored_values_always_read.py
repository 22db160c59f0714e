"""No value stored in a jsonb column, whoever wrote it, can make a read fail.

The API refuses numbers it could not write back, but psql, another service or a migration can
store anything ``jsonb`` holds: integers of thousands of digits, numbers beyond a double,
documents nested thousands deep. Every list and detail that includes such a row answers 200 and
renders the value losslessly (each number digit for digit, as PostgreSQL holds it), on the plain
DRF path and the PostgreSQL-rendered one; the admin's pages for the row load too.

The values are written by raw SQL (``UPDATE ... SET col = '...'::jsonb``) into rows made by the
factories, so that each row is visible to the API and the admin.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.db.models import Model
from django.urls import reverse

from agents_audit.models import AgentExecution, LLMRoundTableResult, ToolExecution
from commerce.models import Order, Product, User
from knowledge.models import RAGDocument
from tests.agents_audit.factories import (
    AgentExecutionFactory,
    LLMRoundTableResultFactory,
    ToolExecutionFactory,
)
from tests.commerce.factories import OrderFactory, ProductFactory, UserFactory
from tests.knowledge.factories import RAGDocumentFactory

pytestmark = pytest.mark.django_db


def deep(levels: int) -> str:
    return '{"x": ' + "[" * levels + "1e400" + "]" * levels + "}"


STORED = {
    "1e20 (no 64-bit writer holds it)": '{"zip": 1e20}',
    "-1e20": '{"x": -1e20}',
    "1e308 in a list": '[{"provider": "a", "score": 1e308}]',
    "1e400 (beyond a double)": '{"x": 1e400}',
    "5001 digits (beyond int())": '{"x": 1e5000}',
    "beyond a double, with a fraction": '{"x": 1' + "0" * 400 + ".5}",
    "below a double": '{"x": 1e-400}',
    "more digits than a double keeps": '{"x": 0.12345678901234567890123456789}',
    "300 deep (beyond orjson's 254)": deep(300),
    "5000 deep (beyond Python's recursion limit)": deep(5000),
    "odd unicode": json.dumps(
        {"\u2028": '\u2029 \ufeff \uffff \U0001f600 \\ " </script>', "": "é", "\u00e9": [None]}
    ),
    "not an object": '[1, "two", null, true, {}]',
    "a bare 30-digit number": "123456789012345678901234567890",
}


@contextmanager
def deep_recursion() -> Iterator[None]:
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(max(limit, 20_000))
    try:
        yield
    finally:
        sys.setrecursionlimit(limit)


def exact(text: str | bytes) -> Any:
    """JSON with every number as a Decimal: equal values compare equal, nothing is rounded."""
    with deep_recursion():
        return json.loads(text, parse_float=Decimal, parse_int=Decimal)


def same(a: Any, b: Any) -> bool:
    with deep_recursion():
        return bool(a == b)


def store(obj: Model, column: str, value: str) -> Any:
    """Write ``value`` into ``obj``'s jsonb column by raw SQL; return it as PostgreSQL holds it."""
    table = obj._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f'UPDATE "{table}" SET "{column}" = %s::jsonb WHERE id = %s RETURNING "{column}"::text',
            [value, obj.pk],
        )
        return exact(cursor.fetchone()[0])


# model, factory, jsonb columns, list URL, detail URL of a row
SURFACES: dict[str, tuple[type[Model], Any, list[str], str, Any]] = {
    "tool executions": (
        ToolExecution,
        ToolExecutionFactory,
        ["inputs", "output", "metadata"],
        "/api/v1/tool-executions/",
        lambda row: f"/api/v1/tool-executions/{row.pk}/",
    ),
    "agent executions": (
        AgentExecution,
        AgentExecutionFactory,
        ["result", "metadata"],
        "/api/v1/agent-executions/",
        lambda row: f"/api/v1/agent-executions/{row.execution_id}/",
    ),
    "round-table results": (
        LLMRoundTableResult,
        LLMRoundTableResultFactory,
        ["participants", "metadata"],
        "/api/v1/round-table-results/",
        lambda row: f"/api/v1/round-table-results/{row.result_id}/",
    ),
    "orders": (
        Order,
        OrderFactory,
        ["metadata"],
        "/api/v1/orders/",
        lambda row: f"/api/v1/orders/{row.pk}/",
    ),
    "products": (
        Product,
        ProductFactory,
        ["metadata"],
        "/api/v1/products/",
        lambda row: f"/api/v1/products/{row.pk}/",
    ),
    "users": (
        User,
        UserFactory,
        ["metadata"],
        "/api/v1/users/",
        lambda row: f"/api/v1/users/{row.pk}/",
    ),
    "documents": (
        RAGDocument,
        RAGDocumentFactory,
        ["metadata"],
        "/api/v1/documents/",
        lambda row: f"/api/v1/documents/{row.pk}/",
    ),
}


def admin_url(model: type[Model], view: str, *args: Any) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


@pytest.mark.parametrize("surface", SURFACES)
def test_every_read_of_a_row_holding_any_stored_value_renders_it(surface, admin_api, admin_client):
    model, factory, columns, list_url, detail_url = SURFACES[surface]
    rows, expected = [], {}
    for name, value in STORED.items():
        row = factory.create()
        rows.append((name, row))
        expected[str(row.pk)] = {column: store(row, column, value) for column in columns}

    listed = admin_api.get(list_url, {"page_size": 200})
    assert listed.status_code == 200, listed.content[:300]
    results = {row["id"]: row for row in exact(listed.content)["results"]}
    for name, row in rows:
        detail = admin_api.get(detail_url(row))
        assert detail.status_code == 200, (name, detail.content[:300])
        for column, stored in expected[str(row.pk)].items():
            assert same(exact(detail.content)[column], stored), (name, column, "detail")
            assert same(results[str(row.pk)][column], stored), (name, column, "list")

    # The browsable API renders through the same JSON renderer (and django-filter's path).
    assert admin_api.get(list_url, {"format": "api", "page_size": 200}).status_code == 200
    assert admin_client.get(admin_url(model, "changelist")).status_code == 200
    for name, row in rows:
        assert admin_client.get(admin_url(model, "change", row.pk)).status_code == 200, name


def test_the_leaderboard_reads_any_stored_score(admin_api):
    for name, value in STORED.items():
        store(LLMRoundTableResultFactory.create(), "participants", value)
        store(
            LLMRoundTableResultFactory.create(),
            "participants",
            f'[{{"provider": "p", "score": {value}}}]',
        )
        assert admin_api.get("/api/v1/round-table-results/leaderboard/").status_code == 200, name


def test_an_agent_reads_its_own_poisoned_tool_calls_and_account(agent_a, agent_client):
    # The agent's list is another SQL statement (scoped to its user) than the staff one.
    stored = {}
    for value in STORED.values():
        row = ToolExecutionFactory.create(user=agent_a)
        stored[str(row.pk)] = store(row, "inputs", value)
    listed = agent_client.get("/api/v1/tool-executions/", {"page_size": 200})
    assert listed.status_code == 200
    for row in exact(listed.content)["results"]:
        assert same(row["inputs"], stored[row["id"]])
    me = store(agent_a, "metadata", deep(5000))
    response = agent_client.get("/api/v1/users/me/")
    assert response.status_code == 200
    assert same(exact(response.content)["metadata"], me)


def test_a_replayed_response_reads_any_stored_body(agent_client):
    body = {"correlation_id": "c", "tool_name": "t", "inputs": {}, "status": "success"}
    first = agent_client.post(
        "/api/v1/tool-executions/", body, format="json", HTTP_IDEMPOTENCY_KEY="k-1"
    )
    assert first.status_code == 201
    from devskyy.models import IdempotencyRecord

    record = IdempotencyRecord.objects.get()
    for name, value in STORED.items():
        stored = store(record, "response_body", value)
        replay = agent_client.post(
            "/api/v1/tool-executions/", body, format="json", HTTP_IDEMPOTENCY_KEY="k-1"
        )
        assert replay.status_code == 201, name
        assert replay["Idempotent-Replayed"] == "true"
        assert same(exact(replay.content), stored), name


def test_the_api_key_owner_is_read_like_any_other_user(agent_a, agent_client):
    # The key lookup reads the owner by raw SQL; its jsonb arrives as text and must be decoded.
    User.objects.filter(pk=agent_a.pk).update(metadata={"team": "ops", "level": 3})
    response = agent_client.get("/api/v1/users/me/")
    assert response.status_code == 200
    assert response.json()["metadata"] == {"team": "ops", "level": 3}
