"""No dangerous or dead controls in the operator's admin (issue 11): nothing sold or audited
can be deleted (archive or cancel instead), read-only pages offer no Save, Delete or History,
roles replace Django's groups, and no button leads to a 403."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urljoin

import pytest
from django.contrib.auth.models import Group
from django.test import Client
from django.urls import reverse

from agents_audit.models import Event, Task
from agents_audit.services.tasks import task_approve
from commerce.models import User
from commerce.services import api_key_create, order_place
from tests.agents_audit.factories import JobFactory, TaskFactory, ToolExecutionFactory
from tests.commerce.factories import (
    AgentUserFactory,
    OperatorFactory,
    OrderFactory,
    ProductFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


def page(client: Any, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, url
    return response.content.decode()


@pytest.fixture
def admin_role_client(admin_user: Any) -> Client:
    client = Client()
    client.force_login(admin_user)
    return client


def sold_product() -> Any:
    product = ProductFactory.create(sku="SOLD-1")
    order_place(user=None, lines=[("SOLD-1", 1)], payment_method="card")
    return product


def test_an_unsold_product_may_be_deleted_from_its_page_only(operator_client):
    product = ProductFactory.create()
    change = reverse("admin:commerce_product_change", args=[product.pk])
    changelist = page(operator_client, reverse("admin:commerce_product_changelist"))

    assert 'class="deletelink"' in page(operator_client, change)
    assert 'value="delete_selected"' not in changelist


def test_groups_are_not_offered(operator_client, admin_role_client):
    for client in (operator_client, admin_role_client):
        assert "/admin/auth/group/" not in page(client, "/admin/")
        assert client.get("/admin/auth/group/").status_code == 404
    assert Group.objects.count() == 0


def approved_task() -> Task:
    task = TaskFactory.create()
    task_approve(task=task, by=OperatorFactory.create())  # an event and a job
    return task


def an_event() -> Event:
    approved_task()
    return Event.objects.latest("id")


@pytest.mark.parametrize(
    "make",
    [
        lambda: OrderFactory.create(),
        lambda: sold_product(),
        lambda: ToolExecutionFactory.create(),
        lambda: JobFactory.create(),
        an_event,
        approved_task,
        lambda: TaskFactory.create(),
    ],
    ids=["order", "sold product", "tool execution", "job", "event", "task", "pending task"],
)
def test_sold_and_audited_records_cannot_be_deleted(operator_client, make):
    record = make()
    opts = record._meta
    change = reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[record.pk])
    delete = reverse(f"admin:{opts.app_label}_{opts.model_name}_delete", args=[record.pk])

    assert 'class="deletelink"' not in page(operator_client, change)
    assert operator_client.post(delete, {"post": "yes"}).status_code == 403
    assert type(record).objects.filter(pk=record.pk).exists()
    changelist = page(
        operator_client, reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")
    )
    assert 'value="delete_selected"' not in changelist


@pytest.mark.parametrize(
    "make",
    [
        lambda: OrderFactory.create(),
        lambda: ToolExecutionFactory.create(),
        lambda: JobFactory.create(),
        an_event,
        lambda: UserFactory.create(),  # operators view accounts; admins edit them
    ],
    ids=["order", "tool execution", "job", "event", "user"],
)
def test_a_read_only_page_offers_no_save_and_no_history(operator_client, make):
    record = make()
    opts = record._meta
    html = page(
        operator_client,
        reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[record.pk]),
    )
    assert 'name="_save"' not in html
    assert 'name="_continue"' not in html
    if not isinstance(record, User):  # an account's edits are the admin's log
        assert "historylink" not in html


def test_a_decided_tasks_request_is_shown_not_offered_for_editing(operator_client):
    # task_update refuses request_text and estimated_resources once a task is decided: fields
    # to type into there were dead controls (each save a form error).
    pending, decided = TaskFactory.create(), approved_task()

    pending_page = page(
        operator_client, reverse("admin:agents_audit_task_change", args=[pending.pk])
    )
    decided_page = page(
        operator_client, reverse("admin:agents_audit_task_change", args=[decided.pk])
    )

    assert 'name="request_text"' in pending_page
    assert 'name="request_text"' not in decided_page
    assert 'name="estimated_resources"' not in decided_page
    assert decided.request_text in decided_page
    assert 'name="project"' in decided_page  # still movable to another project


PASSWORD_BUTTON = re.compile(r'<a class="button" href="([^"]*)">(Reset|Set) password</a>')


@pytest.mark.parametrize("usable", [True, False], ids=["reset", "set"])
def test_a_password_link_on_a_users_page_leads_somewhere_the_viewer_may_go(
    operator_client, admin_role_client, usable
):
    # Django's widget links "../password/" (relative): operators saw "Reset password" or "Set
    # password" on every user's page, and following it was a 403 (only admins change accounts).
    customer = UserFactory.create()
    if not usable:
        customer.set_unusable_password()
        customer.save(update_fields=["password"])
    change = reverse("admin:commerce_user_change", args=[customer.pk])
    password = reverse("admin:auth_user_password_change", args=[customer.pk])

    operator_page = page(operator_client, change)
    admin_link = PASSWORD_BUTTON.search(page(admin_role_client, change))

    assert operator_client.get(password).status_code == 403
    assert PASSWORD_BUTTON.search(operator_page) is None
    assert ("No password set." in operator_page) is not usable  # the summary stays
    assert admin_link is not None
    assert urljoin(change, admin_link.group(1)) == password
    assert admin_role_client.get(password).status_code == 200


@pytest.mark.parametrize("role", ["customer", "agent"])
def test_a_customer_or_agent_session_opens_no_admin_page(role):
    # Logged in elsewhere (a customer's shop session): still no admin page, and no action.
    order = OrderFactory.create()
    client = Client()
    client.force_login(UserFactory.create(role=role))

    for url in (
        reverse("admin:index"),
        reverse("admin:commerce_order_changelist"),
        reverse("admin:commerce_order_change", args=[order.pk]),
        reverse("admin:commerce_order_object_action", args=[order.pk, "cancel"]),
    ):
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith(reverse("admin:login")), url


def test_a_users_page_links_to_their_orders_keys_and_tool_calls(operator_client):
    customer, someone_else = AgentUserFactory.create(), AgentUserFactory.create()
    theirs = [
        OrderFactory.create(user=customer),
        ToolExecutionFactory.create(user=customer),
    ]
    api_key_create(user=customer, name="theirs")
    OrderFactory.create(user=someone_else)
    ToolExecutionFactory.create(user=someone_else)
    api_key_create(user=someone_else, name="not theirs")

    html = page(operator_client, reverse("admin:commerce_user_change", args=[customer.pk]))
    links = re.findall(r'href="(/admin/[^"]+\\?user__id__exact=[^"]+)"', html)

    assert len(links) == 3
    listed = {}
    for link in links:
        response = operator_client.get(link.replace("&amp;", "&"))
        assert response.status_code == 200, link
        listed[link.split("?")[0]] = list(response.context["cl"].result_list)
    assert listed["/admin/commerce/order/"] == [theirs[0]]
    assert listed["/admin/agents_audit/toolexecution/"] == [theirs[1]]
    assert [key.name for key in listed["/admin/commerce/userapikey/"]] == ["theirs"]
