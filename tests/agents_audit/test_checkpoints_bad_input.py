"""Malformed checkpoint calls are 400s with per-field messages (or 404s for a path no thread
can have, 413s for bodies over the limit), and write nothing; none is a 500."""

from __future__ import annotations

import json
from typing import Any

import jsonschema_rs
import pytest
from django.test import Client, override_settings

from tests.agents_audit.checkpoint_api import (
    DELETE_FOR_RUNS,
    PRUNE,
    SEARCH_ALL,
    b64,
    checkpoint_body,
    rows,
    thread_url,
)
from tests.conftest import error_codes

pytestmark = pytest.mark.django_db

EMPTY = {"threads": 0, "checkpoints": 0, "blobs": 0, "writes": 0}


def put_body(**changes: Any) -> dict[str, Any]:
    body = checkpoint_body(1, channels={"a": b"x"})
    for key, value in changes.items():
        if key.startswith("checkpoint."):
            body["checkpoint"][key.removeprefix("checkpoint.")] = value
        elif key.startswith("blob."):
            body["blobs"][0][key.removeprefix("blob.")] = value
        else:
            body[key] = value
    return body


def codes(body: dict[str, Any]) -> Any:
    """Error codes by field, nested as the error body nests them."""

    def walk(tree: Any) -> Any:
        if isinstance(tree, list):
            return [error["code"] for error in tree]
        return {key: walk(value) for key, value in tree.items()}

    return walk(body["errors"])


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"blob.data": "not base64!"}, {"blobs": {"0": {"data": ["invalid_base64"]}}}),
        ({"blob.data": "QQ="}, {"blobs": {"0": {"data": ["invalid_base64"]}}}),
        ({"blob.data": 5}, {"blobs": {"0": {"data": ["invalid"]}}}),
        ({"blob.version": True}, {"blobs": {"0": {"version": ["invalid"]}}}),
        ({"blob.version": {"v": 1}}, {"blobs": {"0": {"version": ["invalid"]}}}),
        ({"blob.channel": None}, {"blobs": {"0": {"channel": ["null"]}}}),
        ({"blobs": {"a": 1}}, {"blobs": {"non_field_errors": ["not_a_list"]}}),
        (
            {"checkpoint.channel_values": {"a": 1}},
            {"checkpoint": {"channel_values": ["channel_values"]}},
        ),
        ({"checkpoint.id": None}, {"checkpoint": {"id": ["invalid"]}}),
        ({"checkpoint.id": "x" * 256}, {"checkpoint": {"id": ["invalid"]}}),
        (
            {"checkpoint.channel_versions": {"a": None}},
            {"checkpoint": {"channel_versions": ["invalid"]}},
        ),
        (
            {"checkpoint.channel_versions": {"a": False}},
            {"checkpoint": {"channel_versions": ["invalid"]}},
        ),
        ({"checkpoint.channel_versions": [1]}, {"checkpoint": {"channel_versions": ["invalid"]}}),
        ({"checkpoint": [1]}, {"checkpoint": ["not_an_object"]}),
        ({"checkpoint_ns": 5}, {"checkpoint_ns": ["invalid"]}),
        ({"checkpoint_ns": "n" * 1025}, {"checkpoint_ns": ["max_length"]}),
        ({"metadata": []}, {"metadata": ["not_an_object"]}),
        ({"parent_checkpoint_id": "p" * 256}, {"parent_checkpoint_id": ["max_length"]}),
        ({"thread_id": "mine"}, {"thread_id": ["unknown_field"]}),
    ],
)
def test_a_bad_put_is_a_400_under_its_field_and_writes_nothing(agent_client, changes, expected):
    response = agent_client.post(
        thread_url("t-1", "checkpoints/"), put_body(**changes), format="json"
    )
    assert response.status_code == 400, response.json()
    assert codes(response.json()) == expected
    assert rows() == EMPTY


def test_the_checkpoint_rules_say_what_is_wrong(agent_client):
    body = put_body(**{"checkpoint.channel_values": {}, "checkpoint.id": ""})
    errors = agent_client.post(thread_url("t-1", "checkpoints/"), body, format="json").json()[
        "errors"
    ]
    assert errors["checkpoint"] == {
        "channel_values": [
            {
                "message": "Send channel values as `blobs`, not inside the checkpoint.",
                "code": "channel_values",
            }
        ],
        "id": [{"message": "Required: a string of 1 to 255 characters.", "code": "invalid"}],
    }


