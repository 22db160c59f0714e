"""POST /api/v1/orders/ and the order actions."""

from __future__ import annotations

from decimal import Decimal

import pytest
from rest_framework.test import APIClient

from commerce.models import Order, Product, User
from tests.commerce.factories import ProductFactory, UserFactory
from tests.conftest import error_codes

pytestmark = pytest.mark.django_db

URL = "/api/v1/orders/"


@pytest.fixture
def ring():
    return ProductFactory.create(
        sku="RING", name="Gold ring", price=Decimal("19.99"), inventory_quantity=5
    )


def body(**overrides):
    return {
        "items": [{"sku": "RING", "quantity": 2}],
        "shipping": {"city": "Lyon"},
        "payment_method": "card",
        **overrides,
    }


def test_an_agent_places_an_order_for_itself(agent_client, agent_a, ring):
    response = agent_client.post(URL, body(), format="json")
    assert response.status_code == 201, response.json()
    data = response.json()
    assert data["user"] == str(agent_a.id)
    assert data["status"] == "pending"
    assert (data["subtotal"], data["total_price"]) == ("39.98", "39.98")
    assert data["lines"] == [
        {
            "sku": "RING",
            "name": "Gold ring",
            "unit_price": "19.99",
            "quantity": 2,
            "line_total": "39.98",
            "product": str(ring.id),
        }
    ]
    ring.refresh_from_db()
    assert ring.inventory_quantity == 3


def test_a_customer_with_a_session_places_and_cancels_an_order(ring):
    customer = UserFactory.create(role="customer")
    client = APIClient()
    client.force_login(customer)
    order = client.post(URL, body(), format="json").json()
    assert order["user"] == str(customer.id)
    response = client.post(
        f"{URL}{order['id']}/cancel/", {"reason": "changed my mind"}, format="json"
    )
    assert response.status_code == 200
    assert response.json()["status"] == "cancelled"
    ring.refresh_from_db()
    assert ring.inventory_quantity == 5


def test_out_of_stock_is_a_409_naming_the_sku(agent_client, ring):
    response = agent_client.post(URL, body(items=[{"sku": "RING", "quantity": 6}]), format="json")
    assert response.status_code == 409
    assert response.json() == {
        "code": "insufficient_stock",
        "detail": "Only 5 of 'RING' in stock; 6 requested.",
        "sku": "RING",
        "requested": 6,
        "available": 5,
    }
    assert not Order.objects.exists()


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"items": []}, "items"),
        ({"items": [{"sku": "RING", "quantity": 0}]}, "items"),
        ({"items": [{"sku": "NOPE", "quantity": 1}]}, "items"),
        ({"items": [{"sku": "RING", "quantity": 1}, {"sku": "RING", "quantity": 1}]}, "items"),
        ({"items": [{"sku": "RING", "quantity": 1, "price": "0.01"}]}, "items"),
        ({"total_price": "0.01"}, "total_price"),
        ({"payment_method": ""}, "payment_method"),
    ],
)
def test_bad_orders_are_400s_and_write_nothing(agent_client, ring, overrides, field):
    response = agent_client.post(URL, body(**overrides), format="json")
    assert response.status_code == 400, response.json()
    assert field in response.json()["errors"]
    assert not Order.objects.exists()
    ring.refresh_from_db()
    assert ring.inventory_quantity == 5


@pytest.mark.parametrize("user", [None, "00000000-0000-0000-0000-000000000000"])
def test_only_staff_may_set_the_user_of_an_order(agent_client, agent_a, ring, user):
    # the schema documents `user` as staff-only: an agent sending it is refused, not ignored
    response = agent_client.post(URL, body(user=user), format="json")
    assert response.status_code == 403, response.json()
    assert response.json()["code"] == "permission_denied"
    assert not Order.objects.exists()
    ring.refresh_from_db()
    assert ring.inventory_quantity == 5


