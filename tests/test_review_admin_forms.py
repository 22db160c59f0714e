"""Admin forms refuse what the API refuses, so nothing typed in the admin breaks the API's
contract for later readers."""

from __future__ import annotations

import pytest
from django.urls import reverse

from commerce.models import Product
from tests.commerce.factories import AgentUserFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("metadata", ["[]", '"text"', "-1", "1.5", "true"])
def test_product_metadata_must_be_a_json_object(operator_client, metadata):
    response = operator_client.post(
        reverse("admin:commerce_product_add"),
        {"sku": "JSON-1", "name": "A product", "price": "1.00", "metadata": metadata},
    )

    assert response.status_code == 200
    errors = response.context["adminform"].form.errors.as_data()
    assert [e.code for e in errors["metadata"]] == ["not_an_object"]
    assert not Product.objects.exists()


@pytest.mark.parametrize("metadata", ["[]", '"text"', "-1"])
def test_user_metadata_must_be_a_json_object(admin_client, metadata):
    agent = AgentUserFactory.create(metadata={"team": "a"})

    response = admin_client.post(
        reverse("admin:commerce_user_change", args=[agent.pk]),
        {
            "username": agent.username,
            "email": agent.email,
            "metadata": metadata,
            "role": "agent",
            "is_active": "on",
        },
    )

    assert response.status_code == 200
    errors = response.context["adminform"].form.errors.as_data()
    assert [e.code for e in errors["metadata"]] == ["not_an_object"]
    agent.refresh_from_db()
    assert agent.metadata == {"team": "a"}
