"""No sequence of concurrent placements and transitions can oversell, deadlock, double-restock or
lose an update: real threads, each with its own PostgreSQL connection."""

from __future__ import annotations

from decimal import Decimal
from functools import partial

import pytest

from commerce.errors import InsufficientStock
from commerce.models import Order, OrderEvent, Product
from commerce.services import order_cancel, order_complete, order_mark_processing, order_place
from devskyy.errors import InvalidTransition
from tests.commerce.factories import ProductFactory
from tests.concurrency import run_concurrently

pytestmark = pytest.mark.django_db(transaction=True)


def place(lines):
    return lambda: order_place(user=None, lines=lines, payment_method="card")


def test_fifty_concurrent_buyers_of_ten_in_stock_get_exactly_ten_orders():
    ProductFactory.create(sku="HOT", inventory_quantity=10, price=Decimal("9.99"))

    results = run_concurrently(*[place([("HOT", 1)]) for _ in range(50)])

    placed = [r for r in results if isinstance(r, Order)]
    refused = [r for r in results if isinstance(r, InsufficientStock)]
    assert (len(placed), len(refused)) == (10, 40), [type(r) for r in results]
    assert Product.objects.get(sku="HOT").inventory_quantity == 0
    assert Order.objects.count() == 10


def test_orders_sharing_products_in_opposite_order_never_deadlock():
    ProductFactory.create(sku="A", inventory_quantity=1000)
    ProductFactory.create(sku="B", inventory_quantity=1000)
    for _ in range(20):
        results = run_concurrently(place([("A", 1), ("B", 1)]), place([("B", 1), ("A", 1)]))
        assert all(isinstance(r, Order) for r in results), results
    assert Product.objects.get(sku="A").inventory_quantity == 960
    assert Product.objects.get(sku="B").inventory_quantity == 960


def test_concurrent_cancel_and_complete_of_one_order_exactly_one_wins():
    ProductFactory.create(sku="X", inventory_quantity=5)
    for _ in range(10):
        order = order_place(user=None, lines=[("X", 2)], payment_method="card")
        order_mark_processing(order=order, by=None)

        results = run_concurrently(
            partial(order_cancel, order=order, by=None),
            partial(order_complete, order=order, by=None),
        )

        winners = [r for r in results if isinstance(r, Order)]
        losers = [r for r in results if isinstance(r, InvalidTransition)]
        assert (len(winners), len(losers)) == (1, 1), results
        order.refresh_from_db()
        assert order.status == winners[0].status
        assert OrderEvent.objects.filter(order=order).count() == 3  # placed, processing, 1 end
        stock = Product.objects.get(sku="X").inventory_quantity
        if order.status == "cancelled":
            assert stock == 5
        else:
            Product.objects.filter(sku="X").update(inventory_quantity=5)  # next round


def test_concurrent_cancellations_restock_once():
    ProductFactory.create(sku="Y", inventory_quantity=4)
    order = order_place(user=None, lines=[("Y", 3)], payment_method="card")

    results = run_concurrently(*[lambda: order_cancel(order=order, by=None) for _ in range(8)])

    assert sum(isinstance(r, Order) for r in results) == 1
    assert sum(isinstance(r, InvalidTransition) for r in results) == 7
    assert Product.objects.get(sku="Y").inventory_quantity == 4
