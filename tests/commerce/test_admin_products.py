"""The product admin is a client of the services: forms never write stock or status, a form saved
over someone else's change is refused, and stock moves through "Adjust stock"."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.urls import reverse

from commerce.admin import STALE_FORM_MESSAGE
from commerce.models import Product, StockMovement
from commerce.services import order_place, product_update
from tests.commerce.factories import ProductFactory

pytestmark = pytest.mark.django_db


def change_url(product: Product) -> str:
    return reverse("admin:commerce_product_change", args=[product.pk])


def adjust_url(product: Product) -> str:
    return reverse("admin:commerce_product_adjust_stock", args=[product.pk])


def form_as_posted(page: Any, **changes: Any) -> dict[str, Any]:
    """What a browser posts back from a rendered change page: every field of its form, with the
    values the page showed, plus the operator's edits."""
    data = {}
    for field in page.context["adminform"].form:
        value = field.value()
        data[field.html_name] = "" if value is None else value
    return {**data, **changes}


def form_errors(response: Any) -> dict[str, list[str]]:
    return response.context["adminform"].form.errors


@pytest.fixture
def ring():
    return ProductFactory.create(sku="RING", name="Ring", inventory_quantity=10)


def test_the_change_form_shows_stock_and_status_read_only_and_carries_its_version(
    operator_client, ring
):
    page = operator_client.get(change_url(ring))

    fields = set(page.context["adminform"].form.fields)
    assert fields == {
        "sku",
        "name",
        "price",
        "version",
        "description",
        "category",
        "tags",
        "metadata",
    }
    html = page.content.decode()
    assert '<input type="hidden" name="version" value="1"' in html
    assert adjust_url(ring) in html
    assert "opening stock" in html  # the recent movements


def test_saving_the_form_changes_the_record_and_its_version_never_the_stock(operator_client, ring):
    page = operator_client.get(change_url(ring))

    response = operator_client.post(
        change_url(ring), form_as_posted(page, name="Gold ring", inventory_quantity="999")
    )

    assert response.status_code == 302, form_errors(response)
    ring.refresh_from_db()
    assert (ring.name, ring.version, ring.inventory_quantity, ring.status) == (
        "Gold ring",
        2,
        10,
        "published",
    )


def test_a_form_opened_before_orders_were_placed_does_not_put_the_sold_units_back(
    operator_client, ring
):
    page = operator_client.get(change_url(ring))
    for _ in range(3):
        order_place(user=None, lines=[("RING", 1)], payment_method="card")

    response = operator_client.post(change_url(ring), form_as_posted(page, name="Gold ring"))

    assert response.status_code == 302
    ring.refresh_from_db()
    assert (ring.name, ring.inventory_quantity) == ("Gold ring", 7)


def test_a_form_opened_before_someone_else_saved_is_refused_and_says_so(operator_client, ring):
    page = operator_client.get(change_url(ring))
    product_update(product=ring, expected_version=1, name="Their name")

    response = operator_client.post(change_url(ring), form_as_posted(page, name="My name"))

    assert response.status_code == 200
    assert form_errors(response) == {"__all__": [STALE_FORM_MESSAGE]}
    assert STALE_FORM_MESSAGE.split(";")[0] in response.content.decode()
    ring.refresh_from_db()
    assert (ring.name, ring.version) == ("Their name", 2)


def test_a_published_product_cannot_be_unpublished_from_the_form(operator_client, ring):
    page = operator_client.get(change_url(ring))
    response = operator_client.post(change_url(ring), form_as_posted(page, status="draft"))
    assert response.status_code == 302
    ring.refresh_from_db()
    assert ring.status == "published"


@pytest.mark.parametrize(
    ("changes", "field"),
    [({"sku": "bad sku!"}, "sku"), ({"price": "0"}, "price"), ({"sku": "TAKEN"}, "sku")],
)
def test_the_services_rules_show_as_form_errors_on_the_change_form(
    operator_client, ring, changes, field
):
    ProductFactory.create(sku="TAKEN")
    page = operator_client.get(change_url(ring))

    response = operator_client.post(change_url(ring), form_as_posted(page, **changes))

    assert response.status_code == 200
    assert field in form_errors(response)
    ring.refresh_from_db()
    assert (ring.sku, ring.price, ring.version) == ("RING", Decimal("19.99"), 1)


