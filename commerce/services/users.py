"""Accounts: users and the demo operator."""

from __future__ import annotations

import secrets

from django.db import transaction

from commerce.models import User


@transaction.atomic
def user_create(
    *, username: str, email: str, role: str, password: str | None, full_name: str | None = None
) -> User:
    """Create a user with a hashed (Argon2) password; ``password=None`` makes it unusable.

    Raises ``django.core.exceptions.ValidationError`` for a bad or duplicate username/email/role.
    """
    return User.objects.create_user(
        username=username, email=email, password=password, role=role, full_name=full_name
    )


@transaction.atomic
def demo_operator_ensure(
    *, username: str = "operator", email: str = "operator@devskyy.local"
) -> tuple[User, str | None]:
    """Create the demo operator unless an operator or admin already exists.

    Returns the operator and, only when it was created now, its generated password (shown once;
    never stored in clear anywhere but the caller's output).
    """
    existing = (
        User.objects.filter(role__in=User.STAFF_ROLES, is_active=True)
        .order_by("created_at")
        .first()
    )
    if existing is not None:
        return existing, None
    password = secrets.token_urlsafe(12)
    user = user_create(
        username=username,
        email=email,
        role=User.Role.OPERATOR,
        password=password,
        full_name="Demo operator",
    )
    return user, password
