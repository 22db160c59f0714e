"""Every route x every kind of caller, against a table kept here.

Callers: no credentials, a wrong key, a revoked key, an expired key, a customer's key (one it
should never have been able to get, made directly in the database: refused like a wrong key,
because the owner's role has no API access), agent A, agent B, a customer logged in with a
session, an operator, an admin. Objects used in detail routes belong to agent A.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from django.core.management import call_command
from django.utils import timezone
from rest_framework.test import APIClient

from agents_audit.models import Job
from agents_audit.services.tasks import task_approve, task_create, task_start
from commerce.models import UserAPIKey
from commerce.services import api_key_create, api_key_revoke
from tests.agents_audit.factories import (
    AgentExecutionFactory,
    CheckpointFactory,
    CheckpointThreadFactory,
    LLMRoundTableResultFactory,
    ProjectFactory,
    ToolExecutionFactory,
)
from tests.commerce.factories import OrderFactory, ProductFactory, UserFactory
from tests.conftest import key_client
from tests.knowledge.factories import RAGDocumentFactory, SourceFactory

pytestmark = pytest.mark.django_db

CALLERS = [
    "anonymous",
    "bad_key",
    "revoked",
    "expired",
    "customer_key",
    "customer",
    "agent_a",
    "agent_b",
    "operator",
    "admin",
]

# route -> expected status per caller (in CALLERS order). 401 for every failed authentication.
A = [401, 401, 401, 401, 401]  # anonymous, bad, revoked, expired, customer's key
MATRIX = {
    ("get", "/api/v1/products/"): [*A, 200, 200, 200, 200, 200],
    ("get", "/api/v1/products/{product}/"): [*A, 200, 200, 200, 200, 200],
    ("get", "/api/v1/products/{draft}/"): [*A, 404, 404, 404, 200, 200],
    ("post", "/api/v1/products/"): [*A, 403, 403, 403, 201, 201],
    ("patch", "/api/v1/products/{product}/"): [*A, 403, 403, 403, 200, 200],
    ("post", "/api/v1/products/{draft}/publish/"): [*A, 403, 403, 403, 200, 200],
    ("post", "/api/v1/products/{product}/archive/"): [*A, 403, 403, 403, 200, 200],
    ("post", "/api/v1/products/{product}/adjust-stock/"): [*A, 403, 403, 403, 200, 200],
    ("get", "/api/v1/products/{product}/stock-movements/"): [*A, 403, 403, 403, 200, 200],
    ("get", "/api/v1/orders/"): [*A, 200, 200, 200, 200, 200],
    ("post", "/api/v1/orders/"): [*A, 201, 201, 201, 201, 201],
    ("get", "/api/v1/orders/{order}/"): [*A, 404, 200, 404, 200, 200],
    ("get", "/api/v1/orders/{order}/events/"): [*A, 404, 200, 404, 200, 200],
    ("post", "/api/v1/orders/{order}/cancel/"): [*A, 404, 200, 404, 200, 200],
    ("post", "/api/v1/orders/{order}/process/"): [*A, 403, 403, 403, 200, 200],
    ("post", "/api/v1/orders/{order}/complete/"): [*A, 403, 403, 403, 409, 409],
    ("get", "/api/v1/users/"): [*A, 403, 403, 403, 403, 200],
    ("post", "/api/v1/users/"): [*A, 403, 403, 403, 403, 201],
    ("get", "/api/v1/users/{user}/"): [*A, 403, 403, 403, 403, 200],
    ("get", "/api/v1/users/me/"): [*A, 200, 200, 200, 200, 200],
    ("get", "/api/v1/agent-executions/"): [*A, 403, 200, 200, 200, 200],
    ("post", "/api/v1/agent-executions/"): [*A, 403, 201, 201, 201, 201],
    ("get", "/api/v1/agent-executions/{execution}/"): [*A, 403, 200, 404, 200, 200],
    ("post", "/api/v1/agent-executions/{execution}/complete/"): [*A, 403, 200, 404, 200, 200],
    ("post", "/api/v1/agent-executions/{execution}/fail/"): [*A, 403, 200, 404, 200, 200],
    ("get", "/api/v1/tool-executions/"): [*A, 403, 200, 200, 200, 200],
    ("post", "/api/v1/tool-executions/"): [*A, 403, 201, 201, 201, 201],
    ("post", "/api/v1/tool-executions/bulk/"): [*A, 403, 201, 201, 201, 201],
    ("get", "/api/v1/tool-executions/{tool}/"): [*A, 403, 200, 404, 200, 200],
    ("get", "/api/v1/round-table-results/"): [*A, 403, 200, 200, 200, 200],
    ("post", "/api/v1/round-table-results/"): [*A, 403, 201, 201, 201, 201],
    ("get", "/api/v1/round-table-results/{result}/"): [*A, 403, 200, 404, 200, 200],
    ("get", "/api/v1/round-table-results/leaderboard/"): [*A, 403, 200, 200, 200, 200],
    ("get", "/api/v1/documents/"): [*A, 403, 200, 200, 200, 200],
    ("get", "/api/v1/documents/{document}/"): [*A, 403, 200, 200, 200, 200],
    ("post", "/api/v1/search/"): [*A, 403, 200, 200, 200, 200],
    # The knowledge base is shared: every API role reads and ingests; agents change only the
    # documents they ingested ({source} is agent A's).
    ("post", "/api/v1/documents/ingest/"): [*A, 403, 201, 201, 201, 201],
    ("get", "/api/v1/sources/"): [*A, 403, 200, 200, 200, 200],
    ("get", "/api/v1/sources/{source}/"): [*A, 403, 200, 200, 200, 200],
    ("delete", "/api/v1/sources/{source}/"): [*A, 403, 200, 403, 200, 200],
    ("delete", "/api/v1/sources/?source_path_prefix=agents/a/"): [*A, 403, 200, 403, 200, 200],
    # Projects: everyone with API access reads them; operators and admins manage them.
    ("get", "/api/v1/projects/"): [*A, 403, 200, 200, 200, 200],
    ("post", "/api/v1/projects/"): [*A, 403, 403, 403, 201, 201],
    ("get", "/api/v1/projects/{project}/"): [*A, 403, 200, 200, 200, 200],
    ("patch", "/api/v1/projects/{project}/"): [*A, 403, 403, 403, 200, 200],
    ("delete", "/api/v1/projects/{project}/"): [*A, 403, 403, 403, 204, 204],
    # Tasks: an agent sees and runs the ones it created; only staff decide them.
    ("get", "/api/v1/tasks/"): [*A, 403, 200, 200, 200, 200],
    ("post", "/api/v1/tasks/"): [*A, 403, 201, 201, 201, 201],
    ("get", "/api/v1/tasks/{task}/"): [*A, 403, 200, 404, 200, 200],
    ("patch", "/api/v1/tasks/{task}/"): [*A, 403, 200, 404, 200, 200],
    ("put", "/api/v1/tasks/{task}/"): [*A, 403, 200, 404, 200, 200],
    ("post", "/api/v1/tasks/{task}/approve/"): [*A, 403, 403, 403, 200, 200],
    ("post", "/api/v1/tasks/{task}/reject/"): [*A, 403, 403, 403, 200, 200],
    ("post", "/api/v1/tasks/{approved}/start/"): [*A, 403, 200, 404, 200, 200],
    ("post", "/api/v1/tasks/{executing}/complete/"): [*A, 403, 200, 404, 200, 200],
    ("post", "/api/v1/tasks/{executing}/fail/"): [*A, 403, 200, 404, 200, 200],
    ("post", "/api/v1/tasks/{approved}/logs/"): [*A, 403, 201, 404, 201, 201],
    ("get", "/api/v1/tasks/{task}/timeline/"): [*A, 403, 200, 404, 200, 200],
    # The job queue: agents and staff run jobs; a job's reads follow its task's; staff operate.
    ("get", "/api/v1/tasks/{approved}/jobs/"): [*A, 403, 200, 404, 200, 200],
    ("post", "/api/v1/tasks/{approved}/jobs/"): [*A, 403, 201, 404, 201, 201],
    ("get", "/api/v1/jobs/{job}/"): [*A, 403, 200, 404, 200, 200],
    ("post", "/api/v1/jobs/claim/"): [*A, 403, 200, 200, 200, 200],
    # a lease token that is not the job's (it is queued): nobody's lease
    ("post", "/api/v1/jobs/{job}/heartbeat/"): [*A, 403, 409, 409, 409, 409],
    ("post", "/api/v1/jobs/{job}/complete/"): [*A, 403, 409, 409, 409, 409],
    ("post", "/api/v1/jobs/{job}/fail/"): [*A, 403, 409, 409, 409, 409],
    ("post", "/api/v1/jobs/{job}/cancel/"): [*A, 403, 403, 403, 200, 200],
    ("post", "/api/v1/jobs/{job}/retry/"): [*A, 403, 403, 403, 409, 409],  # it is queued
    ("get", "/api/v1/jobs/stats/"): [*A, 403, 403, 403, 200, 200],
    ("post", "/api/v1/job-types/deploy/pause/"): [*A, 403, 403, 403, 200, 200],
    ("delete", "/api/v1/job-types/deploy/pause/"): [*A, 403, 403, 403, 200, 200],
    # LangGraph checkpoints: an agent reads and writes its own threads (another's is a 404);
    # staff read every thread but write only their own (403); bulk calls skip others' threads.
    ("get", "/api/v1/threads/"): [*A, 403, 200, 200, 200, 200],
    ("get", "/api/v1/threads/{thread}/"): [*A, 403, 200, 404, 200, 200],
    ("delete", "/api/v1/threads/{thread}/"): [*A, 403, 204, 404, 403, 403],
    ("post", "/api/v1/threads/{thread}/checkpoints/"): [*A, 403, 201, 404, 403, 403],
    ("post", "/api/v1/threads/{thread}/writes/"): [*A, 403, 200, 404, 403, 403],
    ("get", "/api/v1/threads/{thread}/checkpoint/"): [*A, 403, 200, 404, 200, 200],
    ("post", "/api/v1/threads/{thread}/checkpoints/search/"): [*A, 403, 200, 404, 200, 200],
    ("post", "/api/v1/threads/{thread}/copy/"): [*A, 403, 200, 404, 200, 200],
    ("post", "/api/v1/checkpoints/search/"): [*A, 403, 200, 200, 200, 200],
    ("post", "/api/v1/threads/prune/"): [*A, 403, 200, 200, 200, 200],
    ("post", "/api/v1/threads/delete-for-runs/"): [*A, 403, 200, 200, 200, 200],
    # Post-mortem reports: operators and admins.
    ("get", "/api/v1/reports/"): [*A, 403, 403, 403, 200, 200],
    **{
        ("get", f"/api/v1/reports/{name}/{query}"): [*A, 403, 403, 403, 200, 200]
        for name, query in (
            ("failed-tasks", ""),
            ("task-timeline", "?task={task}"),
            ("resource-usage", ""),
            ("external-ai", ""),
            ("agent-metrics", ""),
            ("failed-steps", ""),
            ("tasks-by-status", ""),
            ("ai-cost-by-model", ""),
            ("longest-tasks", ""),
            ("success-rate-by-day", ""),
        )
    },
}

BODIES = {
    "/api/v1/orders/": {"items": [{"sku": "LIVE-1", "quantity": 1}], "payment_method": "card"},
    "/api/v1/users/": {"username": "new-agent", "email": "new-agent@example.com", "role": "agent"},
    "/api/v1/products/": {"sku": "NEW-1", "name": "New", "price": "5.00"},
    "/api/v1/products/{product}/": {"name": "Renamed"},
    "/api/v1/products/{product}/adjust-stock/": {"delta": 5, "reason": "delivery"},
    "/api/v1/agent-executions/": {"execution_id": "new-exec", "agent_name": "a", "prompt": "p"},
    "/api/v1/agent-executions/{execution}/complete/": {"result": {"ok": True}},
    "/api/v1/agent-executions/{execution}/fail/": {"result": {"error": "x"}},
    "/api/v1/tool-executions/": {
        "correlation_id": "c",
        "tool_name": "t",
        "inputs": {},
        "status": "success",
    },
    "/api/v1/tool-executions/bulk/": [
        {"correlation_id": "c", "tool_name": "t", "inputs": {}, "status": "success"}
    ],
    "/api/v1/round-table-results/": {
        "result_id": "new-rt",
        "prompt": "p",
        "participants": [{"provider": "x"}],
    },
    "/api/v1/documents/ingest/": {"document_id": "new-doc", "text": "Returns within 30 days."},
    "/api/v1/projects/": {"name": "Launch"},
    "/api/v1/search/": {"query": "guide", "mode": "fulltext"},
    "/api/v1/projects/{project}/": {"name": "Relaunch"},
    "/api/v1/tasks/": {"request_text": "Deploy the shop"},
    "/api/v1/tasks/{task}/": {
        "project": None,
        "request_text": "Deploy the shop, carefully",
        "estimated_resources": None,
    },
    "/api/v1/tasks/{task}/reject/": {"reason": "Not now"},
    "/api/v1/tasks/{executing}/complete/": {"external_ai_model": "gpt-4o"},
    "/api/v1/tasks/{executing}/fail/": {"error_message": "crashed"},
    "/api/v1/tasks/{approved}/logs/": {"step_number": 1, "agent_type": "infra", "action": "ls"},
    "/api/v1/tasks/{approved}/jobs/": {"job_type": "deploy"},
    "/api/v1/jobs/claim/": {"worker_id": "w-1", "job_types": ["task.execute"]},
    "/api/v1/jobs/{job}/heartbeat/": {"lease_token": "7a1e4a52-1f35-4f0e-9a51-7f7c2a0b9e11"},
    "/api/v1/jobs/{job}/complete/": {"lease_token": "7a1e4a52-1f35-4f0e-9a51-7f7c2a0b9e11"},
    "/api/v1/jobs/{job}/fail/": {
        "lease_token": "7a1e4a52-1f35-4f0e-9a51-7f7c2a0b9e11",
        "error": "x",
    },
    "/api/v1/threads/{thread}/checkpoints/": {
        "checkpoint": {"id": "1ef-new", "channel_versions": {"a": 1}},
        "blobs": [{"channel": "a", "version": 1, "type": "json", "data": "MQ=="}],
    },
    "/api/v1/threads/{thread}/writes/": {
        "checkpoint_id": "1ef-new",
        "task_id": "task-1",
        "writes": [{"idx": 0, "channel": "a", "type": "json", "data": "Mg=="}],
    },
    "/api/v1/threads/{thread}/checkpoints/search/": {},
    "/api/v1/checkpoints/search/": {"limit": 5},
    "/api/v1/threads/{thread}/copy/": {"target_thread_id": "copy-target"},
    "/api/v1/threads/prune/": {"thread_ids": ["matrix-thread"], "strategy": "keep_latest"},
    "/api/v1/threads/delete-for-runs/": {"run_ids": ["run-1"]},
}


def client_for(caller: str, users: dict) -> APIClient:
    if caller == "anonymous":
        return APIClient()
    if caller == "bad_key":
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION="Api-Key AbCdEfGh.not-a-real-key")
        return client
    if caller in ("revoked", "expired"):
        api_key, key = api_key_create(user=users["agent_a"], name=caller)
        if caller == "revoked":
            api_key_revoke(api_key=api_key)
        else:
            UserAPIKey.objects.filter(pk=api_key.pk).update(
                expiry_date=timezone.now() - dt.timedelta(seconds=1)
            )
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Api-Key {key}")
        return client
    if caller == "customer":
        client = APIClient()
        client.force_login(users["customer"])
        return client
    if caller == "customer_key":
        # Customers cannot be given keys through the service; forge one to prove the role check.
        _, key = UserAPIKey.objects.create_key(user=users["customer"], name="forged")
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Api-Key {key}")
        return client
    return key_client(users[caller])


@pytest.fixture(scope="module")
def world(django_db_setup: None, django_db_blocker: Any) -> Iterator[tuple[dict, dict]]:
    """Made and committed once for the module: each test's own writes (its caller's key or
    session, what its request changed) are rolled back after it, so every test meets the world
    as made. Every table is emptied at the end, as a transactional test's teardown does."""
    with django_db_blocker.unblock():
        world = _make_world()
    try:
        yield world
    finally:
        with django_db_blocker.unblock():
            call_command("flush", interactive=False, verbosity=0)


