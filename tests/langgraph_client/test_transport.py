"""How the client talks HTTP: headers, timeouts, retries, errors, the meaning of a 404.

The server is an ``httpx.MockTransport`` answering from a script, and the retries' waits are
recorded instead of slept.
"""

from __future__ import annotations

import asyncio
import email.utils
import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.base import empty_checkpoint

from devskyy_langgraph import (
    CheckpointTooLarge,
    DevskyyAPIError,
    DevskyyCheckpointSaver,
    PruneUnsupported,
)
from tests.langgraph_client.conftest import API_KEY, Mode, Waits

MakeSaver = Callable[..., DevskyyCheckpointSaver]
Answer = httpx.Response | Exception
CONFIG: RunnableConfig = {"configurable": {"thread_id": "order 4711?", "checkpoint_ns": ""}}
NOT_FOUND = {"code": "not_found", "detail": "No such thread."}
UNAVAILABLE = {"code": "database_unavailable", "detail": "The database is not answering."}
TUPLE: dict[str, Any] = {
    "thread_id": "order 4711?",
    "checkpoint_ns": "",
    "checkpoint_id": "cp-1",
    "parent_checkpoint_id": None,
    "checkpoint": {
        "v": 4,
        "id": "cp-1",
        "ts": "2026-01-01T00:00:00+00:00",
        "channel_versions": {},
        "versions_seen": {},
        "updated_channels": None,
    },
    "metadata": {"step": 1},
    "channel_values": [],
    "pending_writes": [],
    "created_at": "2026-01-01T00:00:00.000000Z",
}


class Script:
    """Answers requests in order (an exception is raised as the connection failing)."""

    def __init__(self, *answers: Answer) -> None:
        self.answers = list(answers)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        # a fresh response each time: a script may repeat one
        return httpx.Response(answer.status_code, headers=answer.headers, content=answer.content)


def unavailable(retry_after: str | None = None, status: int = 503) -> httpx.Response:
    headers = {"Retry-After": retry_after} if retry_after is not None else {}
    return httpx.Response(status, json=UNAVAILABLE, headers=headers)


# --- requests -----------------------------------------------------------------------------------


def test_requests_carry_the_api_key_under_the_base_url_with_the_thread_id_encoded(
    make_saver: MakeSaver, run: Mode
) -> None:
    script = Script(httpx.Response(200, json=TUPLE))
    saver = make_saver(script)

    tup = run(
        saver, "get_tuple", {"configurable": {**CONFIG["configurable"], "checkpoint_id": "cp-1"}}
    )

    [request] = script.requests
    assert (request.method, request.url.raw_path) == (
        "GET",
        b"/prefix/api/v1/threads/order%204711%3F/checkpoint/?checkpoint_ns=&checkpoint_id=cp-1",
    )
    assert request.headers["Authorization"] == f"Api-Key {API_KEY}"
    assert request.headers["User-Agent"].startswith("devskyy-langgraph/")
    assert tup.checkpoint["id"] == "cp-1"


@pytest.mark.parametrize(
    "thread_id",
    [
        "",
        "x" * 256,
        "a/b",
        "tab\there",
        "nul\x00",
        "c1\x85",
        "\ud800",
        ".",
        "..",
        "prune",
        "delete-for-runs",
    ],
)
def test_thread_ids_the_server_cannot_route_are_refused_before_sending(
    make_saver: MakeSaver, run: Mode, thread_id: str
) -> None:
    script = Script()
    saver = make_saver(script)

    with pytest.raises(ValueError, match="thread id"):
        run(saver, "get_tuple", {"configurable": {"thread_id": thread_id}})
    with pytest.raises(ValueError, match="thread id"):
        run(saver, "copy_thread", "t-1", thread_id)
    assert script.requests == []


