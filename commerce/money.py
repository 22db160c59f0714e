"""Money: Decimal only, quantized to cents with one rounding mode.

Line totals are exact (a cent price times an integer). Tax is ``subtotal x COMMERCE_TAX_RATE``
rounded half up to the cent, once, on the subtotal; shipping is the flat ``COMMERCE_SHIPPING_FEE``
(waived from ``COMMERCE_FREE_SHIPPING_FROM`` if set). Both default to zero.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings

CENT = Decimal("0.01")
ROUNDING = ROUND_HALF_UP
MAX_AMOUNT = Decimal("99999999.99")  # numeric(10, 2)


def cents(amount: Decimal) -> Decimal:
    return amount.quantize(CENT, rounding=ROUNDING)


@dataclass(frozen=True)
class Totals:
    subtotal: Decimal
    tax: Decimal
    shipping: Decimal
    total: Decimal


def order_totals(line_totals: Iterable[Decimal]) -> Totals:
    subtotal = cents(sum(line_totals, Decimal("0")))
    tax = cents(subtotal * Decimal(settings.COMMERCE_TAX_RATE))
    shipping = cents(Decimal(settings.COMMERCE_SHIPPING_FEE))
    free_from = settings.COMMERCE_FREE_SHIPPING_FROM
    if free_from is not None and subtotal >= Decimal(free_from):
        shipping = Decimal("0.00")
    return Totals(subtotal=subtotal, tax=tax, shipping=shipping, total=subtotal + tax + shipping)


def money_display(amount: Decimal | None) -> str:
    """An amount as people read it, the one format of every page: ``3,834.51 USD``; ``-`` for
    none."""
    if amount is None:
        return "-"
    return f"{amount:,.2f} {settings.COMMERCE_CURRENCY}"
