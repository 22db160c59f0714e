"""The checkpoint hot path (agents_audit/api/checkpoint_hot_path.py) answers exactly as the DRF
views do: for each request below, the same status, headers, body and stored rows with the hot
path on as with it off; and it answers itself only the requests it should, handing the rest to
the DRF view unread."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import OperationalError
from rest_framework.throttling import UserRateThrottle

from agents_audit.api.checkpoints import ThreadViewSet
from tests.agents_audit.checkpoint_hot_cases import (
    CASES,
    GET_MINE,
    PUT_MINE,
    WRITES_MINE,
    Call,
    World,
    answer,
    body,
    make_world,
    writes,
)
from tests.agents_audit.factories import checkpoint_id

pytestmark = pytest.mark.django_db


@pytest.fixture
def world() -> World:
    return make_world()


@pytest.mark.parametrize("name", list(CASES))
def test_the_hot_path_answers_as_the_drf_view_does(name, world, settings, monkeypatch):
    call, answered_hot = CASES[name]
    hot = answer(world, call, hot=True, settings=settings, monkeypatch=monkeypatch)
    drf = answer(world, call, hot=False, settings=settings, monkeypatch=monkeypatch)
    assert (hot.status, hot.body) == (drf.status, drf.body)
    assert hot.headers == drf.headers
    assert hot.stored == drf.stored
    assert drf.drf_calls == call.times
    assert hot.drf_calls == (0 if answered_hot else call.times)


@pytest.mark.parametrize(
    "call",
    [Call("POST", PUT_MINE, body(3)), Call("POST", WRITES_MINE, writes(0)), Call("GET", GET_MINE)],
)
def test_a_throttled_caller_hears_the_drf_views_429_counted_once(
    call, world, settings, monkeypatch
):
    monkeypatch.setattr(UserRateThrottle, "THROTTLE_RATES", {"user": "2/minute"})
    throttled = Call(call.method, call.path, call.body, times=3)
    hot = answer(world, throttled, hot=True, settings=settings, monkeypatch=monkeypatch)
    drf = answer(world, throttled, hot=False, settings=settings, monkeypatch=monkeypatch)
    assert hot.status == drf.status == 429
    assert hot.body == drf.body
    assert hot.headers == drf.headers
    # the first two on the hot path, the refused third by the DRF view
    assert hot.drf_calls == 1
    # Two allowed requests, not three: the hot path counted each once.
    allowed = answer(
        world,
        Call(call.method, call.path, call.body, times=2),
        hot=True,
        settings=settings,
        monkeypatch=monkeypatch,
    )
    assert allowed.status in (200, 201)


@pytest.mark.parametrize(
    ("call", "where"),
    [
        (Call("POST", PUT_MINE, body(3)), "agents_audit.api.checkpoint_hot_path.checkpoint_put"),
        (
            Call("POST", WRITES_MINE, writes(0)),
            "agents_audit.api.checkpoint_hot_path.checkpoint_writes_put",
        ),
        (Call("GET", GET_MINE), "agents_audit.checkpoints.checkpoint_tuple_get"),
    ],
)
def test_a_database_outage_is_the_drf_views_503(call, where, world, settings, monkeypatch):
    def down(**kwargs: Any) -> Any:
        raise OperationalError("connection to server was lost")

    monkeypatch.setattr(where, down)
    monkeypatch.setattr("agents_audit.api.checkpoints.checkpoint_put", down)
    monkeypatch.setattr("agents_audit.api.checkpoints.checkpoint_writes_put", down)
    hot = answer(world, call, hot=True, settings=settings, monkeypatch=monkeypatch)
    drf = answer(world, call, hot=False, settings=settings, monkeypatch=monkeypatch)
    assert hot.status == drf.status == 503
    assert hot.body == drf.body
    assert hot.body["code"] == "database_unavailable"
    assert hot.headers == drf.headers
    assert hot.drf_calls == 0


def test_a_session_request_goes_to_the_drf_view(world, settings, monkeypatch, client):
    client.force_login(world.operator)
    settings.CHECKPOINT_HOT_PATH = True
    calls = []
    initial = ThreadViewSet.initial

    def counting(self: Any, *args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        return initial(self, *args, **kwargs)

    monkeypatch.setattr(ThreadViewSet, "initial", counting)
    response = client.get(GET_MINE)
    assert response.status_code == 200
    assert response.json()["checkpoint_id"] == checkpoint_id(2)
    assert calls == [1]


def test_the_schema_still_describes_the_hot_urls(admin_api):
    schema = admin_api.get("/api/schema/", {"format": "json"}).json()
    put_operation = schema["paths"]["/api/v1/threads/{thread_id}/checkpoints/"]["post"]
    writes_operation = schema["paths"]["/api/v1/threads/{thread_id}/writes/"]["post"]
    get_operation = schema["paths"]["/api/v1/threads/{thread_id}/checkpoint/"]["get"]
    assert put_operation["summary"] == "Put a checkpoint"
    assert writes_operation["summary"] == "Put a task's writes"
    assert get_operation["summary"] == "Get a checkpoint tuple"
