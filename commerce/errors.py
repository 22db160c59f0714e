"""Commerce's domain errors: each carries the machine code agents branch on."""

from __future__ import annotations

from typing import Any

from devskyy.api.exceptions import DomainError


class InsufficientStock(DomainError):
    """Not enough stock for a line (or for a stock adjustment that removes units).

    The error body names the SKU, what was asked and what is available, at its top level:
    ``{"code": "insufficient_stock", "detail": "...", "sku": "RING", "requested": 5,
    "available": 3}``.
    """

    default_code = "insufficient_stock"
    default_detail = "Not enough stock."

    def __init__(self, *, sku: str, requested: int, available: int) -> None:
        super().__init__(
            f"Only {available} of '{sku}' in stock; {requested} requested.",
        )
        self.sku, self.requested, self.available = sku, requested, available

    def extra(self) -> dict[str, Any]:
        return {"sku": self.sku, "requested": self.requested, "available": self.available}
