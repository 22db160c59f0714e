"""JSON typed into an admin form follows the API's rules: numbers PostgreSQL or the renderer
could not take back (NaN, Infinity, beyond the 64-bit range) and NUL characters are form
errors, never a 500 and never a row that breaks later reads."""

from __future__ import annotations

import pytest
from django.urls import reverse

from commerce.models import Product

pytestmark = pytest.mark.django_db


def add_product(client, metadata: str):
    return client.post(
        reverse("admin:commerce_product_add"),
        {
            "sku": "JSON-1",
            "name": "A product",
            "price": "1.00",
            "inventory_quantity": "1",
            "metadata": metadata,
        },
    )


@pytest.mark.parametrize(
    ("metadata", "code"),
    [
        ('{"x": 1e400}', "number_out_of_range"),
        ('{"x": NaN}', "number_out_of_range"),
        ('{"x": -Infinity}', "number_out_of_range"),
        ('{"x": 1e20}', "number_out_of_range"),
        ('{"x": [1, 2, 9223372036854775808]}', "number_out_of_range"),
        ('{"x": "\\u0000"}', "null_characters_not_allowed"),
    ],
)
def test_json_the_database_or_the_api_could_not_take_back_is_a_form_error(
    admin_client, metadata, code
):
    response = add_product(admin_client, metadata)
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors.as_data()
    assert [e.code for e in errors["metadata"]] == [code]
    assert not Product.objects.exists()


def test_json_within_the_rules_is_saved(admin_client):
    response = add_product(admin_client, '{"x": 9223372036854775807, "y": 1.5e15}')
    assert response.status_code == 302
    assert Product.objects.get().metadata == {"x": 9223372036854775807, "y": 1.5e15}
