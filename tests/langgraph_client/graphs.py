"""The small LangGraph graph the client tests run on a saver: plan, then act."""

from __future__ import annotations

import operator
from typing import Annotated, Any, TypedDict

from langgraph.graph import END, START, StateGraph


class State(TypedDict):
    steps: Annotated[list[str], operator.add]


def plan_then_act(saver: Any) -> Any:
    """``plan`` then ``act``, compiled with ``saver``: a run from ``{"steps": ["start"]}`` saves
    four checkpoints (input, plan, act, done), the first three with writes."""
    graph: StateGraph[State, None, State, State] = StateGraph(State)
    graph.add_node("plan", lambda state: {"steps": ["plan"]})
    graph.add_node("act", lambda state: {"steps": ["act"]})
    graph.add_edge(START, "plan")
    graph.add_edge("plan", "act")
    graph.add_edge("act", END)
    return graph.compile(checkpointer=saver)
