"""A LangGraph workflow whose state lives in devskyy: an agent with an API key, nothing else.

The graph prices an order with a (deterministic, fake) tool, summarizes it, waits for an
operator's approval (``interrupt()``), then places or drops the order:

    plan -> call_tool -> summarize -> await_approval -> execute

Every step's checkpoint is saved through ``DevskyyCheckpointSaver`` before the next step starts
(``durability="sync"``), so a process that dies mid-run is resumed by any other process with the
same ``thread_id``, from the last saved step: the steps before it do not run again.

    python approval_workflow.py start  --thread T --request "Order 3 of SKU-42"
    python approval_workflow.py resume --thread T     # after a crash
    python approval_workflow.py work                  # a worker: takes the approved task's job
    python approval_workflow.py history --thread T

``start``/``resume`` end at the approval: the agent files a task for the thread (``POST
/api/v1/tasks/`` with the ``thread_id``), which an operator approves in the admin. Approval queues
the task's ``task.execute`` job; ``work`` claims it, starts the task, resumes the graph with the
decision (``Command(resume=...)``), completes the task and the job.

Configuration: ``DEVSKYY_URL`` (e.g. ``http://127.0.0.1:8000``) and ``DEVSKYY_API_KEY`` (an agent
key). For the tests: ``WORKFLOW_LEDGER`` names a file where each node appends its name when its
side effect runs, and ``WORKFLOW_CRASH_AT`` names a node at whose start the process exits.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import operator
import os
import socket
import sys
from typing import Annotated, Any, TypedDict

import httpx
from langchain_core.runnables import RunnableConfig
from langgraph.graph import END, START, StateGraph
from langgraph.graph.state import CompiledStateGraph
from langgraph.types import Command, interrupt

from devskyy_langgraph import DevskyyCheckpointSaver

CRASH_EXIT_CODE = 75
JOB_TYPE = "task.execute"


class OrderState(TypedDict, total=False):
    request: str
    steps: Annotated[list[str], operator.add]
    sku: str
    quantity: int
    quote: dict[str, Any]
    summary: str
    decision: dict[str, Any]
    outcome: str


def _side_effect(node: str) -> None:
    """What a real node would do once (charge a card, send a mail): here, one ledger line."""
    ledger = os.environ.get("WORKFLOW_LEDGER")
    if ledger:
        with open(ledger, "a", encoding="utf-8") as f:
            f.write(node + "\n")


def _crash_point(node: str) -> None:
    if os.environ.get("WORKFLOW_CRASH_AT") == node:
        os._exit(CRASH_EXIT_CODE)  # no cleanup, no flush: as a killed process


def price_lookup(sku: str, quantity: int) -> dict[str, Any]:
    """The tool: a deterministic stand-in for a pricing service."""
    cents = 100 + int(hashlib.sha256(sku.encode()).hexdigest(), 16) % 9900
    return {"sku": sku, "quantity": quantity, "unit_cents": cents, "total_cents": cents * quantity}


def plan(state: OrderState) -> OrderState:
    _crash_point("plan")
    _side_effect("plan")
    words = state["request"].split()
    quantity = next((int(w) for w in words if w.isdigit()), 1)
    sku = next((w for w in words if w.upper().startswith("SKU-")), "SKU-0")
    return {"steps": ["plan"], "sku": sku, "quantity": quantity}


def call_tool(state: OrderState) -> OrderState:
    _crash_point("call_tool")
    _side_effect("call_tool")
    return {"steps": ["call_tool"], "quote": price_lookup(state["sku"], state["quantity"])}


def summarize(state: OrderState) -> OrderState:
    _crash_point("summarize")
    _side_effect("summarize")
    quote = state["quote"]
    total = quote["total_cents"] / 100
    return {
        "steps": ["summarize"],
        "summary": f"{quote['quantity']} x {quote['sku']} for {total:.2f}",
    }


def await_approval(state: OrderState) -> OrderState:
    # The first run stops here (the checkpoint records the interrupt); the resumed run gets the
    # operator's decision as interrupt()'s value and goes on.
    decision = interrupt({"summary": state["summary"], "quote": state["quote"]})
    _side_effect("await_approval")
    return {"steps": ["await_approval"], "decision": decision}


def execute(state: OrderState) -> OrderState:
    _crash_point("execute")
    _side_effect("execute")
    approved = bool(state.get("decision", {}).get("approved"))
    return {"steps": ["execute"], "outcome": "ordered" if approved else "dropped"}


def build_graph(checkpointer: DevskyyCheckpointSaver) -> CompiledStateGraph:
    graph = StateGraph(OrderState)
    for node in (plan, call_tool, summarize, await_approval, execute):
        graph.add_node(node.__name__, node)
    graph.add_edge(START, "plan")
    graph.add_edge("plan", "call_tool")
    graph.add_edge("call_tool", "summarize")
    graph.add_edge("summarize", "await_approval")
    graph.add_edge("await_approval", "execute")
    graph.add_edge("execute", END)
    return graph.compile(checkpointer=checkpointer)


class Devskyy:
    """The few task and job calls the workflow makes, with the agent's key."""

    def __init__(self, base_url: str, api_key: str) -> None:
        self.http = httpx.Client(
            base_url=base_url.rstrip("/") + "/api/v1",
            headers={"Authorization": f"Api-Key {api_key}"},
            timeout=40.0,
        )

    def call(self, method: str, path: str, body: Any = None) -> Any:
        response = self.http.request(method, path, json=body)
        if response.status_code >= 400:
            raise SystemExit(f"{method} {path}: {response.status_code} {response.text}")
        return None if response.status_code == 204 else response.json()


