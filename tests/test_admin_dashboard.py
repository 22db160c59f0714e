"""The dashboard on the admin index (issue 11): the platform's health at a glance. Each panel is
one aggregate query over a window of recent rows that an index serves, cached briefly, drawn as
server-side SVG with every agent-supplied text escaped, and shown only to who may view its
model."""

from __future__ import annotations

import json
import re
import statistics
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.core.cache import cache
from django.db import connection, transaction
from django.templatetags.static import static
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html

from agents_audit import dashboard as agents_dashboard
from agents_audit.models import Job, Task, ToolExecution
from commerce import dashboard as commerce_dashboard
from commerce.models import Product
from devskyy import dashboard
from tests.agents_audit.factories import (
    AgentExecutionFactory,
    JobFactory,
    LLMRoundTableResultFactory,
    TaskFactory,
    ToolExecutionFactory,
)
from tests.commerce.factories import OrderFactory, ProductFactory, UserFactory

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
INDEX = reverse("admin:index")
PANEL_KEYS = [
    "tool-calls",
    "tool-durations",
    "top-errors",
    "agent-tokens",
    "round-table",
    "task-funnel",
    "job-queue",
    "orders",
    "low-stock",
]


@pytest.fixture(autouse=True)
def _fresh_cache() -> Iterator[None]:
    """The cache is the process's memory: another test's panels must not show here."""
    cache.clear()
    yield
    cache.clear()


def panel(key: str) -> dashboard.Panel:
    return next(p for p in dashboard.registered_panels() if p.key == key)


def tool(name: str, at: datetime, status: str = "success", **fields: Any) -> None:
    ToolExecutionFactory.create(tool_name=name, created_at=at, status=status, **fields)


def panel_html(html: str, key: str) -> str:
    """The HTML of one panel of the index page."""
    match = re.search(
        rf'<div class="module dashboard-panel" id="dashboard-{key}">(.*?)</div>\s*'
        r'(?=<div class="module dashboard-panel"|</section>)',
        html,
        re.S,
    )
    assert match, f"no panel {key}"
    return match.group(1)


# --- what each panel counts -------------------------------------------------------------------


def test_tool_calls_count_failures_and_timeouts_per_tool_over_the_last_hour_and_day():
    for minutes, status in [(5, "success"), (10, "failed"), (50, "timeout"), (59, "success")]:
        tool("search", NOW - timedelta(minutes=minutes), status)
    for hours, status in [(2, "failed"), (5, "success"), (23, "failed")]:
        tool("search", NOW - timedelta(hours=hours), status)
    tool("search", NOW - timedelta(hours=25), "failed")  # older than a day: not counted
    tool("refund", NOW - timedelta(hours=3), "timeout")

    rows = panel("tool-calls").load(NOW)

    assert rows == [
        {
            "tool_name": "search",
            "day_calls": 7,
            "day_failed": 3,
            "day_timeout": 1,
            "hour_calls": 4,
            "hour_failed": 1,
            "hour_timeout": 1,
        },
        {
            "tool_name": "refund",
            "day_calls": 1,
            "day_failed": 0,
            "day_timeout": 1,
            "hour_calls": 0,
            "hour_failed": 0,
            "hour_timeout": 0,
        },
    ]
    html = str(panel("tool-calls").render(rows))
    # search, last hour: 4 calls, 25% failed, 25% timed out; last day: 7, 42.9% and 14.3%
    assert (
        "<td>search</td><td>4</td><td>25.0%</td><td>25.0%</td><td>7</td><td>42.9%</td>"
        "<td>14.3%</td>" in html
    )
    assert "<td>refund</td><td>0</td><td>-</td><td>-</td><td>1</td><td>0.0%</td>" in html


def test_tool_durations_are_the_interpolated_median_and_95th_percentile_of_the_last_day():
    durations = [100, 200, 300, 400, 500, 600, 700, 800, 900, 1000]
    for minutes, ms in enumerate(durations):
        tool("search", NOW - timedelta(minutes=minutes), duration_ms=ms)
    tool("search", NOW - timedelta(minutes=30), duration_ms=None)  # not timed: left out
    tool("search", NOW - timedelta(days=2), duration_ms=900_000)  # too old: left out
    tool("refund", NOW - timedelta(hours=1), duration_ms=40)

    rows = panel("tool-durations").load(NOW)

    percentiles = statistics.quantiles(durations, n=20, method="inclusive")
    assert rows == [
        {"tool_name": "search", "calls": 10, "p50": 550.0, "p95": pytest.approx(percentiles[18])},
        {"tool_name": "refund", "calls": 1, "p50": 40.0, "p95": 40.0},
    ]
    assert percentiles[18] == pytest.approx(955.0)
    html = str(panel("tool-durations").render(rows))
    assert "<td>search</td><td>10</td><td>550 ms</td><td>955 ms</td>" in html


