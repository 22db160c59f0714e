"""The OpenAPI document generates cleanly and tells agents everything they need."""

from __future__ import annotations

import re

import pytest
from django.core.management import call_command
from django.db import DatabaseError

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def schema(django_db_blocker):
    import json
    import tempfile

    with django_db_blocker.unblock(), tempfile.NamedTemporaryFile(suffix=".json") as out:
        # --fail-on-warn: any warning of drf-spectacular fails the test
        call_command(
            "spectacular",
            "--validate",
            "--fail-on-warn",
            "--format",
            "openapi-json",
            "--file",
            out.name,
        )
        return json.load(open(out.name))


def test_schema_generates_without_warnings_and_validates(schema):
    assert schema["openapi"].startswith("3.")


def test_the_api_key_scheme_is_documented(schema):
    schemes = schema["components"]["securitySchemes"]
    assert schemes["ApiKeyAuth"] == {
        "type": "apiKey",
        "in": "header",
        "name": "Authorization",
        "description": schemes["ApiKeyAuth"]["description"],
    }


def test_every_operation_documents_its_error_statuses(schema):
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            codes = set(operation["responses"])
            assert {"401", "403", "429"} <= codes, (method, path)
            if "{" in path:
                assert "404" in codes, (method, path)
            if method == "post":
                assert {"400", "409", "413", "422"} <= codes, (method, path)
                names = {p["name"] for p in operation.get("parameters", [])}
                # A job claim takes no key: a lost claim's job returns when its lease expires.
                # A search is a read, also a search of checkpoints.
                unkeyed = {
                    "/api/v1/jobs/claim/",
                    "/api/v1/search/",
                    "/api/v1/checkpoints/search/",
                    "/api/v1/threads/{thread_id}/checkpoints/search/",
                }
                assert ("Idempotency-Key" in names) == (path not in unkeyed), path
            error = operation["responses"]["401"]["content"]["application/json"]["schema"]
            assert error == {"$ref": "#/components/schemas/Error"}


def test_the_documented_paths_are_the_api(schema):
    assert {
        "/api/v1/tool-executions/",
        "/api/v1/tool-executions/bulk/",
        "/api/v1/agent-executions/{execution_id}/complete/",
        "/api/v1/round-table-results/leaderboard/",
        "/api/v1/products/{id}/archive/",
        "/api/v1/documents/",
        "/api/v1/users/me/",
    } <= set(schema["paths"])


def test_docs_and_schema_are_served(client):
    assert client.get("/api/schema/").status_code == 200
    assert client.get("/api/docs/").status_code == 200


def test_healthz_is_200_when_the_database_answers(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok"}


def test_healthz_is_503_when_the_database_does_not(client, monkeypatch):
    from devskyy.api import views

    class Broken:
        def __enter__(self):
            raise DatabaseError("down")

        def __exit__(self, *exc):
            return False

    monkeypatch.setattr(views.connection, "cursor", lambda: Broken())
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["status"] == "unavailable"


def test_list_valued_parameters_document_that_no_comma_separated_part_may_be_empty(
    schema, agent_client
):
    products = schema["paths"]["/api/v1/products/"]["get"]["parameters"]
    tags = next(p for p in products if p["name"] == "tags")
    pattern = re.compile(tags["schema"]["items"]["pattern"])
    for value in ("a", "a,b", " ,x", "a b"):
        assert pattern.search(value), value
        assert agent_client.get("/api/v1/products/", {"tags": value}).status_code == 200
    for value in (",a", "a,", "a,,b", ","):
        assert not pattern.search(value), value
        assert agent_client.get("/api/v1/products/", {"tags": value}).status_code == 400
