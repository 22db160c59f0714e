"""Waiting claims over HTTP, under the server devskyy ships (``python -m devskyy.serve``).

A claim with ``wait_seconds`` holds one thread of its server process until a job comes; the
serving model (threaded workers, a cap on waiting claims per process) must leave the other
threads to the agents' other calls. These tests start the real server on the test database with
ONE worker process (the harshest case: every waiting claim in one process) and prove it: twenty
claims wait, a tool execution is still recorded while all twenty wait, and the twenty are then
woken by the jobs they wait for, each taking a different one.
"""

from __future__ import annotations

import signal
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest

from agents_audit.models import Task
from agents_audit.services.tasks import task_approve, task_create
from commerce.services import api_key_create
from tests.commerce.factories import AgentUserFactory, OperatorFactory
from tests.processes import serving

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

WAITING = 20


@pytest.fixture
def server(tmp_path: Path) -> Iterator[str]:
    with serving(tmp_path) as (url, _):
        yield url


def _key(user: Any) -> dict[str, str]:
    _, key = api_key_create(user=user, name="claim test")
    return {"Authorization": f"Api-Key {key}"}


def _approved_task(agent: Any) -> Task:
    task = task_create(request_text="Run the nightly jobs", created_by=agent)
    return task_approve(task=task, by=OperatorFactory.create())


def _wait_until_waiting(server: str, operator_headers: dict[str, str], count: int) -> None:
    deadline = time.monotonic() + 30
    while True:
        stats = httpx.get(f"{server}/api/v1/jobs/stats/", headers=operator_headers, timeout=10)
        if stats.json()["waiting_claims"] == count:
            return
        assert time.monotonic() < deadline, stats.json()
        time.sleep(0.05)


def test_twenty_waiting_claims_do_not_delay_a_tool_execution(server: str):
    agent = AgentUserFactory.create()
    agent_headers, operator_headers = _key(agent), _key(OperatorFactory.create())
    task = _approved_task(agent)

    def claim(n: int) -> httpx.Response:
        return httpx.post(
            f"{server}/api/v1/jobs/claim/",
            json={"worker_id": f"worker-{n}", "job_types": ["nightly"], "wait_seconds": 30},
            headers=agent_headers,
            timeout=60,
        )

    with ThreadPoolExecutor(WAITING) as pool:
        claims = [pool.submit(claim, n) for n in range(WAITING)]
        # Until the server says all twenty wait (they have found nothing and hold a thread).
        _wait_until_waiting(server, operator_headers, WAITING)

        recorded = httpx.post(
            f"{server}/api/v1/tool-executions/",
            json={
                "correlation_id": "while-claims-wait",
                "tool_name": "search",
                "inputs": {"q": "x"},
                "status": "success",
            },
            headers=agent_headers,
            timeout=10,
        )

        assert recorded.status_code == 201, recorded.text
        assert not any(claim.done() for claim in claims), "a claim ended before any job came"

        queued = {
            httpx.post(
                f"{server}/api/v1/tasks/{task.pk}/jobs/",
                json={"job_type": "nightly", "payload": {"n": n}},
                headers=agent_headers,
                timeout=10,
            ).json()["id"]
            for n in range(WAITING)
        }
        answers = [claim.result(timeout=60) for claim in claims]

    assert [answer.status_code for answer in answers] == [200] * WAITING
    assert {answer.json()["id"] for answer in answers} == queued


def test_a_claim_over_the_per_process_limit_answers_at_once(server: str):
    """Waiting claims never take every thread: past JOB_CLAIM_MAX_WAITERS (24) a claim answers
    204 at once instead of waiting."""
    agent_headers = _key(AgentUserFactory.create())
    operator_headers = _key(OperatorFactory.create())
    limit = 24

    def claim(wait: int) -> httpx.Response:
        return httpx.post(
            f"{server}/api/v1/jobs/claim/",
            json={"worker_id": "w", "job_types": ["never"], "wait_seconds": wait},
            headers=agent_headers,
            timeout=60,
        )

    with ThreadPoolExecutor(limit) as pool:
        waiting = [pool.submit(claim, 3) for _ in range(limit)]
        _wait_until_waiting(server, operator_headers, limit)

        one_more = claim(30)

        assert one_more.status_code == 204
        assert not all(claim.done() for claim in waiting)
        assert [claim.result(timeout=60).status_code for claim in waiting] == [204] * limit


def test_a_shutdown_lets_a_waiting_claim_answer_before_the_server_exits(tmp_path: Path):
    """SIGTERM (a deploy, a scale-down) stops the server gracefully: the claim that is waiting
    gets its answer, then the process exits cleanly."""
    agent_headers = _key(AgentUserFactory.create())
    operator_headers = _key(OperatorFactory.create())

    with serving(tmp_path) as (url, process), ThreadPoolExecutor(1) as pool:
        waiting = pool.submit(
            httpx.post,
            f"{url}/api/v1/jobs/claim/",
            json={"worker_id": "w", "job_types": ["never"], "wait_seconds": 3},
            headers=agent_headers,
            timeout=60,
        )
        _wait_until_waiting(url, operator_headers, 1)

        process.send_signal(signal.SIGTERM)

        assert waiting.result(timeout=60).status_code == 204
        assert process.wait(timeout=60) == 0
