"""Numbers that would not read back are refused at the door; every accepted number reads back.

``jsonb`` stores a double of 1e16 or more as the integer its digits spell, and orjson reads integers
beyond 64 bits as rounded doubles: ``1e20`` went in, ``100000000000000000000`` came out, and no
64-bit JSON writer could render it, so every later read of the row was a 500. The API now accepts
JSON numbers in the signed 64-bit range only (400 ``number_out_of_range`` otherwise), on every
endpoint, because the check is in the JSON parser.
"""

from __future__ import annotations

import json
import uuid
from decimal import Decimal

import orjson
import pytest
from django.core.cache import cache
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agents_audit.models import AgentExecution, LLMRoundTableResult, ToolExecution
from commerce.models import Order, Product
from devskyy.json_codec import INT64_MAX, INT64_MIN
from tests.commerce.factories import ProductFactory

pytestmark = pytest.mark.django_db

TOOLS = "/api/v1/tool-executions/"
RUNS = "/api/v1/agent-executions/"
BULK = "/api/v1/tool-executions/bulk/"


def tool_call(**overrides):
    return {
        "correlation_id": "c-1",
        "tool_name": "search",
        "inputs": {},
        "status": "success",
        **overrides,
    }


def post_raw(client, url: str, raw: str):
    return client.generic("POST", url, raw.encode(), content_type="application/json")


def refused_as_out_of_range(response) -> bool:
    return response.status_code == 400 and response.json()["code"] == "number_out_of_range"


# --- the defects as reported -----------------------------------------------------------------


def test_1e20_in_agent_execution_metadata_is_refused(agent_client):
    raw = '{"execution_id": "e-1", "agent_name": "a", "prompt": "p", "metadata": {"n": 1e20}}'
    response = post_raw(agent_client, RUNS, raw)
    assert refused_as_out_of_range(response)
    assert "metadata.n" in response.json()["detail"]
    assert not AgentExecution.objects.exists()


def test_a_round_table_score_of_1e308_is_refused(agent_client):
    raw = (
        '{"result_id": "r-1", "prompt": "p", '
        '"participants": [{"provider": "a", "score": 0.5}, {"provider": "b", "score": 1e308}]}'
    )
    response = post_raw(agent_client, "/api/v1/round-table-results/", raw)
    assert refused_as_out_of_range(response)
    assert ".participants[1].score" in response.json()["detail"]
    assert not LLMRoundTableResult.objects.exists()


def test_an_order_with_1e20_in_its_shipping_is_refused_and_takes_no_stock(agent_client):
    ProductFactory.create(sku="RING", inventory_quantity=5)
    raw = (
        '{"items": [{"sku": "RING", "quantity": 1}], "shipping": {"zip": 1e20}, '
        '"payment_method": "card"}'
    )
    response = agent_client.generic(
        "POST",
        "/api/v1/orders/",
        raw.encode(),
        content_type="application/json",
        HTTP_IDEMPOTENCY_KEY="order-1",
    )
    assert refused_as_out_of_range(response)
    assert not Order.objects.exists()
    assert Product.objects.get(sku="RING").inventory_quantity == 5


def test_one_bad_number_refuses_a_whole_bulk(agent_client):
    items = [json.dumps(tool_call(correlation_id=f"c-{i}")) for i in range(3)]
    items[2] = items[2].replace('"inputs": {}', '"inputs": {"n": -1e19}')
    response = post_raw(agent_client, BULK, "[" + ",".join(items) + "]")
    assert refused_as_out_of_range(response)
    assert "[2].inputs.n" in response.json()["detail"]
    assert not ToolExecution.objects.exists()


@pytest.mark.parametrize(
    "number",
    [
        "9223372036854775808",
        "-9223372036854775809",  # read as the double -2**63, spelled -9223372036854776000
        "-9.223372036854776e18",
        "18446744073709551615",
        "1e19",
        "1e999",
    ],
)
def test_numbers_just_outside_the_signed_64_bit_range_are_refused(agent_client, number):
    response = post_raw(agent_client, TOOLS, json.dumps(tool_call()).replace("{}", number))
    assert refused_as_out_of_range(response)


