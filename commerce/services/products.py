"""The catalogue: products, their validation and their publish/archive states.

A product's editable record carries a ``version``: ``product_update`` writes only over the version
its caller read (optimistic locking, no lock held while an operator edits), and every write of the
record (update, publish, archive) adds one. Stock is not part of the record: it moves by deltas
through ``commerce.services.stock`` and the order services, and never bumps the version.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F

from commerce.models import Product, StockMovement, User
from devskyy.errors import InvalidTransition, VersionMismatch
from devskyy.models import unique_taken_as_validation_error

SKU_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")
MAX_TAGS = 20
MAX_TAG_LENGTH = 50


def tags_normalise(tags: list[str] | None) -> list[str] | None:
    """Lower-case, trimmed, without blanks or duplicates, in first-seen order."""
    if tags is None:
        return None
    seen: dict[str, None] = {}
    for tag in tags:
        clean = " ".join(tag.split()).lower()
        if clean:
            seen.setdefault(clean, None)
    return list(seen)


def _product_validate(fields: dict[str, Any]) -> None:
    errors: dict[str, list[str]] = {}
    sku = fields.get("sku")
    if sku is not None and not SKU_PATTERN.match(sku):
        errors["sku"] = [
            "Use 1 to 100 letters, digits, '.', '_' or '-', starting with a letter or digit."
        ]
    price = fields.get("price")
    if price is not None and (not isinstance(price, Decimal) or price <= 0):
        errors["price"] = ["The price must be greater than zero."]
    quantity = fields.get("inventory_quantity")
    if quantity is not None and quantity < 0:
        errors["inventory_quantity"] = ["Stock cannot be negative."]
    tags = fields.get("tags")
    if tags is not None and (len(tags) > MAX_TAGS or any(len(t) > MAX_TAG_LENGTH for t in tags)):
        errors["tags"] = [f"At most {MAX_TAGS} tags of at most {MAX_TAG_LENGTH} characters."]
    if errors:
        raise ValidationError(errors)


# What product_update may change. Not the stock (product_stock_adjust) nor the status
# (product_publish, product_archive).
PRODUCT_EDITABLE_FIELDS = frozenset(
    {"sku", "name", "description", "category", "price", "tags", "metadata"}
)
OPENING_STOCK_REASON = "opening stock"


@transaction.atomic
def product_create(
    *,
    sku: str,
    name: str,
    price: Decimal,
    description: str | None = None,
    category: str | None = None,
    inventory_quantity: int = 0,
    tags: list[str] | None = None,
    metadata: dict[str, Any] | None = None,
    by: User | None = None,
) -> Product:
    """Create a draft product at version 1. ``inventory_quantity`` is its opening stock, recorded
    as an ``opening`` stock movement by ``by``. Raises ValidationError (e.g. a taken SKU)."""
    fields = {
        "sku": sku,
        "name": name,
        "price": price,
        "description": description,
        "category": category,
        "inventory_quantity": inventory_quantity,
        "tags": tags_normalise(tags),
        "metadata": metadata or {},
    }
    _product_validate(fields)
    product = Product(**fields)
    product.full_clean()
    with unique_taken_as_validation_error(Product):  # a concurrent create of the same SKU
        product.save()
    if inventory_quantity:
        StockMovement.objects.create(
            product=product,
            delta=inventory_quantity,
            kind=StockMovement.Kind.OPENING,
            reason=OPENING_STOCK_REASON,
            actor=by,
        )
    return product


@transaction.atomic
def product_update(*, product: Product, expected_version: int, **changes: Any) -> Product:
    """Change a product's editable fields, provided its record is still at ``expected_version``
    (the version its caller read); the version then goes up by one.

    Raises ``VersionMismatch`` when someone else changed the record since (nothing is written),
    ``ValidationError`` for bad values or a field that is not editable here (stock and status have
    their own services). No change at all writes nothing, but still checks the version. A price
    change never touches placed orders: they keep their own copies of prices.
    """
    unknown = set(changes) - PRODUCT_EDITABLE_FIELDS
    if unknown:
        raise ValidationError({name: ["This field cannot be changed here."] for name in unknown})
    if "tags" in changes:
        changes["tags"] = tags_normalise(changes["tags"])
    _product_validate(changes)
    current = Product.objects.get(pk=product.pk)
    if current.version != expected_version:
        raise VersionMismatch()
    if not changes:
        return current
    for name, value in changes.items():
        setattr(current, name, value)
    current.full_clean()  # the whole record as it will be: unique SKU, field rules
    # The guarantee: write only over the version that was validated above. A concurrent writer
    # that got there first (or holds the row) leaves zero rows to update here.
    with unique_taken_as_validation_error(Product):  # a concurrent writer took the new SKU
        written = Product.objects.filter(pk=product.pk, version=expected_version).update(
            **{name: getattr(current, name) for name in changes}, version=F("version") + 1
        )
    if not written:
        raise VersionMismatch()
    current.refresh_from_db(fields=["version", "updated_at"])
    return current


@transaction.atomic
def _product_move(*, product: Product, status: str) -> Product:
    product = Product.objects.select_for_update().get(pk=product.pk)
    if not product.can_transition_to(status):
        raise InvalidTransition(current=product.status, target=status)
    Product.objects.filter(pk=product.pk).update(status=status, version=F("version") + 1)
    product.refresh_from_db(fields=["status", "version", "updated_at"])
    return product


def product_publish(*, product: Product) -> Product:
    return _product_move(product=product, status=Product.Status.PUBLISHED)


def product_archive(*, product: Product) -> Product:
    return _product_move(product=product, status=Product.Status.ARCHIVED)
