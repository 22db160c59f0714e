"""What the client sends for LangGraph's objects, and what it makes of the answers.

The store is the contract's storage in dictionaries (``contract_store``); the live server is
tested against LangGraph's conformance suite in test_conformance.py.
"""

from __future__ import annotations

import base64
import datetime
import decimal
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from langchain_core.messages import AIMessage, HumanMessage
from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.base import ChannelVersions, Checkpoint, empty_checkpoint
from langgraph.checkpoint.serde.types import ERROR, INTERRUPT, RESUME

from devskyy_langgraph import DevskyyCheckpointSaver
from tests.langgraph_client.conftest import Mode
from tests.langgraph_client.contract_store import ContractStore

THREAD = "thread-1"
MakeSaver = Callable[..., DevskyyCheckpointSaver]


def config(checkpoint_id: str | None = None, ns: str = "") -> RunnableConfig:
    configurable: dict[str, Any] = {"thread_id": THREAD, "checkpoint_ns": ns}
    if checkpoint_id is not None:
        configurable["checkpoint_id"] = checkpoint_id
    return {"configurable": configurable}


def checkpoint(values: dict[str, Any], versions: ChannelVersions) -> Checkpoint:
    cp = empty_checkpoint()
    cp["channel_values"] = values
    cp["channel_versions"] = versions
    return cp


@pytest.fixture
def store() -> ContractStore:
    return ContractStore()


@pytest.fixture
def saver(make_saver: MakeSaver, store: ContractStore) -> DevskyyCheckpointSaver:
    return make_saver(store)


def test_values_of_every_kind_come_back_equal(saver: DevskyyCheckpointSaver, run: Mode) -> None:
    values = {
        "bytes": b"\x00\xff binary \x80",
        "text": "héllo \u2603",
        "number": 2**62,
        "none": None,
        "empty": "",
        "nested": {
            "when": datetime.datetime(2026, 1, 2, 3, 4, 5, tzinfo=datetime.UTC),
            "id": uuid.UUID(int=7),
            "price": decimal.Decimal("39.98"),
            "tags": {"gold", "ring"},
            "deep": [{"blob": b"\x01", "none": None}, [1.5, -2]],
        },
        "messages": [
            HumanMessage("a ring, please", id="m1"),
            AIMessage(
                "",
                id="m2",
                tool_calls=[
                    {"name": "search", "args": {"q": "ring"}, "id": "c1", "type": "tool_call"}
                ],
            ),
        ],
    }
    versions: ChannelVersions = {channel: saver.get_next_version(None, None) for channel in values}

    stored = run(saver, "put", config(), checkpoint(values, versions), {"step": 1}, versions)
    got = run(saver, "get_tuple", stored)

    assert got.checkpoint["channel_values"] == values
    assert got.checkpoint["channel_versions"] == versions


def test_every_value_travels_as_a_typed_base64_blob_outside_the_checkpoint(
    saver: DevskyyCheckpointSaver, store: ContractStore, run: Mode
) -> None:
    cp = checkpoint({"count": 3, "raw": b"\x00"}, {"count": 1, "raw": 1})

    run(
        saver, "put", config("parent-id"), cp, {"source": "loop", "step": 0}, {"count": 1, "raw": 1}
    )

    [body] = store.bodies
    assert body["checkpoint"] == {k: v for k, v in cp.items() if k != "channel_values"}
    assert (body["checkpoint_ns"], body["parent_checkpoint_id"]) == ("", "parent-id")
    blobs = {blob["channel"]: blob for blob in body["blobs"]}
    for channel, value in cp["channel_values"].items():
        kind, data = saver.serde.dumps_typed(value)
        assert blobs[channel] == {
            "channel": channel,
            "version": 1,  # as LangGraph gave it; the server stores its canonical text
            "type": kind,
            "data": base64.b64encode(data).decode(),
        }


