"""Searching checkpoints (LangGraph's ``list``): newest first, by namespace, id, metadata,
``before`` and ``limit``, paged with a cursor, one thread or every thread the caller reads."""

from __future__ import annotations

import base64

import pytest

from tests.agents_audit.checkpoint_api import put, put_writes, search, search_ids, thread_url
from tests.agents_audit.factories import checkpoint_id

pytestmark = pytest.mark.django_db


@pytest.fixture
def thread(agent_client):
    """Checkpoints 1-3 in the root namespace, 4-5 in ``child:1``; 2 and 4 of run ``r-1``."""
    for n, ns, run in [
        (1, "", "r-0"),
        (2, "", "r-1"),
        (3, "", "r-2"),
        (4, "child:1", "r-1"),
        (5, "child:1", "r-2"),
    ]:
        put(
            agent_client,
            "t-1",
            n,
            ns=ns,
            channels={"v": str(n).encode()},
            metadata={"run_id": run, "source": "loop" if n % 2 else "input"},
        )
    return "t-1"


def ids(*ns: int) -> list[str]:
    return [checkpoint_id(n) for n in ns]


def test_null_namespace_is_every_namespace_and_empty_is_the_root(agent_client, thread):
    assert search_ids(agent_client, thread) == ids(5, 4, 3, 2, 1)
    assert search_ids(agent_client, thread, checkpoint_ns=None) == ids(5, 4, 3, 2, 1)
    assert search_ids(agent_client, thread, checkpoint_ns="") == ids(3, 2, 1)
    assert search_ids(agent_client, thread, checkpoint_ns="child:1") == ids(5, 4)


def test_filter_is_metadata_containment(agent_client, thread):
    assert search_ids(agent_client, thread, filter={"run_id": "r-1"}) == ids(4, 2)
    assert search_ids(agent_client, thread, filter={"run_id": "r-1", "source": "input"}) == ids(
        4, 2
    )
    assert search_ids(agent_client, thread, filter={"run_id": "r-1", "source": "loop"}) == []
    assert search_ids(agent_client, thread, filter={}) == ids(5, 4, 3, 2, 1)


def test_before_limit_and_exact_id(agent_client, thread):
    assert search_ids(agent_client, thread, before=checkpoint_id(4)) == ids(3, 2, 1)
    assert search_ids(agent_client, thread, before=checkpoint_id(3), checkpoint_ns="") == ids(2, 1)
    assert search_ids(agent_client, thread, limit=2) == ids(5, 4)
    assert search_ids(agent_client, thread, checkpoint_id=checkpoint_id(2)) == ids(2)


def test_results_are_whole_tuples(agent_client, thread):
    put_writes(agent_client, thread, 3, [(0, "v", b"w")])
    (first,) = search(agent_client, thread, checkpoint_ns="", limit=1).json()["results"]
    assert first["checkpoint_id"] == checkpoint_id(3)
    assert first["metadata"] == {"run_id": "r-2", "source": "loop", "step": 3}
    assert [v["channel"] for v in first["channel_values"]] == ["v"]
    assert [w["idx"] for w in first["pending_writes"]] == [0]


def test_a_cursor_pages_through_everything_once_in_order(agent_client):
    # ties on checkpoint_id across threads and namespaces are ordered by thread, then namespace
    for thread in ("t-a", "t-b"):
        for ns in ("", "child:1"):
            for n in range(1, 6):
                put(agent_client, thread, n, ns=ns)
    expected = [
        (checkpoint_id(n), thread, ns)
        for n in range(5, 0, -1)
        for thread in ("t-b", "t-a")
        for ns in ("child:1", "")
    ]

    seen: list[tuple[str, str, str]] = []
    body: dict = {"limit": 3}
    pages = 0
    while True:
        page = search(agent_client, **body).json()
        pages += 1
        seen += [(t["checkpoint_id"], t["thread_id"], t["checkpoint_ns"]) for t in page["results"]]
        if page["next_cursor"] is None:
            break
        body["cursor"] = page["next_cursor"]

    assert seen == expected
    assert pages == 7  # 20 tuples, 3 a page


def test_a_cursor_keeps_the_filters_of_its_search(agent_client, thread):
    first = search(agent_client, thread, filter={"run_id": "r-1"}, limit=1).json()
    assert [t["checkpoint_id"] for t in first["results"]] == ids(4)
    rest = search(
        agent_client, thread, filter={"run_id": "r-1"}, limit=1, cursor=first["next_cursor"]
    )
    assert [t["checkpoint_id"] for t in rest.json()["results"]] == ids(2)
    assert rest.json()["next_cursor"] is None


def test_an_empty_search_of_an_own_thread_is_an_empty_page(agent_client, thread):
    assert search(agent_client, thread, filter={"run_id": "nope"}).json() == {
        "results": [],
        "next_cursor": None,
    }


def test_search_across_threads_sees_only_the_callers(
    agent_client, agent_b_client, operator_api, thread
):
    put(agent_b_client, "t-b", 9)

    assert search_ids(agent_client) == ids(5, 4, 3, 2, 1)
    assert search_ids(agent_b_client) == ids(9)
    assert search_ids(operator_api) == ids(9, 5, 4, 3, 2, 1)
    assert search_ids(agent_b_client, filter={"run_id": "r-1"}) == []


def test_a_cursor_that_was_not_issued_is_a_400(agent_client, thread):
    response = search(agent_client, thread, cursor="not-a-cursor")
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_cursor"
    assert (
        agent_client.post(
            thread_url(thread, "checkpoints/search/"), {"limit": 101}, format="json"
        ).status_code
        == 400
    )


@pytest.mark.parametrize(
    "parts",
    [
        '["\\ud800", "t-1", ""]',  # a lone surrogate, spelled as JSON spells it
        '["a\\u0000", "t-1", ""]',
        '["a", "t-1"]',
        '{"a": 1}',
        '["' + "x" * 300 + '", "t-1", ""]',
    ],
)
def test_a_forged_cursor_is_a_400_never_a_500(agent_client, thread, parts):
    forged = base64.urlsafe_b64encode(parts.encode()).decode()
    response = search(agent_client, thread, cursor=forged)
    assert (response.status_code, response.json()["code"]) == (400, "invalid_cursor")
