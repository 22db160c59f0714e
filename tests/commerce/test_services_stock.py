"""The stock ledger: every change of stock is a delta recorded in stock_movements, by the services
that move stock, and the ledger always adds up to the stock."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import Sum
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from commerce.errors import InsufficientStock
from commerce.models import Order, Product, StockMovement
from commerce.services import (
    order_cancel,
    order_mark_processing,
    order_place,
    product_create,
    product_stock_adjust,
)
from devskyy.errors import InvalidTransition
from tests import catalog
from tests.commerce.factories import OperatorFactory, ProductFactory, UserFactory

pytestmark = pytest.mark.django_db

Kind = StockMovement.Kind


def ledger(product: Product) -> list[tuple[int, str, str]]:
    return list(product.stock_movements.order_by("id").values_list("delta", "kind", "reason"))


def ledger_sum(product: Product) -> int:
    return product.stock_movements.aggregate(total=Sum("delta"))["total"] or 0


def stock(product: Product) -> int:
    return Product.objects.values_list("inventory_quantity", flat=True).get(pk=product.pk)


@pytest.fixture
def ring():
    return ProductFactory.create(sku="RING", price=Decimal("10.00"), inventory_quantity=10)


def test_an_adjustment_adds_or_removes_units_and_records_who_and_why(ring):
    operator = OperatorFactory.create()

    after_delivery = product_stock_adjust(product=ring, delta=5, reason="delivery", by=operator)
    after_breakage = product_stock_adjust(product=ring, delta=-3, reason=" broken ", by=operator)

    assert (after_delivery.inventory_quantity, after_breakage.inventory_quantity) == (15, 12)
    assert stock(ring) == 12
    assert ledger(ring) == [
        (10, Kind.OPENING, "opening stock"),
        (5, Kind.ADJUSTMENT, "delivery"),
        (-3, Kind.ADJUSTMENT, "broken"),
    ]
    assert {m.actor for m in ring.stock_movements.filter(kind=Kind.ADJUSTMENT)} == {operator}


def test_an_adjustment_does_not_change_the_products_version(ring):
    assert product_stock_adjust(product=ring, delta=1, reason="recount", by=None).version == 1
    ring.refresh_from_db()
    assert ring.version == 1


def test_removing_more_than_is_left_is_insufficient_stock_and_writes_nothing(ring):
    with pytest.raises(InsufficientStock) as excinfo:
        product_stock_adjust(product=ring, delta=-11, reason="recount", by=None)

    assert excinfo.value.extra() == {"sku": "RING", "requested": 11, "available": 10}
    assert stock(ring) == 10
    assert ledger(ring) == [(10, Kind.OPENING, "opening stock")]


def test_removing_everything_that_is_left_is_allowed(ring):
    assert (
        product_stock_adjust(product=ring, delta=-10, reason="recall", by=None).inventory_quantity
        == 0
    )


@pytest.mark.parametrize(
    ("delta", "reason", "field"),
    [
        (0, "recount", "delta"),
        (True, "recount", "delta"),
        (2**31, "recount", "delta"),
        (5, "", "reason"),
        (5, "   ", "reason"),
        (5, "x" * 501, "reason"),
        (5, "nul\x00", "reason"),
    ],
    ids=["zero", "bool", "too-big", "empty", "blank", "too-long", "nul"],
)
def test_a_bad_adjustment_is_refused_and_writes_nothing(ring, delta, reason, field):
    with pytest.raises(ValidationError) as excinfo:
        product_stock_adjust(product=ring, delta=delta, reason=reason, by=None)
    assert set(excinfo.value.message_dict) == {field}
    assert stock(ring) == 10
    assert ring.stock_movements.count() == 1


def test_stock_beyond_the_integer_column_is_a_validation_error_not_a_database_error(ring):
    with pytest.raises(ValidationError) as excinfo:
        product_stock_adjust(product=ring, delta=2**31 - 1, reason="typo", by=None)
    assert set(excinfo.value.message_dict) == {"delta"}
    assert stock(ring) == 10


def test_creating_a_product_records_its_opening_stock():
    operator = OperatorFactory.create()
    product = product_create(
        sku="NEW-1", name="New", price=Decimal("1.00"), inventory_quantity=7, by=operator
    )
    movement = product.stock_movements.get()
    assert (movement.delta, movement.kind, movement.actor) == (7, Kind.OPENING, operator)
    assert product.version == 1

    empty = product_create(sku="NEW-2", name="New", price=Decimal("1.00"))
    assert not empty.stock_movements.exists()


def test_placing_and_cancelling_an_order_record_the_movements_with_the_order(ring):
    customer = UserFactory.create()
    operator = OperatorFactory.create()
    chain = ProductFactory.create(sku="CHAIN", inventory_quantity=4)

    order = order_place(user=customer, lines=[("RING", 3), ("CHAIN", 1)], payment_method="card")
    order_cancel(order=order, by=operator, reason="customer asked")

    rows = set(
        StockMovement.objects.filter(order=order).values_list(
            "product__sku", "delta", "kind", "reason", "actor"
        )
    )
    assert rows == {
        ("RING", -3, Kind.ORDER_PLACED, order.order_number, customer.pk),
        ("CHAIN", -1, Kind.ORDER_PLACED, order.order_number, customer.pk),
        ("RING", 3, Kind.ORDER_CANCELLED, order.order_number, operator.pk),
        ("CHAIN", 1, Kind.ORDER_CANCELLED, order.order_number, operator.pk),
    }
    assert (stock(ring), stock(chain)) == (10, 4)
    assert (ledger_sum(ring), ledger_sum(chain)) == (10, 4)


def test_a_refused_order_writes_no_movement(ring):
    with pytest.raises(InsufficientStock):
        order_place(user=None, lines=[("RING", 11)], payment_method="card")
    assert ledger(ring) == [(10, Kind.OPENING, "opening stock")]


# --- the invariant, over random histories ---------------------------------------------------

PLACE, CANCEL, ADJUST = "place", "cancel", "adjust"
steps = st.lists(
    st.one_of(
        st.tuples(st.just(PLACE), st.integers(0, 2), st.integers(1, 6)),
        st.tuples(st.just(CANCEL), st.integers(0, 30), st.just(0)),
        st.tuples(st.just(ADJUST), st.integers(0, 2), st.integers(-8, 8).filter(bool)),
    ),
    max_size=25,
)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(history=steps, opening=st.lists(st.integers(0, 12), min_size=3, max_size=3))
def test_the_ledger_adds_up_to_the_stock_after_any_history(history, opening):
    products = [ProductFactory.create(inventory_quantity=n) for n in opening]
    orders: list[Order] = []
    for action, index, amount in history:
        try:
            if action == PLACE:
                sku = products[index].sku
                orders.append(order_place(user=None, lines=[(sku, amount)], payment_method="x"))
            elif action == CANCEL and orders:
                order = orders[index % len(orders)]
                if index % 3 == 0:
                    order_mark_processing(order=order, by=None)
                order_cancel(order=order, by=None)
            elif action == ADJUST:
                product_stock_adjust(product=products[index], delta=amount, reason="r", by=None)
        except (InsufficientStock, InvalidTransition):
            pass  # refused: must have written nothing
        for product in products:
            assert ledger_sum(product) == stock(product) >= 0


# --- the database guards the ledger ---------------------------------------------------------


def raw(sql: str) -> None:
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql)


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE stock_movements SET delta = 100",
        "UPDATE stock_movements SET reason = 'rewritten'",
        "UPDATE stock_movements SET actor_id = NULL, delta = 100",
        "DELETE FROM stock_movements",
    ],
)
def test_raw_sql_cannot_change_or_delete_a_movement(ring, sql):
    with pytest.raises(IntegrityError, match="append-only"):
        raw(sql)
    assert ledger(ring) == [(10, Kind.OPENING, "opening stock")]


def test_the_orm_cannot_change_or_delete_a_movement_either(ring):
    movement = ring.stock_movements.get()
    with pytest.raises(IntegrityError), transaction.atomic():
        StockMovement.objects.filter(pk=movement.pk).update(delta=1)
    with pytest.raises(IntegrityError), transaction.atomic():
        movement.delete()
    assert ledger(ring) == [(10, Kind.OPENING, "opening stock")]


def test_a_movement_that_breaks_a_rule_of_the_ledger_is_refused_by_the_database(ring):
    bad = [
        {"delta": 0, "kind": Kind.ADJUSTMENT, "reason": "x"},
        {"delta": 1, "kind": Kind.ORDER_PLACED, "reason": ""},
        {"delta": -1, "kind": Kind.ORDER_CANCELLED, "reason": ""},
        {"delta": -1, "kind": Kind.OPENING, "reason": ""},
        {"delta": 1, "kind": Kind.ADJUSTMENT, "reason": ""},
        {"delta": 1, "kind": "gift", "reason": "x"},
    ]
    for values in bad:
        with pytest.raises(IntegrityError), transaction.atomic():
            StockMovement.objects.create(product=ring, **values)
    assert ring.stock_movements.count() == 1


def test_deleting_an_order_or_a_user_keeps_their_movements(ring):
    customer = UserFactory.create()
    order = order_place(user=customer, lines=[("RING", 2)], payment_method="card")

    Order.objects.filter(pk=order.pk).delete()
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM users WHERE id = %s", [customer.pk])

    placed = ring.stock_movements.get(kind=Kind.ORDER_PLACED)
    assert (placed.delta, placed.order_id, placed.actor_id) == (-2, None, None)
    assert placed.reason == order.order_number  # the trace left when the order is gone
    assert ledger_sum(ring) == stock(ring) == 8


def test_the_ledgers_foreign_keys_and_trigger_are_in_the_catalog():
    assert catalog.foreign_keys("stock_movements") == {
        "product_id": ("products", "id", "a"),  # NO ACTION: a product with a history stays
        "order_id": ("orders", "id", "n"),
        "actor_id": ("users", "id", "n"),
    }
    assert catalog.triggers("stock_movements") == [
        "CREATE TRIGGER stock_movements_append_only BEFORE DELETE OR UPDATE ON "
        "public.stock_movements FOR EACH ROW EXECUTE FUNCTION stock_movements_append_only()"
    ]
    assert {"product_id"} <= catalog.leading_index_columns("stock_movements")


def test_the_factory_gives_its_products_an_opening_movement():
    product = ProductFactory.create(inventory_quantity=3)
    assert ledger(product) == [(3, Kind.OPENING, "opening stock")]
    assert not ProductFactory.create(inventory_quantity=0).stock_movements.exists()
