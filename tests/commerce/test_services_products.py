"""product_update writes only over the version its caller read; stock and status are not its
business; publish and archive are new versions too."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from commerce.models import Product
from commerce.services import (
    order_place,
    product_archive,
    product_publish,
    product_stock_adjust,
    product_update,
)
from devskyy.errors import VersionMismatch
from tests.commerce.factories import ProductFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def ring():
    return ProductFactory.create(sku="RING", name="Ring", price=Decimal("5.00"))


def row(product: Product) -> tuple[str, Decimal, int, int]:
    fresh = Product.objects.get(pk=product.pk)
    return fresh.name, fresh.price, fresh.inventory_quantity, fresh.version


def test_an_update_over_the_version_read_writes_and_adds_one(ring):
    updated = product_update(product=ring, expected_version=1, name="Gold ring", tags=[" A "])
    assert (updated.name, updated.tags, updated.version) == ("Gold ring", ["a"], 2)
    assert row(ring) == ("Gold ring", Decimal("5.00"), 10, 2)


def test_an_update_over_a_stale_version_is_refused_and_writes_nothing(ring):
    product_update(product=ring, expected_version=1, price=Decimal("6.00"))

    with pytest.raises(VersionMismatch):
        product_update(product=ring, expected_version=1, name="Lost update")

    assert row(ring) == ("Ring", Decimal("6.00"), 10, 2)


def test_orders_and_stock_adjustments_do_not_make_a_version_stale(ring):
    order_place(user=None, lines=[("RING", 2)], payment_method="card")
    product_stock_adjust(product=ring, delta=4, reason="delivery", by=None)

    product_update(product=ring, expected_version=1, name="Renamed")

    assert row(ring) == ("Renamed", Decimal("5.00"), 12, 2)


@pytest.mark.parametrize("field", ["inventory_quantity", "status", "version", "created_at"])
def test_stock_status_and_bookkeeping_are_not_editable_here(ring, field):
    with pytest.raises(ValidationError) as excinfo:
        product_update(product=ring, expected_version=1, **{field: 0})
    assert set(excinfo.value.message_dict) == {field}
    assert row(ring) == ("Ring", Decimal("5.00"), 10, 1)


def test_bad_values_are_refused_before_anything_is_written(ring):
    ProductFactory.create(sku="TAKEN")
    for changes in ({"sku": "bad sku!"}, {"price": Decimal("0")}, {"sku": "TAKEN"}):
        with pytest.raises(ValidationError):
            product_update(product=ring, expected_version=1, **changes)
    assert row(ring) == ("Ring", Decimal("5.00"), 10, 1)


def test_no_change_writes_nothing_but_still_checks_the_version(ring):
    assert product_update(product=ring, expected_version=1).version == 1
    with pytest.raises(VersionMismatch):
        product_update(product=ring, expected_version=7)


def test_publish_and_archive_are_new_versions(ring):
    draft = ProductFactory.create(status="draft")
    assert product_publish(product=draft).version == 2
    assert product_archive(product=draft).version == 3
    with pytest.raises(VersionMismatch):
        product_update(product=draft, expected_version=2, name="Over an archived record")
