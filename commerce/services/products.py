"""The catalogue: products, their validation and their publish/archive states."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from commerce.models import Product
from devskyy.errors import InvalidTransition

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


PRODUCT_EDITABLE_FIELDS = frozenset(
    {"sku", "name", "description", "category", "price", "inventory_quantity", "tags", "metadata"}
)


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
) -> Product:
    """Create a draft product. Raises ValidationError (e.g. a taken SKU)."""
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
    product.save()
    return product


@transaction.atomic
def product_update(*, product: Product, **changes: Any) -> Product:
    """Change a product's editable fields under a row lock. A price change never touches placed
    orders: they keep their own copies of prices."""
    unknown = set(changes) - PRODUCT_EDITABLE_FIELDS
    if unknown:
        raise ValidationError({name: ["This field cannot be changed."] for name in unknown})
    if "tags" in changes:
        changes["tags"] = tags_normalise(changes["tags"])
    _product_validate(changes)
    product = Product.objects.select_for_update().get(pk=product.pk)
    for name, value in changes.items():
        setattr(product, name, value)
    product.full_clean()
    product.save(update_fields=[*changes])
    product.refresh_from_db(fields=["updated_at"])
    return product


@transaction.atomic
def _product_move(*, product: Product, status: str) -> Product:
    product = Product.objects.select_for_update().get(pk=product.pk)
    if not product.can_transition_to(status):
        raise InvalidTransition(current=product.status, target=status)
    product.status = status
    product.save(update_fields=["status"])
    product.refresh_from_db(fields=["updated_at"])
    return product


def product_publish(*, product: Product) -> Product:
    return _product_move(product=product, status=Product.Status.PUBLISHED)


def product_archive(*, product: Product) -> Product:
    return _product_move(product=product, status=Product.Status.ARCHIVED)
