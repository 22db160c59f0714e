"""The admin shows every table: changelist, search, add and change pages load; audit tables are
read-only; users are managed by admins only."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib import admin
from django.contrib.auth.hashers import identify_hasher
from django.db.models import Model
from django.urls import reverse

from agents_audit import events
from agents_audit.models import (
    AgentExecution,
    Artifact,
    Checkpoint,
    CheckpointThread,
    Event,
    ExecutionLog,
    Job,
    JobTypePause,
    LLMRoundTableResult,
    Project,
    Task,
    ToolExecution,
)
from commerce.models import Order, Product, StockMovement, User, UserAPIKey
from commerce.services import api_key_create, product_stock_adjust
from devskyy.models import IdempotencyRecord
from knowledge.models import RAGDocument, Source
from tests.agents_audit.factories import (
    AgentExecutionFactory,
    ArtifactFactory,
    CheckpointFactory,
    CheckpointThreadFactory,
    ExecutionLogFactory,
    JobFactory,
    LLMRoundTableResultFactory,
    ProjectFactory,
    TaskFactory,
    ToolExecutionFactory,
)
from tests.commerce.factories import TEST_PASSWORD, OrderFactory, ProductFactory, UserFactory
from tests.knowledge.factories import RAGDocumentFactory, SourceFactory

pytestmark = pytest.mark.django_db

FACTORIES: dict[type[Model], Any] = {
    User: UserFactory,
    Product: ProductFactory,
    Order: OrderFactory,
    LLMRoundTableResult: LLMRoundTableResultFactory,
    AgentExecution: AgentExecutionFactory,
    ToolExecution: ToolExecutionFactory,
    RAGDocument: RAGDocumentFactory,
    Source: SourceFactory,
    Project: ProjectFactory,
    Task: TaskFactory,
    ExecutionLog: ExecutionLogFactory,
    Artifact: ArtifactFactory,
    Job: JobFactory,
    CheckpointThread: CheckpointThreadFactory,
    Checkpoint: CheckpointFactory,
}


def _api_key(**kwargs: Any) -> UserAPIKey:
    return api_key_create(user=UserFactory.create(role="agent"), name="k")[0]


def _idempotency_record(**kwargs: Any) -> IdempotencyRecord:
    return IdempotencyRecord.objects.create(
        user=UserFactory.create(), key="k-1", fingerprint="f" * 64
    )


def _stock_movement(**kwargs: Any) -> StockMovement:
    product = product_stock_adjust(
        product=ProductFactory.create(), delta=5, reason="delivery", by=None
    )
    return product.stock_movements.latest("id")


class _Factory:
    def __init__(self, make: Any) -> None:
        self.create = make


FACTORIES[UserAPIKey] = _Factory(_api_key)
FACTORIES[IdempotencyRecord] = _Factory(_idempotency_record)
FACTORIES[StockMovement] = _Factory(_stock_movement)
FACTORIES[JobTypePause] = _Factory(lambda **_: JobTypePause.objects.create(job_type="deploy"))
FACTORIES[Event] = _Factory(lambda **_: events.task_created(task=TaskFactory.create(), actor=None))
AUDIT_MODELS = [
    LLMRoundTableResult,
    AgentExecution,
    ToolExecution,
    IdempotencyRecord,
    StockMovement,
    ExecutionLog,
    Event,
    Artifact,
    Job,
    RAGDocument,  # chunks are written by ingestion (knowledge.services), like the audit rows
    CheckpointThread,  # written by agents through the checkpoint API
    Checkpoint,
]
EDITABLE_MODELS = [
    User,
    Product,
    Project,
    Task,
    JobTypePause,
]  # orders are placed by order_place (API)


def url(model, view, *args):
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


def test_every_table_is_registered():
    ours = {
        m
        for m in admin.site._registry
        if m._meta.app_label in {"commerce", "agents_audit", "knowledge", "devskyy"}
    }
    assert ours == set(FACTORIES)


@pytest.mark.parametrize("model", FACTORIES, ids=lambda m: m.__name__)
def test_changelist_and_search_load(admin_client, model):
    obj = FACTORIES[model].create()
    response = admin_client.get(url(model, "changelist"))
    assert response.status_code == 200
    assert obj in response.context["cl"].result_list

    response = admin_client.get(url(model, "changelist"), {"q": str(obj).split()[0]})
    assert response.status_code == 200
    assert obj in response.context["cl"].result_list

    response = admin_client.get(url(model, "changelist"), {"q": "no-such-thing"})
    assert response.status_code == 200
    assert obj not in response.context["cl"].result_list


@pytest.mark.parametrize("model", FACTORIES, ids=lambda m: m.__name__)
def test_change_page_loads(admin_client, model):
    obj = FACTORIES[model].create()
    response = admin_client.get(url(model, "change", obj.pk))
    assert response.status_code == 200


@pytest.mark.parametrize("model", EDITABLE_MODELS, ids=lambda m: m.__name__)
def test_add_page_loads_for_editable_tables(admin_client, model):
    assert admin_client.get(url(model, "add")).status_code == 200


@pytest.mark.parametrize("model", AUDIT_MODELS, ids=lambda m: m.__name__)
def test_audit_tables_are_read_only_even_for_admins(admin_client, model):
    obj = FACTORIES[model].create()
    assert admin_client.get(url(model, "add")).status_code == 403
    assert admin_client.get(url(model, "delete", obj.pk)).status_code == 403
    response = admin_client.post(url(model, "change", obj.pk), {})
    assert response.status_code == 403
    change_page = admin_client.get(url(model, "change", obj.pk)).content.decode()
    assert 'name="_save"' not in change_page


def test_operator_creates_customers_and_agents_but_cannot_change_users(operator_client):
    user = UserFactory.create()
    assert operator_client.get(url(User, "changelist")).status_code == 200
    response = operator_client.post(url(User, "change", user.pk), {"username": "renamed"})
    assert response.status_code == 403
    user.refresh_from_db()
    assert user.username != "renamed"

    form = {
        "username": "newbot",
        "email": "newbot@example.com",
        "usable_password": "true",
        "password1": "a long enough passphrase",
        "password2": "a long enough passphrase",
    }
    assert operator_client.post(url(User, "add"), {**form, "role": "agent"}).status_code == 302
    assert User.objects.get(username="newbot").role == "agent"
    refused = operator_client.post(
        url(User, "add"), {**form, "username": "boss", "email": "boss@example.com", "role": "admin"}
    )
    assert refused.status_code == 200
    assert "role" in refused.context["adminform"].form.errors
    assert not User.objects.filter(username="boss").exists()


def test_logging_in_records_last_login(client):
    user = UserFactory.create(username="opsy2", role="operator")
    assert user.last_login is None
    client.post(reverse("admin:login"), {"username": "opsy2", "password": TEST_PASSWORD})
    user.refresh_from_db()
    assert user.last_login is not None


def test_operator_can_add_a_product(operator_client):
    response = operator_client.post(
        url(Product, "add"),
        {
            "sku": "RING-1",
            "name": "Ring",
            "price": "19.99",
            "inventory_quantity": "3",
            "status": "draft",
            "tags": "gold,premium",
            "metadata": "{}",
        },
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    product = Product.objects.get(sku="RING-1")
    assert product.tags == ["gold", "premium"]


def test_a_bad_product_form_shows_errors_and_writes_nothing(operator_client):
    response = operator_client.post(
        url(Product, "add"),
        {"sku": "", "name": "Ring", "price": "-1", "inventory_quantity": "-3", "metadata": "{}"},
    )
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert "sku" in errors
    assert not Product.objects.exists()
    assert not StockMovement.objects.exists()


def test_admin_creates_an_operator_with_an_argon2_password(admin_client):
    response = admin_client.post(
        url(User, "add"),
        {
            "username": "newop",
            "email": "newop@example.com",
            "role": "operator",
            "usable_password": "true",
            "password1": "a long enough passphrase",
            "password2": "a long enough passphrase",
        },
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    user = User.objects.get(username="newop")
    assert user.role == "operator"
    assert identify_hasher(user.password).algorithm == "argon2"


def test_admin_user_form_enforces_password_validators(admin_client):
    response = admin_client.post(
        url(User, "add"),
        {
            "username": "weak",
            "email": "weak@example.com",
            "role": "operator",
            "usable_password": "true",
            "password1": "12345",
            "password2": "12345",
        },
    )
    assert response.status_code == 200
    assert "password2" in response.context["adminform"].form.errors
    assert not User.objects.filter(username="weak").exists()


@pytest.mark.parametrize("login", ["opsy", "opsy@example.com"])
def test_operator_logs_into_the_admin_with_username_or_email(client, login):
    UserFactory.create(username="opsy", email="opsy@example.com", role="operator")
    response = client.post(
        reverse("admin:login"),
        {"username": login, "password": TEST_PASSWORD, "next": reverse("admin:index")},
    )
    assert response.status_code == 302
    assert client.get(reverse("admin:index")).status_code == 200


@pytest.mark.parametrize("role", ["customer", "agent"])
def test_customers_and_agents_cannot_log_into_the_admin(client, role):
    UserFactory.create(username="notstaff", role=role)
    response = client.post(
        reverse("admin:login"), {"username": "notstaff", "password": TEST_PASSWORD}
    )
    assert response.status_code == 200
    assert client.get(reverse("admin:index")).status_code == 302


def test_big_table_changelist_counts_stop_at_the_limit(admin_client, monkeypatch):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from devskyy.admin import BoundedCountPaginator

    monkeypatch.setattr(BoundedCountPaginator, "COUNT_LIMIT", 3)
    ToolExecutionFactory.create_batch(5)
    with CaptureQueriesContext(connection) as captured:
        response = admin_client.get(url(ToolExecution, "changelist"))
    assert response.status_code == 200
    assert response.context["cl"].result_count == 3  # 5 rows, counted up to the limit
    counts = [q["sql"] for q in captured.captured_queries if "COUNT(" in q["sql"].upper()]
    assert counts, "the changelist counted nothing"
    assert all("LIMIT 3" in sql for sql in counts), counts  # never a full COUNT(*)


def test_the_order_page_shows_lines_and_history(operator_client):
    from commerce.services import order_place

    ProductFactory.create(sku="RING", inventory_quantity=3)
    order = order_place(user=None, lines=[("RING", 2)], payment_method="card")
    page = operator_client.get(url(Order, "change", order.pk)).content.decode()
    assert "RING" in page
    assert "placed" in page


def test_order_actions_call_the_services_and_report_refusals(operator_client):
    from commerce.services import order_place

    ProductFactory.create(sku="RING", inventory_quantity=3)
    order = order_place(user=None, lines=[("RING", 2)], payment_method="card")
    changelist = url(Order, "changelist")

    response = operator_client.post(
        changelist, {"action": "complete", "_selected_action": [order.pk]}, follow=True
    )
    assert any(
        "Cannot go from 'pending' to 'completed'" in str(m) for m in response.context["messages"]
    )
    operator_client.post(changelist, {"action": "cancel", "_selected_action": [order.pk]})
    order.refresh_from_db()
    assert order.status == "cancelled"
    assert Product.objects.get(sku="RING").inventory_quantity == 3


def test_product_actions_and_low_stock_filter(operator_client):
    draft = ProductFactory.create(status="draft", inventory_quantity=2)
    ProductFactory.create(status="published", inventory_quantity=50)
    operator_client.post(
        url(Product, "changelist"), {"action": "publish", "_selected_action": [draft.pk]}
    )
    draft.refresh_from_db()
    assert draft.status == "published"
    low = operator_client.get(url(Product, "changelist"), {"stock": "low"})
    assert list(low.context["cl"].result_list) == [draft]
    assert "USD" in low.content.decode()
