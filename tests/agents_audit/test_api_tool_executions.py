"""POST/GET /api/v1/tool-executions/ and POST .../bulk/."""

from __future__ import annotations

import uuid

import pytest

from agents_audit.models import ToolExecution
from tests.agents_audit.factories import ToolExecutionFactory
from tests.conftest import error_codes

pytestmark = pytest.mark.django_db

URL = "/api/v1/tool-executions/"
BULK = URL + "bulk/"


def payload(**overrides):
    body = {
        "correlation_id": "corr-1",
        "tool_name": "search_web",
        "agent_id": "agent-7",
        "inputs": {"query": "rings", "options": {"limit": 5}},
        "output": {"rows": 3},
        "status": "success",
        "duration_ms": 12,
        "error_message": None,
        "metadata": {"k": "v"},
    }
    return {**body, **overrides}


def test_agent_records_a_tool_execution_and_reads_it_back(agent_client, agent_a):
    response = agent_client.post(URL, payload(), format="json")

    assert response.status_code == 201, response.json()
    body = response.json()
    row = ToolExecution.objects.get()
    assert body == {
        "id": str(row.id),
        "correlation_id": "corr-1",
        "tool_name": "search_web",
        "agent_id": "agent-7",
        "user": str(agent_a.id),
        "inputs": {"query": "rings", "options": {"limit": 5}},
        "output": {"rows": 3},
        "status": "success",
        "duration_ms": 12,
        "error_message": None,
        "metadata": {"k": "v"},
        "created_at": body["created_at"],
    }
    assert row.user == agent_a
    assert agent_client.get(f"{URL}{row.id}/").json() == body


def test_only_the_required_fields_are_needed(agent_client):
    response = agent_client.post(
        URL,
        {"correlation_id": "c", "tool_name": "t", "inputs": {}, "status": "timeout"},
        format="json",
    )
    assert response.status_code == 201
    assert response.json()["metadata"] == {}
    assert response.json()["output"] is None


@pytest.mark.parametrize("field", ["user", "id", "created_at"])
def test_fields_a_caller_may_not_set_are_rejected_and_nothing_is_stored(
    agent_client, field, agent_b
):
    value = {
        "user": str(agent_b.id),
        "id": str(uuid.uuid4()),
        "created_at": "2000-01-01T00:00:00Z",
    }[field]
    response = agent_client.post(URL, payload(**{field: value}), format="json")
    assert response.status_code == 400
    assert error_codes(response.json()) == {field: ["unknown_field"]}
    assert not ToolExecution.objects.exists()


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({"status": "done"}, {"status": ["invalid_choice"]}),
        ({"correlation_id": "x" * 65}, {"correlation_id": ["max_length"]}),
        ({"correlation_id": ""}, {"correlation_id": ["blank"]}),
        ({"duration_ms": -1}, {"duration_ms": ["min_value"]}),
        ({"duration_ms": 2**31}, {"duration_ms": ["max_value"]}),
        ({"duration_ms": "12"}, {"duration_ms": ["invalid"]}),
        ({"duration_ms": True}, {"duration_ms": ["invalid"]}),
        ({"tool_name": 5}, {"tool_name": ["invalid"]}),
        ({"metadata": ["not", "an", "object"]}, {"metadata": ["not_an_object"]}),
        ({"inputs": None}, {"inputs": ["null"]}),
    ],
)
def test_invalid_fields_are_a_400_with_codes_and_write_nothing(agent_client, overrides, expected):
    response = agent_client.post(URL, payload(**overrides), format="json")
    assert response.status_code == 400
    assert response.json()["code"] == "invalid"
    assert error_codes(response.json()) == expected
    assert not ToolExecution.objects.exists()


def test_missing_required_fields_are_each_reported(agent_client):
    response = agent_client.post(URL, {}, format="json")
    assert response.status_code == 400
    assert error_codes(response.json()) == {
        name: ["required"] for name in ("correlation_id", "tool_name", "inputs", "status")
    }


