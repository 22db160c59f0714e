"""The requests the checkpoint hot path is proven on (tests/agents_audit/test_checkpoint_hot_path.py
and, through the hot lane, tests/test_hot_lane.py): each, and the answer it gets."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import orjson
from django.core.cache import cache
from django.db import connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from agents_audit.api.checkpoints import ThreadViewSet
from agents_audit.models import CheckpointWrite
from commerce.models import User
from commerce.services import api_key_create
from tests.agents_audit.checkpoint_api import checkpoint_body, put, rows, snapshot, thread_url
from tests.agents_audit.factories import checkpoint_id
from tests.commerce.factories import AgentUserFactory, OperatorFactory

JSON = "application/json"


@dataclass
class World:
    agent: User
    agent_key: str
    other_key: str
    operator_key: str
    customer_key: str
    operator: User


def make_world() -> World:
    """Three agents (one demoted to customer) and an operator, each with a key; the agent's
    thread "mine" holds checkpoints 1 and 2 and a write pending on 2."""
    agent = AgentUserFactory.create(username="hot-agent")
    other = AgentUserFactory.create(username="hot-other")
    operator = OperatorFactory.create(username="hot-operator")
    demoted = AgentUserFactory.create(username="hot-demoted")
    keys = [api_key_create(user=user, name="hot")[1] for user in (agent, other, operator, demoted)]
    demoted.role = User.Role.CUSTOMER  # an agent made a customer keeps a key it may not use
    demoted.save(update_fields=["role"])
    agent_client = APIClient()
    agent_client.credentials(HTTP_AUTHORIZATION=f"Api-Key {keys[0]}")
    for n in (1, 2):
        put(agent_client, "mine", n, channels={"messages": b"m"}, parent=n - 1 if n > 1 else None)
    # a write pending on checkpoint 2, so that tuples carry one
    response = agent_client.post(
        thread_url("mine", "writes/"),
        {
            "checkpoint_id": checkpoint_id(2),
            "task_id": "t",
            "writes": [{"idx": 0, "channel": "c", "type": "json", "data": "eA=="}],
        },
        format="json",
    )
    assert response.status_code == 200, response.content
    return World(agent, keys[0], keys[1], keys[2], keys[3], operator)


@dataclass(frozen=True)
class Call:
    method: str
    path: str
    body: bytes | None = None
    content_type: str = JSON
    headers: tuple[tuple[str, str], ...] = ()
    key: str = "agent"  # agent, other, operator, customer, none, wrong
    times: int = 1  # the answer to the last one counts (the throttle cases)
    secure: bool = False  # over https


def body(n: int, **kwargs: Any) -> bytes:
    return orjson.dumps(checkpoint_body(n, **kwargs))


def writes(*idx: int, **fields: Any) -> bytes:
    return orjson.dumps(
        {
            "checkpoint_id": checkpoint_id(2),
            "task_id": "t2",
            "writes": [{"idx": i, "channel": "c", "type": "json", "data": "eQ=="} for i in idx],
            **fields,
        }
    )


WRITES_MINE = thread_url("mine", "writes/")
PUT_MINE = thread_url("mine", "checkpoints/")
PUT_NEW = thread_url("fresh", "checkpoints/")
GET_MINE = thread_url("mine", "checkpoint/")

# name: (the call, whether the hot path answers it itself)
CASES: dict[str, tuple[Call, bool]] = {
    "put a new checkpoint to my thread": (Call("POST", PUT_MINE, body(3, parent=2)), True),
    "put a checkpoint again": (Call("POST", PUT_MINE, body(2, parent=1)), True),
    "put with blobs": (
        Call("POST", PUT_MINE, body(3, channels={"a": b"1", "b": None}, versions={"c": 1})),
        True,
    ),
    "put in a namespace": (Call("POST", PUT_MINE, body(3, ns="child:1")), True),
    "put to a new thread": (Call("POST", PUT_NEW, body(1)), True),
    "put to another agent's thread": (Call("POST", PUT_MINE, body(3), key="other"), True),
    "an operator puts to an agent's thread": (
        Call("POST", PUT_MINE, body(3), key="operator"),
        True,
    ),
    "put a checkpoint with channel_values": (
        Call(
            "POST",
            PUT_MINE,
            orjson.dumps(
                {
                    "checkpoint": {
                        "id": checkpoint_id(3),
                        "channel_versions": {},
                        "channel_values": {},
                    }
                }
            ),
        ),
        False,
    ),
    "put an unknown field": (
        Call("POST", PUT_MINE, orjson.dumps({**checkpoint_body(3), "owner": "me"})),
        False,
    ),
    "put a blob that is not base64": (
        Call(
            "POST",
            PUT_MINE,
            orjson.dumps(
                {
                    **checkpoint_body(3),
                    "blobs": [{"channel": "a", "version": 3, "type": "json", "data": "!!"}],
                }
            ),
        ),
        False,
    ),
    "put a body that is not JSON": (Call("POST", PUT_MINE, b"{not json"), False),
    "put a JSON array": (Call("POST", PUT_MINE, b"[]"), False),
    "put an empty body": (Call("POST", PUT_MINE, b""), False),
    "put as form data": (
        Call("POST", PUT_MINE, b"checkpoint=1", content_type="application/x-www-form-urlencoded"),
        False,
    ),
    "put JSON with a charset": (
        Call("POST", PUT_MINE, body(3), content_type="application/json; charset=utf-8"),
        False,
    ),
    "put with an idempotency key": (
        Call("POST", PUT_MINE, body(3), headers=(("Idempotency-Key", "k-1"),)),
        False,
    ),
    "put with a query string": (Call("POST", PUT_MINE + "?x=1", body(3)), False),
    "put asking for HTML": (
        Call("POST", PUT_MINE, body(3), headers=(("Accept", "text/html"),)),
        False,
    ),
    "put without a key": (Call("POST", PUT_MINE, body(3), key="none"), False),
    "put with a wrong key": (Call("POST", PUT_MINE, body(3), key="wrong"), False),
    "a customer puts": (Call("POST", PUT_MINE, body(3), key="customer"), False),
    "put with GET's method": (Call("GET", PUT_MINE), False),
    "put a body larger than Django reads into memory at once": (
        Call("POST", PUT_MINE, body(3, channels={"big": b"x" * (4 * 1024 * 1024)})),
        False,
    ),
    "put writes": (Call("POST", WRITES_MINE, writes(0, 1)), True),
    "put writes already stored (kept)": (
        Call("POST", WRITES_MINE, writes(0, task_id="t")),
        True,
    ),
    "put special writes (replaced)": (Call("POST", WRITES_MINE, writes(-1, -3)), True),
    "put writes to a new thread": (
        Call("POST", thread_url("fresh", "writes/"), writes(0)),
        True,
    ),
    "put writes to another agent's thread": (
        Call("POST", WRITES_MINE, writes(0), key="other"),
        True,
    ),
    "put writes with an idx twice": (Call("POST", WRITES_MINE, writes(0, 0)), False),
    "put no writes": (Call("POST", WRITES_MINE, writes()), False),
    "put writes with an idx out of range": (Call("POST", WRITES_MINE, writes(2**31)), False),
    "put writes with an idempotency key": (
        Call("POST", WRITES_MINE, writes(0), headers=(("Idempotency-Key", "k-2"),)),
        False,
    ),
    "a customer puts writes": (Call("POST", WRITES_MINE, writes(0), key="customer"), False),
    "get the latest tuple": (Call("GET", GET_MINE), True),
    "get the latest tuple, root namespace named": (Call("GET", GET_MINE + "?checkpoint_ns="), True),
    "get a tuple by id": (Call("GET", f"{GET_MINE}?checkpoint_id={checkpoint_id(1)}"), True),
    "get a tuple that does not exist": (
        Call("GET", f"{GET_MINE}?checkpoint_id={checkpoint_id(9)}"),
        True,
    ),
    "get from an empty namespace": (Call("GET", GET_MINE + "?checkpoint_ns=nothing"), True),
    "get from a thread nobody has": (Call("GET", thread_url("nobody", "checkpoint/")), True),
    "get from another agent's thread": (Call("GET", GET_MINE, key="other"), True),
    "an operator gets an agent's tuple": (Call("GET", GET_MINE, key="operator"), True),
    "get with a blank checkpoint id": (Call("GET", GET_MINE + "?checkpoint_id="), False),
    "get with a parameter twice": (
        Call("GET", GET_MINE + "?checkpoint_ns=&checkpoint_ns=a"),
        False,
    ),
    "get with an unknown parameter": (Call("GET", GET_MINE + "?limit=1"), False),
    "get with a NUL": (Call("GET", GET_MINE + "?checkpoint_ns=%00"), False),
    "get with a too long id": (Call("GET", f"{GET_MINE}?checkpoint_id={'x' * 256}"), False),
    "get asking for HTML": (Call("GET", GET_MINE, headers=(("Accept", "text/html"),)), False),
    "get without a key": (Call("GET", GET_MINE, key="none"), False),
    "a customer gets": (Call("GET", GET_MINE, key="customer"), False),
    "HEAD of a tuple": (Call("HEAD", GET_MINE), False),
}


def written() -> list[tuple[Any, ...]]:
    """Every pending write, with the columns ``snapshot`` leaves out."""
    return sorted(
        CheckpointWrite.objects.values_list(
            "thread_id", "checkpoint_id", "task_id", "task_path", "idx", "channel", "type", "blob"
        )
    )


def send(client: Client, world: World, call: Call) -> Any:
    keys = {
        "agent": world.agent_key,
        "other": world.other_key,
        "operator": world.operator_key,
        "customer": world.customer_key,
        "wrong": world.agent_key[:-2] + "xx",
    }
    headers = dict(call.headers)
    if call.key in keys:
        headers["Authorization"] = f"Api-Key {keys[call.key]}"
    response = None
    for _ in range(call.times):
        response = client.generic(
            call.method,
            call.path,
            data=call.body or b"",
            content_type=call.content_type,
            secure=call.secure,
            headers=headers,
        )
    return response


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: Any
    stored: Any
    drf_calls: int
    cookies: dict[str, dict[str, str]]  # each cookie set (a fresh CSRF token: its name only)
    queries: int


def answer(
    world: World,
    call: Call,
    *,
    hot: bool,
    settings: Any,
    monkeypatch: Any,
    make_client: Callable[[], Client] = Client,
) -> Answer:
    """The answer to ``call`` and the rows it leaves, rolled back afterwards."""
    settings.CHECKPOINT_HOT_PATH = hot
    cache.clear()  # the throttle's history
    drf_calls = []
    initial = ThreadViewSet.initial

    def counting(self: Any, *args: Any, **kwargs: Any) -> Any:
        drf_calls.append(self.action)
        return initial(self, *args, **kwargs)

    monkeypatch.setattr(ThreadViewSet, "initial", counting)
    client = make_client()
    with transaction.atomic(), CaptureQueriesContext(connection) as queries:
        response = send(client, world, call)
        stored = (rows(), snapshot("mine"), snapshot("fresh"), written())
        transaction.set_rollback(True)
    monkeypatch.setattr(ThreadViewSet, "initial", initial)
    content = response.content
    if response.get("Content-Type", "").startswith("text/html"):
        content = b""  # the browsable API's page, which carries a fresh CSRF token
    try:
        parsed = json.loads(content) if content else None
    except ValueError:
        parsed = content
    cookies = {name: {**morsel, "value": morsel.value} for name, morsel in response.cookies.items()}
    if settings.CSRF_COOKIE_NAME in cookies:  # a fresh token, for a year from now
        cookies[settings.CSRF_COOKIE_NAME].update(value="(a token)", expires="(a year on)")
    return Answer(
        response.status_code,
        dict(response.headers),
        parsed,
        stored,
        len(drf_calls),
        cookies,
        len(queries),
    )
