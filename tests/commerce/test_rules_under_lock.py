"""Rules are checked by the service, under the lock that protects what they depend on: who may
cancel an order and when; passwords for every account, whoever creates it; who may use and who
may revoke an API key."""

from __future__ import annotations

from functools import partial

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from commerce.models import Order, OrderEvent, User, UserAPIKey
from commerce.services import (
    api_key_create,
    api_key_revoke,
    order_cancel,
    order_mark_processing,
    order_place,
    user_create,
)
from devskyy.errors import NotPermitted
from tests.commerce.factories import (
    AdminFactory,
    AgentUserFactory,
    OperatorFactory,
    ProductFactory,
    UserFactory,
)
from tests.concurrency import run_concurrently
from tests.conftest import key_client


def _order_for(user: User) -> Order:
    return order_place(user=user, lines=[("LOCKED", 1)], payment_method="card")


# --- who may cancel an order, and when ------------------------------------------------------


@pytest.mark.django_db
def test_an_owner_cancels_a_pending_order_but_not_a_processing_one():
    ProductFactory.create(sku="LOCKED", inventory_quantity=5)
    owner = AgentUserFactory.create()
    pending, processing = _order_for(owner), _order_for(owner)
    order_mark_processing(order=processing, by=None)

    assert order_cancel(order=pending, by=owner).status == Order.Status.CANCELLED
    with pytest.raises(NotPermitted, match="once it is processing"):
        order_cancel(order=processing, by=owner)
    processing.refresh_from_db()
    assert processing.status == Order.Status.PROCESSING


@pytest.mark.django_db
def test_nobody_but_the_owner_and_staff_may_cancel():
    ProductFactory.create(sku="LOCKED", inventory_quantity=5)
    order = _order_for(AgentUserFactory.create())
    with pytest.raises(NotPermitted):
        order_cancel(order=order, by=AgentUserFactory.create())
    guest_order = order_place(user=None, lines=[("LOCKED", 1)], payment_method="card")
    with pytest.raises(NotPermitted):
        order_cancel(order=guest_order, by=UserFactory.create())
    assert order_cancel(order=order, by=OperatorFactory.create()).status == "cancelled"


@pytest.mark.django_db
def test_an_owner_cancelling_a_processing_order_through_the_api_is_a_403():
    ProductFactory.create(sku="LOCKED", inventory_quantity=5)
    owner = AgentUserFactory.create()
    order = _order_for(owner)
    order_mark_processing(order=order, by=None)
    response = key_client(owner).post(f"/api/v1/orders/{order.pk}/cancel/", {}, format="json")
    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"


@pytest.mark.django_db(transaction=True)
def test_an_owner_racing_an_operator_never_cancels_a_processing_order():
    """The owner cancels while an operator marks the order processing, at the same instant. One
    of them wins; the owner's cancellation is only ever of a pending order."""
    ProductFactory.create(sku="LOCKED", inventory_quantity=1000)
    owner, operator = AgentUserFactory.create(), OperatorFactory.create()
    owner_api, operator_api = key_client(owner), key_client(operator)
    outcomes = set()
    for _ in range(25):
        order = _order_for(owner)
        cancel, process = run_concurrently(
            partial(owner_api.post, f"/api/v1/orders/{order.pk}/cancel/", {}, format="json"),
            partial(operator_api.post, f"/api/v1/orders/{order.pk}/process/", {}, format="json"),
        )
        order.refresh_from_db()
        outcomes.add((cancel.status_code, process.status_code))
        if cancel.status_code == 200:
            assert process.status_code == 409  # pending -> cancelled, then nothing to process
            assert order.status == Order.Status.CANCELLED
            event = OrderEvent.objects.get(order=order, to_status="cancelled")
            assert (event.from_status, event.actor_id) == ("pending", owner.pk)
        else:
            assert (cancel.status_code, process.status_code) == (403, 200)
            assert order.status == Order.Status.PROCESSING
    assert outcomes <= {(200, 409), (403, 200)}


