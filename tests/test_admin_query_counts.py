"""Every admin page runs a pinned number of queries (issue 11), whatever the rows it shows: the
admin index, every changelist, every change page (with related rows present), every add page
that exists, and the custom admin views. A changelist with five rows runs as many queries as
with one, and a change page with five lines, events or chunks as many as with one: no query per
row. Admins are discovered from ``admin.site._registry``; a new one needs a row maker below
and its counts pinned here."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

import pytest
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.apps import apps
from django.contrib import admin
from django.contrib.admin.utils import quote
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from agents_audit.models import Event, JobTypePause
from agents_audit.reports import REPORTS
from commerce.models import OrderEvent
from commerce.services import api_key_create, order_place
from devskyy.models import IdempotencyRecord
from knowledge.embedding_models import EMBEDDING_MODELS
from knowledge.models import ChunkEmbedding
from tests.admin_plans import registered_admins
from tests.agents_audit.factories import (
    AgentExecutionFactory,
    ArtifactFactory,
    CheckpointFactory,
    CheckpointThreadFactory,
    CheckpointWriteFactory,
    ExecutionLogFactory,
    JobFactory,
    LLMRoundTableResultFactory,
    ProjectFactory,
    TaskFactory,
    ToolExecutionFactory,
)
from tests.commerce.factories import AgentUserFactory, ProductFactory, UserFactory
from tests.knowledge.factories import RAGDocumentFactory, SourceFactory

pytestmark = pytest.mark.django_db

_n = itertools.count()


def _access(model: Any) -> Any:
    n = next(_n)
    common = {"user_agent": "curl", "ip_address": "10.0.0.1", "username": f"u{n}"}
    common |= {"http_accept": "*/*", "path_info": "/admin/login/"}
    if model is AccessAttempt:
        return model.objects.create(get_data="", post_data="", failures_since_start=1, **common)
    return model.objects.create(**common)


def _order() -> Any:
    product = ProductFactory.create(inventory_quantity=100)
    return order_place(user=UserFactory.create(), lines=[(product.sku, 1)], payment_method="card")


# One new row of each registered model (with what its list shows: a user, a task, a product).
MAKERS: dict[str, Callable[[], Any]] = {
    "agents_audit.AgentExecution": lambda: AgentExecutionFactory.create(user=UserFactory.create()),
    "agents_audit.Artifact": ArtifactFactory.create,
    "agents_audit.Checkpoint": CheckpointFactory.create,
    "agents_audit.CheckpointThread": CheckpointThreadFactory.create,
    "agents_audit.Event": lambda: Event.objects.create(
        subject_type=Event.Subject.TASK,
        subject_id=str(TaskFactory.create().pk),
        event_type=Event.Type.TASK_CREATED,
        actor=UserFactory.create(),
    ),
    "agents_audit.ExecutionLog": ExecutionLogFactory.create,
    "agents_audit.Job": JobFactory.create,
    "agents_audit.JobTypePause": lambda: JobTypePause.objects.create(
        job_type=f"type-{next(_n)}", paused_by=UserFactory.create()
    ),
    "agents_audit.LLMRoundTableResult": LLMRoundTableResultFactory.create,
    "agents_audit.Project": ProjectFactory.create,
    "agents_audit.Task": lambda: TaskFactory.create(
        project=ProjectFactory.create(), approved_by=UserFactory.create()
    ),
    "agents_audit.ToolExecution": ToolExecutionFactory.create,
    "axes.AccessAttempt": lambda: _access(AccessAttempt),
    "axes.AccessFailureLog": lambda: _access(AccessFailureLog),
    "axes.AccessLog": lambda: _access(AccessLog),
    "commerce.Order": _order,
    "commerce.Product": ProductFactory.create,
    "commerce.StockMovement": lambda: ProductFactory.create().stock_movements.get(),
    "commerce.User": UserFactory.create,
    "commerce.UserAPIKey": lambda: api_key_create(user=AgentUserFactory.create(), name="k")[0],
    "devskyy.IdempotencyRecord": lambda: IdempotencyRecord.objects.create(
        user=UserFactory.create(), key=f"key-{next(_n)}", fingerprint="0" * 64
    ),
    "knowledge.RAGDocument": lambda: SourceFactory.create(chunks=1).chunks.get(),
    "knowledge.Source": lambda: SourceFactory.create(chunks=2),
}

# label: (changelist, change page, add page or None where adding is not offered). Every page
# starts with the session's and the user's queries; a filter whose choices come from the table
# (tools, agents, job types, axes' paths) adds one.
PINNED: dict[str, tuple[int, int, int | None]] = {
    "agents_audit.AgentExecution": (5, 4, None),
    "agents_audit.Artifact": (4, 4, None),
    "agents_audit.Checkpoint": (4, 6, None),
    "agents_audit.CheckpointThread": (4, 5, None),
    "agents_audit.Event": (4, 4, None),
    "agents_audit.ExecutionLog": (4, 4, None),
    "agents_audit.Job": (6, 4, None),
    "agents_audit.JobTypePause": (5, 4, 2),
    "agents_audit.LLMRoundTableResult": (5, 3, None),
    "agents_audit.Project": (5, 3, 2),
    "agents_audit.Task": (4, 8, 2),
    "agents_audit.ToolExecution": (6, 4, None),
    "axes.AccessAttempt": (8, 4, None),
    "axes.AccessFailureLog": (7, 3, None),
    "axes.AccessLog": (7, 3, None),
    "commerce.Order": (4, 7, None),  # + the counts of lines and events
    "commerce.Product": (6, 5, 2),
    "commerce.StockMovement": (4, 4, None),
    "commerce.User": (5, 3, 2),
    "commerce.UserAPIKey": (5, 4, 2),
    "devskyy.IdempotencyRecord": (4, 4, None),
    "knowledge.RAGDocument": (5, 5, None),
    "knowledge.Source": (5, 4, None),
}

ADMINS = registered_admins()
IDS = [label for label, _ in ADMINS]


def queries(client: Any, url: str) -> int:
    """The queries of a GET of ``url`` once per-process caches (content types) are warm."""
    client.get(url)
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return len(captured.captured_queries)


def url(model_admin: Any, view: str, *args: Any) -> str:
    opts = model_admin.model._meta
    return reverse(f"admin:{opts.app_label}_{opts.model_name}_{view}", args=args)


@pytest.fixture
def client(admin_user: Any) -> Client:
    """An admin's browser (the admin role sees every page, add pages included)."""
    client = Client()
    client.force_login(admin_user)
    return client


