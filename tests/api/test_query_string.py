"""The rules of the query string, the same on every list (fast filter path or django-filter):

- list-valued filters take repeated parameters (what clients generated from the OpenAPI document
  send) and comma-separated values alike;
- any other parameter given twice is a 400 ``repeated_parameter`` (never a silent pick of one);
- a parameter without a value is a 400 ``blank`` (never silently ignored).
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from tests.agents_audit.factories import ToolExecutionFactory
from tests.commerce.factories import ProductFactory
from tests.conftest import error_codes

pytestmark = pytest.mark.django_db

PRODUCTS = "/api/v1/products/"
TOOLS = "/api/v1/tool-executions/"  # filtered by the fast path
LEADERBOARD = "/api/v1/round-table-results/leaderboard/"


@pytest.fixture
def catalogue(db):
    ProductFactory.create(sku="T-1", tags=["t1"], price=Decimal("30.00"))
    ProductFactory.create(sku="T-2", tags=["t2"], price=Decimal("20.00"))
    ProductFactory.create(sku="T-3", tags=["t3"], price=Decimal("10.00"))
    ProductFactory.create(sku="T-13", tags=["t1", "t3"], price=Decimal("10.00"))


def _skus(response):
    assert response.status_code == 200, response.json()
    return [product["sku"] for product in response.json()["results"]]


@pytest.mark.parametrize(
    ("repeated", "commas", "expected"),
    [
        ("tags_any=t1&tags_any=t3", "tags_any=t1,t3", ["T-1", "T-13", "T-3"]),
        ("tags=t1&tags=t3", "tags=t1,t3", ["T-13"]),
        ("tags_any=t1,t2&tags_any=t3", "tags_any=t1,t2,t3", ["T-1", "T-13", "T-2", "T-3"]),
    ],
)
def test_list_valued_filters_take_repeated_and_comma_separated_values_alike(
    agent_client, catalogue, repeated, commas, expected
):
    assert sorted(_skus(agent_client.get(f"{PRODUCTS}?{repeated}"))) == expected
    assert sorted(_skus(agent_client.get(f"{PRODUCTS}?{commas}"))) == expected


def test_ordering_takes_repeated_values_in_order(agent_client, catalogue):
    repeated = _skus(agent_client.get(f"{PRODUCTS}?ordering=price&ordering=-sku"))
    assert repeated == _skus(agent_client.get(f"{PRODUCTS}?ordering=price,-sku"))
    assert repeated == ["T-3", "T-13", "T-2", "T-1"]


@pytest.mark.parametrize(
    ("url", "query"),
    [
        (TOOLS, "status=success&status=failed"),
        (TOOLS, "correlation_id=a&correlation_id=b"),
        (TOOLS, "page_size=1&page_size=2"),
        (PRODUCTS, "status=published&status=draft"),
        (PRODUCTS, "search=a&search=b"),
        (PRODUCTS, "page=1&page=2"),
        (LEADERBOARD, "task_category=a&task_category=b"),
    ],
)
def test_a_single_valued_parameter_given_twice_is_refused(agent_client, url, query):
    response = agent_client.get(f"{url}?{query}")
    assert response.status_code == 400
    assert error_codes(response.json()) == {query.split("=")[0]: ["repeated_parameter"]}


@pytest.mark.parametrize(
    ("url", "name"),
    [
        (TOOLS, "status"),
        (TOOLS, "correlation_id"),
        (PRODUCTS, "status"),
        (PRODUCTS, "search"),
        (PRODUCTS, "tags"),
        (PRODUCTS, "page"),
        (LEADERBOARD, "task_category"),
    ],
)
def test_an_empty_value_is_refused_on_both_filter_paths(agent_client, url, name):
    ToolExecutionFactory.create()
    response = agent_client.get(f"{url}?{name}=")
    assert response.status_code == 400
    assert error_codes(response.json()) == {name: ["blank"]}


def test_an_empty_item_of_a_repeated_list_is_refused(agent_client, catalogue):
    response = agent_client.get(f"{PRODUCTS}?tags_any=t1&tags_any=")
    assert error_codes(response.json()) == {"tags_any": ["blank"]}


def test_the_rules_come_after_authentication(client):
    # a stranger learns nothing about the parameters
    assert client.get(f"{TOOLS}?status=&status=").status_code == 401


def test_the_schema_describes_list_valued_filters_as_repeated_and_values_as_non_empty(client):
    schema = client.get("/api/schema/", {"format": "json"}).json()
    parameters = {p["name"]: p for p in schema["paths"]["/api/v1/products/"]["get"]["parameters"]}
    for name in ("tags", "tags_any", "ordering"):
        assert parameters[name]["style"] == "form"
        assert parameters[name]["explode"] is True
        assert parameters[name]["schema"]["type"] == "array"
    assert parameters["tags"]["schema"]["items"]["minLength"] == 1
    assert parameters["search"]["schema"]["minLength"] == 1
    assert parameters["category"]["schema"] == {"type": "string", "minLength": 1, "maxLength": 100}
    tools = {p["name"]: p for p in schema["paths"][TOOLS]["get"]["parameters"]}
    assert tools["correlation_id"]["schema"] == {"type": "string", "minLength": 1, "maxLength": 64}
    assert tools["cursor"]["schema"]["minLength"] == 1


@pytest.mark.parametrize("offset", ["-21:48", "+23:59", "+15:59", "Z"])
def test_a_date_time_filter_takes_any_valid_utc_offset(agent_client, agent_a, offset):
    """RFC 3339 offsets go to +-23:59; PostgreSQL takes only +-15:59, so values go in UTC."""
    ToolExecutionFactory.create(user=agent_a)
    response = agent_client.get(TOOLS, {"created_after": f"2000-01-01T00:00:00{offset}"})
    assert response.status_code == 200, response.json()
    assert len(response.json()["results"]) == 1
