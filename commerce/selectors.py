"""Reads of commerce data, scoped to what the viewer may see."""

from __future__ import annotations

from django.db.models import QuerySet

from commerce.models import Order, OrderEvent, Product, User
from devskyy.api.permissions import is_staff


def product_list(*, viewer: User) -> QuerySet[Product]:
    """Staff see every product; everyone else sees published ones only."""
    queryset = Product.objects.all()
    return queryset if is_staff(viewer) else queryset.filter(status=Product.Status.PUBLISHED)


def order_list(*, viewer: User) -> QuerySet[Order]:
    """Staff see every order; others see their own."""
    queryset = Order.objects.prefetch_related("lines")
    return queryset if is_staff(viewer) else queryset.filter(user=viewer)


def order_event_list(*, order: Order) -> QuerySet[OrderEvent]:
    return order.events.order_by("id")


def user_list(*, viewer: User) -> QuerySet[User]:
    return User.objects.all()
