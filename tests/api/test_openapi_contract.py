"""The OpenAPI document says what the server enforces, in words written for agents.

tests/api/test_schemathesis.py checks the document against a live server case by case; these
tests pin the rules that matter most to a reader of the document, and the server's side of each.
"""

from __future__ import annotations

import inspect
import re
from typing import Any

import pytest

from agents_audit.models import ToolExecution
from devskyy.api import serializers as api_serializers
from devskyy.api import viewsets as api_viewsets
from devskyy.api.serializers import StrictInputSerializer
from tests.conftest import error_codes

pytestmark = pytest.mark.django_db

TOOL = "/api/v1/tool-executions/"
TOOL_BODY = {"correlation_id": "c-1", "tool_name": "t", "inputs": {}, "status": "success"}


@pytest.fixture(scope="module")
def schema(django_db_blocker: Any) -> dict[str, Any]:
    from django.test import Client

    with django_db_blocker.unblock():
        return Client().get("/api/schema/", {"format": "json"}).json()


def _components(schema: dict[str, Any]) -> dict[str, Any]:
    return schema["components"]["schemas"]


def _operations(schema: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method, path, operation)
        for path, operations in schema["paths"].items()
        for method, operation in operations.items()
    ]


def test_every_operation_has_a_summary_and_a_description(schema):
    for method, path, operation in _operations(schema):
        assert operation.get("summary"), (method, path)
        assert len(operation.get("description", "")) > 20, (method, path)


def test_no_maintainer_docstring_leaks_into_the_document(schema):
    # The docstrings of the plumbing (fast checkers, strict serializers, viewsets) are for
    # maintainers; the document is for agents.
    text = str(schema)
    modules = (api_serializers, api_viewsets)
    for module in modules:
        for _, cls in inspect.getmembers(module, inspect.isclass):
            doc = cls.__dict__.get("__doc__")
            if cls.__module__ == module.__name__ and doc:
                first_line = inspect.cleandoc(doc).splitlines()[0]
                assert first_line not in text, (cls, first_line)
    assert "compiled checker" not in text
    assert "hot write paths" not in text


def test_request_bodies_refuse_unknown_fields(schema):
    strict = {
        name
        for name, component in _components(schema).items()
        if component.get("additionalProperties") is False
    }
    assert {
        "ToolExecutionInputRequest",
        "AgentExecutionStartRequest",
        "AgentExecutionEndRequest",
        "AgentExecutionFailRequest",
        "RoundTableResultInputRequest",
        "ProductInputRequest",
        "PatchedProductUpdateRequest",
        "StockAdjustRequest",
        "StaffOrderPlaceRequest",
        "OrderItemRequest",
        "OrderTransitionRequest",
        "UserCreateRequest",
    } <= strict
    # participants keep the extra keys they are sent (latency, cost, ...)
    assert "additionalProperties" not in _components(schema)["ParticipantRequest"]
    assert issubclass(api_serializers.FastInputSerializer, StrictInputSerializer)


def test_json_fields_are_nullable_only_where_null_is_accepted(schema, agent_client):
    tool = _components(schema)["ToolExecutionInputRequest"]["properties"]
    assert "nullable" not in tool["inputs"]
    assert {"type": "null"} not in tool["inputs"].get("anyOf", [])
    assert tool["metadata"] == {"type": "object", "additionalProperties": {}}
    assert tool["output"] == {"nullable": True}
    fail = _components(schema)["AgentExecutionFailRequest"]["properties"]["result"]
    assert "nullable" not in fail
    response = agent_client.post(TOOL, {**TOOL_BODY, "inputs": None}, format="json")
    assert error_codes(response.json()) == {"inputs": ["null"]}
    assert agent_client.post(TOOL, {**TOOL_BODY, "output": None}, format="json").status_code == 201