def test_every_registered_admin_has_a_row_maker_and_pinned_counts():
    assert set(MAKERS) == set(IDS)
    assert set(PINNED) == set(IDS)


def test_the_admin_index(client):
    assert queries(client, reverse("admin:index")) == INDEX_QUERIES


@pytest.mark.parametrize(("label", "model_admin"), ADMINS, ids=IDS)
def test_a_changelist_runs_its_pinned_queries_with_one_row_or_five(label, model_admin, client):
    MAKERS[label]()
    one = queries(client, url(model_admin, "changelist"))
    for _ in range(4):
        MAKERS[label]()
    five = queries(client, url(model_admin, "changelist"))

    assert (one, five) == (PINNED[label][0], PINNED[label][0])


@pytest.mark.parametrize(("label", "model_admin"), ADMINS, ids=IDS)
def test_a_change_page_runs_its_pinned_queries(label, model_admin, client):
    row = MAKERS[label]()

    assert queries(client, url(model_admin, "change", quote(row.pk))) == PINNED[label][1]


@pytest.mark.parametrize(("label", "model_admin"), ADMINS, ids=IDS)
def test_an_add_page_runs_its_pinned_queries(label, model_admin, client, admin_user):
    request = type("R", (), {"user": admin_user})()
    if not model_admin.has_add_permission(request):
        assert PINNED[label][2] is None
        return
    assert queries(client, url(model_admin, "add")) == PINNED[label][2]


def _order_with(n: int) -> Any:
    """An order of ``n`` lines (each a product of its own) and ``n`` more events by staff."""
    products = [ProductFactory.create(inventory_quantity=100) for _ in range(n)]
    order = order_place(
        user=UserFactory.create(), lines=[(p.sku, 1) for p in products], payment_method="card"
    )
    for _ in range(n):
        OrderEvent.objects.create(
            order=order, from_status="pending", to_status="pending", actor=UserFactory.create()
        )
    return order


