"""Times in the admin have seconds and their zone, and every audit row's page says when it was
written (issue 11: pages showed "Nov. 27, 2026, 4:37 a.m." and tool executions none at all)."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from django.urls import reverse

from agents_audit.models import ToolExecution
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
