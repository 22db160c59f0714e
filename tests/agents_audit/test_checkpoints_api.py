"""The checkpoint API as LangGraph's saver uses it: put, put_writes, get_tuple, threads."""

from __future__ import annotations

import base64

import pytest

from agents_audit.models import Checkpoint, CheckpointBlob, CheckpointThread, CheckpointWrite
from tests.agents_audit.checkpoint_api import (
    b64,
    checkpoint_body,
    get_tuple,
    put,
    put_writes,
    rows,
    search,
    thread_url,
)
from tests.agents_audit.factories import TaskFactory, checkpoint_id

pytestmark = pytest.mark.django_db


def test_a_put_checkpoint_reads_back_with_its_values_byte_for_byte(agent_a, agent_client):
    # given every byte value, an empty channel and a null value
    every_byte = bytes(range(256)) * 3
    body = checkpoint_body(
        1, channels={"messages": every_byte, "count": b"\x00", "empty": None}, metadata={"x": [1]}
    )

    # when
    response = agent_client.post(thread_url("t-1", "checkpoints/"), body, format="json")

    # then
    assert response.status_code == 201
    assert response.json() == {
        "thread_id": "t-1",
        "checkpoint_ns": "",
        "checkpoint_id": checkpoint_id(1),
    }
    assert CheckpointThread.objects.get().owner == agent_a
    tuple_ = get_tuple(agent_client, "t-1").json()
    assert tuple_["checkpoint"] == body["checkpoint"]
    assert tuple_["metadata"] == body["metadata"]
    assert tuple_["parent_checkpoint_id"] is None
    assert tuple_["pending_writes"] == []
    # ``empty`` blobs are stored (a channel's version points at them) but never sent back
    assert tuple_["channel_values"] == [
        {"channel": "count", "type": "msgpack", "data": b64(b"\x00")},
        {"channel": "messages", "type": "msgpack", "data": b64(every_byte)},
    ]
    assert base64.b64decode(tuple_["channel_values"][1]["data"]) == every_byte
    assert CheckpointBlob.objects.filter(type="empty", blob__isnull=True).count() == 1


def test_get_tuple_gives_the_latest_of_the_namespace_or_the_one_named(agent_client):
    put(agent_client, "t-1", 1, channels={"a": b"one"})
    put(agent_client, "t-1", 2, channels={"a": b"two"}, parent=1)
    put(agent_client, "t-1", 3, ns="child:1", channels={"a": b"child"})

    latest = get_tuple(agent_client, "t-1").json()
    assert (latest["checkpoint_id"], latest["parent_checkpoint_id"]) == (
        checkpoint_id(2),
        checkpoint_id(1),
    )
    assert latest["channel_values"] == [{"channel": "a", "type": "msgpack", "data": b64(b"two")}]
    first = get_tuple(agent_client, "t-1", checkpoint_id=checkpoint_id(1)).json()
    assert first["channel_values"] == [{"channel": "a", "type": "msgpack", "data": b64(b"one")}]
    # the root namespace may be named by an empty value, as a client sends it
    assert get_tuple(agent_client, "t-1", checkpoint_ns="").json() == latest
    child = get_tuple(agent_client, "t-1", checkpoint_ns="child:1").json()
    assert (child["checkpoint_id"], child["checkpoint_ns"]) == (checkpoint_id(3), "child:1")


def test_values_come_from_the_blobs_the_checkpoint_names_even_if_put_earlier(agent_client):
    # LangGraph puts a channel's blob when the channel changes; later checkpoints name it
    put(agent_client, "t-1", 1, channels={"a": b"a1", "b": b"b1"})
    put(agent_client, "t-1", 2, channels={"b": b"b2"}, versions={"a": 1})

    values = get_tuple(agent_client, "t-1").json()["channel_values"]
    assert values == [
        {"channel": "a", "type": "msgpack", "data": b64(b"a1")},
        {"channel": "b", "type": "msgpack", "data": b64(b"b2")},
    ]


