"""API keys: hashed, shown once, revocable, expiring; who may grant them."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import CommandError, call_command
from django.urls import reverse

from commerce.models import UserAPIKey
from commerce.services import api_key_create, api_key_revoke
from tests.commerce.factories import AdminFactory, AgentUserFactory, OperatorFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_a_key_is_stored_as_a_sha512_hash_never_in_clear():
    agent = AgentUserFactory.create()
    api_key, key = api_key_create(user=agent, name="ci")
    stored = UserAPIKey.objects.values_list("hashed_key", flat=True).get()
    assert stored.startswith("sha512$$")
    assert key not in stored
    assert key.startswith(api_key.prefix + ".")


def test_customers_get_no_keys():
    with pytest.raises(ValidationError):
        api_key_create(user=UserFactory.create(role="customer"), name="x")


def test_operators_grant_keys_to_agents_and_themselves_only():
    operator = OperatorFactory.create()
    api_key_create(user=AgentUserFactory.create(), name="a", created_by=operator)
    api_key_create(user=operator, name="mine", created_by=operator)
    for other in (AdminFactory.create(), OperatorFactory.create()):
        with pytest.raises(PermissionDenied):
            api_key_create(user=other, name="escalation", created_by=operator)


def test_a_revoked_key_stays_revoked():
    api_key, _ = api_key_create(user=AgentUserFactory.create(), name="x")
    api_key_revoke(api_key=api_key)
    api_key = UserAPIKey.objects.get(pk=api_key.pk)
    assert api_key.revoked
    api_key.revoked = False
    with pytest.raises(ValidationError):
        api_key.save()


def test_command_prints_the_key_once_and_it_authenticates(client):
    agent = AgentUserFactory.create(username="bot")
    out, err = StringIO(), StringIO()
    call_command(
        "create_api_key",
        "--user",
        "bot",
        "--name",
        "ci",
        "--expires",
        "30d",
        stdout=out,
        stderr=err,
    )
    key = out.getvalue().strip()
    api_key = UserAPIKey.objects.get()
    assert api_key.user == agent
    assert api_key.expiry_date is not None
    assert "shown once" in err.getvalue()
    response = client.get("/api/v1/users/me/", HTTP_AUTHORIZATION=f"Api-Key {key}")
    assert response.json()["username"] == "bot"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--user", "nobody"], "no user named 'nobody'"),
        (["--user", "shopper"], "A customer has no API access."),
        (["--user", "bot", "--expires", "soon"], "--expires"),
        (["--user", "bot", "--expires", "2000-01-01T00:00:00Z"], "must be in the future"),
    ],
)
def test_command_errors_are_one_readable_line_and_write_nothing(args, message):
    AgentUserFactory.create(username="bot")
    UserFactory.create(username="shopper", role="customer")
    with pytest.raises(CommandError, match=message):
        call_command("create_api_key", *args)
    assert not UserAPIKey.objects.exists()


def test_operator_creates_a_key_in_the_admin_and_sees_it_once(operator_client):
    agent = AgentUserFactory.create()
    response = operator_client.post(
        reverse("admin:commerce_userapikey_add"),
        {"user": agent.pk, "name": "from admin"},
        follow=True,
    )
    assert response.status_code == 200
    api_key = UserAPIKey.objects.get()
    shown = [str(m) for m in response.context["messages"]]
    assert any(api_key.prefix in m and "cannot be shown again" in m for m in shown)


def test_operator_cannot_create_a_key_for_an_admin_in_the_admin(operator_client):
    target = AdminFactory.create()
    response = operator_client.post(
        reverse("admin:commerce_userapikey_add"), {"user": target.pk, "name": "nope"}, follow=True
    )
    assert response.status_code == 200
    assert not UserAPIKey.objects.exists()
    assert any("only for agents" in str(m) for m in response.context["messages"])


def test_operator_revokes_keys_with_the_admin_action(operator_client):
    api_key, _ = api_key_create(user=AgentUserFactory.create(), name="x")
    operator_client.post(
        reverse("admin:commerce_userapikey_changelist"),
        {"action": "revoke_selected", "_selected_action": [api_key.pk]},
    )
    api_key.refresh_from_db()
    assert api_key.revoked


def test_a_checked_key_is_trusted_for_api_key_cache_seconds_then_checked_again(settings):
    from unittest import mock

    from commerce import api_key_cache
    from tests.conftest import key_client

    settings.API_KEY_CACHE_SECONDS = 5
    api_key_cache.clear()
    agent = AgentUserFactory.create()
    client = key_client(agent)
    assert client.get("/api/v1/users/me/").status_code == 200

    # revoked behind this process's back (another process, or raw SQL): trusted until the TTL
    UserAPIKey.objects.update(revoked=True)
    assert client.get("/api/v1/users/me/").status_code == 200
    with mock.patch("commerce.api_key_cache.time.monotonic", return_value=10**9):
        assert client.get("/api/v1/users/me/").status_code == 401


def test_revoking_through_the_service_takes_effect_at_once_in_this_process(
    settings, django_capture_on_commit_callbacks
):
    from rest_framework.test import APIClient

    from commerce import api_key_cache

    settings.API_KEY_CACHE_SECONDS = 60
    api_key_cache.clear()
    agent = AgentUserFactory.create()
    api_key, key = api_key_create(user=agent, name="x")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {key}")
    assert client.get("/api/v1/users/me/").status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        api_key_revoke(api_key=api_key)
    assert client.get("/api/v1/users/me/").status_code == 401
