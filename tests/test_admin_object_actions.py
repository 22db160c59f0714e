"""State changes from an object's own admin page (issue 11): a button for each transition the
service would allow now (orders: processing, complete, cancel; products: publish, archive;
tasks: approve, reject with a reason; jobs: retry, cancel), a confirmation page on GET that
changes nothing, and a POST (CSRF-checked) that runs the service and comes back with a message.
A transition refused meanwhile (the object changed, its version moved on, the service says no)
changes nothing and says why; no request here is a 500."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.contrib.admin.utils import quote
from django.test import Client
from django.urls import reverse

from agents_audit.models import Event, Job, Task
from agents_audit.services.jobs import job_claim, job_fail
from agents_audit.services.tasks import task_approve
from commerce.models import Order, OrderEvent, Product, StockMovement, User
from commerce.services import order_mark_processing, order_place, product_update
from tests.agents_audit.factories import JobFactory, TaskFactory
from tests.agents_audit.queue import db_now
from tests.commerce.factories import ProductFactory

pytestmark = pytest.mark.django_db


# --- helpers ----------------------------------------------------------------------------------


def change_url(obj: Any) -> str:
    opts = obj._meta
    return reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[quote(obj.pk)])


def action_url(obj: Any, name: str) -> str:
    opts = obj._meta
    return reverse(
        f"admin:{opts.app_label}_{opts.model_name}_object_action", args=[quote(obj.pk), name]
    )


def buttons(client: Client, obj: Any) -> list[str]:
    """The state-change buttons on ``obj``'s page, by action name, as shown."""
    response = client.get(change_url(obj))
    assert response.status_code == 200
    return re.findall(r'class="object-action object-action-([a-z_]+)', response.content.decode())


def confirmation(client: Client, obj: Any, name: str) -> dict[str, str]:
    """Open the confirmation page; return what its form would post."""
    response = client.get(action_url(obj, name))
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="object-action-confirm"' in html
    fingerprint = re.search(r'name="fingerprint" value="([^"]*)"', html)
    assert fingerprint is not None
    return {"fingerprint": fingerprint.group(1).replace("&quot;", '"')}


def confirm(client: Client, obj: Any, name: str, **data: str) -> Any:
    """Open the confirmation page and confirm it, following the redirect back."""
    form = {**confirmation(client, obj, name), **data}
    return client.post(action_url(obj, name), form, follow=True)


def messages_of(response: Any) -> list[tuple[str, str]]:
    return [(m.level_tag, str(m)) for m in response.context["messages"]]


def placed_order(quantity: int = 2) -> tuple[Order, Product]:
    product = ProductFactory.create(sku="RING-1", inventory_quantity=10)
    order = order_place(user=None, lines=[("RING-1", quantity)], payment_method="card")
    return order, product


def dead_job(**kwargs: Any) -> Job:
    job = JobFactory.create(job_type="flaky", max_retries=0, **kwargs)
    claimed = job_claim(worker_id="w1", job_types=["flaky"])
    assert claimed is not None
    job_fail(job_id=job.pk, lease_token=claimed.lease_token, error="boom")
    job.refresh_from_db()
    return job


# --- the buttons shown: what the service allows from the current state ----------------------


def test_an_orders_buttons_follow_its_state(operator_client, operator):
    order, _ = placed_order()
    assert buttons(operator_client, order) == ["mark_processing", "cancel"]

    order_mark_processing(order=order, by=operator)
    assert buttons(operator_client, order) == ["complete", "cancel"]

    confirm(operator_client, order, "complete")
    assert buttons(operator_client, order) == []


def test_a_products_buttons_follow_its_state(operator_client):
    draft = ProductFactory.create(status=Product.Status.DRAFT)
    published = ProductFactory.create(status=Product.Status.PUBLISHED)
    archived = ProductFactory.create(status=Product.Status.ARCHIVED)

    assert buttons(operator_client, draft) == ["publish", "archive"]
    assert buttons(operator_client, published) == ["archive"]
    assert buttons(operator_client, archived) == ["publish"]


def test_a_task_is_decided_by_someone_else_than_its_creator(operator_client, operator):
    theirs = TaskFactory.create()
    mine = TaskFactory.create(created_by=operator)
    decided = TaskFactory.create()
    task_approve(task=decided, by=operator)

    assert buttons(operator_client, theirs) == ["approve", "reject"]
    assert buttons(operator_client, mine) == ["reject"]  # nobody approves their own task
    assert buttons(operator_client, decided) == []
    assert operator_client.get(action_url(mine, "approve"), follow=True).redirect_chain == [
        (change_url(mine), 302)
    ]


def test_a_jobs_buttons_follow_its_state(operator_client):
    queued = JobFactory.create()
    dead = dead_job()
    succeeded = JobFactory.create(status=Job.Status.SUCCEEDED, finished_at=db_now())

    assert buttons(operator_client, queued) == ["cancel"]
    assert buttons(operator_client, dead) == ["retry"]
    assert buttons(operator_client, succeeded) == []


