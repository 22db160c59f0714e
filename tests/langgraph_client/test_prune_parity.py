"""``prune(strategy="keep_latest")`` leaves what the official saver leaves.

The same graphs run on a live devskyy (through ``DevskyyCheckpointSaver``) and on
``langgraph-checkpoint-postgres``'s ``PostgresSaver`` (its own scratch database on the same
server), then both threads are pruned and what remains is compared: per namespace kind (the root,
a subgraph called from a node, a ``checkpointer=True`` subgraph), how many namespaces and
checkpoints, which steps, and the state the graph resumes from. Namespaces and checkpoint ids
carry task ids and times, which differ between the two runs, so the comparison is by shape.
"""

from __future__ import annotations

import operator
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Annotated, Any, TypedDict

import psycopg
import pytest
from django.db import connection
from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.checkpoint.postgres import PostgresSaver
from langgraph.graph import END, START, StateGraph
from psycopg import sql
from psycopg.rows import dict_row

from devskyy_langgraph import DevskyyCheckpointSaver

pytestmark = pytest.mark.slow


class State(TypedDict):
    steps: Annotated[list[str], operator.add]


def graph(saver: BaseCheckpointSaver[Any]) -> Any:
    """A root graph of three nodes: ``call`` invokes a subgraph (checkpointed under a namespace
    ``call:<task id>`` per call), ``keep`` a subgraph compiled with ``checkpointer=True`` (one
    namespace ``keep``, whose state outlives each call)."""
    inner: StateGraph[State, None, State, State] = StateGraph(State)
    inner.add_node("one", lambda state: {"steps": ["one"]})
    inner.add_node("two", lambda state: {"steps": ["two"]})
    inner.add_edge(START, "one")
    inner.add_edge("one", "two")
    inner.add_edge("two", END)
    called, kept = inner.compile(), inner.compile(checkpointer=True)

    outer: StateGraph[State, None, State, State] = StateGraph(State)
    outer.add_node("plan", lambda state: {"steps": ["plan"]})
    outer.add_node("call", lambda state: {"steps": called.invoke({"steps": []})["steps"]})
    outer.add_node("keep", lambda state: {"steps": kept.invoke({"steps": []})["steps"][-2:]})
    outer.add_edge(START, "plan")
    outer.add_edge("plan", "call")
    outer.add_edge("call", "keep")
    outer.add_edge("keep", END)
    return outer.compile(checkpointer=saver)


def kind(namespace: str) -> str:
    if not namespace:
        return "root"
    return namespace.split(":")[0] + (":call" if ":" in namespace else "")


def shape(saver: BaseCheckpointSaver[Any], thread_id: str) -> dict[str, Any]:
    """What a thread holds, without its ids: per namespace kind, the namespaces and each one's
    checkpoints' (source, step), newest first."""
    by_namespace: dict[str, list[tuple[str, int]]] = {}
    for found in saver.list({"configurable": {"thread_id": thread_id}}):
        namespace = found.config["configurable"]["checkpoint_ns"]
        by_namespace.setdefault(namespace, []).append(
            (found.metadata["source"], found.metadata["step"])
        )
    return {
        "namespaces": Counter(kind(namespace) for namespace in by_namespace),
        "checkpoints": sorted((kind(ns), steps) for ns, steps in by_namespace.items()),
    }


@pytest.fixture
def official_saver() -> Iterator[PostgresSaver]:
    """``PostgresSaver`` on a scratch database beside the test database (its tables have the
    names of devskyy's), dropped after."""
    settings = connection.settings_dict
    name = f"{settings['NAME']}_official"
    admin = {
        "host": settings["HOST"],
        "port": settings["PORT"] or None,
        "user": settings["USER"],
        "password": settings["PASSWORD"] or None,
        "dbname": "postgres",
        "autocommit": True,
    }
    with psycopg.connect(**admin) as server:
        server.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )
        server.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        with psycopg.connect(
            **{**admin, "dbname": name}, prepare_threshold=0, row_factory=dict_row
        ) as conn:
            saver = PostgresSaver(conn)
            saver.setup()
            yield saver
    finally:
        with psycopg.connect(**admin) as server:
            server.execute("SET statement_timeout = 0")  # DROP DATABASE waits for a checkpoint
            server.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


def test_keep_latest_leaves_what_the_official_saver_leaves(
    official_saver: PostgresSaver, live_url: str, agent_key: Callable[[], str]
) -> None:
    with DevskyyCheckpointSaver(base_url=live_url, api_key=agent_key()) as devskyy:
        savers: dict[str, BaseCheckpointSaver[Any]] = {
            "official": official_saver,
            "devskyy": devskyy,
        }
        before, after, resumed = {}, {}, {}
        for name, saver in savers.items():
            app = graph(saver)
            config: RunnableConfig = {"configurable": {"thread_id": "parity"}}
            for _ in range(2):  # two runs: the first one's calls are finished by the second
                app.invoke({"steps": ["start"]}, config)
            before[name] = shape(saver, "parity")
            saver.prune(["parity"], strategy="keep_latest")
            after[name] = shape(saver, "parity")
            resumed[name] = app.invoke({"steps": ["again"]}, config)["steps"]

    assert before["devskyy"] == before["official"]
    assert before["devskyy"]["namespaces"]["call:call"] == 2  # one namespace per call
    assert after["devskyy"] == after["official"]
    assert after["devskyy"]["namespaces"]["call:call"] < 2  # a finished call went
    assert resumed["devskyy"] == resumed["official"]