def test_any_other_thread_id_is_percent_encoded(make_saver: MakeSaver, run: Mode) -> None:
    script = Script(httpx.Response(204), httpx.Response(204))
    saver = make_saver(script)

    run(saver, "delete_thread", "x" * 255)
    run(saver, "delete_thread", "ünïcode ☃ %2F ...")

    assert [r.url.raw_path for r in script.requests] == [
        f"/prefix/api/v1/threads/{'x' * 255}/".encode(),
        b"/prefix/api/v1/threads/%C3%BCn%C3%AFcode%20%E2%98%83%20%252F%20.../",
    ]


def test_each_call_gets_its_own_url_and_the_urls_kept_stay_bounded(
    make_saver: MakeSaver, run: Mode, monkeypatch: pytest.MonkeyPatch
) -> None:
    from devskyy_langgraph.transport import Transport

    monkeypatch.setattr(Transport, "URLS_KEPT", 3)
    ids = ["t-1", "t-2", "t-1", "t-3", "t-4", "t-5", "t-1"]
    script = Script(*[httpx.Response(204)] * len(ids))
    saver = make_saver(script)

    for thread_id in ids:
        run(saver, "delete_thread", thread_id)

    assert [r.url.raw_path for r in script.requests] == [
        f"/prefix/api/v1/threads/{thread_id}/".encode() for thread_id in ids
    ]
    assert len(saver._http._urls) <= 3


def test_every_request_has_the_savers_timeout(make_saver: MakeSaver, run: Mode) -> None:
    script = Script(httpx.Response(404, json=NOT_FOUND))
    saver = make_saver(script, timeout=2.5)

    run(saver, "get_tuple", CONFIG)

    assert script.requests[0].extensions["timeout"] == dict.fromkeys(
        ("connect", "read", "write", "pool"), 2.5
    )


# --- retries ------------------------------------------------------------------------------------


def test_a_503_is_retried_after_its_retry_after(
    make_saver: MakeSaver, run: Mode, waits: Waits
) -> None:
    script = Script(unavailable(retry_after="2"), httpx.Response(200, json=TUPLE))
    saver = make_saver(script)

    tup = run(saver, "get_tuple", CONFIG)

    assert tup.checkpoint["id"] == "cp-1"
    assert len(script.requests) == 2
    assert waits == [2.0]


def test_a_429_is_retried_after_its_retry_after_date(
    make_saver: MakeSaver, run: Mode, waits: Waits
) -> None:
    in_ten = email.utils.formatdate(time.time() + 10, usegmt=True)
    script = Script(unavailable(retry_after=in_ten, status=429), httpx.Response(204))
    saver = make_saver(script)

    run(saver, "delete_thread", "t-1")

    assert len(script.requests) == 2
    [wait] = waits
    assert 8 < wait <= 10


def test_a_retry_after_shorter_than_the_backoff_waits_the_backoff(
    make_saver: MakeSaver, run: Mode, waits: Waits
) -> None:
    """The throttle's ``Retry-After: 0`` (less than a second left) is no instant retry loop."""
    script = Script(*[unavailable(retry_after="0", status=429)] * 3, httpx.Response(204))
    saver = make_saver(script)

    run(saver, "delete_thread", "t-1")

    assert len(waits) == 3
    for attempt, wait in enumerate(waits):
        assert 0.25 * 2**attempt <= wait <= 0.5 * 2**attempt


def test_without_retry_after_the_waits_back_off_exponentially_with_jitter_up_to_max_wait(
    make_saver: MakeSaver, run: Mode, waits: Waits
) -> None:
    script = Script(*[unavailable()] * 6, httpx.Response(204))
    saver = make_saver(script, max_retries=6, max_wait=3.0)

    run(saver, "delete_thread", "t-1")

    ceilings = [0.5, 1.0, 2.0, 3.0, 3.0, 3.0]
    assert len(waits) == len(ceilings)
    for wait, ceiling in zip(waits, ceilings, strict=True):
        assert ceiling / 2 <= wait <= ceiling
    assert len(set(waits)) == len(waits)  # jittered: no two clients retry in step