def test_bulk_records_all_items_in_one_request(agent_client, agent_a):
    items = [
        payload(correlation_id=f"c{i}", status=s)
        for i, s in enumerate(["failed", "timeout", "success"])
    ]
    response = agent_client.post(BULK, items, format="json")
    assert response.status_code == 201
    assert response.json() == {"created": 3}
    rows = ToolExecution.objects.order_by("correlation_id")
    assert [r.status for r in rows] == ["failed", "timeout", "success"]
    assert {r.user_id for r in rows} == {agent_a.id}
    assert rows[0].inputs == items[0]["inputs"]
    assert rows[0].metadata == {"k": "v"}
    assert len({r.created_at for r in rows}) == 1  # one transaction, one timestamp


def test_bulk_is_all_or_nothing_with_errors_per_item(agent_client):
    items = [payload(), payload(status="nope"), payload(), payload(duration_ms=-5, inputs=None)]
    response = agent_client.post(BULK, items, format="json")
    assert response.status_code == 400
    body = response.json()
    assert set(body["errors"]) == {"1", "3"}
    assert [e["code"] for e in body["errors"]["1"]["status"]] == ["invalid_choice"]
    assert [e["code"] for e in body["errors"]["3"]["duration_ms"]] == ["min_value"]
    assert [e["code"] for e in body["errors"]["3"]["inputs"]] == ["null"]
    assert not ToolExecution.objects.exists()


@pytest.mark.parametrize("body", [[], {"items": []}, "text", [payload()] * 1001])
def test_bulk_needs_an_array_of_1_to_1000_items(agent_client, body):
    response = agent_client.post(BULK, body, format="json")
    assert response.status_code == 400
    assert not ToolExecution.objects.exists()


def test_bulk_accepts_1000_items(agent_client):
    response = agent_client.post(
        BULK, [payload(correlation_id=f"c{i}") for i in range(1000)], format="json"
    )
    assert response.status_code == 201
    assert ToolExecution.objects.count() == 1000


def test_list_filters_by_every_documented_field(agent_client, agent_a):
    wanted = ToolExecutionFactory.create(
        user=agent_a,
        correlation_id="trace-1",
        tool_name="calc",
        status="failed",
        agent_id="agent-9",
    )
    ToolExecutionFactory.create(
        user=agent_a,
        correlation_id="trace-2",
        tool_name="calc",
        status="success",
        agent_id="agent-1",
    )
    for query in (
        "correlation_id=trace-1",
        "tool_name=calc&status=failed",
        "agent_id=agent-9",
        f"created_after={wanted.created_at.isoformat().replace('+00:00', 'Z')}&status=failed",
    ):
        response = agent_client.get(f"{URL}?{query}")
        assert response.status_code == 200, query
        assert [r["id"] for r in response.json()["results"]] == [str(wanted.id)], query


def test_list_is_newest_first_with_keyset_links(agent_client, agent_a):
    ToolExecutionFactory.create_batch(5, user=agent_a)
    first = agent_client.get(URL + "?page_size=2").json()
    assert set(first) == {"next", "previous", "results"}
    assert first["previous"] is None
    second = agent_client.get(first["next"]).json()
    third = agent_client.get(second["next"]).json()
    assert third["next"] is None
    ids = [r["id"] for page in (first, second, third) for r in page["results"]]
    expected = [
        str(pk)
        for pk in ToolExecution.objects.order_by("-created_at", "-id").values_list("id", flat=True)
    ]
    assert ids == expected
    back = agent_client.get(second["previous"]).json()
    assert [r["id"] for r in back["results"]] == [r["id"] for r in first["results"]]


def test_pagination_walks_a_bulk_batch_that_shares_one_timestamp(agent_client):
    agent_client.post(BULK, [payload(correlation_id=f"c{i}") for i in range(7)], format="json")
    seen, url = [], URL + "?page_size=3"
    while url:
        page = agent_client.get(url).json()
        seen += [r["id"] for r in page["results"]]
        url = page["next"]
    assert len(seen) == len(set(seen)) == 7


