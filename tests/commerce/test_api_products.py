"""/api/v1/products/: the catalogue for agents, management for operators."""

from __future__ import annotations

from decimal import Decimal

import pytest

from commerce.models import Product
from tests.commerce.factories import ProductFactory
from tests.conftest import error_codes

pytestmark = pytest.mark.django_db

URL = "/api/v1/products/"


def test_agents_see_published_products_only(agent_client):
    live = ProductFactory.create(status="published")
    ProductFactory.create(status="draft")
    ProductFactory.create(status="archived")
    body = agent_client.get(URL).json()
    assert [p["id"] for p in body["results"]] == [str(live.id)]
    assert body["count"] == 1


def test_money_is_a_decimal_string(agent_client):
    ProductFactory.create(price=Decimal("1234.50"))
    assert agent_client.get(URL).json()["results"][0]["price"] == "1234.50"


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("category=Rings", ["R-1", "R-2"]),
        ("tags=gold,premium", ["R-1"]),
        ("tags=GOLD", ["R-1", "N-1"]),
        ("tags_any=silver,premium", ["R-1", "R-2"]),
        ("price_min=10&price_max=50", ["R-2", "N-1"]),
        ("search=diamond", ["R-1"]),
        ("search=r-2", ["R-2"]),
        ("ordering=-price", ["R-1", "N-1", "R-2"]),
    ],
)
def test_filters_search_and_ordering(agent_client, query, expected):
    ProductFactory.create(
        sku="R-1",
        category="Rings",
        price=Decimal("99.00"),
        tags=["gold", "premium"],
        description="A diamond ring",
    )
    ProductFactory.create(sku="R-2", category="Rings", price=Decimal("10.00"), tags=["silver"])
    ProductFactory.create(sku="N-1", category="Necklaces", price=Decimal("50.00"), tags=["gold"])
    response = agent_client.get(f"{URL}?{query}")
    assert response.status_code == 200
    skus = [p["sku"] for p in response.json()["results"]]
    assert (skus if "ordering" in query else sorted(skus)) == (
        expected if "ordering" in query else sorted(expected)
    )


def test_operator_creates_a_draft_product_with_normalised_tags(operator_api):
    response = operator_api.post(
        URL,
        {
            "sku": "RING-1",
            "name": "Ring",
            "price": "19.99",
            "inventory_quantity": 5,
            "tags": [" Gold ", "gold", "Premium  Line"],
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["status"] == "draft"
    assert body["tags"] == ["gold", "premium line"]
    assert body["price"] == "19.99"
    assert Product.objects.get().price == Decimal("19.99")


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({"price": "0"}, {"price": ["min_value"]}),
        ({"price": "-5"}, {"price": ["min_value"]}),
        ({"price": "1.234"}, {"price": ["max_decimal_places"]}),
        ({"price": "123456789.00"}, {"price": ["max_digits"]}),
        ({"price": 19.99}, None),
        ({"sku": "bad sku!"}, {"sku": ["invalid"]}),
        ({"status": "published"}, {"status": ["unknown_field"]}),
        ({"inventory_quantity": -1}, {"inventory_quantity": ["min_value"]}),
        ({"tags": ["x" * 51]}, {"tags": ["max_length"]}),
    ],
)
def test_operator_input_is_validated(operator_api, overrides, expected):
    body = {"sku": "RING-1", "name": "Ring", "price": "19.99", **overrides}
    response = operator_api.post(URL, body, format="json")
    if expected is None:
        assert response.status_code == 201
        return
    assert response.status_code == 400, response.json()
    codes = error_codes(response.json())
    assert set(codes) == set(expected)
    assert not Product.objects.exists()


def test_a_taken_sku_is_a_field_error(operator_api):
    ProductFactory.create(sku="RING-1")
    response = operator_api.post(
        URL, {"sku": "RING-1", "name": "Ring", "price": "1.00"}, format="json"
    )
    assert response.status_code == 400
    assert "sku" in response.json()["errors"]


def test_operator_updates_publishes_and_archives(operator_api):
    product = ProductFactory.create(status="draft", price=Decimal("5.00"))
    response = operator_api.patch(f"{URL}{product.id}/", {"price": "6.50"}, format="json")
    assert response.status_code == 200
    assert response.json()["price"] == "6.50"

    assert operator_api.post(f"{URL}{product.id}/publish/").json()["status"] == "published"
    again = operator_api.post(f"{URL}{product.id}/publish/")
    assert again.status_code == 409
    assert again.json()["code"] == "invalid_transition"
    assert operator_api.post(f"{URL}{product.id}/archive/").json()["status"] == "archived"
    product.refresh_from_db()
    assert product.status == "archived"


def test_list_runs_a_constant_number_of_queries(agent_client, django_assert_num_queries):
    ProductFactory.create_batch(20)
    with django_assert_num_queries(3):  # key, count, page
        assert len(agent_client.get(URL).json()["results"]) == 20


@pytest.mark.parametrize(
    ("query", "errors"),
    [
        ("page_size=201", {"page_size": ["max_value"]}),
        ("page_size=0", {"page_size": ["min_value"]}),
        ("page_size=x", {"page_size": ["invalid"]}),
        ("page=0", {"page": ["invalid"]}),
        ("page=x", {"page": ["invalid"]}),
        ("page=last", {"page": ["invalid"]}),
        ("page=-1", {"page": ["invalid"]}),
    ],
)
def test_bad_page_numbers_and_sizes_are_400s_not_clamped_or_ignored(agent_client, query, errors):
    ProductFactory.create()
    response = agent_client.get(f"{URL}?{query}")
    assert response.status_code == 400
    assert error_codes(response.json()) == errors


def test_a_page_past_the_last_is_a_documented_404(agent_client, client):
    ProductFactory.create_batch(3)
    assert agent_client.get(f"{URL}?page=2&page_size=2").json()["count"] == 3
    response = agent_client.get(f"{URL}?page=3&page_size=2")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
    schema = client.get("/api/schema/", {"format": "json"}).json()
    assert "404" in schema["paths"][URL]["get"]["responses"]


@pytest.mark.parametrize("price", ["1e3", " 5", "5.", "+5", ".5", "5,00", "", True])
def test_a_price_is_a_plain_decimal_string_or_a_number(operator_api, price):
    response = operator_api.post(
        URL, {"sku": "RING-1", "name": "Ring", "price": price}, format="json"
    )
    assert response.status_code == 400
    assert error_codes(response.json()) == {"price": ["invalid"]}
    assert not Product.objects.exists()


@pytest.mark.parametrize(
    ("price", "stored"), [("0019.99", "19.99"), (19.99, "19.99"), ("0.01", "0.01"), (7, "7.00")]
)
def test_prices_the_schema_allows_are_accepted(operator_api, price, stored):
    response = operator_api.post(
        URL, {"sku": "RING-1", "name": "Ring", "price": price}, format="json"
    )
    assert response.status_code == 201, response.json()
    assert response.json()["price"] == stored


@pytest.mark.parametrize("sku", [" RING-1", "RING-1 ", "RING 1", "-RING", "RING/1"])
def test_a_sku_outside_its_pattern_is_refused_not_trimmed(operator_api, sku):
    response = operator_api.post(URL, {"sku": sku, "name": "Ring", "price": "1.00"}, format="json")
    assert response.status_code == 400
    assert error_codes(response.json()) == {"sku": ["invalid"]}
