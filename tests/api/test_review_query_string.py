"""Review of the query-string rules: an empty item inside a comma-separated list is as empty as
an empty value, and is refused the same way.

Found in review: ``?ordering=,`` passed the ``blank`` rule (the value is not empty), django-filter
then ordered by nothing, and the products list lost its SKU order: numbered pages over an
unordered query, so a product could show on two pages and another on none (Django's
``UnorderedObjectListWarning``).
"""

from __future__ import annotations

import pytest

from tests.commerce.factories import ProductFactory
from tests.conftest import error_codes

pytestmark = pytest.mark.django_db

PRODUCTS = "/api/v1/products/"


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("ordering", ","),
        ("ordering", ",,"),
        ("ordering", "price,"),
        ("ordering", ",-sku"),
        ("tags", "a,,b"),
        ("tags_any", "a,"),
    ],
)
def test_an_empty_item_of_a_comma_separated_list_is_refused(agent_client, name, value):
    ProductFactory.create()

    response = agent_client.get(PRODUCTS, {name: value})

    assert response.status_code == 400
    assert error_codes(response.json()) == {name: ["blank"]}


def test_an_empty_item_is_refused_in_the_repeated_form_too(agent_client):
    response = agent_client.get(f"{PRODUCTS}?ordering=price&ordering=,")

    assert error_codes(response.json()) == {"ordering": ["blank"]}