def test_top_errors_group_failed_and_timed_out_calls_by_tool_and_message():
    for minutes in (1, 2, 3):
        tool("search", NOW - timedelta(minutes=minutes), "failed", error_message="index offline")
    tool("search", NOW - timedelta(hours=2), "timeout", error_message="took too long")
    tool("refund", NOW - timedelta(hours=3), "failed", error_message="index offline")
    tool("refund", NOW - timedelta(hours=4), "failed", error_message=None)
    long_message = "x" * 250
    tool("refund", NOW - timedelta(hours=5), "failed", error_message=long_message + "a")
    tool("refund", NOW - timedelta(hours=6), "failed", error_message=long_message + "b")
    tool("search", NOW - timedelta(minutes=4), "success", error_message="not an error")
    tool("search", NOW - timedelta(days=2), "failed", error_message="index offline")  # too old

    rows = panel("top-errors").load(NOW)

    assert [(r["count"], r["tool_name"], r["message"], r["last_seen"]) for r in rows] == [
        (3, "search", "index offline", NOW - timedelta(minutes=1)),
        # messages are grouped on their first 200 characters
        (2, "refund", "x" * 200, NOW - timedelta(hours=5)),
        (1, "search", "took too long", NOW - timedelta(hours=2)),
        (1, "refund", "index offline", NOW - timedelta(hours=3)),
        (1, "refund", "", NOW - timedelta(hours=4)),
    ]


def test_tokens_per_agent_per_utc_day_over_the_last_seven_days():
    today = NOW.date()
    for at, agent, tokens in [
        (NOW - timedelta(hours=1), "planner", 100),
        (NOW - timedelta(hours=2), "planner", 50),
        (NOW - timedelta(hours=2), "planner", None),  # no tokens reported: counts as a run
        (NOW - timedelta(days=1), "planner", 70),
        (NOW - timedelta(hours=3), "coder", 1000),
        (datetime(2026, 11, 21, 0, 0, tzinfo=UTC), "coder", 5),  # the first day's first moment
        (datetime(2026, 11, 20, 23, 59, tzinfo=UTC), "coder", 9999),  # the day before: left out
    ]:
        AgentExecutionFactory.create(agent_name=agent, tokens_used=tokens, created_at=at)

    data = panel("agent-tokens").load(NOW)

    assert data["days"] == [today - timedelta(days=n) for n in range(6, -1, -1)]
    assert data["days"][0] == date(2026, 11, 21)
    assert sorted((r["agent_name"], r["day"], r["tokens"], r["runs"]) for r in data["rows"]) == [
        ("coder", date(2026, 11, 21), 5, 1),
        ("coder", today, 1000, 1),
        ("planner", today - timedelta(days=1), 70, 1),
        ("planner", today, 150, 3),
    ]
    html = str(panel("agent-tokens").render(data))
    # agents by total tokens, each with its 7-day total, runs and a daily series
    assert re.search(r"<td>coder</td><td>1,005</td><td>2</td><td><svg", html)
    assert re.search(r"<td>planner</td><td>220</td><td>4</td><td><svg", html)
    assert html.index("<td>coder</td>") < html.index("<td>planner</td>")
    assert "<title>2026-11-27: 1,150 tokens</title>" in html  # the chart of every agent


def test_round_table_win_rates_per_provider_over_the_last_seven_days():
    def result(winner: str, providers: list[str], at: datetime) -> None:
        LLMRoundTableResultFactory.create(
            winner_provider=winner,
            participants=[{"provider": p, "response": "...", "score": 0.5} for p in providers],
            created_at=at,
        )

    result("anthropic", ["anthropic", "openai"], NOW - timedelta(days=1))
    result("anthropic", ["anthropic", "openai", "google"], NOW - timedelta(days=2))
    result("openai", ["anthropic", "openai"], NOW - timedelta(days=3))
    result("google", ["google", "openai"], NOW - timedelta(days=8))  # too old

    rows = panel("round-table").load(NOW)

    assert rows == [
        {"provider": "anthropic", "competitions": 3, "wins": 2},
        {"provider": "openai", "competitions": 3, "wins": 1},
        {"provider": "google", "competitions": 1, "wins": 0},
    ]
    html = str(panel("round-table").render(rows))
    assert "<td>anthropic</td><td>3</td><td>2</td><td>66.7%</td>" in html
    assert "<td>google</td><td>1</td><td>0</td><td>0.0%</td>" in html


