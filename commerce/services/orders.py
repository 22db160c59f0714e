"""Orders: placement that cannot oversell, and the order state machine.

Locking rules (Saleor and django-oscar both shipped deadlocks before settling on these):

- product rows are locked with ``SELECT ... FOR UPDATE`` in primary-key order, whatever the order
  of the lines, so two placements that share products queue instead of deadlocking;
- a transition locks its order row first, re-reads the state under the lock, then (for a
  cancellation) locks the products in primary-key order. Placement never locks an order, so the
  two kinds of lock never form a cycle.

Stock never goes below zero: the database's CHECK on ``inventory_quantity`` is the guarantee;
the check here gives the friendly ``insufficient_stock`` error. Every stock change is also written
to the ``stock_movements`` ledger in the same transaction (``order_placed`` -n per line,
``order_cancelled`` +n), see ``commerce.services.stock``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from django.db import connection, transaction
from django.db.models import F

from commerce.errors import InsufficientStock
from commerce.models import Order, OrderEvent, OrderLine, Product, StockMovement, User
from commerce.money import MAX_AMOUNT, order_totals
from devskyy.errors import FieldError, InvalidInput, InvalidTransition, NotPermitted

ORDER_NUMBER_FORMAT = "ORD-{:06d}"  # ORD-000123; wider once past a million orders
MAX_LINES = 100


def _order_number() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT nextval('orders_order_number_seq')")
        return ORDER_NUMBER_FORMAT.format(cursor.fetchone()[0])


def _line_errors(errors: dict[int, dict[str, list[FieldError]]]) -> InvalidInput:
    """Errors keyed like the API's: ``{"items": {"<index>": {"<field>": [...]}}}``."""
    return InvalidInput({"items": {str(i): fields for i, fields in errors.items()}})


def _validate_lines(lines: Sequence[tuple[str, int]]) -> dict[str, int]:
    if not lines:
        raise InvalidInput(
            {"items": [FieldError("An order needs at least one item.", code="empty")]}
        )
    if len(lines) > MAX_LINES:
        raise InvalidInput(
            {"items": [FieldError(f"At most {MAX_LINES} items per order.", code="max_length")]}
        )
    wanted: dict[str, int] = {}
    errors: dict[int, dict[str, list[FieldError]]] = {}
    for index, (sku, quantity) in enumerate(lines):
        if sku in wanted:
            errors.setdefault(index, {})["sku"] = [
                FieldError(f"'{sku}' is already in this order; merge the lines.", code="duplicate")
            ]
        if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity < 1:
            errors.setdefault(index, {})["quantity"] = [
                FieldError("The quantity must be a whole number of 1 or more.", code="min_value")
            ]
        wanted[sku] = quantity
    if errors:
        raise _line_errors(errors)
    return wanted


@transaction.atomic
def order_place(
    *,
    user: User | None,
    lines: Sequence[tuple[str, int]],
    shipping: Mapping[str, Any] | None = None,
    payment_method: str = "",
    placed_by: User | None = None,
) -> Order:
    """Place an order for ``user`` (None: a guest order) in one transaction.

    Locks the products in primary-key order, checks and decrements their stock, snapshots every
    line (sku, name, unit price, quantity, line total), computes the totals in Decimal and gives
    the order the next number of the ``orders_order_number_seq`` sequence. Raises
    ``InvalidInput`` for bad lines or unknown/unpublished products, ``InsufficientStock`` when
    a line asks for more than is left; nothing is written then.
    """
    wanted = _validate_lines(lines)
    products = list(Product.objects.select_for_update().filter(sku__in=list(wanted)).order_by("pk"))
    by_sku = {product.sku: product for product in products}
    errors = {
        index: {"sku": [FieldError(f"No product '{sku}' is for sale.", code="not_for_sale")]}
        for index, (sku, _) in enumerate(lines)
        if sku not in by_sku or by_sku[sku].status != Product.Status.PUBLISHED
    }
    if errors:
        raise _line_errors(errors)
    for sku, quantity in wanted.items():
        product = by_sku[sku]
        if product.inventory_quantity < quantity:
            raise InsufficientStock(
                sku=sku, requested=quantity, available=product.inventory_quantity
            )

    snapshots: list[dict[str, Any]] = []
    for sku, quantity in wanted.items():  # the caller's line order
        product = by_sku[sku]
        snapshots.append(
            {
                "product": product,
                "sku": sku,
                "name": product.name,
                "unit_price": product.price,
                "quantity": quantity,
                "line_total": product.price * quantity,
            }
        )
    totals = order_totals(line["line_total"] for line in snapshots)
    if totals.total > MAX_AMOUNT:
        raise InvalidInput(
            {"items": [FieldError("The order total is too large.", code="max_value")]}
        )

    for product in products:  # primary-key order, under the locks taken above
        Product.objects.filter(pk=product.pk).update(
            inventory_quantity=F("inventory_quantity") - wanted[product.sku]
        )
    order = Order.objects.create(
        order_number=_order_number(),
        user=user,
        subtotal=totals.subtotal,
        total_price=totals.total,
        metadata={
            # The seed keeps items in metadata; kept for compatibility, order_lines is the truth.
            "items": [
                {
                    "sku": line["sku"],
                    "name": line["name"],
                    "unit_price": str(line["unit_price"]),
                    "quantity": line["quantity"],
                    "line_total": str(line["line_total"]),
                }
                for line in snapshots
            ],
            "shipping_address": dict(shipping or {}),
            "payment_method": payment_method,
            "tax": str(totals.tax),
            "shipping": str(totals.shipping),
        },
    )
    OrderLine.objects.bulk_create([OrderLine(order=order, **line) for line in snapshots])
    StockMovement.objects.bulk_create(
        [
            StockMovement(
                product=product,
                delta=-wanted[product.sku],
                kind=StockMovement.Kind.ORDER_PLACED,
                reason=order.order_number,
                order=order,
                actor=placed_by or user,
            )
            for product in products
        ]
    )
    OrderEvent.objects.create(
        order=order,
        actor=placed_by or user,
        from_status=None,
        to_status=order.status,
        reason="placed",
    )
    return order


