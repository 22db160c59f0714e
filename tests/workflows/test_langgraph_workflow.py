"""A real LangGraph workflow whose state lives in devskyy, run by separate agent processes.

``examples/langgraph/approval_workflow.py`` (plan -> call_tool -> summarize -> await_approval ->
execute) runs in child processes that hold only an agent's API key, against a live server on
127.0.0.1: the first process dies at the start of step 3, a second one resumes the thread and
stops at the operator's approval (``interrupt()``), the operator approves the linked task in the
admin, and a worker process takes the task's job and finishes the graph. Each node appends its
name to a ledger when its side effect runs: the ledger proves no step ran twice.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from agents_audit.models import Checkpoint, Task
from commerce.models import User
from commerce.services import api_key_create
from tests.commerce.factories import AgentUserFactory, OperatorFactory

pytestmark = pytest.mark.slow

WORKFLOW = Path(__file__).resolve().parents[2] / "examples" / "langgraph" / "approval_workflow.py"
CRASH_EXIT_CODE = 75
TASKS = reverse("admin:agents_audit_task_changelist")
NODES = ["plan", "call_tool", "summarize", "await_approval", "execute"]


class Agent:
    """The workflow's command line, as a separate process with an agent's key and no Django."""

    def __init__(self, base_url: str, key: str, ledger: Path) -> None:
        self.env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("DJANGO")},
            "DEVSKYY_URL": base_url,
            "DEVSKYY_API_KEY": key,
            "WORKFLOW_LEDGER": str(ledger),
        }
        self.ledger = ledger

    def run(self, *args: str, crash_at: str | None = None) -> subprocess.CompletedProcess[str]:
        env = dict(self.env)
        if crash_at:
            env["WORKFLOW_CRASH_AT"] = crash_at
        return subprocess.run(  # noqa: S603 (our own interpreter and script)
            [sys.executable, str(WORKFLOW), *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )

    def answer(self, *args: str) -> Any:
        done = self.run(*args)
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout)

    def side_effects(self) -> list[str]:
        return self.ledger.read_text().split() if self.ledger.exists() else []


@pytest.fixture
def agent(live_server: Any, transactional_db: None, tmp_path: Path) -> Agent:
    user: User = AgentUserFactory.create()
    _, key = api_key_create(user=user, name="workflow agent")
    return Agent(live_server.url, key, tmp_path / "ledger")


def test_a_crashed_workflow_resumes_where_it_stopped_and_finishes_after_approval(
    agent: Agent,
) -> None:
    thread_id = f"order-{uuid.uuid4()}"

    crashed = agent.run(
        "start", "--thread", thread_id, "--request", "Order 3 of SKU-42", crash_at="summarize"
    )
    assert crashed.returncode == CRASH_EXIT_CODE, crashed.stderr
    assert agent.side_effects() == ["plan", "call_tool"]
    saved = Checkpoint.objects.filter(thread_id=thread_id)
    latest = saved.order_by("-checkpoint_id").first()
    assert latest is not None
    assert latest.metadata["step"] == 2  # steps 1 and 2 (plan, call_tool) are saved

    waiting = agent.answer("resume", "--thread", thread_id)

    assert waiting["status"] == "waiting_for_approval"
    assert waiting["summary"].startswith("3 x SKU-42 for ")
    assert agent.side_effects() == ["plan", "call_tool", "summarize"]  # 1 and 2 did not rerun
    task = Task.objects.get(pk=waiting["task"])
    assert (task.thread_id, task.status) == (thread_id, "pending")

    nothing_to_do = agent.answer("work", "--wait", "0")
    assert nothing_to_do == {"status": "idle"}  # no job before the operator decides

    operator = Client()
    operator.force_login(OperatorFactory.create())
    approved = operator.post(TASKS, {"action": "approve", "_selected_action": [task.pk]})
    assert approved.status_code == 302

    finished = agent.answer("work", "--wait", "10")

    assert finished == {"status": "finished", "task": str(task.pk), "outcome": "ordered"}
    assert agent.side_effects() == NODES  # every step's side effect exactly once
    task.refresh_from_db()
    assert task.status == "completed"

    history = agent.answer("history", "--thread", thread_id)

    assert [h["step"] for h in history] == [5, 4, 3, 2, 1, 0, -1]
    assert history[0]["next"] == []
    assert history[0]["steps"] == NODES
    assert [h["next"] for h in reversed(history[:-1])] == [[n] for n in NODES] + [[]]
    assert saved.count() == len(history)