def make_task(status: str, at: datetime) -> Task:
    task = TaskFactory.create()
    approved = status in {"approved", "executing", "completed", "failed"}
    Task.objects.filter(pk=task.pk).update(
        status=status,
        created_at=at,
        approved_at=at if approved else None,
        completed_at=at if status in {"completed", "failed"} else None,
    )
    return task


def test_the_task_funnel_counts_the_tasks_created_in_the_last_seven_days_by_how_far_they_got():
    recent = NOW - timedelta(days=1)
    for status, count in [
        ("pending", 2),
        ("rejected", 1),
        ("approved", 1),
        ("executing", 1),
        ("completed", 3),
        ("failed", 1),
    ]:
        for _ in range(count):
            make_task(status, recent)
    make_task("completed", NOW - timedelta(days=8))  # too old

    counts = panel("task-funnel").load(NOW)

    assert counts == {
        "created": 9,
        "pending": 2,
        "rejected": 1,
        "approved": 6,
        "executing": 2,
        "completed": 3,
        "failed": 1,
    }
    html = str(panel("task-funnel").render(counts))
    assert "<title>Approved: 6 (66.7%)</title>" in html
    assert "<title>Completed: 3 (33.3%)</title>" in html


def make_job(job_type: str, status: str, finished: datetime | None = None) -> Job:
    job = JobFactory.create(job_type=job_type)
    fields: dict[str, Any] = {"status": status}
    if status == "running":
        fields |= {
            "worker_id": "w1",
            "lease_token": "00000000-0000-0000-0000-000000000001",
            "lease_expires_at": NOW + timedelta(minutes=5),
        }
    if finished is not None:
        fields["finished_at"] = finished
    Job.objects.filter(pk=job.pk).update(**fields)
    return job


def test_the_queue_counts_live_jobs_per_type_and_the_jobs_that_died_lately():
    for status in ["queued", "queued", "failed", "running"]:
        make_job("deploy", status)
    make_job("deploy", "dead", NOW - timedelta(hours=2))
    make_job("deploy", "dead", NOW - timedelta(days=3))
    make_job("deploy", "dead", NOW - timedelta(days=8))  # too old
    make_job("deploy", "succeeded", NOW - timedelta(hours=1))
    make_job("deploy", "cancelled", NOW - timedelta(hours=1))
    make_job("notify", "running")
    make_job("report", "dead", NOW - timedelta(hours=1))

    rows = panel("job-queue").load(NOW)

    assert rows == [
        {
            "job_type": "deploy",
            "queued": 2,
            "retrying": 1,
            "running": 1,
            "dead_day": 1,
            "dead_week": 2,
        },
        {
            "job_type": "notify",
            "queued": 0,
            "retrying": 0,
            "running": 1,
            "dead_day": 0,
            "dead_week": 0,
        },
        {
            "job_type": "report",
            "queued": 0,
            "retrying": 0,
            "running": 0,
            "dead_day": 1,
            "dead_week": 1,
        },
    ]
    html = str(panel("job-queue").render(rows))
    assert "<td>deploy</td><td>2</td><td>1</td><td>1</td><td>1</td><td>2</td>" in html


def test_orders_and_revenue_per_utc_day_leave_cancelled_orders_out_of_the_revenue():
    today = NOW.date()
    for at, total, status in [
        (NOW - timedelta(hours=1), "100.00", "pending"),
        (NOW - timedelta(hours=2), "50.50", "completed"),
        (NOW - timedelta(hours=3), "999.00", "cancelled"),
        (NOW - timedelta(days=1), "10.00", "processing"),
        (datetime(2026, 11, 14, 0, 0, tzinfo=UTC), "1.00", "completed"),  # the first day
        (datetime(2026, 11, 13, 23, 59, tzinfo=UTC), "7.00", "completed"),  # before: left out
    ]:
        OrderFactory.create(
            total_price=Decimal(total), subtotal=Decimal(total), status=status, created_at=at
        )

    data = panel("orders").load(NOW)

    assert data["days"][0] == date(2026, 11, 14)
    assert data["days"][-1] == today
    assert len(data["days"]) == 14
    assert [(r["day"], r["orders"], r["cancelled"], r["revenue"]) for r in data["rows"]] == [
        (date(2026, 11, 14), 1, 0, Decimal("1.00")),
        (today - timedelta(days=1), 1, 0, Decimal("10.00")),
        (today, 3, 1, Decimal("150.50")),
    ]
    html = str(panel("orders").render(data))
    assert "<p>5 orders, revenue 161.50 USD in 14 days.</p>" in html
    assert "<td>2026-11-27</td><td>3</td><td>1</td><td>150.50 USD</td>" in html
    assert "<title>2026-11-27: 150.50 USD</title>" in html
    assert "<title>2026-11-20: 0.00 USD</title>" in html  # a day without orders is a zero