# --- GET confirms, POST runs the service -------------------------------------------------------


def test_the_confirmation_page_changes_nothing(operator_client):
    order, product = placed_order()

    for name in ("mark_processing", "cancel"):
        html = operator_client.get(action_url(order, name)).content.decode()
        assert 'id="object-action-confirm"' in html
        assert 'name="csrfmiddlewaretoken"' in html

    order.refresh_from_db()
    product.refresh_from_db()
    assert order.status == Order.Status.PENDING
    assert product.inventory_quantity == 8
    assert OrderEvent.objects.filter(order=order).count() == 1  # "placed"


def test_cancelling_an_order_puts_its_stock_back_and_says_so(operator_client, operator):
    order, product = placed_order(quantity=3)

    response = confirm(operator_client, order, "cancel", reason="customer called")

    assert response.redirect_chain == [(change_url(order), 302)]
    assert messages_of(response) == [
        ("success", f"Order {order.order_number} is cancelled; its stock went back.")
    ]
    order.refresh_from_db()
    product.refresh_from_db()
    assert order.status == Order.Status.CANCELLED
    assert product.inventory_quantity == 10
    assert StockMovement.objects.filter(order=order, kind="order_cancelled").get().delta == 3
    event = OrderEvent.objects.filter(order=order).latest("id")
    assert (event.from_status, event.to_status, event.actor, event.reason) == (
        "pending",
        "cancelled",
        operator,
        "customer called",
    )


def test_an_order_moves_to_processing_then_completed(operator_client, operator):
    order, _ = placed_order()

    processing = confirm(operator_client, order, "mark_processing")
    completed = confirm(operator_client, order, "complete")

    assert messages_of(processing) == [("success", f"Order {order} is processing.")]
    assert messages_of(completed) == [("success", f"Order {order} is completed.")]
    assert list(OrderEvent.objects.filter(order=order).values_list("to_status", "actor")) == [
        ("pending", None),
        ("processing", operator.pk),
        ("completed", operator.pk),
    ]


def test_a_product_is_published_and_archived_from_its_page(operator_client):
    product = ProductFactory.create(status=Product.Status.DRAFT)

    published = confirm(operator_client, product, "publish")
    product.refresh_from_db()
    assert product.status == Product.Status.PUBLISHED
    assert messages_of(published) == [("success", f"Published {product}.")]

    confirm(operator_client, product, "archive")
    product.refresh_from_db()
    assert (product.status, product.version) == (Product.Status.ARCHIVED, 3)


def test_approving_a_task_queues_its_first_job(operator_client, operator):
    task = TaskFactory.create()

    response = confirm(operator_client, task, "approve")

    task.refresh_from_db()
    assert (task.status, task.approved_by) == (Task.Status.APPROVED, operator)
    assert Job.objects.filter(task=task).count() == 1
    assert messages_of(response) == [("success", f"Approved task {task}; its first job is queued.")]


def test_rejecting_a_task_asks_for_a_reason(operator_client, operator):
    task = TaskFactory.create()
    shown = confirmation(operator_client, task, "reject")

    blank = operator_client.post(action_url(task, "reject"), {**shown, "reason": " "})
    nul = operator_client.post(action_url(task, "reject"), {**shown, "reason": "no\x00pe"})
    task.refresh_from_db()
    assert blank.status_code == nul.status_code == 200  # the form again, with its error
    assert "This field is required." in blank.content.decode()
    assert "Null characters are not allowed." in nul.content.decode()
    assert task.status == Task.Status.PENDING

    response = confirm(operator_client, task, "reject", reason="not this week")
    task.refresh_from_db()
    assert (task.status, task.rejection_reason) == (Task.Status.REJECTED, "not this week")
    assert Event.objects.filter(subject_id=str(task.pk), event_type="task_rejected").exists()
    assert messages_of(response) == [("success", f"Rejected task {task}.")]


def test_a_dead_job_is_retried_and_a_queued_one_cancelled(operator_client):
    dead, queued = dead_job(), JobFactory.create()

    retried = confirm(operator_client, dead, "retry")
    cancelled = confirm(operator_client, queued, "cancel")

    dead.refresh_from_db()
    queued.refresh_from_db()
    assert (dead.status, dead.attempts) == (Job.Status.QUEUED, 0)
    assert queued.status == Job.Status.CANCELLED
    assert messages_of(retried) == [("success", f"Job flaky #{dead.pk} is back in the queue.")]
    assert messages_of(cancelled) == [("success", f"Job deploy #{queued.pk} is cancelled.")]


# --- refusals change nothing and say why -------------------------------------------------------