def test_string_and_number_versions_name_the_same_blob(agent_client):
    # the official saver's string versions, and numbers: stored as jsonb's text of the version
    body = checkpoint_body(1, versions={"s": "00000000000000000000000000000002.0123", "f": 2.5})
    body["blobs"] = [
        {
            "channel": "s",
            "version": "00000000000000000000000000000002.0123",
            "type": "json",
            "data": b64(b'"s"'),
        },
        {"channel": "f", "version": 2.5, "type": "json", "data": b64(b'"f"')},
    ]
    assert (
        agent_client.post(thread_url("t-1", "checkpoints/"), body, format="json").status_code == 201
    )

    values = get_tuple(agent_client, "t-1").json()["channel_values"]
    assert [(v["channel"], v["data"]) for v in values] == [("f", b64(b'"f"')), ("s", b64(b'"s"'))]


def test_a_put_retried_is_one_row_201_then_200_with_the_new_metadata(agent_client):
    url = thread_url("t-1", "checkpoints/")
    body = checkpoint_body(1, channels={"a": b"first"})
    assert agent_client.post(url, body, format="json").status_code == 201

    again = checkpoint_body(1, channels={"a": b"second"}, metadata={"retried": True})
    response = agent_client.post(url, again, format="json")

    assert response.status_code == 200
    assert response.json()["checkpoint_id"] == checkpoint_id(1)
    assert rows() == {"threads": 1, "checkpoints": 1, "blobs": 1, "writes": 0}
    stored = Checkpoint.objects.get()
    assert stored.metadata == again["metadata"]  # the official saver's DO UPDATE
    assert CheckpointBlob.objects.get().blob == b"first"  # blobs: DO NOTHING


def test_writes_are_kept_on_retry_but_special_channels_are_upserted(agent_client):
    put(agent_client, "t-1", 1)
    ok = put_writes(agent_client, "t-1", 1, [(0, "a", b"first"), (1, "b", b"first")])
    assert (ok.status_code, ok.json()) == (200, {"writes": 2})

    # a retry of ordinary writes keeps what is stored (INSERT ... DO NOTHING)
    put_writes(agent_client, "t-1", 1, [(0, "a", b"second"), (1, "b", b"second")])
    # writes to special channels (idx < 0: __error__, __interrupt__, ...) replace theirs
    put_writes(agent_client, "t-1", 1, [(-1, "__error__", b"boom")])
    put_writes(agent_client, "t-1", 1, [(-1, "__error__", b"boom again")])

    stored = {(w.idx, w.channel): bytes(w.blob) for w in CheckpointWrite.objects.all()}
    assert stored == {(0, "a"): b"first", (1, "b"): b"first", (-1, "__error__"): b"boom again"}


def test_a_mixed_call_with_a_special_channel_is_not_upserted(agent_client):
    put_writes(agent_client, "t-1", 1, [(0, "a", b"first"), (-3, "__interrupt__", b"first")])
    put_writes(agent_client, "t-1", 1, [(0, "a", b"second"), (-3, "__interrupt__", b"second")])
    assert {bytes(w.blob) for w in CheckpointWrite.objects.all()} == {b"first"}


def test_pending_writes_come_ordered_by_task_path_task_id_and_idx(agent_client):
    put(agent_client, "t-1", 1)
    put_writes(
        agent_client, "t-1", 1, [(1, "c", b"4"), (0, "c", b"3")], task_id="b", task_path="~a"
    )
    put_writes(agent_client, "t-1", 1, [(2, "c", b"2")], task_id="z", task_path="")
    put_writes(agent_client, "t-1", 1, [(0, "c", b"1")], task_id="a", task_path="")
    put_writes(agent_client, "t-1", 1, [(0, "c", b"5")], task_id="0", task_path="~b")

    writes = get_tuple(agent_client, "t-1").json()["pending_writes"]

    assert [(w["task_path"], w["task_id"], w["idx"]) for w in writes] == [
        ("", "a", 0),
        ("", "z", 2),
        ("~a", "b", 0),
        ("~a", "b", 1),
        ("~b", "0", 0),
    ]
    assert [base64.b64decode(w["data"]) for w in writes] == [b"1", b"2", b"3", b"4", b"5"]
    assert writes[0] == {
        "task_id": "a",
        "task_path": "",
        "idx": 0,
        "channel": "c",
        "type": "msgpack",
        "data": b64(b"1"),
    }