def _product_with(n: int) -> Any:
    product = ProductFactory.create(inventory_quantity=100)
    for _ in range(n):
        order_place(user=UserFactory.create(), lines=[(product.sku, 1)], payment_method="card")
    return product


def _thread_with(n: int) -> Any:
    thread = CheckpointThreadFactory.create()
    CheckpointFactory.create_batch(n, thread=thread)
    return thread


def _task_with(n: int) -> Any:
    task = TaskFactory.create(project=ProjectFactory.create())
    CheckpointFactory.create_batch(
        n, thread=CheckpointThreadFactory.create(thread_id=task.thread_id)
    )
    for _ in range(n):
        JobFactory.create(task=task)
    return task


def _checkpoint_with(n: int) -> Any:
    checkpoint = CheckpointFactory.create()
    for i in range(n):
        CheckpointWriteFactory.create(
            thread=checkpoint.thread,
            checkpoint_ns=checkpoint.checkpoint_ns,
            checkpoint_id=checkpoint.checkpoint_id,
            task_id=f"task-{i}",
        )
    return checkpoint


def _chunk_with(n: int) -> Any:
    chunk = RAGDocumentFactory.create(parent=SourceFactory.create())
    for model in list(EMBEDDING_MODELS)[:n]:
        ChunkEmbedding.objects.create(
            chunk=chunk,
            model=model,
            content_hash=chunk.content_hash,
            embedding=[0.0] * EMBEDDING_MODELS[model].dimensions,
        )
    return chunk


# label: a row with n related rows shown on its page (order lines and events, stock movements,
# a thread's checkpoints, a task's checkpoints and jobs, pending writes, chunks, vectors)
GROWING: dict[str, Callable[[int], Any]] = {
    "commerce.Order": _order_with,
    "commerce.Product": _product_with,
    "agents_audit.CheckpointThread": _thread_with,
    "agents_audit.Task": _task_with,
    "agents_audit.Checkpoint": _checkpoint_with,
    "knowledge.Source": lambda n: SourceFactory.create(chunks=n),
    "knowledge.RAGDocument": _chunk_with,
}

GROWING_LIMIT = {"knowledge.RAGDocument": len(EMBEDDING_MODELS)}  # one vector per model


GROWN = {
    "commerce.Order": 7,
    "commerce.Product": 5,
    "agents_audit.CheckpointThread": 6,
    "agents_audit.Task": 9,
    "agents_audit.Checkpoint": 6,
    "knowledge.Source": 4,
    "knowledge.RAGDocument": 5,
}


@pytest.mark.parametrize("label", GROWING)
def test_a_change_page_runs_as_many_queries_with_five_related_rows_as_with_one(label, client):
    model_admin = admin.site._registry[apps.get_model(label)]
    one, five = GROWING[label](1), GROWING[label](min(5, GROWING_LIMIT.get(label, 5)))

    counts = [queries(client, url(model_admin, "change", quote(row.pk))) for row in (one, five)]

    assert counts == [GROWN[label]] * 2


INDEX_QUERIES = 3


@pytest.mark.parametrize("name", [None, *REPORTS])
def test_the_post_mortem_reports_run_their_pinned_queries(name, client):
    if name is None:
        assert queries(client, reverse("admin:agents_audit_task_reports")) == 2
        return
    params = f"?task={TaskFactory.create().pk}" if REPORTS[name].takes_task else ""
    page = reverse("admin:agents_audit_task_report", args=[name]) + params

    assert queries(client, page) == 3  # session, user, the report's one query


def test_the_stock_adjustment_page(client):
    product = ProductFactory.create()

    assert queries(client, reverse("admin:commerce_product_adjust_stock", args=[product.pk])) == 3


def test_the_knowledge_search_page_with_one_hit_or_five(client):
    page = reverse("admin:knowledge_source_search")
    assert queries(client, page) == 2  # the empty form

    SourceFactory.create(chunks=1)
    one = queries(client, page + "?query=paragraph&mode=fulltext&k=10")
    SourceFactory.create(chunks=4)
    five = queries(client, page + "?query=paragraph&mode=fulltext&k=10")

    assert (one, five) == (SEARCH_QUERIES, SEARCH_QUERIES)
    found = client.get(page + "?query=paragraph&mode=fulltext&k=10").context["result"]
    assert len(found.hits) == 5


SEARCH_QUERIES = 7  # session, user, and the search's own