ADD = {
    "sku": "NEW-1",
    "name": "New",
    "price": "5.00",
    "inventory_quantity": "4",
    "tags": " Gold ,gold",
    "metadata": "{}",
}


def test_adding_a_product_creates_a_draft_with_its_opening_stock(operator_client, operator):
    response = operator_client.post(reverse("admin:commerce_product_add"), ADD)

    assert response.status_code == 302, form_errors(response)
    product = Product.objects.get(sku="NEW-1")
    assert (product.status, product.version, product.tags) == ("draft", 1, ["gold"])
    movement = product.stock_movements.get()
    assert (movement.delta, movement.kind, movement.actor) == (4, "opening", operator)


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"sku": "bad sku!"}, "sku"),
        ({"price": "0"}, "price"),
        ({"inventory_quantity": "x"}, "inventory_quantity"),
    ],
)
def test_a_bad_add_form_shows_the_errors_and_writes_nothing(operator_client, changes, field):
    response = operator_client.post(reverse("admin:commerce_product_add"), {**ADD, **changes})

    assert response.status_code == 200
    assert field in form_errors(response)
    assert not Product.objects.exists()
    assert not StockMovement.objects.exists()


# --- Adjust stock ------------------------------------------------------------------------------


def test_adjust_stock_applies_a_delta_with_a_reason(operator_client, operator, ring):
    assert operator_client.get(adjust_url(ring)).status_code == 200

    response = operator_client.post(adjust_url(ring), {"delta": "-4", "reason": "broken"})

    assert response.status_code == 302
    assert response["Location"] == change_url(ring)
    ring.refresh_from_db()
    assert (ring.inventory_quantity, ring.version) == (6, 1)
    movement = ring.stock_movements.latest("id")
    assert (movement.delta, movement.kind, movement.reason, movement.actor) == (
        -4,
        "adjustment",
        "broken",
        operator,
    )


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"delta": "0", "reason": "x"}, "delta"),
        ({"delta": "abc", "reason": "x"}, "delta"),
        ({"delta": "", "reason": "x"}, "delta"),
        ({"delta": str(2**31), "reason": "x"}, "delta"),
        ({"delta": "5", "reason": ""}, "reason"),
        ({"delta": "5", "reason": "x" * 501}, "reason"),
        ({"delta": "5", "reason": "nul\x00"}, "reason"),
        ({"delta": "-11", "reason": "recount"}, "delta"),  # only 10 left
        ({"delta": str(2**31 - 1), "reason": "typo"}, "delta"),  # beyond the column
    ],
)
def test_bad_stock_adjustments_are_form_errors_and_write_nothing(
    operator_client, ring, data, field
):
    response = operator_client.post(adjust_url(ring), data)

    assert response.status_code == 200
    assert field in response.context["form"].errors
    ring.refresh_from_db()
    assert ring.inventory_quantity == 10
    assert ring.stock_movements.count() == 1


def test_removing_more_than_is_left_says_what_is_left(operator_client, ring):
    response = operator_client.post(adjust_url(ring), {"delta": "-11", "reason": "recount"})
    assert response.context["form"].errors == {
        "delta": ["Only 10 of 'RING' in stock; 11 requested."]
    }


@pytest.mark.parametrize("object_id", ["00000000-0000-0000-0000-000000000000", "not-a-uuid", "%00"])
def test_adjust_stock_of_no_such_product_redirects_with_a_message(operator_client, object_id):
    response = operator_client.get(f"/admin/commerce/product/{object_id}/adjust-stock/")
    assert response.status_code == 302


def test_adjust_stock_needs_a_staff_login(client, ring):
    response = client.post(adjust_url(ring), {"delta": "5", "reason": "x"})
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]
    assert Product.objects.get().inventory_quantity == 10


def test_a_product_with_a_stock_history_is_not_deleted_from_the_admin(operator_client, ring):
    delete_url = reverse("admin:commerce_product_delete", args=[ring.pk])
    assert "Cannot delete" in operator_client.get(delete_url).content.decode()
    operator_client.post(delete_url, {"post": "yes"})
    assert Product.objects.filter(pk=ring.pk).exists()