def _make_world() -> tuple[dict, dict]:
    users = {
        "customer": UserFactory.create(role="customer"),
        "agent_a": UserFactory.create(role="agent"),
        "agent_b": UserFactory.create(role="agent"),
        "operator": UserFactory.create(role="operator"),
        "admin": UserFactory.create(role="admin"),
    }
    a = users["agent_a"]
    objects: dict[str, Any] = {
        "product": ProductFactory.create(
            sku="LIVE-1", status="published", price=Decimal("9.99"), inventory_quantity=100
        ),
        "draft": ProductFactory.create(status="draft"),
        "order": OrderFactory.create(user=a, status="pending"),
        "user": users["customer"],
        "execution": AgentExecutionFactory.create(user=a),
        "tool": ToolExecutionFactory.create(user=a),
        "result": LLMRoundTableResultFactory.create(user=a),
        "document": RAGDocumentFactory.create(),
        "source": SourceFactory.create(created_by=a, source_path="agents/a/notes.md", chunks=2),
        "project": ProjectFactory.create(),
        "task": task_create(request_text="Deploy the shop", created_by=a),
        "approved": task_approve(
            task=task_create(request_text="Back up", created_by=a), by=users["operator"]
        ),
    }
    objects["thread"] = CheckpointFactory.create(
        thread=CheckpointThreadFactory.create(thread_id="matrix-thread", owner=a)
    ).thread
    # its first job, queued by the approval
    objects["job"] = Job.objects.get(task=objects["approved"])
    objects["executing"] = task_start(
        task=task_approve(
            task=task_create(request_text="Migrate", created_by=a), by=users["operator"]
        ),
        by=a,
    )
    return users, objects


