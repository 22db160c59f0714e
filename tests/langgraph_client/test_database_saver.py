"""``agents_audit.checkpoint_saver.DatabaseCheckpointSaver``: the checkpointer for code running
inside devskyy passes LangGraph's conformance suite on the real database, shares its storage
with the API (what one saver writes the other reads), and keeps the API's ownership rules."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from django.db import connections
from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.conformance import checkpointer_test, validate
from langgraph.checkpoint.conformance.capabilities import ALL_CAPABILITIES

from agents_audit.checkpoint_saver import DatabaseCheckpointSaver
from agents_audit.errors import ThreadNotFound
from commerce.models import User
from commerce.services import api_key_create
from devskyy_langgraph import DevskyyCheckpointSaver
from tests.commerce.factories import AgentUserFactory
from tests.langgraph_client.graphs import plan_then_act

# The async methods run in asgiref's thread for sync code: on its own database connection, which
# sees only what is committed.
pytestmark = pytest.mark.django_db(transaction=True)


def thread(thread_id: str) -> RunnableConfig:
    return {"configurable": {"thread_id": thread_id}}


@pytest.mark.slow  # some 300 calls, half of them commits
def test_the_database_saver_passes_every_capability_of_langgraphs_conformance_suite() -> None:
    owner = AgentUserFactory.create()

    async def saver() -> AsyncIterator[DatabaseCheckpointSaver]:
        yield DatabaseCheckpointSaver(owner)

    async def run() -> Any:
        try:
            return await validate(checkpointer_test(name="DatabaseCheckpointSaver")(saver))
        finally:
            await sync_to_async(connections.close_all)()  # the sync thread's connection

    report = asyncio.run(run())

    report.print_report()
    outcome = {
        name: (result.detected, result.passed, result.tests_failed, result.tests_skipped)
        for name, result in report.results.items()
    }
    every_capability = sorted(capability.value for capability in ALL_CAPABILITIES)
    assert outcome == dict.fromkeys(every_capability, (True, True, 0, 0)), report.results
    assert report.conformance_level() == "FULL"


def test_what_one_saver_writes_the_other_reads(live_url: str) -> None:
    agent = AgentUserFactory.create()
    _, key = api_key_create(user=agent, name="langgraph")
    inside = DatabaseCheckpointSaver(agent)

    with DevskyyCheckpointSaver(base_url=live_url, api_key=key) as outside:
        plan_then_act(inside).invoke({"steps": ["start"]}, thread("written-inside"))
        plan_then_act(outside).invoke({"steps": ["start"]}, thread("written-outside"))

        for thread_id in ("written-inside", "written-outside"):
            states = [
                [
                    (t.config["configurable"]["checkpoint_id"], t.metadata["step"])
                    for t in saver.list(thread(thread_id))
                ]
                for saver in (inside, outside)
            ]
            assert states[0] == states[1]
            assert [step for _, step in states[0]] == [2, 1, 0, -1]
            assert (
                plan_then_act(inside).get_state(thread(thread_id)).values
                == plan_then_act(outside).get_state(thread(thread_id)).values
                == {"steps": ["start", "plan", "act"]}
            )


def test_another_users_thread_is_invisible_and_untouchable(live_url: str) -> None:
    owner, stranger = AgentUserFactory.create(), AgentUserFactory.create()
    plan_then_act(DatabaseCheckpointSaver(owner)).invoke({"steps": ["start"]}, thread("owned"))
    theirs = DatabaseCheckpointSaver(stranger)

    assert theirs.get_tuple(thread("owned")) is None
    assert list(theirs.list(thread("owned"))) == []
    assert list(theirs.list(None)) == []
    theirs.delete_thread("owned")  # nothing of theirs to delete
    theirs.prune(["owned"], strategy="delete")  # skipped, as the API skips it
    with pytest.raises(ThreadNotFound):
        plan_then_act(theirs).invoke({"steps": ["start"]}, thread("owned"))
    with pytest.raises(ThreadNotFound):
        theirs.copy_thread("owned", "copied")

    assert len(list(DatabaseCheckpointSaver(owner).list(thread("owned")))) == 4


def test_thread_ids_are_held_to_the_apis_rules() -> None:
    saver = DatabaseCheckpointSaver(User(username="nobody"))
    for bad in ("", "a/b", "..", "prune", "x" * 256):
        with pytest.raises(ValueError, match="thread id"):
            saver.get_tuple(thread(bad))


@pytest.mark.django_db(transaction=True)
def test_connections_of_langgraphs_threads_are_closed_after_they_end() -> None:
    # given a graph run three times in this process: LangGraph runs its steps (and the saver's
    # calls) in a thread pool of its own for each run, whose threads open connections
    saver = DatabaseCheckpointSaver(AgentUserFactory.create())
    before = other_sessions()
    for run in range(3):
        plan_then_act(saver).invoke({"steps": ["start"]}, thread(f"run-{run}"))

    # when the saver is called once more, after those threads ended
    assert saver.get_tuple(thread("run-2")) is not None

    # then none of their sessions is still open (a backend leaves pg_stat_activity shortly
    # after its client closed the connection: up to 5 s)
    deadline = time.monotonic() + 5
    while (left := other_sessions() - before) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert left == set()


def other_sessions() -> set[int]:
    with connections["default"].cursor() as cursor:
        cursor.execute(
            "SELECT pid FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        return {pid for (pid,) in cursor.fetchall()}
