"""Any ``cursor`` and ``page_size`` on a keyset list is a page or a 400, never a 500.

A crafted cursor (base64 of 1,500 ``[``) used to reach ``json.loads`` and escape as a
RecursionError: a 500 on every keyset list. Cursors are now checked for length and alphabet before
they are decoded, and anything that is not a position this API issued is a 400 ``invalid_cursor``.
"""

from __future__ import annotations

import base64
import datetime as dt
import json

import pytest
from django.core.cache import cache
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from devskyy.api.pagination import MAX_CURSOR_LENGTH
from tests.agents_audit.factories import (
    AgentExecutionFactory,
    LLMRoundTableResultFactory,
    ToolExecutionFactory,
)
from tests.commerce.factories import OrderFactory
from tests.knowledge.factories import RAGDocumentFactory

pytestmark = pytest.mark.django_db

KEYSET_LISTS = [
    "/api/v1/tool-executions/",
    "/api/v1/agent-executions/",
    "/api/v1/round-table-results/",
    "/api/v1/orders/",
    "/api/v1/users/",
    "/api/v1/documents/",
]


def b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode()


def assert_page_or_invalid_cursor(response) -> None:
    assert response.status_code in (200, 400), response.content[:200]
    if response.status_code == 400:
        assert response.json()["code"] == "invalid_cursor"
        assert response.json()["errors"] == {
            "cursor": [{"message": "Invalid cursor.", "code": "invalid_cursor"}]
        }


@pytest.mark.parametrize("url", KEYSET_LISTS)
def test_base64_of_1500_brackets_is_a_400_on_every_keyset_list(admin_api, url):
    response = admin_api.get(url, {"cursor": b64(b"[" * 1500)})
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_cursor"


# The PostgreSQL-rendered list and a plain DRF one share the paginator.
@pytest.mark.parametrize("url", ["/api/v1/tool-executions/", "/api/v1/agent-executions/"])
@pytest.mark.parametrize(
    "cursor",
    [
        b64(b"{" * 100_000),
        b64(json.dumps([[["x"]]]).encode()),
        b64(json.dumps({"2026-01-01T00:00:00+00:00": 1, "pk": 2, "n": 3}).encode()),
        b64(json.dumps(["0001-01-01T00:00:00+14:00", "0" * 32, "n"]).encode()),
        b64(json.dumps(["9999-12-31T23:59:59-14:00", "0" * 32, "p"]).encode()),
        b64(json.dumps(["2026-01-01T00:00:00", "0" * 32, "n"]).encode()),
        "garbage",
        "eyJhIjogMX0=",
        "a" * (MAX_CURSOR_LENGTH + 1),
        "\u00e9\u00e9\u00e9\u00e9",
        "abc\x00",
        "",
    ],
    ids=[
        "deep-100k",
        "nested-list",
        "object",
        "year-1-east",
        "year-9999-west",
        "naive-time",
        "garbage",
        "object-b64",
        "too-long",
        "not-ascii",
        "nul",
        "empty",
    ],
)
def test_a_crafted_cursor_is_a_400(admin_api, url, cursor):
    response = admin_api.get(url, {"cursor": cursor})
    assert response.status_code == 400, response.content[:200]
    assert response.json()["code"] == "invalid_cursor"


@pytest.mark.parametrize("url", KEYSET_LISTS)
def test_a_cursor_the_api_issued_still_pages(admin_api, url):
    for factory in (
        ToolExecutionFactory,  # with its agent users
        AgentExecutionFactory,
        LLMRoundTableResultFactory,
        OrderFactory,
        RAGDocumentFactory,
    ):
        factory.create_batch(2)
    first = admin_api.get(url, {"page_size": 1}).json()
    assert len(first["results"]) == 1
    following = admin_api.get(first["next"])
    assert following.status_code == 200
    assert following.json()["results"] != first["results"]


timestamps = st.builds(
    lambda moment, minutes, naive: (
        moment if naive else moment.replace(tzinfo=dt.timezone(dt.timedelta(minutes=minutes)))
    ).isoformat(),
    st.datetimes(),
    st.integers(min_value=-1439, max_value=1439),
    st.booleans(),
)
json_junk = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda children: st.lists(children) | st.dictionaries(st.text(), children),
    max_leaves=10,
)
cursors = st.one_of(
    st.text(),
    st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_="),
    st.binary().map(b64),
    json_junk.map(lambda junk: b64(json.dumps(junk).encode())),
    st.tuples(
        timestamps | st.text(), st.uuids().map(str) | st.text(), st.sampled_from(["n", "p", "x"])
    ).map(lambda position: b64(json.dumps(list(position)).encode())),
)


@settings(
    max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(url=st.sampled_from(KEYSET_LISTS), cursor=cursors)
def test_any_cursor_is_a_page_or_invalid_cursor(admin_api, url, cursor):
    cache.clear()  # the throttle
    assert_page_or_invalid_cursor(admin_api.get(url, {"cursor": cursor}))


@pytest.mark.parametrize(
    ("size", "code"),
    [
        *[(size, "invalid") for size in ["٣", "1_0", " 5", "5 ", "+5", "1e2", "0x10", "5.0", "-1"]],
        ("", "blank"),
        ("0", "min_value"),
        ("201", "max_value"),
        ("9" * 50, "max_value"),
    ],
)
def test_a_page_size_that_is_not_a_whole_number_from_1_to_200_is_a_400(admin_api, size, code):
    response = admin_api.get("/api/v1/tool-executions/", {"page_size": size})
    assert response.status_code == 400
    assert response.json()["errors"]["page_size"][0]["code"] == code


def test_the_largest_page_size_is_taken(admin_api):
    ToolExecutionFactory.create_batch(2)
    response = admin_api.get("/api/v1/tool-executions/", {"page_size": "200"})
    assert response.status_code == 200
    assert len(response.json()["results"]) == 2


def test_a_cursor_with_an_offset_postgresql_would_refuse_still_reads(admin_api):
    # Python takes UTC offsets up to 23:59, PostgreSQL up to 15:59: positions are sent in UTC.
    position = ["2026-01-01T00:00:00-21:48", "00000000-0000-0000-0000-000000000000", "n"]
    response = admin_api.get(KEYSET_LISTS[0], {"cursor": b64(json.dumps(position).encode())})
    assert response.status_code == 200