@pytest.mark.parametrize(
    ("size", "code"), [("201", "max_value"), ("100000", "max_value"), ("0", "min_value")]
)
def test_a_page_size_out_of_range_is_refused_not_clamped(agent_client, agent_a, size, code):
    # a clamped page would look like the whole answer to a caller who asked for more
    ToolExecutionFactory.create_batch(3, user=agent_a)
    response = agent_client.get(URL + f"?page_size={size}")
    assert response.status_code == 400
    assert error_codes(response.json()) == {"page_size": [code]}


def test_the_largest_page_size_is_accepted(agent_client, agent_a):
    ToolExecutionFactory.create_batch(3, user=agent_a)
    response = agent_client.get(URL + "?page_size=200")
    assert response.status_code == 200
    assert len(response.json()["results"]) == 3


@pytest.mark.parametrize("size", [5, 60])
def test_list_runs_a_constant_number_of_queries(
    agent_client, agent_a, size, django_assert_num_queries
):
    ToolExecutionFactory.create_batch(size, user=agent_a)
    # the API key with its user, then the page
    with django_assert_num_queries(2):
        response = agent_client.get(URL + "?page_size=200&tool_name=search_products")
    assert len(response.json()["results"]) == size


def test_create_runs_a_constant_number_of_queries(agent_client, django_assert_num_queries):
    # key, INSERT ... RETURNING, and SAVEPOINT/RELEASE of the transaction that also renders the
    # response (under the test's own transaction; in production BEGIN/COMMIT)
    with django_assert_num_queries(4):
        assert agent_client.post(URL, payload(), format="json").status_code == 201


def test_bulk_runs_a_constant_number_of_queries(agent_client, django_assert_max_num_queries):
    with django_assert_max_num_queries(5):  # key, COPY, savepoints (render before commit)
        response = agent_client.post(BULK, [payload()] * 50, format="json")
    assert response.status_code == 201


def test_the_sql_rendered_list_matches_the_serializer_field_for_field(agent_client, agent_a):
    from agents_audit.api.serializers import ToolExecutionSerializer

    ToolExecutionFactory.create(
        user=agent_a,
        output=None,
        agent_id=None,
        duration_ms=None,
        error_message='boom "quoted" \\ ünïcode ✓',
        inputs={"nested": {"list": [1, 2.5, None, True, "x"]}},
        metadata={},
    )
    ToolExecutionFactory.create(user=agent_a, inputs=[1, 2, 3], output="plain string")
    body = agent_client.get(URL).json()
    expected = [
        ToolExecutionSerializer(row).data
        for row in ToolExecution.objects.order_by("-created_at", "-id")
    ]
    assert body["results"] == [dict(row) for row in expected]


def test_the_browsable_api_still_renders_the_list(operator_client):
    ToolExecutionFactory.create()
    response = operator_client.get(URL, HTTP_ACCEPT="text/html")
    assert response.status_code == 200
    assert b"search_products" in response.content


# seed 001: log_tool_execution(..., inputs: dict, ...)
@pytest.mark.parametrize("inputs", ["a string", 5, [1, 2], True])
def test_inputs_must_be_a_json_object(agent_client, inputs):
    response = agent_client.post(URL, payload(inputs=inputs), format="json")
    assert response.status_code == 400
    assert response.json()["errors"] == {
        "inputs": [{"message": "Must be a JSON object.", "code": "not_an_object"}]
    }
    assert not ToolExecution.objects.exists()


def test_bulk_inputs_must_be_json_objects(agent_client):
    items = [payload(), payload(inputs="a string"), payload(inputs=[1])]
    response = agent_client.post(BULK, items, format="json")
    assert response.status_code == 400
    assert response.json()["errors"] == {
        str(index): {"inputs": [{"message": "Must be a JSON object.", "code": "not_an_object"}]}
        for index in (1, 2)
    }
    assert not ToolExecution.objects.exists()