@pytest.mark.parametrize(
    "number",
    ["9223372036854775807", "-9223372036854775808", "9.223372036854775e18", "1e-400", "0.5e1"],
)
def test_numbers_at_the_edges_of_the_range_are_stored(agent_client, number):
    raw = json.dumps(tool_call(inputs={"n": "N"})).replace('"N"', number)
    response = post_raw(agent_client, TOOLS, raw)
    assert response.status_code == 201, response.json()
    read_back = agent_client.get(f"{TOOLS}{response.json()['id']}/").json()["inputs"]["n"]
    assert same_number(read_back, orjson.loads(number))


def test_a_body_that_is_only_a_big_number_is_refused(agent_client):
    assert refused_as_out_of_range(post_raw(agent_client, TOOLS, "1e20"))


def test_big_numbers_inside_strings_are_only_text(agent_client):
    raw = json.dumps(tool_call(inputs={"note": "[1e20, 123456789012345678901234567890]"}))
    assert post_raw(agent_client, TOOLS, raw).status_code == 201


# --- any number: refused, or read back the same through every path ----------------------------

DIGITS = "0123456789"
integers = st.one_of(
    st.integers(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.sampled_from([INT64_MIN, INT64_MAX, INT64_MIN - 1, INT64_MAX + 1, 2**64 - 1, 2**64]),
).map(str)
doubles = st.floats(allow_nan=False, allow_infinity=False).map(repr)
with_exponent = st.builds(
    "{}{}{}e{}".format,
    st.sampled_from(["", "-"]),
    st.integers(min_value=0, max_value=10**25),
    st.one_of(st.just(""), st.text(DIGITS, min_size=1, max_size=30).map(lambda d: f".{d}")),
    st.integers(min_value=-450, max_value=450),
)
long_decimals = st.builds(
    "{}{}.{}".format,
    st.sampled_from(["", "-"]),
    st.integers(min_value=0, max_value=10**30),
    st.text(DIGITS, min_size=1, max_size=80),
)
json_numbers = st.one_of(integers, doubles, with_exponent, long_decimals)


@settings(
    max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(number=json_numbers)
def test_every_number_is_refused_or_reads_back_the_same(agent_client, number):
    cache.clear()  # six requests per example: stay under the per-second throttle
    try:
        understood = orjson.loads(number)  # as the API reads it: an int, or the nearest double
    except orjson.JSONDecodeError:
        understood = None  # beyond a double
    in_range = understood is not None and (
        INT64_MIN <= understood <= INT64_MAX
        if type(understood) is int
        else INT64_MIN < understood <= INT64_MAX
    )
    key = uuid.uuid4().hex
    tool = json.dumps(tool_call(correlation_id=key, inputs={"n": "N"})).replace('"N"', number)
    run = json.dumps({"execution_id": key, "agent_name": key, "prompt": "p", "metadata": {}})
    run = run.replace("{}", f'{{"n": {number}}}')

    created = [post_raw(agent_client, TOOLS, tool), post_raw(agent_client, RUNS, run)]

    if not in_range:
        assert all(refused_as_out_of_range(response) for response in created), number
        return
    assert [response.status_code for response in created] == [201, 201], number
    assert (type(understood) is int and understood == int(number)) or (
        float(Decimal(number)) == understood
    )
    reads = {
        "tool detail": agent_client.get(f"{TOOLS}{created[0].json()['id']}/"),
        "tool list (rendered by PostgreSQL)": agent_client.get(TOOLS, {"correlation_id": key}),
        "run detail": agent_client.get(f"{RUNS}{key}/"),
        "run list": agent_client.get(RUNS, {"agent_name": key}),
    }
    assert {name: r.status_code for name, r in reads.items()} == dict.fromkeys(reads, 200)
    listed = {row["execution_id"]: row for row in reads["run list"].json()["results"]}
    read_back = [
        reads["tool detail"].json()["inputs"]["n"],
        reads["tool list (rendered by PostgreSQL)"].json()["results"][0]["inputs"]["n"],
        reads["run detail"].json()["metadata"]["n"],
        listed[key]["metadata"]["n"],
    ]
    assert all(same_number(value, understood) for value in read_back), (number, read_back)


def same_number(value, understood) -> bool:
    """Integers come back exactly; a double comes back as the same double, though jsonb spells
    one of 1e16 or more as the integer of its shortest digits (3.604157586628215e16 reads back as
    36041575866282150)."""
    if type(understood) is int:
        return type(value) is int and value == understood
    return type(value) in (int, float) and float(value) == understood
