"""Review: a date-time filter at the edge of the calendar Python holds.

Found in review: ``?created_after=0001-01-01T00:00:00+23:59`` (a valid RFC 3339 date-time whose
UTC moment falls in year 0) was a 500 (``OverflowError`` converting it to UTC) on every list
with a date-time filter, on the fast filter path and on django-filter's alike; so was year 9999
with a negative offset. Such a moment now stands for the earliest or latest one Python holds,
which selects the same rows.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.agents_audit.factories import (
    AgentExecutionFactory,
    LLMRoundTableResultFactory,
    ToolExecutionFactory,
)
from tests.commerce.factories import OrderFactory

pytestmark = pytest.mark.django_db

BEFORE_YEAR_1 = "0001-01-01T00:00:00+23:59"
AFTER_YEAR_9999 = "9999-12-31T23:59:59-23:59"
LISTS: dict[str, Any] = {
    "/api/v1/tool-executions/": ToolExecutionFactory,  # the fast filter path
    "/api/v1/agent-executions/": AgentExecutionFactory,
    "/api/v1/round-table-results/": LLMRoundTableResultFactory,
    "/api/v1/orders/": OrderFactory,  # django-filter
}


@pytest.mark.parametrize("url", LISTS)
@pytest.mark.parametrize(
    ("query", "finds_the_row"),
    [
        ({"created_after": BEFORE_YEAR_1}, True),
        ({"created_before": BEFORE_YEAR_1}, False),
        ({"created_after": AFTER_YEAR_9999}, False),
        ({"created_before": AFTER_YEAR_9999}, True),
    ],
)
def test_a_moment_beyond_the_years_python_holds_filters_like_its_nearest(
    admin_api, url, query, finds_the_row
):
    LISTS[url].create()

    response = admin_api.get(url, query)

    assert response.status_code == 200, response.json()
    assert len(response.json()["results"]) == (1 if finds_the_row else 0)