def writes_body(**changes: Any) -> dict[str, Any]:
    return {
        "checkpoint_id": "c-1",
        "task_id": "task-1",
        "writes": [{"idx": 0, "channel": "a", "type": "json", "data": b64(b"1")}],
        **changes,
    }


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (
            writes_body(writes=[{"idx": 0, "channel": "a", "type": "j", "data": ""}] * 2),
            {"writes": {"1": {"idx": ["duplicate"]}}},
        ),
        (
            writes_body(writes=[{"idx": 2**31, "channel": "a", "type": "j", "data": ""}]),
            {"writes": {"0": {"idx": ["max_value"]}}},
        ),
        (
            writes_body(writes=[{"idx": "0", "channel": "a", "type": "j", "data": ""}]),
            {"writes": {"0": {"idx": ["invalid"]}}},
        ),
        (
            writes_body(writes=[{"idx": 0, "channel": "a", "type": "j", "data": None}]),
            {"writes": {"0": {"data": ["null"]}}},
        ),
        (writes_body(writes=[]), {"writes": {"non_field_errors": ["empty"]}}),
        (writes_body(task_id="t" * 256), {"task_id": ["max_length"]}),
        (writes_body(checkpoint_id=""), {"checkpoint_id": ["blank"]}),
        (writes_body(checkpoint_id=7), {"checkpoint_id": ["invalid"]}),
    ],
)
def test_bad_writes_are_a_400_and_write_nothing(agent_client, body, expected):
    response = agent_client.post(thread_url("t-1", "writes/"), body, format="json")
    assert response.status_code == 400, response.json()
    assert codes(response.json()) == expected
    assert rows() == EMPTY


@pytest.mark.parametrize(
    ("url", "body", "expected"),
    [
        (PRUNE, {"thread_ids": ["t"], "strategy": "all"}, {"strategy": ["invalid_choice"]}),
        (PRUNE, {"thread_ids": ["t"] * 1001}, {"thread_ids": ["max_length"]}),
        (PRUNE, {"thread_ids": ["a/b"]}, {"thread_ids": {"0": ["invalid"]}}),
        (PRUNE, {"thread_ids": [5]}, {"thread_ids": {"0": ["invalid"]}}),
        (DELETE_FOR_RUNS, {"run_ids": [5]}, {"run_ids": {"0": ["invalid"]}}),
        (DELETE_FOR_RUNS, {"run_ids": ["r" * 256]}, {"run_ids": {"0": ["max_length"]}}),
        (DELETE_FOR_RUNS, {}, {"run_ids": ["required"]}),
        (
            thread_url("t-1", "copy/"),
            {"target_thread_id": "x" * 256},
            {"target_thread_id": ["max_length", "invalid"]},
        ),
        (thread_url("t-1", "copy/"), {"target_thread_id": ".."}, {"target_thread_id": ["invalid"]}),
        (
            thread_url("t-1", "copy/"),
            {"target_thread_id": "prune"},
            {"target_thread_id": ["invalid"]},
        ),
        (SEARCH_ALL, {"limit": 0}, {"limit": ["min_value"]}),
        (SEARCH_ALL, {"filter": []}, {"filter": ["not_an_object"]}),
        (SEARCH_ALL, {"before": 5}, {"before": ["invalid"]}),
    ],
)
def test_bad_bodies_of_the_other_calls_are_400s(agent_client, url, body, expected):
    response = agent_client.post(url, body, format="json")
    assert response.status_code == 400, response.json()
    assert codes(response.json()) == expected
    assert rows() == EMPTY


def test_a_nul_character_anywhere_is_a_400(agent_client):
    body = json.dumps(put_body(metadata={"k": "a\u0000b"}))
    response = agent_client.post(
        thread_url("t-1", "checkpoints/"), body, content_type="application/json"
    )
    assert (response.status_code, response.json()["code"]) == (400, "parse_error")
    assert rows() == EMPTY


