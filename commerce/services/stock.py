"""Stock moves by deltas only, each one recorded in the append-only ``stock_movements`` ledger.

Nobody writes ``inventory_quantity`` as an absolute number: a form or a request body read a
while ago would put back the units sold since (an oversell). Orders take and return stock in
``commerce.services.orders``; everything else (a delivery, a recount, breakage) is an adjustment
here, with who made it and why.

The invariant, for every product: the sum of its movements' ``delta`` equals its
``inventory_quantity``. Stock changes do not bump the product's ``version`` (that numbers the
editable record, see ``commerce.services.products``), so they never make an operator's open form
or an agent's ETag stale.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F

from commerce.errors import InsufficientStock
from commerce.models import Product, StockMovement, User

MAX_STOCK = 2**31 - 1  # the column is a PostgreSQL integer
MAX_REASON_LENGTH = 500


def _adjustment_validate(*, delta: int, reason: str) -> None:
    errors: dict[str, list[str]] = {}
    if isinstance(delta, bool) or not isinstance(delta, int) or delta == 0:
        errors["delta"] = ["A whole number of units, not zero: positive adds, negative removes."]
    elif abs(delta) > MAX_STOCK:
        errors["delta"] = [f"At most {MAX_STOCK} units at a time."]
    if not isinstance(reason, str) or not reason.strip():
        errors["reason"] = ["Say why the stock changes (a delivery, a recount, breakage...)."]
    elif len(reason) > MAX_REASON_LENGTH or "\x00" in reason:
        errors["reason"] = [f"At most {MAX_REASON_LENGTH} characters, without null characters."]
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def product_stock_adjust(*, product: Product, delta: int, reason: str, by: User | None) -> Product:
    """Add ``delta`` units to the product's stock (negative: remove them), recording an
    ``adjustment`` movement by ``by`` with ``reason``.

    Locks the product row (the same lock ``order_place`` takes), so the check and the write see
    the stock that orders left. Raises ``ValidationError`` for a zero or oversized delta or a
    missing reason, and ``InsufficientStock`` (409) when fewer than ``-delta`` units are left;
    nothing is written then. Does not change the product's version.
    """
    reason = reason.strip() if isinstance(reason, str) else reason
    _adjustment_validate(delta=delta, reason=reason)
    product = Product.objects.select_for_update().get(pk=product.pk)
    after = product.inventory_quantity + delta
    if after < 0:
        raise InsufficientStock(
            sku=product.sku, requested=-delta, available=product.inventory_quantity
        )
    if after > MAX_STOCK:
        raise ValidationError({"delta": [f"The stock would exceed {MAX_STOCK} units."]})
    Product.objects.filter(pk=product.pk).update(inventory_quantity=F("inventory_quantity") + delta)
    StockMovement.objects.create(
        product=product,
        delta=delta,
        kind=StockMovement.Kind.ADJUSTMENT,
        reason=reason,
        actor=by,
    )
    product.refresh_from_db(fields=["inventory_quantity", "updated_at"])
    return product
