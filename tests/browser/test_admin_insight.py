"""What an operator looks at, in Chromium: the dashboard's charts on the admin index, and one
trace's timeline reached from the rows that carry its id."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest
from django.urls import reverse
from playwright.sync_api import Page, expect

from tests.browser import pages
from tests.browser.world import CORRELATION_ID, ConsoleWorld

Screenshot = Callable[[Page, str], Path]


@pytest.fixture
def fresh_dashboard(settings: pytest.FixtureRequest) -> None:
    """The live server shares this process's cache: no panel computed by an earlier test."""
    settings.ADMIN_DASHBOARD_CACHE_SECONDS = 0  # type: ignore[attr-defined]


def test_the_dashboard_draws_the_platforms_health_with_data(
    operator_page: Page, world: ConsoleWorld, fresh_dashboard: None, screenshot: Screenshot
) -> None:
    page = operator_page
    page.goto("/admin/")

    dashboard = page.locator("#dashboard")
    expect(dashboard).to_be_visible()
    tool_calls = page.locator("#dashboard-tool-calls svg.dashboard-chart")
    expect(tool_calls).to_be_visible()
    # one bar row per tool called in the world: search, charge (one failed), list, ship (timeout)
    expect(tool_calls.locator("g.bar-row")).to_have_count(4)
    expect(tool_calls.locator("text.bar-label", has_text="charge_card").first).to_be_visible()
    expect(tool_calls.locator("rect.bar-failed").first).to_be_visible()
    expect(page.locator("#dashboard-top-errors")).to_contain_text("card declined")
    expect(page.locator("#dashboard-orders svg.dashboard-chart g.day-column").last).to_be_visible()
    expect(page.locator("#dashboard-task-funnel")).not_to_contain_text("No data")
    expect(page.locator("#dashboard-job-queue")).to_contain_text("task.execute")
    # each chart has a real size on the page, not an empty box
    box = tool_calls.bounding_box()
    assert box is not None
    assert box["width"] > 200
    assert box["height"] > 40
    screenshot(page, "dashboard")


def test_a_correlation_ids_trace_opens_from_a_calls_row_on_one_timeline(
    operator_page: Page, world: ConsoleWorld, screenshot: Screenshot
) -> None:
    page = operator_page
    page.goto(reverse("admin:agents_audit_toolexecution_changelist") + f"?q={CORRELATION_ID}")
    expect(pages.result_rows(page)).to_have_count(len(world.traced))

    pages.result_rows(page).first.locator("a.trace-link").click()

    expect(page).to_have_url(re.compile(rf"/trace/\?correlation_id={CORRELATION_ID}$"))
    entries = page.locator("#trace-timeline tr.trace-entry")
    expect(entries).to_have_count(len(world.traced))
    # oldest first, offsets from the first, to the millisecond
    expect(entries.first.locator(".trace-offset")).to_have_text("+0.000 s")
    expect(entries.first.locator(".trace-time")).to_contain_text(re.compile(r"\d{2}:\d{2}\.\d{3}"))
    offsets = [int(str(e.get_attribute("data-offset-ms"))) for e in entries.all()]
    assert offsets == sorted(offsets)
    assert offsets[0] == 0
    failed = entries.filter(has=page.locator(".trace-error"))
    expect(failed).to_have_count(1)
    expect(failed.locator(".trace-error")).to_have_text("card declined")
    expect(failed.locator(".status-bad")).to_be_visible()
    expect(failed.locator(".trace-bar").first).to_be_visible()
    # JSON starts folded and opens on a click
    folded = entries.first.locator("details.trace-json").first
    expect(folded).not_to_have_attribute("open", "")
    folded.locator("summary").click()
    expect(folded).to_have_attribute("open", "")
    screenshot(page, "trace")


def test_a_tasks_page_links_to_its_trace_with_its_jobs_and_events(
    operator_page: Page, world: ConsoleWorld, screenshot: Screenshot
) -> None:
    page = operator_page
    page.goto(reverse("admin:agents_audit_task_change", args=[world.task.pk]))

    page.locator("#content a.trace-link").first.click()

    expect(page).to_have_url(re.compile(rf"/trace/\?task={world.task.pk}$"))
    timeline = page.locator("#trace-timeline")
    for kind in ("task", "job", "event", "execution_log"):
        expect(timeline.locator(f"tr.trace-entry[data-kind='{kind}']").first).to_be_visible()
    screenshot(page, "task-trace")
