"""An operator's day in the admin, in Chromium: log in, open every list, find a trace's calls by
its id, filter to the failures, read an audit record that cannot be changed. Agents stay out."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from django.contrib import admin
from django.test import RequestFactory
from django.urls import reverse
from playwright.sync_api import Page, expect

from commerce.models import User
from tests.browser import pages
from tests.browser.world import CORRELATION_ID, ConsoleWorld

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
Screenshot = Callable[[Page, str], Path]


def changelists_for(user: User) -> set[str]:
    """The changelists Django's admin lets ``user`` see, from its own registry."""
    request = RequestFactory().get(reverse("admin:index"))
    request.user = user
    return {
        model["admin_url"] for app in admin.site.get_app_list(request) for model in app["models"]
    }


def test_an_operator_logs_in_through_the_form_and_sees_the_styled_index(
    page: Page, base_url: str, operator: User, screenshot: Screenshot
) -> None:
    page.goto("/admin/")
    expect(page).to_have_url(re.compile(r"/admin/login/\?next=/admin/$"))

    pages.log_in(page, operator.username)

    expect(page).to_have_url(f"{base_url}/admin/")
    expect(page.locator("#user-tools")).to_contain_text(operator.username, ignore_case=True)
    expect(page.get_by_role("link", name="Tool executions")).to_be_visible()
    # The admin's stylesheets loaded (a missing one is an HTTP error, which `page` reports too).
    header = page.evaluate("getComputedStyle(document.querySelector('#header')).backgroundColor")
    assert header not in {"rgba(0, 0, 0, 0)", "transparent"}
    path = screenshot(page, "admin-index")
    assert path.read_bytes().startswith(PNG_SIGNATURE)


def test_every_changelist_on_the_index_opens_and_shows_its_table(
    operator_page: Page, operator: User, world: ConsoleWorld
) -> None:
    page = operator_page
    page.goto("/admin/")
    links = page.locator("#content-main tr[class^='model-'] th a")
    listed = {str(link.get_attribute("href")) for link in links.all()}
    assert listed == changelists_for(operator)

    failures = {}
    for href in sorted(listed):
        response = page.goto(href)
        assert response is not None
        rows = pages.result_rows(page).count()
        if not response.ok or rows == 0:
            failures[href] = f"HTTP {response.status}, {rows} rows"
    assert failures == {}


def test_searching_by_a_correlation_id_finds_that_traces_calls_only(
    operator_page: Page, world: ConsoleWorld
) -> None:
    page = operator_page
    page.goto(reverse("admin:agents_audit_toolexecution_changelist"))
    expect(pages.result_rows(page)).to_have_count(len(world.traced) + len(world.others))

    page.locator("#searchbar").fill(CORRELATION_ID)
    page.locator("#searchbar").press("Enter")

    expect(page).to_have_url(re.compile(rf"\?q={CORRELATION_ID}$"))
    rows = pages.result_rows(page)
    expect(rows).to_have_count(len(world.traced))
    for row in rows.all():
        expect(row).to_contain_text(CORRELATION_ID)


def test_the_status_filter_shows_only_the_failed_calls(
    operator_page: Page, world: ConsoleWorld
) -> None:
    page = operator_page
    page.goto(reverse("admin:agents_audit_toolexecution_changelist"))

    page.locator("#changelist-filter").get_by_role("link", name="Failed", exact=True).click()

    expect(page).to_have_url(re.compile(r"\?status__exact=failed$"))
    rows = pages.result_rows(page)
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("charge_card")
    expect(rows.first).to_contain_text("Failed")


def test_a_tool_execution_page_offers_no_save_and_no_delete(
    operator_page: Page, world: ConsoleWorld, screenshot: Screenshot
) -> None:
    failed = world.traced[1]
    page = operator_page
    page.goto(reverse("admin:agents_audit_toolexecution_change", args=[failed.pk]))

    content = page.locator("#content")
    expect(content).to_contain_text(CORRELATION_ID)
    expect(content).to_contain_text("card declined")
    expect(content.locator("input[type=submit]")).to_have_count(0)
    expect(content.get_by_role("link", name="Delete")).to_have_count(0)
    path = screenshot(page, "tool-execution-change")
    assert path.read_bytes().startswith(PNG_SIGNATURE)


def test_an_order_page_offers_no_save_and_no_delete(
    operator_page: Page, world: ConsoleWorld
) -> None:
    page = operator_page
    page.goto(reverse("admin:commerce_order_change", args=[world.order.pk]))

    content = page.locator("#content")
    expect(content).to_contain_text(world.order.order_number)
    expect(content).to_contain_text("RING-001")
    expect(content.locator("input[type=submit]")).to_have_count(0)
    expect(content.get_by_role("link", name="Delete")).to_have_count(0)


def test_an_agent_cannot_log_in(page: Page, agent_user: User) -> None:
    pages.log_in(page, agent_user.username)

    expect(page).to_have_url(re.compile(r"/admin/login/"))
    expect(page.locator(".errornote")).to_contain_text("staff account")
    page.goto("/admin/")
    expect(page).to_have_url(re.compile(r"/admin/login/\?next=/admin/$"))


def test_an_order_is_cancelled_from_its_page_after_a_confirmation(
    operator_page: Page, world: ConsoleWorld, screenshot: Screenshot
) -> None:
    page = operator_page
    order_url = reverse("admin:commerce_order_change", args=[world.order.pk])
    page.goto(order_url)

    page.locator("a.object-action-cancel").click()

    form = page.locator("form#object-action-confirm")
    expect(page.locator(".object-action-question")).to_contain_text(world.order.order_number)
    form.locator("textarea, input[type=text]").first.fill("Customer called to cancel")
    form.locator("input.object-action-submit").click()

    expect(page).to_have_url(f"{page.url.split('/admin/')[0]}{order_url}")
    expect(page.locator("ul.messagelist li.success")).to_contain_text(world.order.order_number)
    expect(page.locator("#content")).to_contain_text("Cancelled")
    expect(page.locator("a.object-action-cancel")).to_have_count(0)  # nothing left to cancel
    world.order.refresh_from_db()
    assert world.order.status == "cancelled"
    screenshot(page, "order-cancelled")