@pytest.mark.parametrize("thread_id", ["x" * 256, "a\u0001b", "prune", "delete-for-runs", "."])
def test_a_path_no_thread_can_have_is_a_404(agent_client, thread_id):
    response = agent_client.post(thread_url(thread_id, "checkpoints/"), put_body(), format="json")
    assert response.status_code == 404
    assert rows() == EMPTY


def test_a_query_that_is_too_long_is_a_400(agent_client):
    response = agent_client.get(thread_url("t-1", "checkpoint/"), {"checkpoint_id": "x" * 256})
    assert (response.status_code, error_codes(response.json())) == (
        400,
        {"checkpoint_id": ["max_length"]},
    )


@override_settings(CHECKPOINT_MAX_BODY_BYTES=2000, API_MAX_BODY_BYTES=1000)
def test_checkpoint_bodies_have_their_own_limit_and_a_413_names_it(agent_client):
    # over the API's limit, under the checkpoints': accepted
    fits = put_body(**{"blob.data": b64(b"x" * 900)})
    assert (
        agent_client.post(thread_url("t-1", "checkpoints/"), fits, format="json").status_code == 201
    )

    too_big = put_body(**{"blob.data": b64(b"x" * 1600)})
    response = agent_client.post(thread_url("t-2", "checkpoints/"), too_big, format="json")

    assert response.status_code == 413
    assert response.json() == {
        "code": "request_too_large",
        "detail": "The request body is larger than 2000 bytes "
        "(the CHECKPOINT_MAX_BODY_BYTES limit).",
    }
    assert rows()["checkpoints"] == 1
    # the other endpoints keep the API's limit
    tool = {
        "correlation_id": "c",
        "tool_name": "t",
        "inputs": {"blob": "x" * 1500},
        "status": "success",
    }
    assert agent_client.post("/api/v1/tool-executions/", tool, format="json").status_code == 413


def thread_id_schemas(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Every thread-id schema the OpenAPI document states, by where it stands."""
    found: dict[str, dict[str, Any]] = {}
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            for parameter in operation.get("parameters", []):
                if parameter["name"] == "thread_id" and parameter["in"] == "path":
                    found[f"{method} {path} thread_id"] = parameter["schema"]
    bodies = document["components"]["schemas"]
    found["CopyRequest.target_thread_id"] = bodies["CopyRequest"]["properties"]["target_thread_id"]
    found["PruneRequest.thread_ids[]"] = bodies["PruneRequest"]["properties"]["thread_ids"]["items"]
    return found


# One sample per side of each rule, C1 controls and astral characters included.
THREAD_ID_SAMPLES = {
    "t-1": True,
    'user 42|ü?#%&=+\\ "x"': True,
    "emoji \U0001f600 and CJK 漢字": True,
    "x" * 255: True,
    "...": True,
    "prune-2": True,
    "": False,
    "x" * 256: False,
    "a/b": False,
    "a\u0005b": False,
    "a\u007fb": False,
    "\u009bcsi": False,
    "a\u0085b": False,
    ".": False,
    "..": False,
    "prune": False,
    "delete-for-runs": False,
}


def test_the_openapi_document_states_the_servers_thread_id_rule_for_every_thread_id(
    agent_client,
):
    """The schema is the contract clients validate against: its pattern must be one a JSON
    Schema validator compiles (a Rust one here, as Schemathesis uses), and it must accept and
    refuse exactly what the server does, in the path and in request bodies."""
    document = Client().get("/api/schema/", {"format": "json"}).json()
    schemas = thread_id_schemas(document)
    assert len(schemas) > 2  # the path parameters were found too
    for where, schema in schemas.items():
        validator = jsonschema_rs.validator_for(schema)  # raises if the pattern is no regex
        said = {sample: validator.is_valid(sample) for sample in THREAD_ID_SAMPLES}
        assert said == THREAD_ID_SAMPLES, where

    for sample, valid in THREAD_ID_SAMPLES.items():
        response = agent_client.post(
            thread_url("source", "copy/"), {"target_thread_id": sample}, format="json"
        )
        # valid: the body passes and the (missing) source thread is the answer
        assert response.status_code == (404 if valid else 400), (sample, response.json())
    assert rows() == EMPTY
