"""The changelist search finds records by id on an index (issue 11): ``=field`` search fields
compare the whole term as written, which the column's b-tree index answers, where Django's own
``=field`` compares ``UPPER()``s and walks the table."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib import admin
from django.core.exceptions import EmptyResultSet
from django.db import connection, transaction
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext

from devskyy.admin import BoundedCountPaginator
from tests.agents_audit.factories import ToolExecutionFactory
from tests.commerce.factories import OrderFactory, UserFactory

pytestmark = pytest.mark.django_db


def id_search_admins() -> list[tuple[str, admin.ModelAdmin[Any]]]:
    """Every admin whose search is by exact ids only."""
    found = []
    for model, model_admin in admin.site._registry.items():
        fields = model_admin.search_fields
        if fields and all(name.startswith("=") for name in fields):
            found.append((f"{model._meta.label}", model_admin))
    return sorted(found, key=lambda item: item[0])


def plan(queryset: Any) -> str:
    try:
        sql, params = queryset.query.sql_with_params()
    except EmptyResultSet:
        return ""  # a related row looked up first was not there: no query to run
    with transaction.atomic(), connection.cursor() as cursor:
        # Empty tables: forbid the sequential scan, so that only a missing index shows one.
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute(f"EXPLAIN {sql}", params)
        return "\n".join(row[0] for row in cursor.fetchall())


@pytest.mark.parametrize(("label", "model_admin"), id_search_admins(), ids=lambda v: str(v))
def test_an_id_search_uses_an_index(label, model_admin, admin_user):
    request = RequestFactory().get("/")
    request.user = admin_user
    queryset = model_admin.get_queryset(request)
    results, _ = model_admin.get_search_results(request, queryset, "0a1b2c3d-some-id")
    text = plan(results)
    assert "Seq Scan" not in text, f"{label}: {model_admin.search_fields}\n{text}"
    assert "upper(" not in text.lower(), text


def changelist(client: Any, model: str, **params: str) -> Any:
    response = client.get(f"/admin/{model}/", params)
    assert response.status_code == 200
    return response


def test_a_tool_execution_is_found_by_its_exact_correlation_id_only(operator_client):
    wanted = ToolExecutionFactory.create(correlation_id="Trace-7f3A")
    ToolExecutionFactory.create(correlation_id="trace-7f3a-2")

    found = changelist(operator_client, "agents_audit/toolexecution", q=" Trace-7f3A ")
    other_case = changelist(operator_client, "agents_audit/toolexecution", q="TRACE-7F3A")

    assert list(found.context["cl"].result_list) == [wanted]
    assert list(other_case.context["cl"].result_list) == []  # ids are compared as written


def test_a_term_no_id_can_be_is_no_match_not_an_error(operator_client):
    ToolExecutionFactory.create()

    for term in ("x" * 500, "not-a-uuid", "a\u0000b"):
        response = operator_client.get("/admin/agents_audit/checkpoint/", {"q": term})
        assert response.status_code in (200, 302)  # a NUL is refused with a message
        if response.status_code == 200:
            assert list(response.context["cl"].result_list) == []


def test_an_admin_with_word_fields_too_keeps_djangos_word_search(operator_client):
    """Orders: an exact order number, or every word in the customer's username or email."""
    by_number = OrderFactory.create(order_number="TEST-ORD-4711")
    by_user = OrderFactory.create(user=UserFactory.create(username="ada.lovelace"))

    def found(term: str) -> list[Any]:
        return list(changelist(operator_client, "commerce/order", q=term).context["cl"].result_list)

    assert found("TEST-ORD-4711") == [by_number]
    assert found("test-ord-4711") == []
    assert found("lovelace") == [by_user]
    assert found("ada lovelace") == [by_user]  # every word, each in one of the fields
    assert found("ada babbage") == []
    assert found('"ada.lovelace"') == [by_user]


def test_the_bounded_count_does_not_sort(operator_client):
    ToolExecutionFactory.create_batch(3)

    with CaptureQueriesContext(connection) as queries:
        changelist(operator_client, "agents_audit/toolexecution", o="-1")

    counts = [q["sql"] for q in queries.captured_queries if "COUNT(" in q["sql"].upper()]
    assert counts, [q["sql"] for q in queries.captured_queries]
    assert all("ORDER BY" not in sql.upper() for sql in counts), counts


def test_a_count_that_reached_its_limit_says_so(operator_client, monkeypatch):
    monkeypatch.setattr(BoundedCountPaginator, "COUNT_LIMIT", 3)
    ToolExecutionFactory.create_batch(4)

    html = changelist(operator_client, "agents_audit/toolexecution").content.decode()

    assert "3+ tool executions" in html
    assert "_facets" not in html  # no "Show counts": a full count per filter choice


def test_a_count_under_its_limit_is_exact(operator_client):
    ToolExecutionFactory.create_batch(2)

    html = changelist(operator_client, "agents_audit/toolexecution").content.decode()

    assert "2 tool executions" in html
    assert "2+" not in html
