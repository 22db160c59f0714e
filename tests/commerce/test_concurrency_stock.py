"""Stock cannot be overwritten by a stale form, and one ETag wins once: real threads, each with
its own PostgreSQL connection, against the admin and the API as operators use them."""

from __future__ import annotations

from typing import Any

import pytest
from django.db.models import Sum
from django.test import Client
from django.urls import reverse

from commerce.admin import STALE_FORM_MESSAGE
from commerce.errors import InsufficientStock
from commerce.models import Order, Product
from commerce.services import order_place, product_stock_adjust
from tests.commerce.factories import OperatorFactory, ProductFactory
from tests.concurrency import run_concurrently
from tests.conftest import key_client

pytestmark = pytest.mark.django_db(transaction=True)


def place(sku: str) -> Any:
    return lambda: order_place(user=None, lines=[(sku, 1)], payment_method="card")


def ledger_sum(product: Product) -> int:
    return product.stock_movements.aggregate(total=Sum("delta"))["total"]


def operator_session(operator: Any) -> Client:
    client = Client()
    client.force_login(operator)
    return client


def form_as_posted(page: Any, **changes: Any) -> dict[str, Any]:
    """Every field of the rendered change form, as a browser posts it back, plus the edits."""
    data = {}
    for field in page.context["adminform"].form:
        value = field.value()
        data[field.html_name] = "" if value is None else value
    return {**data, **changes}


def test_orders_placed_while_an_operator_saves_a_form_opened_earlier_leave_stock_exact():
    ring = ProductFactory.create(sku="RING", name="Ring", inventory_quantity=50)
    url = reverse("admin:commerce_product_change", args=[ring.pk])
    session = operator_session(OperatorFactory.create())
    page = session.get(url)  # the operator opens the page ...
    placed_before = run_concurrently(*[place("RING") for _ in range(10)])  # ... orders come in

    results = run_concurrently(  # ... and more while the operator saves
        lambda: session.post(url, form_as_posted(page, name="Gold ring")),
        *[place("RING") for _ in range(10)],
    )

    saved, *orders = results
    assert saved.status_code == 302, saved
    assert all(isinstance(o, Order) for o in orders + placed_before), results
    ring.refresh_from_db()
    assert (ring.name, ring.inventory_quantity) == ("Gold ring", 30)
    assert ledger_sum(ring) == 30


def test_a_form_opened_before_another_operators_save_is_refused_while_orders_come_in():
    ring = ProductFactory.create(sku="RING", name="Ring", inventory_quantity=50)
    url = reverse("admin:commerce_product_change", args=[ring.pk])
    late, early = (operator_session(OperatorFactory.create()) for _ in range(2))
    stale_page = late.get(url)
    fresh_page = early.get(url)
    assert early.post(url, form_as_posted(fresh_page, price="25.00")).status_code == 302

    stale_save, *orders = run_concurrently(
        lambda: late.post(url, form_as_posted(stale_page, name="Stale name")),
        *[place("RING") for _ in range(10)],
    )

    assert stale_save.status_code == 200
    assert stale_save.context["adminform"].form.errors == {"__all__": [STALE_FORM_MESSAGE]}
    assert all(isinstance(o, Order) for o in orders), orders
    ring.refresh_from_db()
    assert (ring.name, str(ring.price), ring.version) == ("Ring", "25.00", 2)
    assert ring.inventory_quantity == ledger_sum(ring) == 40


def test_twenty_concurrent_patches_with_one_etag_give_one_200_and_nineteen_412():
    ring = ProductFactory.create(sku="RING", name="Ring", inventory_quantity=5)
    operator = OperatorFactory.create()
    url = f"/api/v1/products/{ring.pk}/"
    etag = key_client(operator).get(url)["ETag"]
    clients = [key_client(operator) for _ in range(20)]

    def patch(n: int) -> Any:
        return lambda: clients[n].patch(
            url, {"name": f"Name {n}"}, format="json", headers={"If-Match": etag}
        )

    responses = run_concurrently(*[patch(n) for n in range(20)])

    codes = sorted(r.status_code for r in responses)
    assert codes == [200] + [412] * 19, [getattr(r, "content", r) for r in responses]
    (winner,) = (r for r in responses if r.status_code == 200)
    assert {r.json()["code"] for r in responses if r.status_code == 412} == {"version_mismatch"}
    ring.refresh_from_db()
    assert (ring.name, ring.version) == (winner.json()["name"], 2)
    assert winner["ETag"] == '"2"'


def test_concurrent_adjustments_and_orders_never_oversell_and_keep_the_ledger_exact():
    ring = ProductFactory.create(sku="RING", inventory_quantity=10)

    def take_one() -> Any:
        return product_stock_adjust(product=ring, delta=-1, reason="breakage", by=None)

    results = run_concurrently(
        *[place("RING") for _ in range(10)],
        *[take_one for _ in range(10)],
        *[lambda: product_stock_adjust(product=ring, delta=2, reason="delivery", by=None)] * 2,
    )

    takes, deliveries = results[:20], results[20:]
    assert all(isinstance(r, Product) for r in deliveries), deliveries
    taken = [r for r in takes if isinstance(r, Order | Product)]
    refused = [r for r in takes if isinstance(r, InsufficientStock)]
    assert len(taken) + len(refused) == 20, takes
    assert 10 <= len(taken) <= 14  # every unit that came in, at most, went out once
    ring.refresh_from_db()
    assert ring.inventory_quantity == ledger_sum(ring) == 10 + 4 - len(taken)
