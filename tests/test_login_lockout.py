"""Admin logins are locked (django-axes) after 5 failures for one account or from one IP address:
then even the right password is refused with a 429 until 15 minutes pass or staff unlock it."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from axes.models import AccessAttempt, AccessLog
from django.contrib.auth import authenticate
from django.contrib.auth.hashers import make_password
from django.test import Client, RequestFactory
from django.urls import reverse
from django.utils import timezone

from devskyy.login_throttling import client_ip
from tests.commerce.factories import TEST_PASSWORD, OperatorFactory

pytestmark = pytest.mark.django_db

LOGIN = reverse("admin:login")
INDEX = reverse("admin:index")
LIMIT = 5


def login(password: str, username: str = "ops", ip: str = "198.51.100.1", **extra: Any):
    client = Client(REMOTE_ADDR=ip, **extra)
    response = client.post(LOGIN, {"username": username, "password": password, "next": INDEX})
    return client, response


def logged_in(client: Client) -> bool:
    return client.get(INDEX).status_code == 200


@pytest.fixture(autouse=True)
def fast_password_hashing(settings) -> None:
    # Lockout, not hashing, is under test here: a cheap hasher keeps each try at microseconds.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def make_user(**fields: Any):
    # The password is hashed here, under this module's hasher: the factories' cached default
    # hash must not be computed (and kept for other modules) with it.
    return OperatorFactory.create(password=make_password(TEST_PASSWORD), **fields)


@pytest.fixture
def ops(db: None):
    return make_user(username="ops", email="ops@example.com")


def test_the_limit_and_cool_off_are_five_failures_and_fifteen_minutes(settings):
    assert settings.AXES_FAILURE_LIMIT == LIMIT
    cool_off = settings.AXES_COOLOFF_TIME
    assert cool_off == timedelta(minutes=15)


def test_after_five_wrong_passwords_the_right_one_is_refused_with_429(ops):
    for attempt in range(1, LIMIT):
        _, response = login("wrong")
        assert response.status_code == 200, attempt  # the login form, with its error
    _, fifth = login("wrong")
    assert fifth.status_code == 429

    client, right = login(TEST_PASSWORD)

    assert right.status_code == 429
    assert b"Too many failed logins" in right.content
    assert not logged_in(client)
    assert AccessAttempt.objects.get(username="ops").failures_since_start == LIMIT + 1


def test_fewer_failures_than_the_limit_leave_the_right_password_working(ops):
    for _ in range(LIMIT - 1):
        login("wrong")

    client, right = login(TEST_PASSWORD)

    assert right.status_code == 302
    assert logged_in(client)
    assert not AccessAttempt.objects.exists()  # a success forgets the failures


def test_one_address_trying_many_accounts_is_locked_out_for_all_of_them(ops):
    for n in range(LIMIT):
        login("wrong", username=f"guess{n}", ip="198.51.100.9")

    _, from_there = login(TEST_PASSWORD, ip="198.51.100.9")
    client, from_elsewhere = login(TEST_PASSWORD, ip="203.0.113.5")

    assert from_there.status_code == 429
    assert from_elsewhere.status_code == 302
    assert logged_in(client)


def test_one_account_tried_from_many_addresses_is_locked_out_from_all_of_them(ops):
    for n in range(LIMIT):
        login("wrong", ip=f"203.0.113.{n + 10}")

    client, right = login(TEST_PASSWORD, ip="198.51.100.200")

    assert right.status_code == 429
    assert not logged_in(client)


def test_every_spelling_of_the_accounts_email_counts_against_the_account(ops):
    spellings = ["ops@example.com", "OPS@example.com", "Ops@Example.com", "ops@EXAMPLE.COM", "ops"]
    for n, spelling in enumerate(spellings):
        login("wrong", username=spelling, ip=f"203.0.113.{n + 10}")

    _, right = login(TEST_PASSWORD, username="ops@example.com", ip="198.51.100.200")

    assert right.status_code == 429
    assert set(AccessAttempt.objects.values_list("username", flat=True)) == {"ops"}


def test_the_lockout_ends_fifteen_minutes_after_the_last_failure(ops):
    for _ in range(LIMIT):
        login("wrong")

    AccessAttempt.objects.update(attempt_time=timezone.now() - timedelta(minutes=14))
    assert login(TEST_PASSWORD)[1].status_code == 429  # and this failure restarts the clock
    assert AccessAttempt.objects.get().attempt_time > timezone.now() - timedelta(minutes=1)

    AccessAttempt.objects.update(attempt_time=timezone.now() - timedelta(minutes=15, seconds=1))
    client, right = login(TEST_PASSWORD)
    assert right.status_code == 302
    assert logged_in(client)


@pytest.mark.parametrize("role", ["admin", "operator"])
def test_staff_see_the_attempts_in_the_admin_and_unlock_by_deleting_them(ops, role):
    for _ in range(LIMIT):
        login("wrong")
    attempt = AccessAttempt.objects.get()
    staff = Client()
    staff.force_login(make_user(role=role))

    listing = staff.get(reverse("admin:axes_accessattempt_changelist"))
    assert listing.status_code == 200
    assert attempt in listing.context["cl"].result_list
    assert b"Locked Out" in listing.content

    deleted = staff.post(
        reverse("admin:axes_accessattempt_delete", args=[attempt.pk]), {"post": "yes"}
    )
    assert deleted.status_code == 302
    assert not AccessAttempt.objects.exists()
    client, right = login(TEST_PASSWORD)
    assert right.status_code == 302
    assert logged_in(client)


def test_the_login_log_is_read_only_even_for_admins(ops):
    assert login(TEST_PASSWORD)[1].status_code == 302
    entry = AccessLog.objects.get(username="ops")
    admin = Client()
    admin.force_login(make_user(role="admin"))

    listing = admin.get(reverse("admin:axes_accesslog_changelist"))
    assert listing.status_code == 200
    assert entry in listing.context["cl"].result_list
    assert admin.get(reverse("admin:axes_accesslog_change", args=[entry.pk])).status_code == 200
    delete = admin.post(reverse("admin:axes_accesslog_delete", args=[entry.pk]), {"post": "yes"})
    assert delete.status_code == 403
    assert AccessLog.objects.filter(pk=entry.pk).exists()


def test_customers_cannot_see_the_attempts(ops):
    customer = make_user(role="customer")
    client = Client()
    client.force_login(customer)
    assert client.get(reverse("admin:axes_accessattempt_changelist")).status_code == 302


def test_authenticate_without_a_request_is_not_an_http_login_and_is_not_counted(ops):
    # management commands and the shell call authenticate() without a request
    assert authenticate(username="ops", password="wrong") is None
    assert authenticate(username="ops", password=TEST_PASSWORD) == ops
    assert not AccessAttempt.objects.exists()


def test_behind_trusted_proxies_the_client_is_the_address_the_proxy_appended(settings, ops):
    settings.TRUSTED_PROXY_COUNT = 1
    # the client forges the left part; the proxy appends the address it saw
    for n in range(LIMIT):
        login("wrong", username=f"guess{n}", HTTP_X_FORWARDED_FOR=f"10.9.9.{n}, 198.51.100.9")

    _, same_client = login(TEST_PASSWORD, HTTP_X_FORWARDED_FOR="198.51.100.9")
    _, other_client = login(TEST_PASSWORD, HTTP_X_FORWARDED_FOR="1.2.3.4, 198.51.100.10")

    assert same_client.status_code == 429
    assert other_client.status_code == 302
    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {"198.51.100.9"}


@pytest.mark.parametrize(
    ("proxies", "forwarded", "expected"),
    [
        (0, "203.0.113.1", "192.0.2.1"),  # no proxy trusted: the header is the client's to forge
        (1, "203.0.113.1", "203.0.113.1"),
        (1, "10.0.0.1, 203.0.113.1", "203.0.113.1"),
        (2, "203.0.113.1, 198.51.100.1", "203.0.113.1"),
        (2, "198.51.100.1", "192.0.2.1"),  # fewer entries than proxies: not through them
        (1, "not-an-address", "192.0.2.1"),
        (1, "", "192.0.2.1"),
    ],
)
def test_client_ip(settings, proxies, forwarded, expected):
    settings.TRUSTED_PROXY_COUNT = proxies
    request = RequestFactory().post(LOGIN, REMOTE_ADDR="192.0.2.1", HTTP_X_FORWARDED_FOR=forwarded)
    assert client_ip(request) == expected
