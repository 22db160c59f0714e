"""The custom user: Argon2 passwords in password_hash, roles that drive staff and permissions,
login by username or email."""

from __future__ import annotations

import pytest
from django.contrib.auth import authenticate
from django.contrib.auth.hashers import identify_hasher
from django.core.exceptions import ValidationError
from django.db import connection

from commerce.models import User
from commerce.services import user_create
from tests.commerce.factories import TEST_PASSWORD, UserFactory

pytestmark = pytest.mark.django_db


def test_password_is_hashed_with_argon2_into_the_password_hash_column():
    user = user_create(
        username="ada",
        email="ada@example.com",
        role="customer",
        password="a long enough passphrase",
    )

    with connection.cursor() as cursor:
        cursor.execute("SELECT password_hash FROM users WHERE id = %s", [user.pk])
        stored = cursor.fetchone()[0]
    assert stored.startswith("argon2$argon2id$")
    assert identify_hasher(stored).algorithm == "argon2"
    assert user.check_password("a long enough passphrase")
    assert not user.check_password("wrong")


def test_str_and_repr_never_show_the_password_hash():
    user = UserFactory.create(username="grace")
    assert str(user) == "grace"
    assert user.password not in repr(user)
    assert "argon2" not in repr(user) + str(user)


@pytest.mark.parametrize(
    ("role", "is_staff", "is_superuser", "can_view_orders", "can_delete_users"),
    [
        ("customer", False, False, False, False),
        ("agent", False, False, False, False),
        ("operator", True, False, True, False),
        ("admin", True, True, True, True),
    ],
)
def test_role_decides_admin_access_and_permissions(
    role, is_staff, is_superuser, can_view_orders, can_delete_users
):
    user = UserFactory.create(role=role)
    assert user.is_staff is is_staff
    assert user.is_superuser is is_superuser
    assert user.has_perm("commerce.view_order") is can_view_orders
    assert user.has_perm("commerce.delete_user") is can_delete_users
    assert user.has_perm("commerce.view_user") is is_staff
    assert user.has_module_perms("commerce") is is_staff


def test_an_inactive_operator_has_no_access():
    user = UserFactory.create(role="operator", is_active=False)
    assert not user.is_staff
    assert not user.has_perm("commerce.view_order")


def test_create_superuser_makes_an_admin_role():
    user = User.objects.create_superuser("root", "root@example.com", "a long enough passphrase")
    assert user.role == User.Role.ADMIN
    assert user.is_superuser


def test_create_user_rejects_an_unknown_role_and_writes_nothing():
    with pytest.raises(ValidationError) as excinfo:
        user_create(username="x", email="x@example.com", role="superhero", password=None)
    assert "role" in excinfo.value.message_dict
    assert not User.objects.filter(username="x").exists()


def test_create_user_rejects_a_duplicate_email_with_a_field_error():
    UserFactory.create(email="taken@example.com")
    with pytest.raises(ValidationError) as excinfo:
        user_create(username="other", email="taken@example.com", role="customer", password=None)
    assert "email" in excinfo.value.message_dict


def test_password_none_gives_an_unusable_password():
    user = user_create(username="bot", email="bot@example.com", role="agent", password=None)
    assert not user.has_usable_password()


@pytest.mark.parametrize("login", ["grace", "grace@example.com", "GRACE@Example.com"])
def test_login_with_username_or_email(login):
    user = UserFactory.create(username="grace", email="grace@example.com")
    assert authenticate(username=login, password=TEST_PASSWORD) == user


def test_login_fails_for_a_wrong_password_an_unknown_login_or_an_inactive_user():
    UserFactory.create(username="grace", email="grace@example.com")
    UserFactory.create(username="gone", is_active=False)
    assert authenticate(username="grace", password="wrong") is None
    assert authenticate(username="nobody", password=TEST_PASSWORD) is None
    assert authenticate(username="gone", password=TEST_PASSWORD) is None
