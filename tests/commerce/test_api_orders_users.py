"""/api/v1/orders/ (read-only here) and /api/v1/users/."""

from __future__ import annotations

import pytest

from commerce.models import User
from tests.commerce.factories import OrderFactory
from tests.conftest import error_codes

pytestmark = pytest.mark.django_db


def test_an_agent_lists_only_its_own_orders(agent_client, agent_a, agent_b):
    mine = OrderFactory.create(user=agent_a)
    OrderFactory.create(user=agent_b)
    OrderFactory.create(user=None)  # a guest order
    body = agent_client.get("/api/v1/orders/").json()
    assert [o["id"] for o in body["results"]] == [str(mine.id)]
    assert body["results"][0]["total_price"] == "100.00"


def test_operators_filter_orders_by_status_and_user(operator_api, agent_a):
    wanted = OrderFactory.create(user=agent_a, status="processing")
    OrderFactory.create(user=agent_a, status="pending")
    OrderFactory.create(status="processing")
    body = operator_api.get(f"/api/v1/orders/?status=processing&user={agent_a.id}").json()
    assert [o["id"] for o in body["results"]] == [str(wanted.id)]
    assert operator_api.get("/api/v1/orders/?user=not-a-uuid").status_code == 400


def test_orders_list_runs_a_constant_number_of_queries(operator_api, django_assert_num_queries):
    OrderFactory.create_batch(25)
    with django_assert_num_queries(3):  # key, orders, their lines
        assert len(operator_api.get("/api/v1/orders/").json()["results"]) == 25


def test_me_describes_the_caller_without_secrets(agent_client, agent_a):
    body = agent_client.get("/api/v1/users/me/").json()
    assert body["id"] == str(agent_a.id)
    assert body["role"] == "agent"
    assert "password" not in body
    assert "password_hash" not in body


def test_admins_list_users(admin_api, agent_a):
    body = admin_api.get("/api/v1/users/").json()
    assert str(agent_a.id) in {u["id"] for u in body["results"]}


@pytest.mark.parametrize(
    ("overrides", "errors"),
    [
        ({"username": "bad name"}, {"username": ["invalid"]}),
        ({"username": " padded"}, {"username": ["invalid"]}),
        ({"username": "slash/y"}, {"username": ["invalid"]}),
        ({"email": " x@example.com"}, {"email": ["invalid"]}),
        ({"password": "short pass"}, {"password": ["min_length"]}),
    ],
)
def test_account_fields_follow_the_patterns_the_schema_shows(admin_api, overrides, errors):
    body = {"username": "new.user", "email": "x@example.com", "role": "agent", **overrides}
    response = admin_api.post("/api/v1/users/", body, format="json")
    assert response.status_code == 400
    assert error_codes(response.json()) == errors
    assert not User.objects.filter(email__contains="x@example.com").exists()


def test_a_unicode_username_is_accepted_as_django_allows_it(admin_api):
    body = {"username": "zoë.müller+1@shop", "email": "z@example.com", "role": "agent"}
    response = admin_api.post("/api/v1/users/", body, format="json")
    assert response.status_code == 201, response.json()
