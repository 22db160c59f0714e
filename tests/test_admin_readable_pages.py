"""Times in the admin have seconds and their zone, every audit row's page says when it was
written, and its JSON reads as JSON (issue 11: pages showed "Nov. 27, 2026, 4:37 a.m.", tool
executions no time at all, and JSON as one compact line)."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from agents_audit.models import ToolExecution
from agents_audit.services.jobs import job_cancel
from agents_audit.services.tasks import task_reject
from commerce.admin import ORDER_ROWS_SHOWN
from commerce.models import Order, OrderEvent, OrderLine
from commerce.services import order_cancel, order_place
from devskyy.admin import human_duration
from tests.agents_audit.factories import (
    AgentExecutionFactory,
    JobFactory,
    TaskFactory,
    ToolExecutionFactory,
)
from tests.commerce.factories import ProductFactory, UserFactory

pytestmark = pytest.mark.django_db

WHEN = datetime(2026, 11, 27, 4, 37, 17, 250_000, tzinfo=UTC)


@pytest.mark.parametrize(
    "make", [ToolExecutionFactory.create, AgentExecutionFactory.create], ids=["tool", "agent"]
)
def test_an_audit_rows_page_says_when_it_was_written_to_the_second(operator_client, make):
    row = make()
    type(row).objects.filter(pk=row.pk).update(created_at=WHEN)
    opts = row._meta

    html = operator_client.get(
        reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[row.pk])
    ).content.decode()

    assert "2026-11-27 04:37:17 UTC" in html


def test_a_changelist_shows_times_to_the_second_in_utc(operator_client):
    ToolExecutionFactory.create()
    ToolExecution.objects.update(created_at=WHEN)

    html = operator_client.get(reverse("admin:agents_audit_toolexecution_changelist")).content
    text = html.decode()

    assert "2026-11-27 04:37:17 UTC" in text
    assert not re.search(r"\d{1,2}:\d{2} [ap]\.m\.", text)


def test_an_audit_rows_json_is_indented_and_escaped(operator_client):
    row = ToolExecutionFactory.create(inputs={"query": "<b>rings</b>", "limit": 5})

    html = operator_client.get(
        reverse("admin:agents_audit_toolexecution_change", args=[row.pk])
    ).content.decode()

    # one key a line, indented (jsonb orders the keys), escaped
    assert (
        "{\n  &quot;limit&quot;: 5,\n  &quot;query&quot;: &quot;&lt;b&gt;rings&lt;/b&gt;&quot;\n}"
        in html
    )
    assert "<b>rings</b>" not in html


def test_each_json_field_shows_once_on_an_audit_rows_page(operator_client):
    row = ToolExecutionFactory.create(inputs={"query": "rings"})

    url = reverse("admin:agents_audit_toolexecution_change", args=[row.pk])
    response = operator_client.get(url)

    names = [
        field.field["name"]  # every field of this page is read-only: a dict per field
        for fieldset in response.context["adminform"]
        for line in fieldset
        for field in line
    ]
    assert len(names) == len(set(names)), names
    assert names.count("inputs__pretty") == 1
    assert "inputs" not in names


def test_an_execution_page_shows_its_status_as_a_badge_and_its_duration_in_human_units(
    operator_client,
):
    row = ToolExecutionFactory.create(status="failed", duration_ms=125_000)

    text = operator_client.get(
        reverse("admin:agents_audit_toolexecution_change", args=[row.pk])
    ).content.decode()

    assert re.search(r'class="status status-bad"[^>]*>Failed</span>', text)
    assert "2 min 5 s" in text
    assert "125000" not in text


def test_a_failure_stands_out_and_durations_read_in_human_units(operator_client):
    ToolExecutionFactory.create(status="failed", duration_ms=1234, correlation_id="c-failed")
    ToolExecutionFactory.create(status="success", duration_ms=87, correlation_id="c-ok")
    url = reverse("admin:agents_audit_toolexecution_changelist")

    text = operator_client.get(url).content.decode()
    failed = operator_client.get(url, {"status__exact": "failed"})  # filtered, not sorted

    assert re.search(r'class="status status-bad"[^>]*>Failed</span>', text)
    assert re.search(r'class="status status-good"[^>]*>Success</span>', text)
    assert "1.2 s" in text
    assert "87 ms" in text
    assert failed.status_code == 200
    assert [row.status for row in failed.context["cl"].result_list] == ["failed"]


@pytest.mark.parametrize(
    ("milliseconds", "shown"),
    [
        (None, "-"),
        (0, "0 ms"),
        (999, "999 ms"),
        (1000, "1.0 s"),
        (59_949, "59.9 s"),
        (61_000, "1 min 1 s"),
        (3_599_000, "59 min 59 s"),
        (3_660_000, "1 h 1 min"),
    ],
)
def test_human_durations(milliseconds, shown):
    assert human_duration(milliseconds) == shown


# --- an order's page: one money format, the address as an address, no query per row -----------


def placed_order(settings: Any, lines: int = 1, **kwargs: Any) -> Order:
    settings.COMMERCE_TAX_RATE, settings.COMMERCE_SHIPPING_FEE = "0.0825", "4.99"
    for n in range(lines):
        ProductFactory.create(sku=f"GOLD-{n}", price=Decimal("1917.25"), inventory_quantity=9)
    return order_place(
        user=None, lines=[(f"GOLD-{n}", 1) for n in range(lines)], payment_method="card", **kwargs
    )


def test_an_orders_page_writes_money_as_its_list_does(operator_client, settings):
    order = placed_order(settings, lines=2)  # 3,834.50 + 316.35 tax + 4.99 shipping
    listed = operator_client.get(reverse("admin:commerce_order_changelist")).content.decode()

    html = operator_client.get(
        reverse("admin:commerce_order_change", args=[order.pk])
    ).content.decode()

    assert order.total_price == Decimal("4155.84")
    for shown in ("3,834.50 USD", "4,155.84 USD"):
        assert shown in listed
        assert shown in html
    assert "316.35 USD" in html  # tax
    assert "4.99 USD" in html  # shipping
    assert "1,917.25 USD" in html  # the lines' unit prices and totals
    assert not re.search(r">\s*(3834\.50|4155\.84|1917\.25)\s*<", html)


def test_an_orders_shipping_address_reads_as_an_address(operator_client, settings):
    order = placed_order(
        settings,
        shipping={
            "name": "Ada <Lovelace>",
            "line1": "12 St James's Square",
            "city": "London",
            "postal_code": "SW1Y 4JH",
            "country": "GB",
            "notes": "ring twice",
        },
    )

    html = operator_client.get(
        reverse("admin:commerce_order_change", args=[order.pk])
    ).content.decode()

    assert (
        '<address class="shipping-address">Ada &lt;Lovelace&gt;<br>12 St James&#x27;s Square'
        "<br>SW1Y 4JH London<br>GB<br>notes: ring twice</address>"
    ) in html


def test_an_orders_page_runs_as_many_queries_for_five_lines_and_events_as_for_one(
    operator_client, settings
):
    big = placed_order(settings, lines=5)
    small = order_place(user=None, lines=[("GOLD-0", 1)])
    for n in range(4):  # five events on the big one: placed, then four by somebody
        OrderEvent.objects.create(
            order=big, actor=UserFactory.create(), to_status="pending", reason=f"note {n}"
        )

    def queries(order: Order) -> int:
        with CaptureQueriesContext(connection) as captured:
            response = operator_client.get(reverse("admin:commerce_order_change", args=[order.pk]))
        assert response.status_code == 200
        return len(captured)

    assert big.lines.count() == 5
    assert queries(big) == queries(small)


# --- tasks, jobs and orders: status badges ---------------------------------------------------


def test_tasks_jobs_and_orders_show_their_status_as_a_badge(operator_client, operator, settings):
    rejected = TaskFactory.create()
    task_reject(task=rejected, by=operator, reason="no")
    cancelled = JobFactory.create()
    job_cancel(job=cancelled, by=operator)
    order = placed_order(settings)
    order_cancel(order=order, by=operator)

    pages = [
        reverse("admin:agents_audit_task_changelist"),
        reverse("admin:agents_audit_task_change", args=[rejected.pk]),
        reverse("admin:agents_audit_job_changelist"),
        reverse("admin:agents_audit_job_change", args=[cancelled.pk]),
        reverse("admin:commerce_order_changelist"),
        reverse("admin:commerce_order_change", args=[order.pk]),
    ]
    for url in pages:
        html = operator_client.get(url).content.decode()
        assert re.search(r'class="status status-bad"[^>]*>(Rejected|Cancelled)</span>', html), url
        if "/change/" in url:  # an object's page: one status, in its place, and no duration
            assert len(re.findall(r'class="status status-', html)) == 1, url
            assert "field-duration_column" not in html, url


def test_an_orders_page_shows_its_first_hundred_lines_and_says_how_many_there_are(
    operator_client,
):
    products = ProductFactory.create_batch(3, inventory_quantity=500)
    order = order_place(
        user=UserFactory.create(),
        lines=[(products[n % 3].sku, 1) for n in range(3)],
    )
    first = order.lines.get(sku=products[0].sku)
    OrderLine.objects.bulk_create(
        OrderLine(
            order=order,
            product=first.product,
            sku=f"EXTRA-{n:03d}",
            name=first.name,
            unit_price=first.unit_price,
            quantity=1,
            line_total=first.unit_price,
        )
        for n in range(ORDER_ROWS_SHOWN)
    )

    response = operator_client.get(reverse("admin:commerce_order_change", args=[order.pk]))

    lines_formset = next(
        f for f in response.context["inline_admin_formsets"] if f.opts.model is OrderLine
    )
    assert len(list(lines_formset)) == ORDER_ROWS_SHOWN
    assert f"{ORDER_ROWS_SHOWN + 3} lines (the first {ORDER_ROWS_SHOWN} shown below), 1 event" in (
        response.content.decode()
    )
