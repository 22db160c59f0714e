"""Accounts: users and the demo operator."""

from __future__ import annotations

import secrets

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction

from commerce.models import User
from devskyy.models import unique_taken_as_validation_error


@transaction.atomic
def user_create(
    *, username: str, email: str, role: str, password: str | None, full_name: str | None = None
) -> User:
    """Create a user with a hashed (Argon2) password; ``password=None`` makes it unusable.

    The password must pass ``AUTH_PASSWORD_VALIDATORS`` (length, common, numeric, too similar to
    the username/email/name). Raises ``django.core.exceptions.ValidationError`` for a weak
    password or a bad or duplicate username/email/role; nothing is written then.
    """
    if password is not None:
        candidate = User(username=username, email=email, full_name=full_name, role=role)
        try:
            validate_password(password, candidate)
        except ValidationError as exc:
            raise ValidationError({"password": exc.error_list}) from None
    with unique_taken_as_validation_error(User):  # a concurrent create took the name or email
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