def test_writes_may_come_before_their_checkpoint(agent_client):
    # LangGraph saves a step's writes in the background: they can commit first
    assert put_writes(agent_client, "t-1", 7, [(0, "a", b"early")]).status_code == 200
    put(agent_client, "t-1", 7)
    (write,) = get_tuple(agent_client, "t-1").json()["pending_writes"]
    assert base64.b64decode(write["data"]) == b"early"


def test_a_missing_checkpoint_is_a_404_and_so_is_an_unknown_thread(agent_client):
    put(agent_client, "t-1", 1)
    missing = get_tuple(agent_client, "t-1", checkpoint_id=checkpoint_id(9))
    assert (missing.status_code, missing.json()) == (
        404,
        {"code": "not_found", "detail": "No such checkpoint."},
    )
    unknown = get_tuple(agent_client, "nope")
    assert (unknown.status_code, unknown.json()) == (
        404,
        {"code": "not_found", "detail": "No such thread."},
    )
    assert get_tuple(agent_client, "t-1", checkpoint_ns="other").status_code == 404


def test_thread_ids_with_any_printable_characters_work_percent_encoded(agent_client):
    thread_id = 'user 42/ü?#%&=+\\ "x"'.replace("/", "|")
    put(agent_client, thread_id, 1, channels={"a": b"v"})
    assert get_tuple(agent_client, thread_id).json()["thread_id"] == thread_id
    assert agent_client.get(thread_url(thread_id)).json()["thread_id"] == thread_id


def test_threads_are_listed_newest_first_with_their_task(agent_a, agent_client):
    task = TaskFactory.create(created_by=agent_a, thread_id="t-task")
    put(agent_client, "t-plain", 1)
    put(agent_client, "t-task", 1)

    listed = agent_client.get("/api/v1/threads/").json()

    # created in one transaction each: newer first (ties go by thread id, descending)
    assert [(t["thread_id"], t["task"]) for t in listed["results"]] == [
        ("t-task", str(task.pk)),
        ("t-plain", None),
    ]
    one = agent_client.get(thread_url("t-task")).json()
    assert one == {
        "thread_id": "t-task",
        "owner": str(agent_a.pk),
        "task": str(task.pk),
        "created_at": one["created_at"],
    }


def test_thread_list_pages_with_a_cursor(agent_client):
    for n in range(5):
        put(agent_client, f"t-{n}", 1)
    seen: list[str] = []
    url = "/api/v1/threads/?page_size=2"
    while url:
        page = agent_client.get(url).json()
        seen += [t["thread_id"] for t in page["results"]]
        url = page["next"]
    assert sorted(seen) == [f"t-{n}" for n in range(5)]
    assert len(seen) == 5


@pytest.mark.parametrize("key", ["\\ud800", "a\\u0000", ""])
def test_a_forged_thread_list_cursor_is_a_400(agent_client, key):
    payload = f'["2024-06-01T00:00:00+00:00", "{key}", "n"]'
    cursor = base64.urlsafe_b64encode(payload.encode()).decode()
    response = agent_client.get("/api/v1/threads/", {"cursor": cursor})
    assert (response.status_code, response.json()["code"]) == (400, "invalid_cursor")


