"""``list`` pages through the search endpoint; prune and delete_for_runs send ids in batches."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from langchain_core.runnables import RunnableConfig

from devskyy_langgraph import DevskyyCheckpointSaver
from tests.langgraph_client.conftest import Mode

MakeSaver = Callable[..., DevskyyCheckpointSaver]
THREAD: RunnableConfig = {"configurable": {"thread_id": "t-1", "checkpoint_ns": ""}}


def tuple_object(checkpoint_id: str) -> dict[str, Any]:
    return {
        "thread_id": "t-1",
        "checkpoint_ns": "",
        "checkpoint_id": checkpoint_id,
        "parent_checkpoint_id": None,
        "checkpoint": {"v": 4, "id": checkpoint_id, "ts": "", "channel_versions": {}},
        "metadata": {},
        "channel_values": [],
        "pending_writes": [],
        "created_at": "2026-01-01T00:00:00.000000Z",
    }


def page(ids: list[str], next_cursor: str | None) -> dict[str, Any]:
    return {"results": [tuple_object(i) for i in ids], "next_cursor": next_cursor}


class Server:
    """Answers POSTs with the given bodies in order; records each request's path and body."""

    def __init__(self, *bodies: dict[str, Any]) -> None:
        self.bodies = list(bodies)
        self.sent: list[tuple[str, Any]] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.sent.append((request.url.path.removeprefix("/prefix"), json.loads(request.content)))
        return httpx.Response(200, json=self.bodies.pop(0) if self.bodies else {})


def ids(tuples: list[Any]) -> list[str]:
    return [t.checkpoint["id"] for t in tuples]


def test_list_follows_the_cursor_to_the_last_page(make_saver: MakeSaver, run: Mode) -> None:
    server = Server(page(["c5", "c4"], "cursor-2"), page(["c3"], None))

    found = run(make_saver(server), "list", THREAD)

    assert ids(found) == ["c5", "c4", "c3"]
    path = "/api/v1/threads/t-1/checkpoints/search/"
    assert server.sent == [
        (path, {"checkpoint_ns": "", "limit": 100}),
        (path, {"checkpoint_ns": "", "limit": 100, "cursor": "cursor-2"}),
    ]


def test_list_stops_at_langgraphs_limit(make_saver: MakeSaver, run: Mode) -> None:
    server = Server(page(["c5", "c4"], "cursor-2"), page(["c3"], "cursor-3"))

    found = run(make_saver(server), "list", THREAD, limit=3)

    assert ids(found) == ["c5", "c4", "c3"]
    assert [body["limit"] for _, body in server.sent] == [3, 1]  # no third page


def test_a_limit_above_the_page_size_asks_for_the_rest_on_the_next_page(
    make_saver: MakeSaver, run: Mode
) -> None:
    server = Server(page([f"c{i:03}" for i in range(100)], "next"), page(["last"], "more"))

    found = run(make_saver(server), "list", THREAD, limit=101)

    assert len(found) == 101
    assert [body["limit"] for _, body in server.sent] == [100, 1]


def test_list_sends_langgraphs_filters(make_saver: MakeSaver, run: Mode) -> None:
    server = Server(page([], None))
    config: RunnableConfig = {
        "configurable": {"thread_id": "t-1", "checkpoint_ns": "child:1", "checkpoint_id": "c9"}
    }

    run(
        make_saver(server),
        "list",
        config,
        filter={"source": "input", "step": 2},
        before={"configurable": {"thread_id": "t-1", "checkpoint_id": "c5"}},
        limit=10,
    )

    assert server.sent[0][1] == {
        "checkpoint_ns": "child:1",
        "checkpoint_id": "c9",
        "filter": {"source": "input", "step": 2},
        "before": "c5",
        "limit": 10,
    }


def test_a_config_without_a_namespace_lists_every_namespace(
    make_saver: MakeSaver, run: Mode
) -> None:
    server = Server(page([], None))

    run(make_saver(server), "list", {"configurable": {"thread_id": "t-1"}}, filter={})

    assert server.sent == [("/api/v1/threads/t-1/checkpoints/search/", {"limit": 100})]


def test_no_config_searches_every_thread_the_key_can_see(make_saver: MakeSaver, run: Mode) -> None:
    server = Server(page(["c1"], None))

    found = run(make_saver(server), "list", None, filter={"run_id": "r-1"})

    assert ids(found) == ["c1"]
    assert server.sent == [
        ("/api/v1/checkpoints/search/", {"filter": {"run_id": "r-1"}, "limit": 100})
    ]


def test_a_limit_of_zero_asks_nothing(make_saver: MakeSaver, run: Mode) -> None:
    server = Server()

    assert run(make_saver(server), "list", THREAD, limit=0) == []
    assert server.sent == []


def test_list_fetches_a_page_only_when_it_is_reached(make_saver: MakeSaver) -> None:
    server = Server(page(["c5", "c4"], "cursor-2"), page(["c3"], None))
    found = make_saver(server).list(THREAD)
    assert server.sent == []

    assert next(found).checkpoint["id"] == "c5"
    assert next(found).checkpoint["id"] == "c4"
    assert len(server.sent) == 1


def test_copy_thread_names_its_target(make_saver: MakeSaver, run: Mode) -> None:
    server = Server({"thread_id": "t-2", "checkpoints": 3})

    run(make_saver(server), "copy_thread", "t-1", "t-2")

    assert server.sent == [("/api/v1/threads/t-1/copy/", {"target_thread_id": "t-2"})]


@pytest.mark.parametrize("strategy", ["keep_latest", "delete"])
def test_prune_sends_the_thread_ids_a_thousand_at_a_time(
    make_saver: MakeSaver, run: Mode, strategy: str
) -> None:
    server = Server()
    thread_ids = [f"t-{i}" for i in range(2500)]

    run(make_saver(server), "prune", thread_ids, strategy=strategy)

    assert [path for path, _ in server.sent] == ["/api/v1/threads/prune/"] * 3
    assert [body["thread_ids"] for _, body in server.sent] == [
        thread_ids[:1000],
        thread_ids[1000:2000],
        thread_ids[2000:],
    ]
    assert {body["strategy"] for _, body in server.sent} == {strategy}


def test_delete_for_runs_sends_the_run_ids_a_thousand_at_a_time(
    make_saver: MakeSaver, run: Mode
) -> None:
    server = Server()
    run_ids = [f"run-{i}" for i in range(1001)]

    run(make_saver(server), "delete_for_runs", run_ids)

    assert server.sent == [
        ("/api/v1/threads/delete-for-runs/", {"run_ids": run_ids[:1000]}),
        ("/api/v1/threads/delete-for-runs/", {"run_ids": run_ids[1000:]}),
    ]


def test_nothing_to_prune_or_delete_asks_nothing(make_saver: MakeSaver, run: Mode) -> None:
    server = Server()
    saver = make_saver(server)

    run(saver, "prune", [])
    run(saver, "delete_for_runs", [])

    assert server.sent == []


def test_prune_refuses_what_the_official_saver_refuses(make_saver: MakeSaver, run: Mode) -> None:
    server = Server()
    saver = make_saver(server)

    with pytest.raises(TypeError, match="not a str"):
        run(saver, "prune", "t-1")
    with pytest.raises(ValueError, match="Unknown prune strategy"):
        run(saver, "prune", ["t-1"], strategy="keep_oldest")
    assert server.sent == []