def test_none_is_a_value_and_a_channel_without_one_is_empty(
    saver: DevskyyCheckpointSaver, store: ContractStore, run: Mode
) -> None:
    versions: ChannelVersions = {"nothing": 1, "unset": 1}
    cp = checkpoint({"nothing": None}, versions)

    stored = run(saver, "put", config(), cp, {}, versions)
    got = run(saver, "get_tuple", stored)

    blobs = {blob["channel"]: blob for blob in store.bodies[0]["blobs"]}
    assert (blobs["nothing"]["type"], blobs["nothing"]["data"]) == ("null", "")
    assert (blobs["unset"]["type"], blobs["unset"]["data"]) == ("empty", None)
    assert got.checkpoint["channel_values"] == {"nothing": None}


def test_only_new_versions_are_sent_and_unchanged_channels_load_at_their_old_version(
    saver: DevskyyCheckpointSaver, store: ContractStore, run: Mode
) -> None:
    first = run(
        saver,
        "put",
        config(),
        checkpoint({"a": "v1", "b": "v2"}, {"a": 1, "b": 1}),
        {},
        {"a": 1, "b": 1},
    )
    cp2 = checkpoint({"a": "v1 updated", "b": "v2"}, {"a": 2, "b": 1})
    second = run(saver, "put", first, cp2, {}, {"a": 2})

    assert [blob["channel"] for blob in store.bodies[1]["blobs"]] == ["a"]
    assert run(saver, "get_tuple", second).checkpoint["channel_values"] == {
        "a": "v1 updated",
        "b": "v2",
    }
    assert run(saver, "get_tuple", first).checkpoint["channel_values"] == {"a": "v1", "b": "v2"}


def test_a_channel_removed_from_the_versions_is_not_loaded(
    saver: DevskyyCheckpointSaver, run: Mode
) -> None:
    first = run(
        saver,
        "put",
        config(),
        checkpoint({"a": "v1", "b": "v2"}, {"a": 1, "b": 1}),
        {},
        {"a": 1, "b": 1},
    )
    second = run(saver, "put", first, checkpoint({"a": "v1 updated"}, {"a": 2}), {}, {"a": 2})

    assert run(saver, "get_tuple", second).checkpoint["channel_values"] == {"a": "v1 updated"}


def test_versions_are_the_official_postgres_savers_strings(saver: DevskyyCheckpointSaver) -> None:
    first = saver.get_next_version(None, None)
    second = saver.get_next_version(first, None)
    assert isinstance(first, str)
    assert first.startswith("0" * 31 + "1.")
    assert second.startswith("0" * 31 + "2.")
    assert first < second < saver.get_next_version(second, None)
    assert saver.get_next_version(7, None).startswith("0" * 31 + "8.")  # type: ignore[arg-type]


def test_string_versions_come_back_as_sent_and_key_their_values(
    saver: DevskyyCheckpointSaver, store: ContractStore, run: Mode
) -> None:
    v1 = saver.get_next_version(None, None)
    v2 = saver.get_next_version(v1, None)
    first = run(saver, "put", config(), checkpoint({"a": "one"}, {"a": v1}), {}, {"a": v1})
    second = run(saver, "put", first, checkpoint({"a": "two"}, {"a": v2}), {}, {"a": v2})

    assert [blob["version"] for body in store.bodies for blob in body["blobs"]] == [v1, v2]
    older, newer = run(saver, "get_tuple", first), run(saver, "get_tuple", second)
    assert (older.checkpoint["channel_versions"], older.checkpoint["channel_values"]) == (
        {"a": v1},
        {"a": "one"},
    )
    assert (newer.checkpoint["channel_versions"], newer.checkpoint["channel_values"]) == (
        {"a": v2},
        {"a": "two"},
    )