def test_the_retries_give_up_after_max_retries_with_the_last_answer(
    make_saver: MakeSaver, run: Mode, waits: Waits
) -> None:
    script = Script(*[unavailable(retry_after="1")] * 3)
    saver = make_saver(script, max_retries=2)

    with pytest.raises(DevskyyAPIError) as raised:
        run(saver, "get_tuple", CONFIG)

    assert (raised.value.status_code, raised.value.code) == (503, "database_unavailable")
    assert raised.value.body == UNAVAILABLE
    assert raised.value.retry_after == 1.0
    assert len(script.requests) == 3
    assert len(waits) == 2


def test_a_retry_after_longer_than_max_wait_is_raised_not_waited_out(
    make_saver: MakeSaver, run: Mode, waits: Waits
) -> None:
    script = Script(unavailable(retry_after="120", status=429))
    saver = make_saver(script, max_wait=30.0)

    with pytest.raises(DevskyyAPIError) as raised:
        run(saver, "delete_thread", "t-1")

    assert (raised.value.status_code, raised.value.retry_after) == (429, 120.0)
    assert waits == []


def test_failed_connections_are_retried(make_saver: MakeSaver, run: Mode, waits: Waits) -> None:
    request = httpx.Request("GET", "http://devskyy.test/")
    script = Script(
        httpx.ConnectError("connection refused", request=request),
        httpx.ReadTimeout("timed out", request=request),
        httpx.RemoteProtocolError("Server disconnected without sending a response."),
        httpx.Response(200, json=TUPLE),
    )
    saver = make_saver(script)

    tup = run(saver, "get_tuple", CONFIG)

    assert tup.checkpoint["id"] == "cp-1"
    assert len(waits) == 3


def test_a_connection_that_keeps_failing_raises_httpxs_error(
    make_saver: MakeSaver, run: Mode, waits: Waits
) -> None:
    request = httpx.Request("GET", "http://devskyy.test/")
    script = Script(*[httpx.ConnectError("connection refused", request=request)] * 2)
    saver = make_saver(script, max_retries=1)

    with pytest.raises(httpx.ConnectError):
        run(saver, "get_tuple", CONFIG)
    assert (len(script.requests), len(waits)) == (2, 1)


@pytest.mark.parametrize("status", [400, 401, 403, 409, 500])
def test_other_errors_are_not_retried_and_keep_the_servers_body(
    make_saver: MakeSaver, run: Mode, waits: Waits, status: int
) -> None:
    body = {
        "code": "invalid",
        "detail": "Invalid input.",
        "errors": {"blobs": [{"message": "x", "code": "invalid"}]},
    }
    script = Script(httpx.Response(status, json=body))
    saver = make_saver(script)

    with pytest.raises(DevskyyAPIError) as raised:
        run(saver, "put", CONFIG, empty_checkpoint(), {}, {})

    error = raised.value
    assert type(error) is DevskyyAPIError
    assert (error.status_code, error.code, error.detail, error.errors, error.body) == (
        status,
        "invalid",
        "Invalid input.",
        body["errors"],
        body,
    )
    assert error.method == "POST"
    assert error.url.endswith("/api/v1/threads/order%204711%3F/checkpoints/")
    assert (len(script.requests), waits) == (1, [])


def test_an_error_that_is_not_json_keeps_its_text(make_saver: MakeSaver, run: Mode) -> None:
    saver = make_saver(Script(httpx.Response(502, text="<html>Bad Gateway</html>")))

    with pytest.raises(DevskyyAPIError) as raised:
        run(saver, "delete_thread", "t-1")

    assert (raised.value.status_code, raised.value.body, raised.value.code) == (
        502,
        "<html>Bad Gateway</html>",
        None,
    )


