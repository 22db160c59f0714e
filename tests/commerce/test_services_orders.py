"""order_place and the order state machine, against the real database."""

from __future__ import annotations

import itertools
from decimal import ROUND_HALF_UP, Decimal

import pytest
from django.db import IntegrityError, connection, transaction
from django.db import models as dj_models
from django.db.models import ProtectedError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from commerce.errors import InsufficientStock
from commerce.models import Order, OrderEvent, OrderLine, Product
from commerce.services import (
    order_cancel,
    order_complete,
    order_mark_processing,
    order_place,
    product_archive,
)
from devskyy.errors import InvalidInput, InvalidTransition
from tests.commerce.factories import ProductFactory, UserFactory

pytestmark = pytest.mark.django_db


def place(user=None, lines=(("RING", 1),), **kwargs):
    return order_place(
        user=user, lines=list(lines), shipping={"city": "Lyon"}, payment_method="card", **kwargs
    )


@pytest.fixture
def ring():
    return ProductFactory.create(
        sku="RING", name="Gold ring", price=Decimal("19.99"), inventory_quantity=10
    )


@pytest.fixture
def chain():
    return ProductFactory.create(
        sku="CHAIN", name="Chain", price=Decimal("5.25"), inventory_quantity=3
    )


def test_placing_an_order_takes_stock_and_snapshots_every_line(ring, chain):
    customer = UserFactory.create()
    order = place(customer, [("RING", 2), ("CHAIN", 3)])

    assert order.status == "pending"
    assert order.order_number.startswith("ORD-")
    assert (order.subtotal, order.total_price) == (Decimal("55.73"), Decimal("55.73"))
    lines = list(
        order.lines.order_by("sku").values_list(
            "sku", "name", "unit_price", "quantity", "line_total", "product_id"
        )
    )
    assert lines == [
        ("CHAIN", "Chain", Decimal("5.25"), 3, Decimal("15.75"), chain.id),
        ("RING", "Gold ring", Decimal("19.99"), 2, Decimal("39.98"), ring.id),
    ]
    ring.refresh_from_db()
    chain.refresh_from_db()
    assert (ring.inventory_quantity, chain.inventory_quantity) == (8, 0)
    assert order.metadata["items"][0] == {
        "sku": "RING",
        "name": "Gold ring",
        "unit_price": "19.99",
        "quantity": 2,
        "line_total": "39.98",
    }
    assert order.metadata["shipping_address"] == {"city": "Lyon"}
    event = OrderEvent.objects.get(order=order)
    assert (event.from_status, event.to_status, event.actor) == (None, "pending", customer)


def test_order_numbers_come_from_a_sequence_and_never_collide(ring):
    numbers = [place().order_number for _ in range(5)]
    assert len(set(numbers)) == 5
    assert [int(n.removeprefix("ORD-")) for n in numbers] == sorted(
        int(n.removeprefix("ORD-")) for n in numbers
    )


def test_a_guest_order_has_no_user(ring):
    assert place(None).user is None


@pytest.mark.parametrize(
    ("lines", "expected"),
    [
        ([], {"items"}),
        ([("RING", 1), ("RING", 2)], {"items"}),
        ([("RING", 0)], {"items"}),
        ([("NOPE", 1)], {"items"}),
        ([("DRAFT", 1)], {"items"}),
    ],
    ids=["empty", "duplicate", "zero", "unknown", "unpublished"],
)
def test_bad_lines_are_rejected_and_nothing_is_written(ring, lines, expected):
    ProductFactory.create(sku="DRAFT", status="draft", inventory_quantity=5)
    with pytest.raises(InvalidInput) as excinfo:
        place(lines=lines)
    assert set(excinfo.value.errors) == expected
    assert not Order.objects.exists()
    ring.refresh_from_db()
    assert ring.inventory_quantity == 10


def test_insufficient_stock_names_the_sku_and_what_is_left(ring, chain):
    with pytest.raises(InsufficientStock) as excinfo:
        place(lines=[("RING", 1), ("CHAIN", 4)])
    assert excinfo.value.code == "insufficient_stock"
    assert excinfo.value.extra() == {"sku": "CHAIN", "requested": 4, "available": 3}
    assert "CHAIN" in excinfo.value.message
    assert not Order.objects.exists()
    ring.refresh_from_db()
    assert ring.inventory_quantity == 10  # the first line's stock was not taken either


def test_a_later_price_change_never_changes_a_placed_order(ring):
    order = place(lines=[("RING", 2)])
    Product.objects.filter(pk=ring.pk).update(price=Decimal("99.00"), name="Renamed")
    order.refresh_from_db()
    line = order.lines.get()
    assert (line.unit_price, line.line_total, line.name) == (
        Decimal("19.99"),
        Decimal("39.98"),
        "Gold ring",
    )
    assert order.total_price == Decimal("39.98")