def test_low_stock_lists_the_products_not_archived_with_the_least_stock(settings):
    settings.COMMERCE_LOW_STOCK = 5
    for sku, quantity, status in [
        ("OUT", 0, "published"),
        ("TWO", 2, "draft"),
        ("FIVE", 5, "published"),
        ("SIX", 6, "published"),  # above the threshold
        ("OLD", 1, "archived"),  # archived: not restocked anyway
    ]:
        ProductFactory.create(sku=sku, inventory_quantity=quantity, status=status)
    for number in range(12):
        ProductFactory.create(sku=f"LOW-{number:02d}", inventory_quantity=3)

    rows = panel("low-stock").load(NOW)

    assert [(r["sku"], r["inventory_quantity"]) for r in rows] == [
        ("OUT", 0),
        ("TWO", 2),
        *((f"LOW-{n:02d}", 3) for n in range(8)),
    ]
    assert {r["low_stock_count"] for r in rows} == {15}
    html = str(panel("low-stock").render(rows))
    assert "<p>15 products at or below 5 in stock (archived ones left out).</p>" in html
    out = Product.objects.get(sku="OUT")
    assert (
        format_html('<a href="{}">OUT</a>', reverse("admin:commerce_product_change", args=[out.pk]))
        in html
    )


# --- the page ---------------------------------------------------------------------------------


def some_of_everything() -> None:
    now = timezone.now()
    tool("search", now - timedelta(minutes=5), "failed", error_message="index offline")
    AgentExecutionFactory.create(tokens_used=120)
    LLMRoundTableResultFactory.create()
    make_task("completed", now)
    make_job("deploy", "queued")
    OrderFactory.create()
    ProductFactory.create(inventory_quantity=1)


def test_the_index_shows_every_panel_with_a_chart(operator_client):
    some_of_everything()

    html = operator_client.get(INDEX).content.decode()

    assert '<section id="dashboard"' in html
    stylesheet = static("devskyy/dashboard.css")
    assert f'href="{stylesheet}"' in html
    assert Client().get(stylesheet).status_code == 200
    for key in PANEL_KEYS:
        body = panel_html(html, key)
        assert '<svg class="dashboard-chart' in body, key
        assert "No data" not in body
    assert html.index('id="dashboard"') < html.index('class="app-agents_audit')  # above the apps


def test_with_no_data_every_panel_says_so(operator_client):
    response = operator_client.get(INDEX)

    assert response.status_code == 200
    html = response.content.decode()
    for key in PANEL_KEYS:
        body = panel_html(html, key)
        assert '<p class="dashboard-empty">No data</p>' in body, key
        assert "<svg" not in body


def test_agent_supplied_text_is_escaped_in_the_tables_and_in_the_svg(operator_client):
    script = "<script>alert(1)</script>"
    tool(script, timezone.now(), "failed", error_message=f'{script}"<img src=x onerror=alert(2)>')
    AgentExecutionFactory.create(agent_name=script, tokens_used=5)
    LLMRoundTableResultFactory.create(
        winner_provider=script, participants=[{"provider": script, "response": "", "score": 1}]
    )
    make_job(script, "queued")

    html = operator_client.get(INDEX).content.decode()

    assert "<script>alert" not in html
    assert "<img src=x" not in html
    svgs = re.findall(r"<svg.*?</svg>", html, re.S)
    assert svgs
    assert not [svg for svg in svgs if "<script" in svg or "<img" in svg]
    assert any(
        '<text class="bar-label" x="164" y="15" text-anchor="end">'
        "&lt;script&gt;alert(1)&lt;/script&gt;</text>" in svg
        for svg in svgs
    )
    for key in ["tool-calls", "top-errors", "agent-tokens", "round-table", "job-queue"]:
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in panel_html(html, key), key
    assert "&lt;img src=x onerror=alert(2)&gt;" in panel_html(html, "top-errors")


