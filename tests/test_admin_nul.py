"""A NUL character in an admin query string is dropped with a warning, never a 500.

The admin passes changelist filters and the search box into queries, and PostgreSQL cannot take a
NUL in text: ``/admin/commerce/order/?status=%00`` was a DataError. Checked on every registered
ModelAdmin, for every parameter of its filters, its plain ``list_filter`` field names and ``q``.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib import admin
from django.contrib.messages import get_messages
from django.db.models import Model
from django.urls import reverse

from tests.commerce.factories import ProductFactory

pytestmark = pytest.mark.django_db

MODELS = sorted(admin.site._registry, key=lambda model: model._meta.label)


def changelist(model: type[Model]) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")


def query_parameters(client: Any, model: type[Model]) -> set[str]:
    """Every parameter the changelist's filters read, the list_filter field names, and ``q``."""
    response = client.get(changelist(model))
    assert response.status_code == 200
    model_admin = admin.site._registry[model]
    names = {"q", "o", "p"}
    names |= {
        name for spec in response.context["cl"].filter_specs for name in spec.expected_parameters()
    }
    for entry in model_admin.list_filter:  # "status", or ("status", SomeListFilter)
        field = entry[0] if isinstance(entry, tuple) else entry
        if isinstance(field, str):
            names.add(field)
    return names


@pytest.mark.parametrize("model", MODELS, ids=lambda model: model._meta.label)
def test_nul_in_any_filter_or_search_is_dropped_with_a_warning(admin_client, model):
    url = changelist(model)
    for name in sorted(query_parameters(admin_client, model)):
        response = admin_client.get(url, {name: "a\x00b"})
        assert response.status_code == 302, name
        assert response["Location"] == url
        page = admin_client.get(response["Location"])
        assert page.status_code == 200
        [message] = [str(m) for m in get_messages(page.wsgi_request)] or [""]
        assert message == f"Ignored filter or search {name}: null characters are not allowed."


@pytest.mark.parametrize("model", MODELS, ids=lambda model: model._meta.label)
def test_an_operator_never_gets_a_500_either(admin_client, operator_client, model):
    url = changelist(model)
    allowed = operator_client.get(url).status_code == 200
    for name in sorted(query_parameters(admin_client, model)):
        response = operator_client.get(url, {name: "\x00"})
        assert response.status_code == 302, name
        assert operator_client.get(response["Location"]).status_code == (200 if allowed else 403)


def test_other_parameters_are_kept(admin_client):
    url = reverse("admin:commerce_order_changelist")
    response = admin_client.get(url, {"q": "ORD-1", "status": "\x00"})
    assert response["Location"] == f"{url}?q=ORD-1"


@pytest.mark.parametrize("query", ["%00=1", "status%00=pending", "q=a&q=%00"])
def test_nul_in_a_parameter_name_or_a_repeated_value_is_dropped_too(admin_client, query):
    url = reverse("admin:commerce_product_changelist")
    response = admin_client.get(f"{url}?{query}")
    assert response.status_code == 302
    assert admin_client.get(response["Location"]).status_code == 200


def test_a_post_with_nul_in_its_query_string_is_a_400(admin_client):
    url = reverse("admin:commerce_order_changelist")
    response = admin_client.post(f"{url}?status=%00", {"action": "mark_processing"})
    assert response.status_code == 400


def test_api_paths_keep_their_own_json_400(agent_client):
    response = agent_client.get("/api/v1/tool-executions/?tool_name=%00")
    assert response.status_code == 400
    assert response.json()["code"] == "invalid"


def test_nul_in_a_json_field_of_an_admin_form_is_a_form_error(operator_client):
    product = ProductFactory.create(metadata={"colour": "gold"})
    url = reverse("admin:commerce_product_change", args=[product.pk])
    form = operator_client.get(url).context["adminform"].form
    data = {name: form.initial.get(name) or "" for name in form.fields}
    data |= {"tags": "premium", "metadata": '{"colour": "go\\u0000ld"}'}
    response = operator_client.post(url, data)
    assert response.status_code == 200  # the form again, with the error
    assert response.context["adminform"].form.errors["metadata"] == [
        "Null characters (\\u0000) are not allowed."
    ]
    product.refresh_from_db()
    assert product.metadata == {"colour": "gold"}