def test_deleting_a_thread_takes_its_checkpoints_blobs_and_writes(agent_client):
    put(agent_client, "t-1", 1, channels={"a": b"x"})
    put_writes(agent_client, "t-1", 1, [(0, "a", b"w")])
    put(agent_client, "t-2", 1, channels={"a": b"y"})

    assert agent_client.delete(thread_url("t-1")).status_code == 204

    assert rows() == {"threads": 1, "checkpoints": 1, "blobs": 1, "writes": 0}
    assert agent_client.delete(thread_url("t-1")).status_code == 404


def test_empty_values_and_writes_are_bytes_like_any_other(agent_client):
    # LangGraph's serializer writes some values as no bytes at all (base64 "").
    body = checkpoint_body(1)
    body["checkpoint"]["channel_versions"] = {"empty": 1, "full": 1}
    body["blobs"] = [
        {"channel": "empty", "version": 1, "type": "null", "data": ""},
        {"channel": "full", "version": 1, "type": "msgpack", "data": b64(b"\x01")},
    ]
    assert (
        agent_client.post(thread_url("t", "checkpoints/"), body, format="json").status_code == 201
    )
    written = agent_client.post(
        thread_url("t", "writes/"),
        {
            "checkpoint_id": checkpoint_id(1),
            "task_id": "task-1",
            "writes": [
                {"idx": 0, "channel": "a", "type": "null", "data": ""},
                {"idx": 1, "channel": "b", "type": "msgpack", "data": b64(b"\x02")},
            ],
        },
        format="json",
    )
    assert written.status_code == 200

    got = get_tuple(agent_client, "t").json()

    assert [(v["channel"], v["type"], v["data"]) for v in got["channel_values"]] == [
        ("empty", "null", ""),
        ("full", "msgpack", b64(b"\x01")),
    ]
    assert [(w["channel"], w["data"]) for w in got["pending_writes"]] == [
        ("a", ""),
        ("b", b64(b"\x02")),
    ]
    assert CheckpointBlob.objects.values_list("blob", flat=True).get(channel="empty") == b""


@pytest.mark.parametrize("size", [2, 30])
def test_reads_run_one_statement_whatever_the_values_writes_and_page(
    agent_client, size, django_assert_num_queries
):
    channels = {f"c{i}": bytes([i]) for i in range(size)}
    for n in range(1, size + 1):
        put(agent_client, "t-1", n, channels=channels if n == size else None)
    put_writes(agent_client, "t-1", size, [(i, "c0", b"w") for i in range(size)])

    # the API key with its user, then the tuple (values and writes in the same statement)
    with django_assert_num_queries(2):
        latest = get_tuple(agent_client, "t-1").json()
    assert (len(latest["channel_values"]), len(latest["pending_writes"])) == (size, size)
    with django_assert_num_queries(4):  # and the savepoints of the POST's transaction
        page = search(agent_client, "t-1", limit=100).json()
    assert len(page["results"]) == size


def test_a_put_runs_a_constant_number_of_statements(agent_client, django_assert_num_queries):
    channels = {f"c{i}": b"v" for i in range(20)}
    # key; the owned-thread put, which finds no thread; the claiming path's savepoint (the
    # test's transaction is the caller's), claim and lock (one round trip; a new thread: and
    # the thread id's lock, the tasks read again), blobs and checkpoint (one round trip)
    with django_assert_num_queries(10):
        put(agent_client, "t-1", 1, channels=channels)
    # the thread is the caller's: key; one statement locks it and writes the blobs and the
    # checkpoint (the hot path: no transaction of the view's)
    with django_assert_num_queries(2):
        put(agent_client, "t-1", 2, channels=channels)


def test_a_put_through_the_drf_view_runs_its_statements_in_the_views_transaction(
    agent_client, django_assert_num_queries, settings
):
    settings.CHECKPOINT_HOT_PATH = False
    put(agent_client, "t-1", 1)
    # key; the view's savepoint around the one statement
    with django_assert_num_queries(4):
        put(agent_client, "t-1", 2)
