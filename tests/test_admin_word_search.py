"""Substring search only where a trigram index backs it (issue 11). Every admin's word search
(``icontains`` over its non-``=`` search fields) is answered by indexes, a search across a
relation (orders by their customer's username or email) by a subquery on the related table
that its trigram indexes answer, never a join whose OR no index serves. Admins are discovered
from ``admin.site._registry``."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import RequestFactory

from agents_audit.models import LLMRoundTableResult
from tests.admin_plans import explain, nodes, registered_admins
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
    plan = list(nodes(explain(search(model_admin, admin_user, term), search=True)))

    scans = [
        node.get("Relation Name", node.get("Index Name"))
        for node in plan
        if node["Node Type"] in {"Seq Scan", "Index Scan", "Index Only Scan"}
        and "Index Cond" not in node
    ]
    trigram = {node["Index Name"] for node in plan if node.get("Index Name", "").endswith("_trgm")}
    assert not scans, plan
    assert trigram, plan


def test_orders_are_found_by_a_subquery_on_users_not_a_join(admin_user):
    from django.contrib import admin

    from commerce.models import Order

    plan = list(nodes(explain(search(admin.site._registry[Order], admin_user, "ada"), search=True)))

    indexes = {node.get("Index Name") for node in plan}
    assert {"users_username_trgm", "users_email_trgm"} <= indexes
    # the orders themselves: by their number, or by their customer (orders_user_created_idx)
    assert {"orders_order_number_key", "orders_user_created_idx"} <= indexes, indexes
    assert not [node for node in plan if "Join" in node["Node Type"]], plan


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
