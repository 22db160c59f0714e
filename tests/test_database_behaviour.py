"""What a raw SQL writer (psql, another service) gets from the database itself: defaults,
the updated_at triggers, ON DELETE SET NULL and the CHECK constraints."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from typing import Any

import pytest
from django.db import IntegrityError, connection, transaction
from django.db.models import Model

from agents_audit.models import AgentExecution, LLMRoundTableResult, ToolExecution
from commerce.models import Order, Product, User
from knowledge.models import RAGDocument
from tests.agents_audit.factories import ToolExecutionFactory
from tests.commerce.factories import OrderFactory, ProductFactory, UserFactory
from tests.knowledge.factories import RAGDocumentFactory
from tests.seed_contract import SEED_TABLES

pytestmark = pytest.mark.django_db


def raw_insert(table: str, values: dict[str, Any]) -> uuid.UUID:
    columns = ", ".join(values)
    placeholders = ", ".join(["%s"] * len(values))
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} ({columns}) VALUES ({placeholders}) RETURNING id",
            list(values.values()),
        )
        return cursor.fetchone()[0]


# The seed's required columns only, as a raw SQL writer would send them, and the same values for
# the ORM (model field names).
REQUIRED_ONLY: list[tuple[type[Model], dict[str, Any], dict[str, Any]]] = [
    (
        User,
        {"email": "raw@example.com", "username": "raw", "password_hash": "x"},
        {"email": "orm@example.com", "username": "orm", "password": "x"},
    ),
    (
        Product,
        {"sku": "RAW-1", "name": "Ring", "price": Decimal("9.99")},
        {"sku": "ORM-1", "name": "Ring", "price": Decimal("9.99")},
    ),
    (
        Order,
        {"order_number": "RAW-1", "total_price": Decimal("1.00"), "subtotal": Decimal("1.00")},
        {"order_number": "ORM-1", "total_price": Decimal("1.00"), "subtotal": Decimal("1.00")},
    ),
    (
        LLMRoundTableResult,
        {"result_id": "raw", "prompt": "p", "participants": "[]"},
        {"result_id": "orm", "prompt": "p", "participants": []},
    ),
    (
        AgentExecution,
        {"execution_id": "raw", "agent_name": "a", "prompt": "p"},
        {"execution_id": "orm", "agent_name": "a", "prompt": "p"},
    ),
    (
        ToolExecution,
        {"correlation_id": "raw", "tool_name": "t", "inputs": "{}", "status": "success"},
        {"correlation_id": "orm", "tool_name": "t", "inputs": {}, "status": "success"},
    ),
    (
        RAGDocument,
        {"document_id": "raw", "content": "c", "content_hash": "h"},
        {"document_id": "orm", "content": "c", "content_hash": "h"},
    ),
]


@pytest.mark.parametrize(
    ("model", "raw_values", "orm_values"),
    REQUIRED_ONLY,
    ids=[m._meta.db_table for m, _, _ in REQUIRED_ONLY],
)
def test_raw_insert_of_required_columns_gets_the_same_defaults_as_the_orm(
    model, raw_values, orm_values
):
    table = model._meta.db_table
    assert set(raw_values) == set(SEED_TABLES[table].required)

    raw = model._default_manager.get(pk=raw_insert(table, raw_values))
    orm = model._default_manager.create(**orm_values)
    orm.refresh_from_db()

    given = {f.attname for f in model._meta.concrete_fields if f.column in raw_values}
    defaulted = [
        f.attname
        for f in model._meta.concrete_fields
        if f.attname not in given | {"id", "created_at", "updated_at"}
    ]
    assert {a: getattr(raw, a) for a in defaulted} == {a: getattr(orm, a) for a in defaulted}
    assert isinstance(raw.pk, uuid.UUID)
    assert raw.created_at is not None
    if hasattr(raw, "updated_at"):
        assert raw.updated_at == raw.created_at


def test_orm_create_returns_database_timestamps_without_a_second_query(django_assert_num_queries):
    with django_assert_num_queries(1):
        product = Product.objects.create(sku="P-1", name="Ring", price=Decimal("5.00"))
    assert isinstance(product.created_at, dt.datetime)
    assert product.updated_at == product.created_at


LONG_AGO = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)


@pytest.mark.parametrize(
    ("factory", "column", "value"),
    [
        (UserFactory, "full_name", "Renamed"),
        (ProductFactory, "name", "Renamed"),
        (OrderFactory, "status", "processing"),
        (RAGDocumentFactory, "content", "Rewritten"),
    ],
    ids=["users", "products", "orders", "rag_documents"],
)
def test_raw_update_refreshes_updated_at_through_the_trigger(factory, column, value):
    obj = factory.create()
    table = obj._meta.db_table
    with connection.cursor() as cursor:
        # A raw writer that even tries to set updated_at itself gets the trigger's value.
        cursor.execute(
            f"UPDATE {table} SET created_at = %s, updated_at = %s WHERE id = %s",
            [LONG_AGO, LONG_AGO, obj.pk],
        )
        cursor.execute(f"UPDATE {table} SET {column} = %s WHERE id = %s", [value, obj.pk])
        cursor.execute(f"SELECT created_at, updated_at, now() FROM {table} WHERE id = %s", [obj.pk])
        created_at, updated_at, now = cursor.fetchone()
    assert created_at == LONG_AGO
    assert updated_at == now


def test_orm_save_refreshes_updated_at_through_the_trigger():
    product = ProductFactory.create()
    Product.objects.filter(pk=product.pk).update(updated_at=LONG_AGO)
    product.name = "Renamed"
    product.save(update_fields=["name"])
    product.refresh_from_db(fields=["updated_at"])
    assert product.updated_at > LONG_AGO


def test_tables_without_updated_at_have_no_trigger_to_trip_over():
    execution = ToolExecutionFactory.create()
    ToolExecution.objects.filter(pk=execution.pk).update(status="failed")
    execution.refresh_from_db()
    assert execution.status == "failed"


def test_deleting_a_user_with_raw_sql_keeps_their_orders_and_tool_executions():
    user = UserFactory.create()
    order = OrderFactory.create(user=user)
    execution = ToolExecutionFactory.create(user=user)

    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM users WHERE id = %s", [user.pk])

    order.refresh_from_db()
    execution.refresh_from_db()
    assert order.user_id is None
    assert execution.user_id is None


def test_deleting_a_user_through_the_orm_leaves_the_nulling_to_the_database(
    django_assert_max_num_queries,
):
    user = UserFactory.create()
    orders = OrderFactory.create_batch(3, user=user)
    ToolExecutionFactory.create_batch(3, user=user)

    # No SELECT or UPDATE of orders or audit rows from Python: the user's DELETE, plus the
    # cascades Django owns (admin log entries, API keys, idempotency records).
    with django_assert_max_num_queries(4):
        user.delete()

    assert Order.objects.filter(pk__in=[o.pk for o in orders], user=None).count() == 3
    assert ToolExecution.objects.filter(user=None).count() == 3


def valid_row(table: str) -> dict[str, Any]:
    rows: dict[str, dict[str, Any]] = {
        "users": {"email": "c@example.com", "username": "c", "password_hash": "x"},
        "products": {"sku": "C-1", "name": "n", "price": Decimal("1.00")},
        "orders": {
            "order_number": "C-1",
            "total_price": Decimal("1.00"),
            "subtotal": Decimal("1.00"),
        },
        "agent_executions": {"execution_id": "c", "agent_name": "a", "prompt": "p"},
        "tool_executions": {
            "correlation_id": "c",
            "tool_name": "t",
            "inputs": "{}",
            "status": "success",
        },
        "rag_documents": {"document_id": "c", "content": "c", "content_hash": "h"},
    }
    return dict(rows[table])


BAD_ROWS: list[tuple[str, dict[str, Any]]] = [
    ("users", {"role": "superhero"}),
    ("products", {"status": "gone"}),
    ("products", {"price": Decimal("-0.01")}),
    ("products", {"inventory_quantity": -1}),
    ("orders", {"status": "shipped"}),
    ("orders", {"subtotal": Decimal("-1.00")}),
    ("orders", {"total_price": Decimal("-1.00")}),
    ("agent_executions", {"status": "paused"}),
    ("agent_executions", {"tokens_used": -1}),
    ("agent_executions", {"duration_ms": -1}),
    ("tool_executions", {"status": "ok"}),
    ("tool_executions", {"duration_ms": -5}),
    ("rag_documents", {"chunk_index": -1}),
    ("rag_documents", {"total_chunks": 0}),
    ("rag_documents", {"chunk_index": 3, "total_chunks": 3}),
    ("users", {"email": None}),
    ("tool_executions", {"inputs": None}),
]


@pytest.mark.parametrize(
    ("table", "bad"), BAD_ROWS, ids=[f"{t}-{'-'.join(b)}" for t, b in BAD_ROWS]
)
def test_database_rejects_rows_that_break_a_constraint(table, bad):
    with pytest.raises(IntegrityError), transaction.atomic():
        raw_insert(table, {**valid_row(table), **bad})
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM {table}")
        assert cursor.fetchone()[0] == 0


@pytest.mark.parametrize(
    "table", ["users", "products", "orders", "agent_executions", "tool_executions", "rag_documents"]
)
def test_the_valid_row_used_by_the_constraint_tests_is_accepted(table):
    raw_insert(table, valid_row(table))


@pytest.mark.parametrize(
    ("factory", "duplicate"),
    [
        (UserFactory, "email"),
        (UserFactory, "username"),
        (ProductFactory, "sku"),
        (OrderFactory, "order_number"),
        (RAGDocumentFactory, "document_id"),
    ],
)
def test_unique_columns_reject_duplicates(factory, duplicate):
    first = factory.create()
    with pytest.raises(IntegrityError), transaction.atomic():
        factory.create(**{duplicate: getattr(first, duplicate)})
