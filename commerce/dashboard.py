"""The commerce panels of the admin index's dashboard (devskyy/dashboard.py): orders and
revenue per day (``orders_created_idx`` bounds the rows read to the window) and the products
running out of stock."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db.models import Count, DecimalField, Q, Sum, Value, Window
from django.db.models.functions import Coalesce, TruncDate
from django.urls import reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString

from commerce.admin import money
from commerce.models import Order, Product
from devskyy import dashboard
from devskyy.dashboard import Bar, Panel, Segment, bar_chart, day_columns, days_ending, table

ORDER_DAYS = 14
LOW_STOCK_SHOWN = 10

CANCELLED = Order.Status.CANCELLED


def orders_load(now: datetime) -> dict[str, Any]:
    """Per UTC day of the last ``ORDER_DAYS`` days: orders placed, of which cancelled, and the
    revenue (the totals of the orders not cancelled)."""
    start, days = days_ending(now, ORDER_DAYS)
    rows = (
        Order.objects.filter(created_at__gte=start)
        .values(day=TruncDate("created_at"))
        .annotate(
            orders=Count("pk"),
            cancelled=Count("pk", filter=Q(status=CANCELLED)),
            revenue=Coalesce(
                Sum("total_price", filter=~Q(status=CANCELLED)),
                Value(Decimal("0.00")),
                output_field=DecimalField(max_digits=14, decimal_places=2),
            ),
        )
        .order_by("day")
    )
    return {"days": days, "rows": list(rows)}


def orders_render(data: dict[str, Any]) -> SafeString:
    by_day = {row["day"]: row for row in data["rows"]}
    empty = {"orders": 0, "cancelled": 0, "revenue": Decimal("0.00")}
    days = [(day, by_day.get(day, empty)) for day in data["days"]]
    orders = sum(row["orders"] for _, row in days)
    revenue = sum((row["revenue"] for _, row in days), Decimal("0.00"))
    return format_html(
        "<p>{} orders, revenue {} in {} days.</p><h3>Revenue per day</h3>{}<h3>Orders per day"
        "</h3>{}{}",
        f"{orders:,}",
        money(revenue),
        len(days),
        day_columns([(day, float(row["revenue"]), money(row["revenue"])) for day, row in days]),
        day_columns(
            [
                (day, row["orders"], f"{row['orders']:,} orders, {row['cancelled']:,} cancelled")
                for day, row in days
            ],
            height=80,
        ),
        table(
            ["Day", "Orders", "Cancelled", "Revenue"],
            [
                [
                    day.isoformat(),
                    f"{row['orders']:,}",
                    f"{row['cancelled']:,}",
                    money(row["revenue"]),
                ]
                for day, row in reversed(days)
                if row["orders"]
            ],
        ),
    )


def low_stock_load(now: datetime) -> list[dict[str, Any]]:
    """The products not archived with at most ``COMMERCE_LOW_STOCK`` in stock, the fewest
    first (at most ``LOW_STOCK_SHOWN``), each with the count of all such products."""
    rows = (
        Product.objects.filter(inventory_quantity__lte=settings.COMMERCE_LOW_STOCK)
        .exclude(status=Product.Status.ARCHIVED)
        .annotate(low_stock_count=Window(Count("pk")))
        .order_by("inventory_quantity", "sku")
        .values("pk", "sku", "name", "status", "inventory_quantity", "low_stock_count")
    )[:LOW_STOCK_SHOWN]
    return list(rows)


def low_stock_render(rows: list[dict[str, Any]]) -> SafeString:
    bars = [
        Bar(
            label=row["sku"],
            segments=[Segment(row["inventory_quantity"], "bar-timeout")],
            text=f"{row['inventory_quantity']:,} left",
            title=f"{row['sku']} {row['name']}: {row['inventory_quantity']:,} left",
        )
        for row in rows
    ]
    links = [
        [
            format_html(
                '<a href="{}">{}</a>',
                reverse("admin:commerce_product_change", args=[row["pk"]]),
                row["sku"],
            ),
            row["name"],
            row["status"],
            f"{row['inventory_quantity']:,}",
        ]
        for row in rows
    ]
    return format_html(
        "<p>{} products at or below {} in stock (archived ones left out).</p>{}{}"
        '<p><a href="{}?stock=low">All low-stock products</a></p>',
        f"{rows[0]['low_stock_count']:,}",
        settings.COMMERCE_LOW_STOCK,
        bar_chart(bars),
        table(["SKU", "Name", "Status", "Stock"], links),
        reverse("admin:commerce_product_changelist"),
    )


PANELS = [
    Panel(
        key="orders",
        title=f"Orders and revenue per day, last {ORDER_DAYS} days",
        permission="commerce.view_order",
        load=orders_load,
        render=orders_render,
        is_empty=lambda data: not data["rows"],
        order=80,
    ),
    Panel(
        key="low-stock",
        title="Low stock",
        permission="commerce.view_product",
        load=low_stock_load,
        render=low_stock_render,
        order=90,
    ),
]


def register_panels() -> None:
    for panel in PANELS:
        dashboard.register(panel)