# --- passwords ------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    "password", ["short", "1234567890123", "password1234", "quinn.harper.example"]
)
def test_user_create_refuses_weak_passwords_whoever_calls_it(password):
    with pytest.raises(ValidationError) as excinfo:
        user_create(
            username="quinn.harper",
            email="quinn.harper@example.com",
            role=User.Role.CUSTOMER,
            password=password,
        )
    assert set(excinfo.value.message_dict) == {"password"}
    assert not User.objects.exists()


@pytest.mark.django_db
def test_user_create_takes_strong_and_unusable_passwords():
    strong = user_create(
        username="kim", email="kim@example.com", role="customer", password="tangerine kettle drum"
    )
    assert strong.check_password("tangerine kettle drum")
    agent = user_create(username="bot", email="bot@example.com", role="agent", password=None)
    assert not agent.has_usable_password()


@pytest.mark.django_db
def test_the_admin_add_user_form_creates_through_the_service(admin_client):
    response = admin_client.post(
        reverse("admin:commerce_user_add"),
        {
            "username": "newcomer",
            "email": "newcomer@example.com",
            "role": "agent",
            "usable_password": "true",
            "password1": "tangerine kettle drum",
            "password2": "tangerine kettle drum",
        },
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    user = User.objects.get(username="newcomer")
    assert user.password.startswith("argon2")
    assert user.check_password("tangerine kettle drum")
    weak = admin_client.post(
        reverse("admin:commerce_user_add"),
        {
            "username": "weakling",
            "email": "weakling@example.com",
            "role": "agent",
            "usable_password": "true",
            "password1": "12345",
            "password2": "12345",
        },
    )
    assert weak.status_code == 200
    assert "password2" in weak.context["adminform"].form.errors
    assert not User.objects.filter(username="weakling").exists()


@pytest.fixture
def admin_client(db):
    from django.test import Client

    client = Client()
    client.force_login(AdminFactory.create())
    return client


# --- API keys of owners who lost API access --------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("demoted_to", [User.Role.CUSTOMER])
def test_a_demoted_agents_keys_stop_authenticating(demoted_to):
    agent = AgentUserFactory.create()
    client = key_client(agent)
    assert client.get("/api/v1/users/me/").status_code == 200
    User.objects.filter(pk=agent.pk).update(role=demoted_to)
    response = client.get("/api/v1/users/me/")
    assert response.status_code == 401
    assert response.json()["code"] == "authentication_failed"


@pytest.mark.django_db
@pytest.mark.parametrize("revoker", ["admin", "operator", "command"])
def test_keys_of_a_demoted_or_deactivated_owner_can_still_be_revoked(revoker):
    agent = AgentUserFactory.create()
    demoted_key, _ = api_key_create(user=agent, name="demoted")
    User.objects.filter(pk=agent.pk).update(role=User.Role.CUSTOMER, is_active=False)
    by = {"admin": AdminFactory.create, "operator": OperatorFactory.create}.get(revoker)

    api_key_revoke(api_key=demoted_key, revoked_by=by() if by else None)

    assert UserAPIKey.objects.get(pk=demoted_key.pk).revoked


@pytest.mark.django_db
def test_an_operator_revokes_a_demoted_agents_key_with_the_admin_action():
    from django.test import Client

    agent = AgentUserFactory.create()
    api_key, _ = api_key_create(user=agent, name="x")
    User.objects.filter(pk=agent.pk).update(role=User.Role.CUSTOMER)
    client = Client()
    client.force_login(OperatorFactory.create())
    client.post(
        reverse("admin:commerce_userapikey_changelist"),
        {"action": "revoke_selected", "_selected_action": [api_key.pk]},
    )
    assert UserAPIKey.objects.get(pk=api_key.pk).revoked


@pytest.mark.django_db
def test_operators_may_not_revoke_other_staff_keys_and_customers_none():
    other_operator = OperatorFactory.create()
    staff_key, _ = api_key_create(user=other_operator, name="theirs")
    with pytest.raises(Exception, match="Operators may revoke"):
        api_key_revoke(api_key=staff_key, revoked_by=OperatorFactory.create())
    with pytest.raises(Exception, match="Only staff"):
        api_key_revoke(api_key=staff_key, revoked_by=UserFactory.create())
    assert not UserAPIKey.objects.get(pk=staff_key.pk).revoked
    own = api_key_revoke(api_key=staff_key, revoked_by=other_operator)
    assert own.revoked