def _lock(order: Order) -> Order:
    """Lock the order row and re-read it: the state to act on is the state under the lock."""
    return Order.objects.select_for_update().get(pk=order.pk)


def _move(order: Order, target: str, *, by: User | None, reason: str) -> Order:
    """Move a locked order to ``target`` and record the event. Caller holds the order's lock."""
    if not order.can_transition_to(target):
        raise InvalidTransition(current=order.status, target=target)
    source = order.status
    order.status = target
    order.save(update_fields=["status"])
    OrderEvent.objects.create(
        order=order, actor=by, from_status=source, to_status=target, reason=reason
    )
    order.refresh_from_db(fields=["updated_at"])
    return order


@transaction.atomic
def order_mark_processing(*, order: Order, by: User | None, reason: str = "") -> Order:
    """pending -> processing (payment received)."""
    return _move(_lock(order), Order.Status.PROCESSING, by=by, reason=reason)


@transaction.atomic
def order_complete(*, order: Order, by: User | None, reason: str = "") -> Order:
    """processing -> completed (shipped or delivered)."""
    return _move(_lock(order), Order.Status.COMPLETED, by=by, reason=reason)


@transaction.atomic
def order_cancel(*, order: Order, by: User | None, reason: str = "") -> Order:
    """pending|processing -> cancelled, putting every line's quantity back in stock.

    Who may cancel when: staff (and ``by=None``, the system) cancel pending or processing orders;
    the order's owner cancels it only while it is pending (``NotPermitted`` otherwise), and
    nobody else may. Both the state and this rule are checked under the order's lock, so a
    cancellation racing ``order_mark_processing`` sees the state the other left, and the stock
    comes back exactly once however many cancellations race. Products are locked in primary-key
    order (see the module's rules).
    """
    order = _lock(order)
    if not order.can_transition_to(Order.Status.CANCELLED):
        raise InvalidTransition(current=order.status, target=Order.Status.CANCELLED)
    if by is not None and not by.is_staff:
        if order.user_id is None or order.user_id != by.pk:
            raise NotPermitted("Only the order's owner or an operator may cancel it.")
        if order.status != Order.Status.PENDING:
            raise NotPermitted("Only an operator can cancel an order once it is processing.")
    returned: dict[Any, int] = {}
    for line in order.lines.exclude(product=None):
        returned[line.product_id] = returned.get(line.product_id, 0) + line.quantity
    product_ids = sorted(returned, key=str)  # UUID text order is PostgreSQL's uuid order
    for product_id in product_ids:
        Product.objects.filter(pk=product_id).update(
            inventory_quantity=F("inventory_quantity") + returned[product_id]
        )
    StockMovement.objects.bulk_create(
        [
            StockMovement(
                product_id=product_id,
                delta=returned[product_id],
                kind=StockMovement.Kind.ORDER_CANCELLED,
                reason=order.order_number,
                order=order,
                actor=by,
            )
            for product_id in product_ids
        ]
    )
    return _move(order, Order.Status.CANCELLED, by=by, reason=reason)
