"""Reads of commerce data, scoped to what the viewer may see."""

from __future__ import annotations

from django.db import connection
from django.db.models import QuerySet

from commerce.models import Order, OrderEvent, OrderLine, Product, StockMovement, User


def product_list(*, viewer: User) -> QuerySet[Product]:
    """Staff see every product; everyone else sees published ones only."""
    queryset = Product.objects.all()
    return queryset if viewer.is_staff else queryset.filter(status=Product.Status.PUBLISHED)


def stock_movement_list(*, product: Product, before: int | None = None) -> QuerySet[StockMovement]:
    """A product's stock movements, newest first; ``before`` (a movement id) pages back."""
    queryset = StockMovement.objects.filter(product=product).order_by("-id")
    return queryset if before is None else queryset.filter(id__lt=before)


def order_list(*, viewer: User) -> QuerySet[Order]:
    """Staff see every order; others see their own."""
    queryset = Order.objects.prefetch_related("lines")
    return queryset if viewer.is_staff else queryset.filter(user=viewer)


def order_event_list(*, order: Order) -> QuerySet[OrderEvent]:
    return order.events.order_by("id")


def user_list() -> QuerySet[User]:
    """Every account (the API lets only admins list them)."""
    return User.objects.all()


def order_line_and_event_counts(*, order: Order) -> tuple[int, int]:
    """How many lines and events ``order`` has: one statement, each count on its foreign key's
    index."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT (SELECT count(*) FROM {OrderLine._meta.db_table} WHERE order_id = %s),"  # noqa: S608 (model tables)
            f" (SELECT count(*) FROM {OrderEvent._meta.db_table} WHERE order_id = %s)",
            [order.pk, order.pk],
        )
        lines, events = cursor.fetchone()
    return int(lines), int(events)