def test_unknown_product_errors_point_at_the_line(agent_client, ring):
    response = agent_client.post(
        URL,
        body(items=[{"sku": "RING", "quantity": 1}, {"sku": "NOPE", "quantity": 1}]),
        format="json",
    )
    assert response.status_code == 400
    assert response.json()["errors"]["items"] == {
        "1": {"sku": [{"message": "No product 'NOPE' is for sale.", "code": "not_for_sale"}]}
    }


def test_a_retried_placement_never_creates_a_second_order(agent_client, ring):
    first = agent_client.post(URL, body(), format="json", HTTP_IDEMPOTENCY_KEY="order-1")
    again = agent_client.post(URL, body(), format="json", HTTP_IDEMPOTENCY_KEY="order-1")
    assert first.status_code == again.status_code == 201
    assert again.json()["id"] == first.json()["id"]
    assert Order.objects.count() == 1
    ring.refresh_from_db()
    assert ring.inventory_quantity == 3


def test_operators_place_guest_orders_and_orders_for_others(operator_api, ring):
    customer = UserFactory.create(role="customer")
    guest = operator_api.post(URL, body(user=None), format="json")
    assert guest.status_code == 201
    assert guest.json()["user"] is None
    theirs = operator_api.post(
        URL, body(user=str(customer.id), items=[{"sku": "RING", "quantity": 1}]), format="json"
    )
    assert theirs.json()["user"] == str(customer.id)
    missing = operator_api.post(
        URL, body(user="00000000-0000-0000-0000-000000000000"), format="json"
    )
    assert missing.status_code == 400
    assert error_codes(missing.json()) == {"user": ["does_not_exist"]}


def test_operators_run_the_order_through_its_states_and_the_history_shows_it(
    agent_client, operator_api, operator, ring
):
    order_id = agent_client.post(URL, body(), format="json").json()["id"]
    assert operator_api.post(f"{URL}{order_id}/complete/").status_code == 409
    assert operator_api.post(f"{URL}{order_id}/process/").json()["status"] == "processing"
    # the owner may no longer cancel; operators may
    owner_cancel = agent_client.post(f"{URL}{order_id}/cancel/")
    assert owner_cancel.status_code == 403
    assert operator_api.post(f"{URL}{order_id}/complete/").json()["status"] == "completed"
    again = operator_api.post(f"{URL}{order_id}/cancel/")
    assert again.status_code == 409
    assert again.json()["code"] == "invalid_transition"

    history = agent_client.get(f"{URL}{order_id}/events/").json()
    assert [(e["from_status"], e["to_status"]) for e in history] == [
        (None, "pending"),
        ("pending", "processing"),
        ("processing", "completed"),
    ]
    assert history[1]["actor"] == str(operator.id)
    assert Product.objects.get(sku="RING").inventory_quantity == 3


def test_admins_create_users_with_argon2_and_validated_passwords(admin_api):
    response = admin_api.post(
        "/api/v1/users/",
        {
            "username": "shopper",
            "email": "s@example.com",
            "role": "customer",
            "password": "a long enough passphrase",
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    assert "password" not in response.json()
    user = User.objects.get(username="shopper")
    assert user.password.startswith("argon2")
    weak = admin_api.post(
        "/api/v1/users/",
        {"username": "weak", "email": "w@example.com", "role": "customer", "password": "123"},
        format="json",
    )
    assert weak.status_code == 400
    assert "password" in weak.json()["errors"]
    for field, value in (("is_verified", True), ("last_login", "2020-01-01T00:00:00Z")):
        sneaky = admin_api.post(
            "/api/v1/users/",
            {"username": "x", "email": "x@example.com", "role": "agent", field: value},
            format="json",
        )
        assert sneaky.status_code == 400
        assert error_codes(sneaky.json()) == {field: ["unknown_field"]}
    assert not User.objects.filter(username__in=["weak", "x"]).exists()
