"""Substring search only where a trigram index backs it (issue 11). Every admin's word search
(``icontains`` over its non-``=`` search fields) is answered by indexes, a search across a
relation (orders by their customer's username or email) by a subquery on the related table
that its trigram indexes answer, never a join whose OR no index serves. Admins are discovered
from ``admin.site._registry``."""

from __future__ import annotations

import contextlib
from typing import Any

import factory
import pytest
from django.contrib import admin
from django.core.exceptions import EmptyResultSet
from django.db import connection
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext

from agents_audit.models import LLMRoundTableResult
from commerce.models import Order
from devskyy import admin as devskyy_admin
from tests.admin_plans import explain, explain_sql, nodes, registered_admins
from tests.agents_audit.factories import (
    ExecutionLogFactory,
    LLMRoundTableResultFactory,
    ProjectFactory,
    TaskFactory,
)
from tests.commerce.factories import OrderFactory, UserFactory

pytestmark = pytest.mark.django_db

WORD_SEARCH_ADMINS = [
    (label, model_admin)
    for label, model_admin in registered_admins()
    if any(not name.startswith("=") for name in model_admin.search_fields)
]


def search(model_admin: Any, user: Any, term: str) -> Any:
    request = RequestFactory().get("/", {"q": term})
    request.user = user
    results, _ = model_admin.get_search_results(request, model_admin.get_queryset(request), term)
    return results


def search_plans(model_admin: Any, user: Any, term: str) -> list[dict[str, Any]]:
    """Every plan node of a search: the look-ups of related rows it runs first (their ids then go
    in the list's query), and the list's query itself."""
    with CaptureQueriesContext(connection) as first:
        results = search(model_admin, user, term)
    plans = [explain_sql(query["sql"], None, search=True) for query in first.captured_queries]
    with contextlib.suppress(EmptyResultSet):  # no related row matched: nothing left to ask
        plans.append(explain(results, search=True))
    return [node for plan in plans for node in nodes(plan)]


def test_the_word_searches_are_those_with_trigram_indexes():
    assert {label: admin.search_fields for label, admin in WORD_SEARCH_ADMINS} == {
        "agents_audit.ExecutionLog": ("=task__thread_id", "action"),
        "agents_audit.Project": ("name",),
        "agents_audit.Task": ("request_text", "=thread_id"),
        "commerce.Order": ("=order_number", "user__username", "user__email"),
        "commerce.Product": ("sku", "name", "description"),
        "commerce.User": ("username", "email", "full_name"),
        "commerce.UserAPIKey": ("name", "=prefix", "user__username"),
        "devskyy.IdempotencyRecord": ("=key", "user__username"),
    }


@pytest.mark.parametrize("term", ["lovelace", "ada lovelace"])
@pytest.mark.parametrize(
    ("label", "model_admin"), WORD_SEARCH_ADMINS, ids=[label for label, _ in WORD_SEARCH_ADMINS]
)
def test_each_word_search_uses_trigram_indexes_and_scans_no_table(
    label, model_admin, term, admin_user
):
    UserFactory.create(username="ada_lovelace")  # a customer the words match
    plan = search_plans(model_admin, admin_user, term)

    scans = [
        node.get("Relation Name", node.get("Index Name"))
        for node in plan
        if node["Node Type"] in {"Seq Scan", "Index Scan", "Index Only Scan"}
        and "Index Cond" not in node
    ]
    trigram = {node["Index Name"] for node in plan if node.get("Index Name", "").endswith("_trgm")}
    assert not scans, plan
    assert trigram, plan


