"""Hostile and broken input: always a clean 4xx in the one error format, never a 500, and
nothing written."""

from __future__ import annotations

import json

import pytest
from django.test import override_settings

from agents_audit.models import AgentExecution, LLMRoundTableResult, ToolExecution

pytestmark = pytest.mark.django_db

TOOL = "/api/v1/tool-executions/"
GOOD = {"correlation_id": "c", "tool_name": "t", "inputs": {}, "status": "success"}


def post_raw(client, url, raw: bytes | str, content_type="application/json"):
    return client.generic("POST", url, raw, content_type=content_type)


def nothing_written():
    return not (
        ToolExecution.objects.exists()
        or AgentExecution.objects.exists()
        or LLMRoundTableResult.objects.exists()
    )


@pytest.mark.parametrize(
    ("raw", "status", "code"),
    [
        (b"{", 400, "parse_error"),
        (b"{'single': 'quotes'}", 400, "parse_error"),
        (b"\xff\xfe not utf-8", 400, "parse_error"),
        (b'{"inputs": NaN}', 400, "parse_error"),
        (b'{"inputs": Infinity}', 400, "parse_error"),
        (b'{"inputs": 1e999}', 400, "number_out_of_range"),
        (b'{"inputs": {"k": "a\\u0000b"}}', 400, "parse_error"),
        (b'{"inputs": {"a\\u0000": 1}}', 400, "parse_error"),
        (b'{"inputs": "\\ud800"}', 400, "parse_error"),
        (b"[" * 100 + b"]" * 100, 400, "parse_error"),
        (b"[" * 100_000, 400, "parse_error"),
        (b"", 400, "invalid"),
        (b"null", 400, "invalid"),
        (b"[]", 400, "invalid"),
        (b'"a string"', 400, "invalid"),
    ],
    ids=[
        "truncated",
        "quotes",
        "not-utf8",
        "nan",
        "infinity",
        "overflow-float",
        "nul-value",
        "nul-key",
        "lone-surrogate",
        "deep-100",
        "deep-100k",
        "empty",
        "null",
        "array",
        "string",
    ],
)
def test_malformed_bodies_are_400s(agent_client, raw, status, code):
    response = post_raw(agent_client, TOOL, raw)
    assert response.status_code == status
    assert response.json()["code"] == code
    assert nothing_written()


def test_a_deep_but_allowed_document_is_stored(agent_client):
    nested: dict = {}
    node = nested
    for _ in range(20):
        node["n"] = {}
        node = node["n"]
    response = agent_client.post(TOOL, {**GOOD, "inputs": nested}, format="json")
    assert response.status_code == 201


def test_emoji_and_other_astral_characters_are_fine(agent_client):
    response = agent_client.post(
        TOOL, {**GOOD, "inputs": {"q": "ring 💍 \ud83d\udc8d"[:6]}}, format="json"
    )
    assert response.status_code == 201


@override_settings(API_MAX_BODY_BYTES=1000)
def test_an_oversized_body_is_a_413(agent_client):
    response = agent_client.post(TOOL, {**GOOD, "inputs": {"blob": "x" * 2000}}, format="json")
    assert response.status_code == 413
    assert response.json()["code"] == "request_too_large"
    assert nothing_written()


def test_a_body_that_is_not_json_is_a_415(agent_client):
    response = post_raw(agent_client, TOOL, "correlation_id=c", "application/x-www-form-urlencoded")
    assert response.status_code == 415
    assert response.json()["code"] == "unsupported_media_type"


@pytest.mark.parametrize("field", ["correlation_id", "tool_name", "agent_id", "error_message"])
def test_nul_in_a_text_field_is_rejected(agent_client, field):
    # Sent pre-encoded, the way a raw client would, so the parser sees the \\u0000 escape.
    raw = json.dumps({**GOOD, field: "a\u0000b"})
    assert post_raw(agent_client, TOOL, raw).status_code == 400
    assert nothing_written()


def test_huge_integers_are_rejected_where_columns_are_integers(agent_client):
    response = agent_client.post(TOOL, {**GOOD, "duration_ms": 10**30}, format="json")
    assert response.status_code == 400
    assert nothing_written()


def test_huge_numbers_inside_json_documents_are_refused(agent_client):
    # jsonb would store 1e30 as a 31-digit integer that no 64-bit reader writes back.
    response = agent_client.post(TOOL, {**GOOD, "inputs": {"big": 10**30}}, format="json")
    assert response.status_code == 400
    assert response.json()["code"] == "number_out_of_range"
    assert nothing_written()


@pytest.mark.parametrize(
    "query",
    [
        "tool_name=%00",
        "correlation_id=a%00b",
        "status=bogus",
        "created_after=yesterday",
        "page_size=0",
        "page_size=abc",
        "agent_id=" + "x" * 500,
        "%00=1",
    ],
)
def test_bad_query_parameters_are_400s(agent_client, query):
    response = agent_client.get(f"{TOOL}?{query}")
    assert response.status_code == 400, response.content
    assert response.json()["code"] == "invalid"


@pytest.mark.parametrize("path", ["not-a-uuid/", "%00/", "00000000-0000-0000-0000-000000000000/"])
def test_bad_or_unknown_ids_are_json_404s(agent_client, path):
    response = agent_client.get(TOOL + path)
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_unknown_api_urls_are_json_404s(agent_client):
    response = agent_client.get("/api/v1/no-such-thing/")
    assert response.status_code == 404
    assert response.json() == {"code": "not_found", "detail": "Not found."}


@pytest.mark.parametrize("host", ["", "evil.example", "bad host"])
def test_a_disallowed_host_header_is_a_json_400_on_the_api(agent_client, host):
    response = agent_client.patch(
        "/api/v1/projects/00000000-0000-0000-0000-000000000000/",
        data="{}",
        content_type="application/json",
        HTTP_HOST=host,
    )

    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"code": "bad_request", "detail": "Invalid Host header."}


def test_a_disallowed_host_header_outside_the_api_is_djangos_page(client):
    response = client.get("/admin/login/", HTTP_HOST="evil.example")

    assert response.status_code == 400
    assert response["Content-Type"].startswith("text/html")


def test_wrong_method_is_a_405(agent_client):
    response = agent_client.delete(TOOL)
    assert response.status_code == 405
    assert response.json()["code"] == "method_not_allowed"


@pytest.mark.parametrize(
    ("url", "body"),
    [
        (
            "/api/v1/agent-executions/",
            {"execution_id": "x" * 101, "agent_name": "a", "prompt": "p"},
        ),
        ("/api/v1/agent-executions/", {"execution_id": 5, "agent_name": "a", "prompt": "p"}),
        (
            "/api/v1/agent-executions/",
            {"execution_id": "e", "agent_name": "a", "prompt": "p", "status": "completed"},
        ),
        (
            "/api/v1/round-table-results/",
            {"result_id": "r", "prompt": "p", "participants": [{"provider": "x", "score": "high"}]},
        ),
        (
            "/api/v1/round-table-results/",
            {"result_id": "r", "prompt": "p", "participants": [{"provider": "x" * 51}]},
        ),
    ],
)
def test_invalid_writes_on_other_endpoints_are_400s(agent_client, url, body):
    response = agent_client.post(url, body, format="json")
    assert response.status_code == 400
    assert response.json()["errors"]
    assert nothing_written()
