"""The admin's post-mortem report page: every report renders, bad input is a form error, and
only staff get in."""

from __future__ import annotations

import types

import pytest
from django.test import Client

from agents_audit import reports
from agents_audit.reports import REPORTS
from tests.agents_audit import test_reports
from tests.agents_audit.test_reports import NOW, recent_tasks
from tests.commerce.factories import AgentUserFactory

pytestmark = pytest.mark.django_db

t = test_reports.t  # the dataset fixture, under its own name

PAGE = "/admin/agents_audit/task/reports/"


@pytest.fixture(autouse=True)
def reports_clock(monkeypatch):
    monkeypatch.setattr(reports, "timezone", types.SimpleNamespace(now=lambda: NOW))


def test_the_task_changelist_links_to_the_reports(operator_client):
    page = operator_client.get("/admin/agents_audit/task/")

    assert PAGE in page.content.decode()


def test_the_index_lists_every_report(operator_client):
    page = operator_client.get(PAGE)

    assert page.status_code == 200
    html = page.content.decode()
    assert all(f"{PAGE}{name}/" in html for name in REPORTS)


@pytest.mark.parametrize("name", sorted(REPORTS))
def test_every_report_renders_as_a_table(operator_client, t, name):
    query = f"?task={t['t1'].pk}" if name == "task-timeline" else ""

    page = operator_client.get(f"{PAGE}{name}/{query}")

    assert page.status_code == 200
    assert page.context["columns"] == REPORTS[name].columns
    assert page.context["rows"] is not None
    html = page.content.decode()
    assert all(f'<th scope="col">{column}</th>' in html for column in REPORTS[name].columns)


def test_a_report_shows_its_numbers(operator_client, t):
    page = operator_client.get(f"{PAGE}ai-cost-by-model/")

    assert page.context["rows"] == [
        ["claude-3", "2", "5100", "0.153000", "0.076500"],
        ["gpt-4o", "2", "2000", "0.060000", "0.030000"],
    ]


@pytest.mark.parametrize("days", ["0", "x", "99999"])
def test_a_bad_window_is_a_form_error(operator_client, days):
    page = operator_client.get(f"{PAGE}failed-tasks/?days={days}")

    assert page.status_code == 200
    assert "days" in page.context["form"].errors
    assert page.context["rows"] is None


def test_a_report_says_how_many_rows_it_shows(operator_client, t):
    page = operator_client.get(f"{PAGE}external-ai/")

    assert len(page.context["rows"]) == 3
    assert '<p class="report-rows">3 rows.</p>' in page.content.decode()


def test_a_report_shows_the_first_hundred_rows_and_says_there_are_more(operator_client):
    recent_tasks(101)

    page = operator_client.get(f"{PAGE}resource-usage/")

    assert len(page.context["rows"]) == 100
    assert (
        "Showing the first 100 rows only: the window has more. Raise the number of rows "
        "(at most 1000) or narrow the window."
    ) in page.content.decode()


def test_the_operator_may_ask_for_more_rows_or_fewer(operator_client, t):
    recent_tasks(101)

    more = operator_client.get(f"{PAGE}resource-usage/?limit=1000")
    fewer = operator_client.get(f"{PAGE}resource-usage/?days=30&limit=2")

    assert len(more.context["rows"]) == 101 + 8
    assert "the window has more" not in more.content.decode()
    assert len(fewer.context["rows"]) == 2
    assert "Showing the first 2 rows only" in fewer.content.decode()


@pytest.mark.parametrize("limit", ["0", "1001", "x", "-5"])
def test_a_bad_number_of_rows_is_a_form_error(operator_client, limit):
    page = operator_client.get(f"{PAGE}resource-usage/?limit={limit}")

    assert page.status_code == 200
    assert "limit" in page.context["form"].errors
    assert page.context["rows"] is None


def test_the_timeline_asks_for_a_task(operator_client):
    empty = operator_client.get(f"{PAGE}task-timeline/")
    bad = operator_client.get(f"{PAGE}task-timeline/?task=nope")

    assert empty.status_code == 200
    assert empty.context["rows"] is None
    assert "task" in bad.context["form"].errors


def test_an_unknown_report_is_a_404(operator_client):
    assert operator_client.get(f"{PAGE}nope/").status_code == 404


def test_non_staff_are_sent_to_the_login(db):
    client = Client()
    client.force_login(AgentUserFactory.create())

    page = client.get(PAGE)

    assert page.status_code == 302
    assert "/admin/login/" in page["Location"]