def _config(thread_id: str) -> RunnableConfig:
    return {"configurable": {"thread_id": thread_id}}


def _run(graph: CompiledStateGraph, api: Devskyy, thread_id: str, graph_input: Any) -> dict:
    result = graph.invoke(graph_input, _config(thread_id), durability="sync")
    if "__interrupt__" not in result:
        return {"status": "finished", "outcome": result.get("outcome")}
    question = result["__interrupt__"][0].value
    task = api.call(
        "POST",
        "/tasks/",
        {"request_text": f"Approve: {question['summary']}", "thread_id": thread_id},
    )
    return {"status": "waiting_for_approval", "task": task["id"], "summary": question["summary"]}


def work(graph: CompiledStateGraph, api: Devskyy, wait_seconds: int) -> dict:
    worker = f"{socket.gethostname()}/pid-{os.getpid()}"
    job = api.call(
        "POST",
        "/jobs/claim/",
        {"worker_id": worker, "job_types": [JOB_TYPE], "wait_seconds": wait_seconds},
    )
    if job is None:
        return {"status": "idle"}
    task_id, thread_id = job["payload"]["task_id"], job["payload"]["thread_id"]
    api.call("POST", f"/tasks/{task_id}/start/")
    decision = {"approved": True, "task": task_id}
    result = graph.invoke(Command(resume=decision), _config(thread_id), durability="sync")
    api.call("POST", f"/tasks/{task_id}/complete/", {"actual_resources": {"steps": 5}})
    api.call(
        "POST",
        f"/jobs/{job['id']}/complete/",
        {"lease_token": job["lease_token"], "result": {"outcome": result["outcome"]}},
    )
    return {"status": "finished", "task": task_id, "outcome": result["outcome"]}


def history(graph: CompiledStateGraph, thread_id: str) -> list[dict[str, Any]]:
    return [
        {
            "checkpoint_id": snapshot.config["configurable"]["checkpoint_id"],
            "step": snapshot.metadata.get("step") if snapshot.metadata else None,
            "source": snapshot.metadata.get("source") if snapshot.metadata else None,
            "next": list(snapshot.next),
            "steps": snapshot.values.get("steps", []),
        }
        for snapshot in graph.get_state_history(_config(thread_id))
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    start = commands.add_parser("start", help="run a new workflow until it needs approval")
    start.add_argument("--thread", required=True)
    start.add_argument("--request", required=True)
    resume = commands.add_parser("resume", help="go on from the thread's last checkpoint")
    resume.add_argument("--thread", required=True)
    worker = commands.add_parser("work", help="take one approved task's job and finish it")
    worker.add_argument("--wait", type=int, default=10)
    show = commands.add_parser("history", help="the thread's checkpoints, newest first")
    show.add_argument("--thread", required=True)
    args = parser.parse_args(argv)

    base_url, api_key = os.environ["DEVSKYY_URL"], os.environ["DEVSKYY_API_KEY"]
    api = Devskyy(base_url, api_key)
    with DevskyyCheckpointSaver(base_url=base_url, api_key=api_key) as saver:
        graph = build_graph(saver)
        if args.command == "start":
            out: Any = _run(graph, api, args.thread, {"request": args.request, "steps": []})
        elif args.command == "resume":
            out = _run(graph, api, args.thread, None)
        elif args.command == "work":
            out = work(graph, api, args.wait)
        else:
            out = history(graph, args.thread)
    json.dump(out, sys.stdout)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