def test_the_metadata_is_langgraphs_serializable_metadata(
    saver: DevskyyCheckpointSaver, store: ContractStore, run: Mode
) -> None:
    cfg = config()
    cfg["metadata"] = {"user": "agent_a", "attempt": 2, "ignored": {"not": "a primitive"}}
    cfg["configurable"]["run_label"] = "nightly\x00"
    metadata = {"source": "loop", "step": 4, "writes": {"node": "dropped"}, "parents": {}}

    stored = run(saver, "put", cfg, checkpoint({}, {}), metadata, {})

    expected = {
        "source": "loop",
        "step": 4,
        "parents": {},
        "user": "agent_a",
        "attempt": 2,
        "run_label": "nightly",
    }
    assert store.bodies[0]["metadata"] == expected
    assert run(saver, "get_tuple", stored).metadata == expected


def test_the_returned_configs_name_the_checkpoint_and_its_parent(
    saver: DevskyyCheckpointSaver, run: Mode
) -> None:
    cp1, cp2 = checkpoint({}, {}), checkpoint({}, {})
    first = run(saver, "put", config(ns="child:1"), cp1, {}, {})
    second = run(saver, "put", first, cp2, {}, {})

    assert first == {
        "configurable": {
            "thread_id": THREAD,
            "checkpoint_ns": "child:1",
            "checkpoint_id": cp1["id"],
        }
    }
    got = run(saver, "get_tuple", second)
    assert got.config == second
    assert got.parent_config == first
    assert run(saver, "get_tuple", first).parent_config is None


def test_pending_writes_come_back_in_langgraphs_order_with_their_values(
    saver: DevskyyCheckpointSaver, run: Mode
) -> None:
    stored = run(saver, "put", config(), checkpoint({}, {}), {}, {})
    run(saver, "put_writes", stored, [("b", {"x": b"\x00"}), ("a", None)], "task-2", "~1")
    run(saver, "put_writes", stored, [("c", "first")], "task-9", "")
    run(saver, "put_writes", stored, [(ERROR, "boom")], "task-1", "~1")

    assert run(saver, "get_tuple", stored).pending_writes == [
        ("task-9", "c", "first"),  # (task_path, task_id, idx): "" sorts first
        ("task-1", ERROR, "boom"),
        ("task-2", "b", {"x": b"\x00"}),
        ("task-2", "a", None),
    ]


def test_write_indexes_are_the_official_savers(
    saver: DevskyyCheckpointSaver, store: ContractStore, run: Mode
) -> None:
    stored = run(saver, "put", config(), checkpoint({}, {}), {}, {})
    run(saver, "put_writes", stored, [("a", 1), (ERROR, "e"), ("b", 2)], "t1")
    run(
        saver,
        "put_writes",
        stored,
        [(INTERRUPT, "first"), (RESUME, "r"), (INTERRUPT, "last")],
        "t2",
    )
    run(saver, "put_writes", stored, [(ERROR, "kept"), ("a", 1), (ERROR, "dropped")], "t3")

    def sent(body: dict[str, Any]) -> list[tuple[int, str]]:
        return [(w["idx"], w["channel"]) for w in body["writes"]]

    regular, special, mixed = store.bodies[1:]
    assert sent(regular) == [(0, "a"), (-1, ERROR), (2, "b")]
    # one request carries each index once, the row the official saver would keep: its upsert
    # keeps the last write when all are special, its insert-or-nothing the first otherwise
    assert sent(special) == [(-3, INTERRUPT), (-4, RESUME)]
    assert (
        saver.serde.loads_typed(
            (special["writes"][0]["type"], base64.b64decode(special["writes"][0]["data"]))
        )
        == "last"
    )
    assert sent(mixed) == [(-1, ERROR), (1, "a")]
    assert (
        saver.serde.loads_typed(
            (mixed["writes"][0]["type"], base64.b64decode(mixed["writes"][0]["data"]))
        )
        == "kept"
    )
    assert (special["task_id"], special["task_path"], special["checkpoint_id"]) == (
        "t2",
        "",
        stored["configurable"]["checkpoint_id"],
    )


def test_no_writes_make_no_request(
    saver: DevskyyCheckpointSaver, store: ContractStore, run: Mode
) -> None:
    run(saver, "put_writes", config("some-id"), [], "task")

    assert store.bodies == []