def raw_delete_now(table, pk):
    """A raw DELETE whose foreign keys are checked at once (Django's are deferred)."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute(f"DELETE FROM {table} WHERE id = %s", [pk])


def test_a_product_with_stock_history_cannot_be_deleted_but_archived(ring):
    place()
    with pytest.raises(ProtectedError):
        Product.objects.filter(pk=ring.pk).delete()
    with pytest.raises(IntegrityError):
        raw_delete_now("products", ring.pk)
    assert product_archive(product=ring).status == "archived"


def test_tax_and_shipping_follow_settings(ring, settings):
    settings.COMMERCE_TAX_RATE = "0.0825"
    settings.COMMERCE_SHIPPING_FEE = "4.50"
    order = place(lines=[("RING", 3)])  # 59.97; tax 4.947525 -> 4.95
    assert order.subtotal == Decimal("59.97")
    assert order.total_price == Decimal("69.42")
    assert order.metadata["tax"] == "4.95"
    assert order.metadata["shipping"] == "4.50"


TRANSITIONS = {
    "pending": {"processing", "cancelled"},
    "processing": {"completed", "cancelled"},
    "completed": set(),
    "cancelled": set(),
}
SERVICES = {
    "processing": order_mark_processing,
    "completed": order_complete,
    "cancelled": order_cancel,
}


@pytest.mark.parametrize(("source", "target"), list(itertools.product(TRANSITIONS, SERVICES)))
def test_every_transition_is_allowed_or_refused_as_the_table_says(ring, source, target):
    order = place()
    Order.objects.filter(pk=order.pk).update(status=source)
    order.refresh_from_db()
    if target in TRANSITIONS[source]:
        moved = SERVICES[target](order=order, by=None)
        assert moved.status == target
        event = order.events.order_by("-created_at", "-id").first()
        assert (event.from_status, event.to_status) == (source, target)
    else:
        with pytest.raises(InvalidTransition):
            SERVICES[target](order=order, by=None)
        order.refresh_from_db()
        assert order.status == source


def test_cancelling_restores_stock_exactly_once(ring, chain):
    order = place(lines=[("RING", 4), ("CHAIN", 2)])
    order_cancel(order=order, by=None, reason="customer asked")
    ring.refresh_from_db()
    chain.refresh_from_db()
    assert (ring.inventory_quantity, chain.inventory_quantity) == (10, 3)
    with pytest.raises(InvalidTransition):
        order_cancel(order=order, by=None)
    ring.refresh_from_db()
    assert ring.inventory_quantity == 10
    assert order.events.filter(to_status="cancelled").get().reason == "customer asked"


def test_no_float_anywhere_in_commerce_models_or_serializers():
    from rest_framework import serializers

    from commerce.api import serializers as api_serializers
    from commerce.models import Order as O
    from commerce.models import OrderLine as L
    from commerce.models import Product as P

    for model in (P, O, L):
        assert not any(isinstance(f, dj_models.FloatField) for f in model._meta.get_fields())
    for name in dir(api_serializers):
        cls = getattr(api_serializers, name)
        if isinstance(cls, type) and issubclass(cls, serializers.Serializer):
            fields = cls().fields.values()
            assert not any(isinstance(f, serializers.FloatField) for f in fields), name


def oracle_total(cart, tax_rate, shipping):
    """An independent computation: exact Decimal products, half-up cents once on the tax."""
    subtotal = sum((Decimal(price) * quantity for price, quantity in cart), Decimal("0"))
    tax = (subtotal * Decimal(tax_rate)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    return subtotal, subtotal + tax + Decimal(shipping)


prices = st.decimals(
    min_value=Decimal("0.01"),
    max_value=Decimal("9999.99"),
    places=2,
    allow_nan=False,
    allow_infinity=False,
)
carts = st.lists(st.tuples(prices, st.integers(min_value=1, max_value=50)), min_size=1, max_size=6)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    cart=carts,
    tax_rate=st.sampled_from(["0", "0.05", "0.0825", "0.2", "0.333"]),
    shipping=st.sampled_from(["0", "4.99", "12.50"]),
)
def test_totals_match_an_independent_decimal_oracle(
    django_settings_patch, cart, tax_rate, shipping
):
    django_settings_patch(COMMERCE_TAX_RATE=tax_rate, COMMERCE_SHIPPING_FEE=shipping)
    lines = []
    for price, quantity in cart:
        product = ProductFactory.create(price=price, inventory_quantity=quantity)
        lines.append((product.sku, quantity))
    order = order_place(user=None, lines=lines, payment_method="card")

    subtotal, total = oracle_total(cart, tax_rate, shipping)
    assert order.subtotal == subtotal
    assert order.total_price == total
    assert (
        sum(
            OrderLine.objects.filter(order=order).values_list("line_total", flat=True), Decimal("0")
        )
        == subtotal
    )


@pytest.fixture
def django_settings_patch():
    from django.test import override_settings

    active = []

    def patch(**values):
        overrider = override_settings(**values)
        overrider.enable()
        active.append(overrider)

    yield patch
    for overrider in reversed(active):
        overrider.disable()
