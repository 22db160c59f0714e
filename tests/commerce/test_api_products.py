"""/api/v1/products/: the catalogue for agents, management for operators."""

from __future__ import annotations

from decimal import Decimal

import pytest

from commerce.api.views import ProductViewSet
from commerce.models import Product, StockMovement
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
    response = operator_api.patch(
        f"{URL}{product.id}/", {"price": "6.50"}, format="json", headers={"If-Match": '"1"'}
    )
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


# --- versions: ETag on read, If-Match on update -----------------------------------------------


def test_the_detail_sends_the_version_as_its_etag(operator_api, agent_client):
    product = ProductFactory.create()
    for client in (operator_api, agent_client):
        response = client.get(f"{URL}{product.id}/")
        assert response["ETag"] == '"1"'
        assert response.json()["version"] == 1


def test_a_patch_over_the_version_read_answers_the_new_version(operator_api):
    product = ProductFactory.create(name="Ring")
    etag = operator_api.get(f"{URL}{product.id}/")["ETag"]

    response = operator_api.patch(
        f"{URL}{product.id}/", {"name": "Gold ring"}, format="json", headers={"If-Match": etag}
    )

    assert response.status_code == 200, response.json()
    assert response["ETag"] == '"2"'
    assert (response.json()["name"], response.json()["version"]) == ("Gold ring", 2)


def test_a_patch_without_if_match_is_a_428_and_writes_nothing(operator_api):
    product = ProductFactory.create(name="Ring")
    response = operator_api.patch(f"{URL}{product.id}/", {"name": "Renamed"}, format="json")
    assert response.status_code == 428
    assert response.json() == {
        "code": "precondition_required",
        "detail": "Send If-Match with the ETag of the version you read (GET the record first), "
        "so that you never overwrite a change you have not seen.",
    }
    assert Product.objects.get().name == "Ring"


def test_if_match_star_names_no_version_and_is_a_428_too(operator_api):
    product = ProductFactory.create()
    response = operator_api.patch(
        f"{URL}{product.id}/", {"name": "X"}, format="json", headers={"If-Match": "*"}
    )
    assert response.status_code == 428


def test_a_patch_over_a_stale_version_is_a_412_and_writes_nothing(operator_api):
    product = ProductFactory.create(name="Ring")
    first = operator_api.patch(
        f"{URL}{product.id}/", {"name": "First"}, format="json", headers={"If-Match": '"1"'}
    )
    assert first.status_code == 200

    response = operator_api.patch(
        f"{URL}{product.id}/", {"name": "Second"}, format="json", headers={"If-Match": '"1"'}
    )

    assert response.status_code == 412
    assert response.json() == {
        "code": "version_mismatch",
        "detail": "The record changed since you read it.",
    }
    assert Product.objects.get().name == "First"


def test_a_weak_etag_is_accepted_as_its_version(operator_api):
    product = ProductFactory.create()
    response = operator_api.patch(
        f"{URL}{product.id}/", {"name": "X"}, format="json", headers={"If-Match": 'W/"1"'}
    )
    assert response.status_code == 200


@pytest.mark.parametrize("if_match", ["1", '"abc"', '"1", "2"', '"0"', '"99999999999"', '"1'])
def test_a_malformed_if_match_is_a_400_and_writes_nothing(operator_api, if_match):
    product = ProductFactory.create(name="Ring")
    response = operator_api.patch(
        f"{URL}{product.id}/", {"name": "X"}, format="json", headers={"If-Match": if_match}
    )
    assert response.status_code == 400
    assert error_codes(response.json()) == {"If-Match": ["invalid"]}
    assert Product.objects.get().name == "Ring"


@pytest.mark.parametrize(
    ("field", "value", "pointer"),
    [
        ("inventory_quantity", 500, "/api/v1/products/{id}/adjust-stock/"),
        ("status", "published", "/api/v1/products/{id}/publish/"),
    ],
)
def test_stock_and_status_are_refused_in_a_patch_with_where_to_go(
    operator_api, field, value, pointer
):
    product = ProductFactory.create(status="draft", inventory_quantity=3)
    response = operator_api.patch(
        f"{URL}{product.id}/",
        {field: value, "name": "X"},
        format="json",
        headers={"If-Match": '"1"'},
    )
    assert response.status_code == 400
    (error,) = response.json()["errors"][field]
    assert error["code"] == "read_only"
    assert pointer in error["message"]
    product.refresh_from_db()
    assert (product.inventory_quantity, product.status, product.name, product.version) == (
        3,
        "draft",
        product.name,
        1,
    )


def test_publish_and_archive_answer_the_new_version(operator_api):
    product = ProductFactory.create(status="draft")
    assert operator_api.post(f"{URL}{product.id}/publish/").json()["version"] == 2
    assert operator_api.get(f"{URL}{product.id}/")["ETag"] == '"2"'


# --- adjust-stock and the stock ledger ---------------------------------------------------------


