"""The lookups the seeds show: ``users/?email=``, ``?username=``, ``?is_active=`` (admins) and
``products/?sku=``, exact and answered by the unique indexes; bad values are 400s with codes."""

from __future__ import annotations

import pytest
from django.db import connection, transaction

from commerce.filters import ProductFilter, UserFilter
from commerce.models import Product, User
from tests.commerce.factories import ProductFactory, UserFactory
from tests.conftest import error_codes

pytestmark = pytest.mark.django_db

USERS = "/api/v1/users/"
PRODUCTS = "/api/v1/products/"


@pytest.fixture
def people(db: None) -> dict[str, User]:
    return {
        "ada": UserFactory.create(username="ada", email="ada@example.com"),
        "ada2": UserFactory.create(username="ada2", email="ada2@example.com"),
        "gone": UserFactory.create(username="gone", email="gone@example.com", is_active=False),
    }


def usernames(response) -> list[str]:
    assert response.status_code == 200, response.json()
    return sorted(row["username"] for row in response.json()["results"])


def test_admins_find_a_user_by_exact_email(admin_api, people):
    assert usernames(admin_api.get(USERS, {"email": "ada@example.com"})) == ["ada"]
    assert usernames(admin_api.get(USERS, {"email": "ada@example"})) == []
    # exact, as the seed's lookup is: the unique index answers it
    assert usernames(admin_api.get(USERS, {"email": "ADA@example.com"})) == []


def test_admins_find_a_user_by_exact_username(admin_api, people):
    assert usernames(admin_api.get(USERS, {"username": "ada"})) == ["ada"]


@pytest.mark.parametrize(("value", "expected"), [("true", True), ("True", True), ("false", False)])
def test_admins_filter_users_by_is_active(admin_api, admin_user, people, value, expected):
    found = usernames(admin_api.get(USERS, {"is_active": value}))
    everyone = [admin_user.username, "ada", "ada2", "gone"]
    assert found == sorted(u for u in everyone if (u != "gone") == expected)


def test_lookups_combine(admin_api, people):
    assert usernames(admin_api.get(USERS, {"email": "gone@example.com", "is_active": "true"})) == []
    found = admin_api.get(USERS, {"email": "gone@example.com", "is_active": "false"})
    assert usernames(found) == ["gone"]


@pytest.mark.parametrize(
    ("query", "codes"),
    [
        ({"is_active": "maybe"}, {"is_active": ["invalid"]}),
        ({"is_active": "1"}, {"is_active": ["invalid"]}),
        ({"email": "e" * 256}, {"email": ["max_length"]}),
        ({"username": "u" * 101}, {"username": ["max_length"]}),
    ],
)
def test_bad_user_lookups_are_400s_with_codes(admin_api, people, query, codes):
    response = admin_api.get(USERS, query)
    assert response.status_code == 400
    assert response.json()["code"] == "invalid"
    assert error_codes(response.json()) == codes


def test_only_admins_look_users_up(operator_api, agent_client, people):
    assert operator_api.get(USERS, {"email": "ada@example.com"}).status_code == 403
    assert agent_client.get(USERS, {"email": "ada@example.com"}).status_code == 403


def test_products_by_exact_sku(agent_client, operator_api):
    ProductFactory.create(sku="RING-1")
    ProductFactory.create(sku="RING-10")
    ProductFactory.create(sku="DRAFT-1", status=Product.Status.DRAFT)

    def skus(client, sku):
        response = client.get(PRODUCTS, {"sku": sku})
        assert response.status_code == 200
        return [row["sku"] for row in response.json()["results"]]

    assert skus(agent_client, "RING-1") == ["RING-1"]
    assert skus(agent_client, "ring-1") == []
    assert skus(agent_client, "DRAFT-1") == []  # agents see published products only
    assert skus(operator_api, "DRAFT-1") == ["DRAFT-1"]


def test_a_too_long_sku_is_a_400(agent_client):
    response = agent_client.get(PRODUCTS, {"sku": "S" * 101})
    assert response.status_code == 400
    assert error_codes(response.json()) == {"sku": ["max_length"]}


@pytest.mark.parametrize(
    ("filterset", "params", "index"),
    [
        (UserFilter, {"email": "ada@example.com"}, "users_email_key"),
        (UserFilter, {"username": "ada"}, "users_username_key"),
        (ProductFilter, {"sku": "RING-1"}, "products_sku_key"),
    ],
)
def test_exact_lookups_are_answered_by_the_unique_indexes(filterset, params, index):
    queryset = filterset(params, queryset=filterset._meta.model.objects.all()).qs.order_by()
    sql, sql_params = queryset.query.sql_with_params()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")  # an empty table: force the choice
        cursor.execute(f"EXPLAIN {sql}", sql_params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert index in plan, plan
