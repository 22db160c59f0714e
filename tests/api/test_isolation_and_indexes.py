"""Agents never see each other's records, and every API filter is backed by an index."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from rest_framework.throttling import UserRateThrottle

from agents_audit.filters import AgentExecutionFilter, RoundTableResultFilter, ToolExecutionFilter
from commerce.filters import OrderFilter, ProductFilter
from knowledge.filters import RAGDocumentFilter, SourceFilter
from tests import catalog
from tests.agents_audit.factories import (
    AgentExecutionFactory,
    LLMRoundTableResultFactory,
    ToolExecutionFactory,
)

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("url", "factory", "filters"),
    [
        (
            "/api/v1/tool-executions/",
            ToolExecutionFactory,
            ["correlation_id", "tool_name", "agent_id", "status"],
        ),
        ("/api/v1/agent-executions/", AgentExecutionFactory, ["agent_name", "status"]),
        ("/api/v1/round-table-results/", LLMRoundTableResultFactory, ["task_category"]),
    ],
)
def test_agent_b_sees_none_of_agent_a_records_by_list_detail_or_filter(
    agent_a, agent_client, agent_b_client, url, factory, filters
):
    record = factory.create(user=agent_a)
    lookup = {
        "/api/v1/agent-executions/": "execution_id",
        "/api/v1/round-table-results/": "result_id",
    }.get(url, "pk")
    assert [r["id"] for r in agent_client.get(url).json()["results"]] == [str(record.id)]

    assert agent_b_client.get(url).json()["results"] == []
    assert agent_b_client.get(f"{url}{getattr(record, lookup)}/").status_code == 404
    for name in filters:
        response = agent_b_client.get(url, {name: getattr(record, name)})
        assert response.status_code == 200
        assert response.json()["results"] == [], name


FILTERED_TABLES = [
    (ToolExecutionFilter, "tool_executions"),
    (AgentExecutionFilter, "agent_executions"),
    (RoundTableResultFilter, "llm_round_table_results"),
    (OrderFilter, "orders"),
    (ProductFilter, "products"),
    (RAGDocumentFilter, "rag_documents"),
    (SourceFilter, "rag_sources"),
]


@pytest.mark.parametrize(
    ("filterset", "table"), FILTERED_TABLES, ids=[t for _, t in FILTERED_TABLES]
)
def test_every_filter_column_leads_an_index(filterset, table):
    model = filterset._meta.model
    leading = catalog.leading_index_columns(table)
    for name, flt in filterset.base_filters.items():
        if name in {"search", "ordering"}:
            continue
        local, *remote = flt.field_name.split("__")
        field = model._meta.get_field(local)
        assert field.column in leading, f"{table}.{field.column} (filter {name}) has no index"
        if remote:  # a lookup through a foreign key: the far side needs its index too
            (far,) = remote
            related = field.related_model._meta
            column = related.get_field(far).column
            assert column in catalog.leading_index_columns(related.db_table), (
                f"{related.db_table}.{column} (filter {name}) has no index"
            )


def test_product_search_is_answered_by_the_trigram_indexes():
    from django.db import connection, transaction

    from commerce.filters import ProductFilter
    from commerce.models import Product

    queryset = ProductFilter({"search": "ring"}, queryset=Product.objects.all()).qs.order_by()
    sql, params = queryset.query.sql_with_params()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")  # an empty table: force the choice
        cursor.execute(f"EXPLAIN {sql}", params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    for index in ("products_sku_trgm", "products_name_trgm", "products_description_trgm"):
        assert index in plan, plan


def test_a_caller_over_the_rate_gets_a_429_with_retry_after(agent_client, monkeypatch):
    monkeypatch.setattr(UserRateThrottle, "THROTTLE_RATES", {"user": "2/minute"})
    cache.clear()
    codes = [agent_client.get("/api/v1/users/me/").status_code for _ in range(2)]
    response = agent_client.get("/api/v1/users/me/")
    assert codes == [200, 200]
    assert response.status_code == 429
    assert response.json()["code"] == "throttled"
    assert int(response["Retry-After"]) > 0


def test_a_wait_under_a_second_is_a_retry_after_of_one_not_zero(agent_client, monkeypatch):
    """``Retry-After`` counts whole seconds: a wait of 0.99 s rounds up (0 would invite an
    immediate retry, which the throttle refuses again)."""
    monkeypatch.setattr(UserRateThrottle, "THROTTLE_RATES", {"user": "1/second"})
    cache.clear()
    assert agent_client.get("/api/v1/users/me/").status_code == 200
    response = agent_client.get("/api/v1/users/me/")
    assert response.status_code == 429
    assert response["Retry-After"] == "1"


@pytest.mark.parametrize("size", [3, 40])
def test_round_table_and_user_lists_run_a_constant_number_of_queries(
    admin_api, admin_user, size, django_assert_num_queries
):
    from tests.commerce.factories import UserFactory

    LLMRoundTableResultFactory.create_batch(size, user=admin_user)
    UserFactory.create_batch(size)
    with django_assert_num_queries(2):
        assert len(admin_api.get("/api/v1/round-table-results/").json()["results"]) == size
    with django_assert_num_queries(2):
        assert len(admin_api.get("/api/v1/users/?page_size=200").json()["results"]) >= size
