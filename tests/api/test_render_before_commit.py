"""A write whose response cannot be rendered did not happen.

Before, DRF rendered after the service had committed: an order whose response failed to render
was placed (stock taken, the Idempotency-Key record saying 201) while the client saw a 500, and a
retry without a key placed a second one. Now every write handler renders inside its transaction.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.urls import URLPattern, URLResolver, get_resolver
from rest_framework.permissions import SAFE_METHODS

from agents_audit.models import ToolExecution
from commerce.models import Order, OrderEvent, Product
from devskyy.api.renderers import JSONRenderer
from devskyy.api.writes import RENDERS_BEFORE_COMMIT
from devskyy.models import IdempotencyRecord
from tests.commerce.factories import ProductFactory

pytestmark = pytest.mark.django_db

ORDERS = "/api/v1/orders/"


@pytest.fixture
def rendering_fails(monkeypatch):
    """Stand-in for any value the renderer cannot write, found after the service ran."""

    def render(self, data, media_type=None, renderer_context=None):
        raise RuntimeError("cannot render this response")

    monkeypatch.setattr(JSONRenderer, "render", render)


@pytest.fixture
def ring():
    return ProductFactory.create(sku="RING", price=Decimal("10.00"), inventory_quantity=5)


def place_order(client, **headers):
    client.raise_request_exception = False  # see the 500, as a client would
    body = {"items": [{"sku": "RING", "quantity": 2}], "payment_method": "card"}
    return client.post(ORDERS, body, format="json", **headers)


def test_an_order_whose_response_fails_to_render_is_not_placed(agent_client, ring, rendering_fails):
    response = place_order(agent_client)
    assert response.status_code == 500
    assert not Order.objects.exists()
    assert not OrderEvent.objects.exists()
    assert Product.objects.get(pk=ring.pk).inventory_quantity == 5


def test_nor_with_an_idempotency_key_and_the_key_stays_free(agent_client, ring, rendering_fails):
    response = place_order(agent_client, HTTP_IDEMPOTENCY_KEY="order-1")
    assert response.status_code == 500
    assert not Order.objects.exists()
    assert Product.objects.get(pk=ring.pk).inventory_quantity == 5
    assert not IdempotencyRecord.objects.exists()


def test_the_retry_after_the_failure_places_exactly_one_order(agent_client, ring, monkeypatch):
    original = JSONRenderer.render
    calls = []

    def fail_once(self, *args, **kwargs):
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("cannot render this response")
        return original(self, *args, **kwargs)

    monkeypatch.setattr(JSONRenderer, "render", fail_once)
    assert place_order(agent_client).status_code == 500
    assert place_order(agent_client).status_code == 201
    assert Order.objects.count() == 1
    assert Product.objects.get(pk=ring.pk).inventory_quantity == 3


def test_a_tool_call_whose_response_fails_to_render_is_not_recorded(agent_client, rendering_fails):
    agent_client.raise_request_exception = False
    body = {"correlation_id": "c", "tool_name": "t", "inputs": {}, "status": "success"}
    assert agent_client.post("/api/v1/tool-executions/", body, format="json").status_code == 500
    assert agent_client.post(
        "/api/v1/tool-executions/bulk/", [body], format="json"
    ).status_code == (500)
    assert not ToolExecution.objects.exists()


def test_a_product_patch_whose_response_fails_to_render_changes_nothing(
    operator_api, ring, rendering_fails
):
    operator_api.raise_request_exception = False
    response = operator_api.patch(f"/api/v1/products/{ring.pk}/", {"name": "New"}, format="json")
    assert response.status_code == 500
    assert Product.objects.get(pk=ring.pk).name == ring.name


def _api_views(resolver: URLResolver | None = None):
    """(route, view class, {method: action}) for every DRF viewset route under /api/v1/."""
    resolver = resolver or get_resolver()
    for pattern in resolver.url_patterns:
        if isinstance(pattern, URLResolver):
            yield from _api_views(pattern)
        elif isinstance(pattern, URLPattern) and hasattr(pattern.callback, "actions"):
            view: Any = pattern.callback
            yield str(pattern.pattern), view.cls, view.actions


def test_every_write_handler_of_the_api_renders_before_commit():
    writes = {
        f"{method.upper()} {route} ({view.__name__}.{action})": getattr(view, action)
        for route, view, actions in _api_views()
        for method, action in actions.items()
        if method.upper() not in SAFE_METHODS
    }
    assert len(writes) >= 15  # every POST and PATCH of the API, not an empty walk
    assert [
        name
        for name, handler in writes.items()
        if not getattr(handler, RENDERS_BEFORE_COMMIT, False)
    ] == []