def _path(template: str, objects: dict) -> str:
    keys = {"execution": "execution_id", "result": "result_id", "source": "document_id"}
    for name, obj in objects.items():
        template = template.replace("{" + name + "}", str(getattr(obj, keys.get(name, "pk"))))
    return template


@pytest.mark.parametrize("caller", CALLERS)
@pytest.mark.parametrize(("method", "route"), list(MATRIX), ids=[f"{m} {r}" for m, r in MATRIX])
def test_route_answers_each_caller_as_the_matrix_says(world, method, route, caller):
    users, objects = world
    client = client_for(caller, users)
    body = None if method == "get" else BODIES.get(route)
    # a PATCH or PUT names the version it read (a fresh product or task is at version 1)
    headers = {"If-Match": '"1"'} if method in ("patch", "put") else {}
    response = getattr(client, method)(_path(route, objects), body, format="json", headers=headers)
    expected = MATRIX[(method, route)][CALLERS.index(caller)]
    assert response.status_code == expected, (caller, response.json())
    if expected >= 400:
        assert {"code", "detail"} <= set(response.json())
    if expected == 401:
        assert response["WWW-Authenticate"] == "Api-Key"


def test_every_api_route_is_in_the_matrix():
    from django.urls import get_resolver

    def walk(patterns, prefix=""):
        for p in patterns:
            if hasattr(p, "url_patterns"):
                yield from walk(p.url_patterns, prefix + str(p.pattern))
            else:
                yield prefix + str(p.pattern)

    api_routes = {
        r
        for r in walk(get_resolver().url_patterns)
        if r.startswith("api/v1/") and not r.endswith("\\.(?P<format>[a-z0-9]+)/?$")
    }
    # {product} and {draft} share one pattern; a query string is no route of its own
    assert len(api_routes) == len({r.split("?")[0] for _, r in MATRIX}) - 1