def test_413_is_checkpoint_too_large(make_saver: MakeSaver, run: Mode, waits: Waits) -> None:
    body = {"code": "request_too_large", "detail": "The request body exceeds 16777216 bytes."}
    script = Script(httpx.Response(413, json=body))
    saver = make_saver(script)

    with pytest.raises(CheckpointTooLarge) as raised:
        run(saver, "put", CONFIG, empty_checkpoint(), {}, {})

    assert isinstance(raised.value, ValueError)
    assert (raised.value.status_code, raised.value.body) == (413, body)
    assert (len(script.requests), waits) == (1, [])


def test_prune_refused_for_a_delta_channel_thread_is_not_implemented(
    make_saver: MakeSaver, run: Mode
) -> None:
    body = {
        "code": "prune_unsupported",
        "detail": "keep_latest can't prune threads that use a DeltaChannel: t-1",
    }
    saver = make_saver(Script(httpx.Response(409, json=body)))

    with pytest.raises(PruneUnsupported) as raised:
        run(saver, "prune", ["t-1"])

    assert isinstance(raised.value, NotImplementedError)
    assert raised.value.detail == body["detail"]


# --- 404: a thread the key cannot see -----------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "args", "result"),
    [
        ("get_tuple", (CONFIG,), None),
        ("list", (CONFIG,), []),
        ("delete_thread", ("t-1",), None),
    ],
)
def test_reading_or_deleting_a_thread_the_key_cannot_see_finds_nothing(
    make_saver: MakeSaver, run: Mode, method: str, args: tuple[Any, ...], result: Any
) -> None:
    script = Script(httpx.Response(404, json=NOT_FOUND))
    saver = make_saver(script)

    assert run(saver, method, *args) == result
    assert len(script.requests) == 1


@pytest.mark.parametrize(
    ("method", "args"),
    [
        (
            "put",
            (
                {"configurable": {"thread_id": "t-1", "checkpoint_ns": ""}},
                empty_checkpoint(),
                {},
                {},
            ),
        ),
        (
            "put_writes",
            ({"configurable": {"thread_id": "t-1", "checkpoint_id": "c"}}, [("ch", 1)], "task"),
        ),
        ("copy_thread", ("t-1", "t-2")),
    ],
)
def test_writing_to_or_copying_a_thread_the_key_cannot_see_is_an_error(
    make_saver: MakeSaver, run: Mode, method: str, args: tuple[Any, ...]
) -> None:
    saver = make_saver(Script(httpx.Response(404, json=NOT_FOUND)))

    with pytest.raises(DevskyyAPIError) as raised:
        run(saver, method, *args)

    assert (raised.value.status_code, raised.value.code) == (404, "not_found")


# --- connections --------------------------------------------------------------------------------


class ClosingTransport(httpx.MockTransport):
    closed = 0

    def close(self) -> None:
        self.closed += 1

    async def aclose(self) -> None:
        self.closed += 1


def test_the_context_managers_close_the_clients_they_opened() -> None:
    answer = Script(*[httpx.Response(404, json=NOT_FOUND)] * 4)
    sync, asynchronous = ClosingTransport(answer), ClosingTransport(answer)

    def saver() -> DevskyyCheckpointSaver:
        return DevskyyCheckpointSaver(
            base_url="http://devskyy.test",
            api_key="k",
            transport=sync,
            async_transport=asynchronous,
        )

    with saver() as unused:
        pass
    assert unused is not None
    assert (sync.closed, asynchronous.closed) == (0, 0)  # nothing opened, nothing to close

    with saver() as used:
        used.get_tuple(CONFIG)
        used.get_tuple(CONFIG)
    assert (sync.closed, asynchronous.closed) == (1, 0)

    async def use_async() -> None:
        async with saver() as used:
            await used.aget_tuple(CONFIG)
            await used.aget_tuple(CONFIG)

    asyncio.run(use_async())
    assert (sync.closed, asynchronous.closed) == (1, 1)