def test_a_second_view_within_the_cache_time_runs_no_aggregate_query(operator_client):
    some_of_everything()
    operator_client.get(INDEX)  # what the process looks up once is out of the counts
    cache.clear()

    with CaptureQueriesContext(connection) as cold:
        operator_client.get(INDEX)
    with CaptureQueriesContext(connection) as warm:
        html = operator_client.get(INDEX).content.decode()

    # cold: the session, the user, one query per panel and the admin log; warm: no panel query
    assert len(cold) == 3 + len(PANEL_KEYS)
    assert len(warm) == 3
    tables = (
        "tool_executions",
        "agent_executions",
        "llm_round_table_results",
        "tasks",
        "jobs",
        "orders",
        "products",
    )
    assert not [
        q["sql"] for q in warm if any(f'"{t}"' in q["sql"] or f" {t} " in q["sql"] for t in tables)
    ]
    assert "index offline" in html  # the warm view shows the cached numbers


def test_the_cached_numbers_are_kept_for_the_configured_time_only(operator_client, settings):
    operator_client.get(INDEX)
    tool("late_tool", timezone.now())

    assert "late_tool" not in operator_client.get(INDEX).content.decode()  # cached "no data"

    settings.ADMIN_DASHBOARD_CACHE_SECONDS = 0
    cache.clear()
    operator_client.get(INDEX)
    tool("later_tool", timezone.now())
    assert "later_tool" in operator_client.get(INDEX).content.decode()


def test_the_index_page_runs_a_pinned_number_of_queries(operator_client, django_assert_num_queries):
    some_of_everything()
    operator_client.get(INDEX)
    cache.clear()

    with django_assert_num_queries(3 + len(PANEL_KEYS)):
        operator_client.get(INDEX)
    with django_assert_num_queries(3):
        operator_client.get(INDEX)


# --- the indexes ------------------------------------------------------------------------------

# The tables that grow without bound. products is the catalogue (thousands of rows, not
# millions): its low-stock query reads it whole, a few milliseconds, cached.
BIG_TABLES = {
    "tool_executions",
    "agent_executions",
    "llm_round_table_results",
    "tasks",
    "jobs",
    "orders",
    "events",
}


# The index each panel's query reads: the window's created_at index, or the queue's partial
# indexes (live jobs, dead jobs). The low-stock query reads the catalogue.
PANEL_INDEXES = {
    "tool-calls": {"tool_exec_created_idx"},
    "tool-durations": {"tool_exec_created_idx"},
    "top-errors": {"tool_exec_status_created_idx"},
    "agent-tokens": {"agent_exec_created_idx"},
    "round-table": {"llm_rt_created_idx"},
    "task-funnel": {"tasks_created_idx"},
    "job-queue": {"jobs_runnable_idx", "jobs_running_lease_idx", "jobs_dead_idx"},
    "orders": {"orders_created_idx"},
    "low-stock": set(),
}


