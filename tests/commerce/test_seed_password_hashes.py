"""Users written by the seed's own stack log in: its bare bcrypt and Argon2 hashes (passlib's
format, written by raw SQL into users.password_hash) verify, and the first successful login
rewrites them in Django's format. A wrong password is refused and changes nothing."""

from __future__ import annotations

from collections.abc import Callable

import argon2
import bcrypt
import pytest
from asgiref.sync import async_to_sync
from django.contrib.auth import authenticate
from django.db import connection
from django.test import Client, RequestFactory
from django.urls import reverse

from commerce.models import User

pytestmark = pytest.mark.django_db

PASSWORD = "seed stack passphrase"
# Cheap work factors: the format, not the cost, is under test.
_argon2id = argon2.PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
_argon2i = argon2.PasswordHasher(time_cost=1, memory_cost=8, parallelism=1, type=argon2.Type.I)


def bcrypt_hash(password: str, prefix: bytes = b"2b") -> str:
    return bcrypt.hashpw(password.encode(), bcrypt.gensalt(4, prefix=prefix)).decode()


SEED_HASHES: dict[str, Callable[[str], str]] = {
    "bcrypt $2b$": lambda pw: bcrypt_hash(pw),
    "bcrypt $2a$": lambda pw: bcrypt_hash(pw, prefix=b"2a"),
    "bcrypt $2y$": lambda pw: "$2y$" + bcrypt_hash(pw)[4:],  # PHP's name for $2b$
    "argon2id": _argon2id.hash,
    "argon2i": _argon2i.hash,
}


def seed_user(password_hash: str, *, role: str = "operator", username: str = "seeded") -> str:
    """A user row as the seed's stack writes it: raw SQL, its own hash in password_hash."""
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO users (email, username, password_hash, role) VALUES (%s, %s, %s, %s) "
            "RETURNING id",
            [f"{username}@example.com", username, password_hash, role],
        )
        return str(cursor.fetchone()[0])


def stored_hash(user_id: str) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT password_hash FROM users WHERE id = %s", [user_id])
        return cursor.fetchone()[0]


def login_request():
    return RequestFactory().post(reverse("admin:login"), REMOTE_ADDR="198.51.100.1")


@pytest.mark.parametrize("kind", SEED_HASHES)
def test_a_seed_hash_authenticates_and_is_rewritten_in_djangos_format(kind):
    user_id = seed_user(SEED_HASHES[kind](PASSWORD))

    user = authenticate(login_request(), username="seeded", password=PASSWORD)

    assert user is not None
    assert str(user.pk) == user_id
    upgraded = stored_hash(user_id)
    assert upgraded.startswith("argon2$argon2id$")
    assert User.objects.get(pk=user_id).check_password(PASSWORD)  # and it still verifies


@pytest.mark.parametrize("kind", SEED_HASHES)
def test_a_wrong_password_is_refused_and_leaves_the_seed_hash_as_it_was(kind):
    original = SEED_HASHES[kind](PASSWORD)
    user_id = seed_user(original)

    assert authenticate(login_request(), username="seeded", password="not it") is None
    assert stored_hash(user_id) == original


@pytest.mark.parametrize("kind", ["bcrypt $2b$", "argon2id"])
def test_a_seeded_operator_logs_into_the_admin(kind):
    user_id = seed_user(SEED_HASHES[kind](PASSWORD))
    client = Client()

    response = client.post(
        reverse("admin:login"),
        {"username": "seeded", "password": PASSWORD, "next": reverse("admin:index")},
    )

    assert response.status_code == 302
    assert client.get(reverse("admin:index")).status_code == 200
    assert stored_hash(user_id).startswith("argon2$argon2id$")


def test_bcrypt_reads_72_bytes_of_a_longer_password_as_passlib_did():
    long_password = "x" * 60 + "é" * 10  # 80 bytes in UTF-8
    # passlib hashed the first 72 bytes (bcrypt >= 5 refuses longer input instead)
    user_id = seed_user(
        bcrypt.hashpw(long_password.encode()[:72], bcrypt.gensalt(4)).decode(),
        role="customer",
    )
    user = User.objects.get(pk=user_id)

    assert user.check_password(long_password)
    assert stored_hash(user_id).startswith("argon2$")


@pytest.mark.parametrize("garbage", ["$2b$04$not-a-hash", "$argon2id$v=19$junk", "$2y$"])
def test_a_malformed_seed_hash_verifies_nothing_and_is_not_an_error(garbage):
    user_id = seed_user(garbage, role="customer")
    user = User.objects.get(pk=user_id)

    assert not user.check_password(PASSWORD)
    assert stored_hash(user_id) == garbage


def test_the_async_check_upgrades_too():
    user_id = seed_user(_argon2id.hash(PASSWORD), role="customer")
    user = User.objects.get(pk=user_id)

    assert async_to_sync(user.acheck_password)(PASSWORD)
    assert stored_hash(user_id).startswith("argon2$argon2id$")