def test_an_order_changed_since_the_confirmation_is_left_alone(operator_client, operator):
    order, product = placed_order()
    shown = confirmation(operator_client, order, "cancel")  # a pending order
    order_mark_processing(order=order, by=operator)  # meanwhile, someone else

    response = operator_client.post(
        action_url(order, "cancel"), {**shown, "reason": "x"}, follow=True
    )

    order.refresh_from_db()
    product.refresh_from_db()
    assert order.status == Order.Status.PROCESSING
    assert product.inventory_quantity == 8
    [(level, text)] = messages_of(response)
    assert level == "error"
    assert "changed by someone else" in text
    assert "nothing was done" in text


def test_a_transition_no_longer_allowed_is_refused(operator_client, operator):
    order, _ = placed_order()
    shown = confirmation(operator_client, order, "mark_processing")
    confirm(operator_client, order, "cancel", reason="x")

    response = operator_client.post(action_url(order, "mark_processing"), shown, follow=True)

    order.refresh_from_db()
    assert order.status == Order.Status.CANCELLED
    assert [level for level, _ in messages_of(response)] == ["error"]


def test_a_product_edited_since_the_confirmation_is_not_published(operator_client):
    product = ProductFactory.create(status=Product.Status.DRAFT)
    shown = confirmation(operator_client, product, "publish")  # version 1
    product_update(product=product, expected_version=1, name="Renamed")  # now version 2

    response = operator_client.post(action_url(product, "publish"), shown, follow=True)

    product.refresh_from_db()
    assert (product.status, product.version) == (Product.Status.DRAFT, 2)
    assert "changed by someone else" in messages_of(response)[0][1]


def test_what_the_service_refuses_is_reported_and_nothing_changes(operator_client):
    # A dead job whose dedupe key another live job holds now: job_retry says DuplicateJob.
    dead = dead_job(dedupe_key="nightly")
    JobFactory.create(task=dead.task, job_type="flaky", dedupe_key="nightly")

    response = confirm(operator_client, dead, "retry")

    dead.refresh_from_db()
    assert dead.status == Job.Status.DEAD
    [(level, text)] = messages_of(response)
    assert level == "error"
    assert text.startswith("Retry: ")
    assert not Event.objects.filter(subject_id=str(dead.pk), event_type="job_retried").exists()


# --- who may, and requests that must not break --------------------------------------------------


def test_without_the_permission_there_is_no_button_and_no_action(operator_client, monkeypatch):
    order, _ = placed_order()
    shown = confirmation(operator_client, order, "cancel")
    # a role that may look at orders but not change them
    monkeypatch.setattr(
        User, "ADMIN_ONLY_PERMISSIONS", frozenset({"commerce.delete_user", "commerce.change_order"})
    )

    assert buttons(operator_client, order) == []
    refused = operator_client.post(action_url(order, "cancel"), {**shown, "reason": "x"})
    assert operator_client.get(action_url(order, "cancel")).status_code == 403
    assert refused.status_code == 403
    order.refresh_from_db()
    assert order.status == Order.Status.PENDING


def test_an_agent_cannot_reach_an_action(agent_user):
    order, _ = placed_order()
    client = Client()
    client.force_login(agent_user)

    response = client.post(action_url(order, "cancel"), {"reason": "x"})

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))
    order.refresh_from_db()
    assert order.status == Order.Status.PENDING


def test_the_confirmation_needs_the_csrf_token(operator):
    order, _ = placed_order()
    client = Client(enforce_csrf_checks=True)
    client.force_login(operator)

    response = client.post(action_url(order, "cancel"), {"reason": "x"})

    assert response.status_code == 403
    order.refresh_from_db()
    assert order.status == Order.Status.PENDING


@pytest.mark.parametrize("method", ["put", "patch", "delete"])
def test_other_methods_are_not_allowed(operator_client, method):
    order, _ = placed_order()

    response = getattr(operator_client, method)(action_url(order, "cancel"))

    assert response.status_code == 405
    order.refresh_from_db()
    assert order.status == Order.Status.PENDING


@pytest.mark.parametrize(
    ("model", "object_id", "action"),
    [
        ("commerce/order", "00000000-0000-0000-0000-000000000000", "cancel"),
        ("commerce/order", "not-a-uuid", "cancel"),
        ("commerce/order", "%00", "cancel"),
        ("commerce/product", "abc%00def", "publish"),
        ("agents_audit/job", "99999999999999999999999", "retry"),
        ("agents_audit/job", "x", "cancel"),
        ("agents_audit/task", "%2F..%2F", "approve"),
    ],
)
def test_a_bad_id_goes_back_to_the_admin_with_a_message(operator_client, model, object_id, action):
    for method in ("get", "post"):
        response = getattr(operator_client, method)(
            f"/admin/{model}/{object_id}/actions/{action}/", follow=True
        )
        assert response.status_code == 200
        assert response.redirect_chain[-1][0] == reverse("admin:index")
        assert [level for level, _ in messages_of(response)] == ["warning"]


def test_an_unknown_action_is_not_found(operator_client):
    order, _ = placed_order()

    assert operator_client.get(action_url(order, "delete")).status_code == 404
    assert operator_client.post(action_url(order, "refund\x00")).status_code == 404