def adjust(client, product, body, **kwargs):
    return client.post(f"{URL}{product.id}/adjust-stock/", body, format="json", **kwargs)


def test_an_operator_adjusts_stock_by_a_delta_with_a_reason(operator_api, operator):
    product = ProductFactory.create(inventory_quantity=3)

    response = adjust(operator_api, product, {"delta": 5, "reason": "delivery"})

    assert response.status_code == 200, response.json()
    assert (response.json()["inventory_quantity"], response.json()["version"]) == (8, 1)
    movement = StockMovement.objects.latest("id")
    assert (movement.product, movement.delta, movement.kind, movement.reason, movement.actor) == (
        product,
        5,
        "adjustment",
        "delivery",
        operator,
    )


def test_removing_more_than_is_left_is_a_409_naming_the_sku_and_what_is_left(operator_api):
    product = ProductFactory.create(sku="RING", inventory_quantity=3)

    response = adjust(operator_api, product, {"delta": -5, "reason": "recount"})

    assert response.status_code == 409
    assert response.json() == {
        "code": "insufficient_stock",
        "detail": "Only 3 of 'RING' in stock; 5 requested.",
        "sku": "RING",
        "requested": 5,
        "available": 3,
    }
    assert Product.objects.get().inventory_quantity == 3
    assert StockMovement.objects.count() == 1  # the opening one


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"delta": 0, "reason": "x"}, {"delta": ["zero"]}),
        ({"delta": "5", "reason": "x"}, {"delta": ["invalid"]}),
        ({"delta": "five", "reason": "x"}, {"delta": ["invalid"]}),
        ({"delta": 1.5, "reason": "x"}, {"delta": ["invalid"]}),
        ({"delta": 2**31, "reason": "x"}, {"delta": ["max_value"]}),
        ({"delta": 5}, {"reason": ["required"]}),
        ({"delta": 5, "reason": "   "}, {"reason": ["blank"]}),
        ({"delta": 5, "reason": "x" * 501}, {"reason": ["max_length"]}),
        ({"reason": "x"}, {"delta": ["required"]}),
        (
            {"delta": 5, "reason": "x", "inventory_quantity": 9},
            {"inventory_quantity": ["unknown_field"]},
        ),
    ],
)
def test_bad_adjustments_are_400s_and_write_nothing(operator_api, body, expected):
    product = ProductFactory.create(inventory_quantity=3)
    response = adjust(operator_api, product, body)
    assert response.status_code == 400, response.json()
    assert error_codes(response.json()) == expected
    assert Product.objects.get().inventory_quantity == 3
    assert StockMovement.objects.count() == 1


def test_a_retried_adjustment_with_its_idempotency_key_is_applied_once(operator_api):
    product = ProductFactory.create(inventory_quantity=3)
    body = {"delta": 2, "reason": "delivery"}
    first = adjust(operator_api, product, body, HTTP_IDEMPOTENCY_KEY="adj-1")
    again = adjust(operator_api, product, body, HTTP_IDEMPOTENCY_KEY="adj-1")
    assert again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"
    assert Product.objects.get().inventory_quantity == 5


def test_the_stock_movements_of_a_product_page_newest_first(operator_api, monkeypatch):
    product = ProductFactory.create(inventory_quantity=1)
    for n in range(3):
        adjust(operator_api, product, {"delta": n + 1, "reason": f"delivery {n}"})
    monkeypatch.setattr(ProductViewSet, "STOCK_MOVEMENTS_PAGE_SIZE", 2)

    first = operator_api.get(f"{URL}{product.id}/stock-movements/").json()
    second = operator_api.get(first["next"]).json()

    assert [m["delta"] for m in first["results"]] == [3, 2]
    assert [m["delta"] for m in second["results"]] == [1, 1]
    assert [m["kind"] for m in second["results"]] == ["adjustment", "opening"]
    assert second["next"] is None
    assert sum(m["delta"] for m in first["results"] + second["results"]) == 7
    assert first["results"][0]["reason"] == "delivery 2"
    assert set(first["results"][0]) == {
        "id",
        "delta",
        "kind",
        "reason",
        "order",
        "actor",
        "created_at",
    }


@pytest.mark.parametrize("query", ["before=x", "before=0", "page=2"])
def test_a_bad_stock_movements_query_is_a_400(operator_api, query):
    product = ProductFactory.create()
    response = operator_api.get(f"{URL}{product.id}/stock-movements/?{query}")
    assert response.status_code == 400


def test_creating_a_product_records_its_opening_stock_by_the_caller(operator_api, operator):
    response = operator_api.post(
        URL,
        {"sku": "NEW-1", "name": "New", "price": "1.00", "inventory_quantity": 4},
        format="json",
    )
    movement = StockMovement.objects.get(product_id=response.json()["id"])
    assert (movement.delta, movement.kind, movement.actor) == (4, "opening", operator)


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