def plan_nodes(node: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield node
    for child in node.get("Plans", []):
        yield from plan_nodes(child)


def weeks_of_older_calls(count: int = 300) -> None:
    """Tool calls of the month before the windows, over many tools, mostly successful, then fresh
    statistics: the planner's choice must be the one it makes on a table where the windows are
    a small part, not on a near-empty table's statistics (which autovacuum takes at any moment)."""
    user = UserFactory.create()
    now = timezone.now()
    ToolExecution.objects.bulk_create(
        ToolExecutionFactory.build(
            user=user,
            tool_name=f"older-tool-{n % 40}",
            status="failed" if n % 25 == 0 else "success",
            created_at=now - timedelta(days=8 + n % 20, minutes=n),
        )
        for n in range(count)
    )
    # and the day's calls, most of them successful: the errors are a few among them
    ToolExecution.objects.bulk_create(
        ToolExecutionFactory.build(
            user=user,
            tool_name=f"busy-tool-{n % 10}",
            status="success",
            created_at=now - timedelta(minutes=10 + n * 7),
        )
        for n in range(count // 5)
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE tool_executions")  # in the test's transaction: rolled back


@pytest.mark.parametrize("key", PANEL_KEYS)
def test_each_panel_is_one_query_that_reads_no_big_table_whole(key):
    some_of_everything()
    weeks_of_older_calls()
    with CaptureQueriesContext(connection) as captured:
        panel(key).load(timezone.now())
    assert len(captured) == 1

    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("EXPLAIN (FORMAT JSON) " + captured[0]["sql"])
        plan = cursor.fetchone()[0]
    plan = json.loads(plan) if isinstance(plan, str) else plan

    nodes = list(plan_nodes(plan[0]["Plan"]))
    scans = [(n["Node Type"], n.get("Relation Name")) for n in nodes if "Relation Name" in n]
    assert scans, plan
    assert not [s for s in scans if s[0] == "Seq Scan" and s[1] in BIG_TABLES], scans
    # and no index of a big table is walked whole: each is searched for a range (the window)
    # or is a partial index (the live jobs)
    walked_whole = [
        n["Index Name"]
        for n in nodes
        if n["Node Type"] in {"Index Scan", "Index Only Scan", "Bitmap Index Scan"}
        and "Index Cond" not in n
        and n["Index Name"] not in partial_indexes(BIG_TABLES)
    ]
    assert not walked_whole, plan
    assert {n["Index Name"] for n in nodes if "Index Name" in n} == PANEL_INDEXES[key]


def partial_indexes(tables: set[str]) -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexname FROM pg_indexes WHERE tablename = ANY(%s) AND indexdef LIKE %s",
            [list(tables), "% WHERE %"],
        )
        return {name for (name,) in cursor.fetchall()}


@pytest.fixture
def failing_panel() -> Iterator[dashboard.Panel]:
    def load(now: datetime) -> Any:
        with connection.cursor() as cursor:
            cursor.execute("SET statement_timeout = 1")
            try:
                cursor.execute("SELECT pg_sleep(1)")
            finally:
                cursor.execute("RESET statement_timeout")

    extra = dashboard.Panel(
        key="slow",
        title="Too slow",
        permission="commerce.view_order",
        load=load,
        render=lambda data: format_html("{}", data),
    )
    dashboard.register(extra)
    yield extra
    dashboard.unregister(extra.key)


@pytest.mark.django_db(transaction=True)  # autocommit, as a request runs
def test_a_panel_whose_query_fails_says_so_and_the_rest_of_the_page_renders(
    operator_client, failing_panel, caplog
):
    tool("search", timezone.now())

    response = operator_client.get(INDEX)

    assert response.status_code == 200
    html = response.content.decode()
    assert "Unavailable: its query failed" in panel_html(html, "slow")
    assert "<td>search</td>" in panel_html(html, "tool-calls")
    assert "The dashboard panel 'slow' failed" in caplog.text
    assert cache.get(dashboard.CACHE_KEY_PREFIX + "slow") is None  # tried again next time


# --- who sees what ----------------------------------------------------------------------------


@pytest.fixture
def admin_only_panel() -> Iterator[dashboard.Panel]:
    extra = dashboard.Panel(
        key="user-deletions",
        title="Accounts to delete",
        permission="commerce.delete_user",  # only admins hold it (User.ADMIN_ONLY_PERMISSIONS)
        load=lambda now: [1],
        render=lambda data: format_html("<p>{}</p>", "sensitive numbers"),
    )
    dashboard.register(extra)
    yield extra
    dashboard.unregister(extra.key)


def test_a_panel_is_shown_only_to_who_holds_its_permission(
    operator_client, admin_user, admin_only_panel
):
    admin_client = Client()
    admin_client.force_login(admin_user)

    assert "sensitive numbers" not in operator_client.get(INDEX).content.decode()
    html = admin_client.get(INDEX).content.decode()
    assert "sensitive numbers" in html
    assert 'id="dashboard-user-deletions"' in html


def test_the_dashboard_is_not_shown_to_who_may_not_enter_the_admin(agent_user):
    client = Client()
    client.force_login(agent_user)

    response = client.get(INDEX)

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))


def test_the_registry_holds_the_apps_panels_in_order():
    assert [p.key for p in dashboard.registered_panels()] == PANEL_KEYS
    assert {p.permission for p in agents_dashboard.PANELS + commerce_dashboard.PANELS} == {
        "agents_audit.view_toolexecution",
        "agents_audit.view_agentexecution",
        "agents_audit.view_llmroundtableresult",
        "agents_audit.view_task",
        "agents_audit.view_job",
        "commerce.view_order",
        "commerce.view_product",
    }