def test_orders_are_found_by_their_customers_ids_looked_up_first_not_a_join(admin_user):
    UserFactory.create(username="ada_lovelace")
    order_admin = admin.site._registry[Order]

    with CaptureQueriesContext(connection) as first:
        results = search(order_admin, admin_user, "ada")
    plan = list(nodes(explain(results, search=True)))

    # the customers first, on their trigram indexes...
    (lookup,) = first.captured_queries
    lookup_plan = list(nodes(explain_sql(lookup["sql"], None, search=True)))
    assert {"users_username_trgm", "users_email_trgm"} <= {n.get("Index Name") for n in lookup_plan}
    # ...then the orders by their number, or by their customer's id (orders_user_created_idx)
    indexes = {node.get("Index Name") for node in plan}
    assert {"orders_order_number_key", "orders_user_created_idx"} <= indexes, indexes
    assert not [node for node in plan if "Join" in node["Node Type"]], plan


def test_a_word_most_customers_have_is_tested_on_each_order_as_the_list_walks_its_order(
    operator_client, monkeypatch
):
    monkeypatch.setattr(devskyy_admin, "RELATED_MATCHES_LISTED", 2)
    customers = UserFactory.create_batch(3, email=factory.Sequence(lambda n: f"c{n}@shop.example"))
    orders = [OrderFactory.create(user=customer) for customer in customers]
    OrderFactory.create(user=UserFactory.create(email="someone@elsewhere.example"))

    with CaptureQueriesContext(connection) as queries:
        found_orders = found(operator_client, "commerce/order", "shop.example")

    assert sorted(o.pk for o in found_orders) == sorted(o.pk for o in orders)
    listing = next(q["sql"] for q in queries.captured_queries if 'FROM "orders"' in q["sql"])
    assert '"orders"."user_id" IN (SELECT' in listing  # a subquery, not 3 ids


def found(client: Any, model: str, term: str) -> list[Any]:
    response = client.get(f"/admin/{model}/", {"q": term})
    assert response.status_code == 200
    return list(response.context["cl"].result_list)


def test_orders_are_found_by_part_of_their_customers_username_or_email(operator_client):
    ada = UserFactory.create(username="ada.lovelace", email="countess@analytical.example")
    wanted = OrderFactory.create(user=ada)
    OrderFactory.create(user=UserFactory.create(username="charles"))
    OrderFactory.create(user=None)

    assert found(operator_client, "commerce/order", "LOVELACE") == [wanted]
    assert found(operator_client, "commerce/order", "analytical") == [wanted]
    assert found(operator_client, "commerce/order", "ada countess") == [wanted]  # each word
    assert found(operator_client, "commerce/order", "ada charles") == []
    assert found(operator_client, "commerce/order", wanted.order_number) == [wanted]


def test_users_are_found_by_part_of_their_username_email_or_name(operator_client):
    wanted = UserFactory.create(username="gh", email="grace@navy.example", full_name="Grace Hopper")
    UserFactory.create(username="alan", full_name="Alan Turing")

    assert wanted in found(operator_client, "commerce/user", "hopper")
    assert found(operator_client, "commerce/user", "navy") == [wanted]
    assert "alan" not in [u.username for u in found(operator_client, "commerce/user", "hopper")]


def test_tasks_log_steps_and_projects_are_found_by_a_word_of_their_text(operator_client):
    task = TaskFactory.create(request_text="Rotate the TLS certificates of the shop")
    step = ExecutionLogFactory.create(action="kubectl rollout restart deploy/shop")
    project = ProjectFactory.create(name="Autumn Catalogue")

    assert found(operator_client, "agents_audit/task", "certificates") == [task]
    assert found(operator_client, "agents_audit/executionlog", "ROLLOUT") == [step]
    assert found(operator_client, "agents_audit/project", "catalog") == [project]


def test_round_table_results_are_found_by_their_exact_winner(operator_client):
    wanted = LLMRoundTableResultFactory.create(winner_provider="openai")
    LLMRoundTableResultFactory.create(winner_provider="anthropic")

    assert found(operator_client, "agents_audit/llmroundtableresult", "openai") == [wanted]
    assert found(operator_client, "agents_audit/llmroundtableresult", "open") == []
    assert LLMRoundTableResult.objects.count() == 2