def test_list_bodies_document_their_bounds(schema):
    bulk = schema["paths"]["/api/v1/tool-executions/bulk/"]["post"]["requestBody"]
    assert bulk["content"]["application/json"]["schema"]["minItems"] == 1
    assert bulk["content"]["application/json"]["schema"]["maxItems"] == 1000
    order = _components(schema)["StaffOrderPlaceRequest"]["properties"]["items"]
    assert (order["minItems"], order["maxItems"]) == (1, 100)
    participants = _components(schema)["RoundTableResultInputRequest"]["properties"]
    assert participants["participants"]["minItems"] == 1


def test_patterns_and_lengths_are_documented(schema):
    components = _components(schema)
    product = components["ProductInputRequest"]["properties"]
    text, number = product["price"]["oneOf"]
    assert re.fullmatch(text["pattern"], "19.99")
    assert not re.fullmatch(text["pattern"], "0.00")
    assert (number["minimum"], number["multipleOf"]) == (0.01, 0.01)
    user = components["UserCreateRequest"]["properties"]
    assert user["username"]["pattern"] == r"^[\w.@+-]+$"
    assert user["password"]["minLength"] == 12
    # trimmed text must hold something besides spaces
    assert re.search(components["OrderItemRequest"]["properties"]["sku"]["pattern"], "  x ")
    assert not re.search(components["OrderItemRequest"]["properties"]["sku"]["pattern"], "   ")


def test_the_error_body_is_typed(schema):
    components = _components(schema)
    assert components["Error"]["properties"]["errors"] == {
        "$ref": "#/components/schemas/FieldErrors"
    }
    branches = components["FieldErrors"]["additionalProperties"]["oneOf"]
    assert {"type": "array", "items": {"$ref": "#/components/schemas/ErrorDetail"}} in branches
    assert {"$ref": "#/components/schemas/FieldErrors"} in branches
    assert components["ErrorDetail"]["required"] == ["message", "code"]


def test_staff_only_fields_are_described(schema):
    order = schema["paths"]["/api/v1/orders/"]["post"]
    assert "403" in order["responses"]
    user = _components(schema)["StaffOrderPlaceRequest"]["properties"]["user"]
    assert "Operators and admins only" in user["description"]


def test_the_idempotency_key_header_is_documented_as_enforced(schema):
    (header,) = [
        p for p in schema["paths"][TOOL]["post"]["parameters"] if p["name"] == "Idempotency-Key"
    ]
    assert header["schema"] == {
        "type": "string",
        "minLength": 1,
        "maxLength": 255,
        "pattern": "^[!-~](?:[ -~]{0,253}[!-~])?$",
    }


@pytest.mark.parametrize("key", ["café", "tab\there", "x" * 256, "", "ü" * 3])
def test_idempotency_keys_outside_the_pattern_are_400s(agent_client, key):
    response = agent_client.post(TOOL, TOOL_BODY, format="json", HTTP_IDEMPOTENCY_KEY=key)
    assert response.status_code == 400
    assert "Idempotency-Key" in response.json()["errors"]
    assert not ToolExecution.objects.exists()


@pytest.mark.parametrize("key", ["a", "x" * 255, "a key with spaces", "7d7c1f1e-uuid:retry#2"])
def test_idempotency_keys_inside_the_pattern_are_accepted(agent_client, key):
    response = agent_client.post(TOOL, TOOL_BODY, format="json", HTTP_IDEMPOTENCY_KEY=key)
    assert response.status_code == 201, response.json()


def test_the_seeds_task_categories_are_the_documented_examples(schema):
    from agents_audit.models import TaskCategory

    body = _components(schema)["RoundTableResultInputRequest"]["properties"]["task_category"]
    leaderboard = schema["paths"]["/api/v1/round-table-results/leaderboard/"]["get"]
    (parameter,) = [p for p in leaderboard["parameters"] if p["name"] == "task_category"]
    for category in TaskCategory.values:
        assert f"`{category}`" in body["description"]
        assert f"`{category}`" in parameter["description"]
