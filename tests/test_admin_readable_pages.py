"""Times in the admin have seconds and their zone, every audit row's page says when it was
written, and its JSON reads as JSON (issue 11: pages showed "Nov. 27, 2026, 4:37 a.m.", tool
executions no time at all, and JSON as one compact line)."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from django.urls import reverse

from agents_audit.models import ToolExecution
from devskyy.admin import human_duration
from tests.agents_audit.factories import (
    AgentExecutionFactory,
    ToolExecutionFactory,
)

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
