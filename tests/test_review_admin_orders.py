"""Orders change only through their services in the admin: no page writes an order row directly,
and an order is never deleted (a pending one would keep its stock for good)."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from commerce.models import Order, Product
from commerce.services import order_place
from tests.commerce.factories import ProductFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def order() -> Order:
    ProductFactory.create(sku="RING", inventory_quantity=3)
    return order_place(user=None, lines=[("RING", 2)], payment_method="card")


@pytest.mark.parametrize("who", ["operator_client", "admin_client"])
def test_posting_the_order_page_writes_nothing(request, who, order):
    # A save wrote every column from the row as read at the start of the request: a cancel
    # committed in between was undone (status back to pending, the stock returned twice later).
    client = request.getfixturevalue(who)

    with CaptureQueriesContext(connection) as captured:
        response = client.post(reverse("admin:commerce_order_change", args=[order.pk]), {})

    assert response.status_code == 403
    writes = [q["sql"] for q in captured.captured_queries if q["sql"].startswith("UPDATE")]
    assert not [sql for sql in writes if '"orders"' in sql]
    page = client.get(reverse("admin:commerce_order_change", args=[order.pk])).content.decode()
    assert 'name="_save"' not in page
    assert "RING" in page  # the lines and history still show


@pytest.mark.parametrize("who", ["operator_client", "admin_client"])
def test_orders_are_never_deleted_in_the_admin(request, who, order):
    client = request.getfixturevalue(who)

    single = client.post(reverse("admin:commerce_order_delete", args=[order.pk]), {"post": "yes"})
    bulk = client.post(
        reverse("admin:commerce_order_changelist"),
        {"action": "delete_selected", "_selected_action": [order.pk], "post": "yes"},
    )

    assert single.status_code == 403
    assert bulk.status_code in (200, 302)
    assert Order.objects.filter(pk=order.pk).exists()
    assert Product.objects.get(sku="RING").inventory_quantity == 1


def test_the_order_actions_still_work_from_the_changelist(operator_client, order):
    operator_client.post(
        reverse("admin:commerce_order_changelist"),
        {"action": "cancel", "_selected_action": [order.pk]},
    )

    order.refresh_from_db()
    assert order.status == "cancelled"
    assert Product.objects.get(sku="RING").inventory_quantity == 3
