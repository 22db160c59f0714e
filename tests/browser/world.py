"""A small operator's world for the browser tests: a row in every table the admin shows.

Written as production writes it where a service exists (tasks, orders, API keys), with the
factories elsewhere. Committed: the live server reads it from its own connections.
"""

from __future__ import annotations

from dataclasses import dataclass

from axes.models import AccessAttempt, AccessFailureLog, AccessLog

from agents_audit.models import AgentExecution, JobTypePause, Task, ToolExecution
from agents_audit.services.tasks import task_approve, task_create
from commerce.models import Order, User
from commerce.services import api_key_create, order_place
from devskyy.models import IdempotencyRecord
from tests.agents_audit.factories import (
    AgentExecutionFactory,
    ArtifactFactory,
    CheckpointFactory,
    CheckpointThreadFactory,
    ExecutionLogFactory,
    LLMRoundTableResultFactory,
    ProjectFactory,
    ToolExecutionFactory,
)
from tests.commerce.factories import AgentUserFactory, ProductFactory
from tests.knowledge.factories import SourceFactory

CORRELATION_ID = "corr-checkout-20240607-0001"


@dataclass(frozen=True)
class ConsoleWorld:
    agent: User
    task: Task  # approved by the operator; its first job queued
    pending_task: Task
    order: Order  # pending, placed by the agent
    agent_execution: AgentExecution
    # One checkout traced under CORRELATION_ID: a search, a failed payment call, a retry.
    traced: list[ToolExecution]
    # Calls of other traces, which a search for CORRELATION_ID must leave out.
    others: list[ToolExecution]


def console_world(*, operator: User) -> ConsoleWorld:
    agent = AgentUserFactory.create(username="shop_agent")
    api_key_create(user=agent, name="shop agent key")
    ring = ProductFactory.create(sku="RING-001", name="Silver ring", inventory_quantity=5)
    order = order_place(
        user=agent,
        lines=[(ring.sku, 2)],
        shipping={"name": "Ada Lovelace", "city": "London", "country": "GB"},
    )
    IdempotencyRecord.objects.create(user=agent, key="checkout-1", fingerprint="f" * 64)

    task = task_create(request_text="Deploy the shop to staging", created_by=agent)
    task_approve(task=task, by=operator)  # queues its first job, with events
    pending_task = task_create(request_text="Rotate the payment keys", created_by=agent)
    ExecutionLogFactory.create(task=task)
    ArtifactFactory.create(task=task)
    ProjectFactory.create(name="Storefront")
    JobTypePause.objects.create(job_type="reindex")
    CheckpointFactory.create(thread=CheckpointThreadFactory.create(owner=agent))
    SourceFactory.create(created_by=agent, source_path="docs/returns.md", chunks=2)
    LLMRoundTableResultFactory.create(user=agent)
    agent_execution = AgentExecutionFactory.create(user=agent)

    traced = [
        ToolExecutionFactory.create(
            user=agent, correlation_id=CORRELATION_ID, tool_name="search_products"
        ),
        ToolExecutionFactory.create(
            user=agent,
            correlation_id=CORRELATION_ID,
            tool_name="charge_card",
            status=ToolExecution.Status.FAILED,
            error_message="card declined",
            duration_ms=2300,
        ),
        ToolExecutionFactory.create(
            user=agent, correlation_id=CORRELATION_ID, tool_name="charge_card"
        ),
    ]
    others = [
        ToolExecutionFactory.create(user=agent, tool_name="list_orders"),
        ToolExecutionFactory.create(
            user=agent, tool_name="ship_order", status=ToolExecution.Status.TIMEOUT
        ),
    ]

    # django-axes's login records, as its handler writes them on a login and on a failed one
    # (tests/test_login_lockout.py logs in for real; here, a form post would cost two Argon2
    # hashes per test). The failure log is listed although this configuration does not write it.
    seen = {"ip_address": "127.0.0.1", "user_agent": "Mozilla/5.0", "path_info": "/admin/login/"}
    AccessLog.objects.create(username=operator.username, **seen)
    AccessAttempt.objects.create(
        username=operator.username, failures_since_start=1, get_data="", post_data="", **seen
    )
    AccessFailureLog.objects.create(username=operator.username, **seen)

    return ConsoleWorld(
        agent=agent,
        task=task,
        pending_task=pending_task,
        order=order,
        agent_execution=agent_execution,
        traced=traced,
        others=others,
    )
