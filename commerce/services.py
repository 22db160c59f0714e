"""Writes on commerce data (users, API keys, products). Every write is a function here; views,
admin, commands and tests call the same ones."""

from __future__ import annotations

import datetime as dt
import re
import secrets
from decimal import Decimal
from typing import Any, cast

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from commerce.models import Product, User, UserAPIKey
from devskyy.api.authentication import APIKeyAuthentication
from devskyy.api.exceptions import InvalidTransition

# --- users -----------------------------------------------------------------------------------


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


# --- API keys --------------------------------------------------------------------------------

API_ROLES = frozenset({User.Role.AGENT, User.Role.OPERATOR, User.Role.ADMIN})


def _check_key_grant(*, user: User, created_by: User | None) -> None:
    if user.role not in API_ROLES:
        raise ValidationError({"user": [f"A {user.role} has no API access."]})
    if not user.is_active:
        raise ValidationError({"user": ["This user is inactive."]})
    if created_by is None or created_by.is_superuser:
        return  # a deployer on the server, or an admin
    # Operators hand out keys to agents and to themselves, never to other staff: a key for an
    # admin would be an escalation.
    if not created_by.is_staff or (user.role != User.Role.AGENT and user.pk != created_by.pk):
        raise PermissionDenied("Operators may create keys only for agents and for themselves.")


@transaction.atomic
def api_key_create(
    *, user: User, name: str, expires_at: dt.datetime | None = None, created_by: User | None = None
) -> tuple[UserAPIKey, str]:
    """Create an API key for ``user``; return it and the plaintext key (shown once, stored as a
    SHA-512 hash). ``created_by=None`` means a trusted caller (a management command)."""
    _check_key_grant(user=user, created_by=created_by)
    name = name.strip()
    if not name or len(name) > 50:
        raise ValidationError({"name": ["A name of 1 to 50 characters is required."]})
    if expires_at is not None and expires_at <= timezone.now():
        raise ValidationError({"expires_at": ["The expiry must be in the future."]})
    api_key, key = UserAPIKey.objects.create_key(user=user, name=name, expiry_date=expires_at)
    return cast(UserAPIKey, api_key), key


@transaction.atomic
def api_key_revoke(*, api_key: UserAPIKey, revoked_by: User | None = None) -> UserAPIKey:
    """Revoke a key for good (the library refuses to un-revoke)."""
    if revoked_by is not None:
        _check_key_grant(user=api_key.user, created_by=revoked_by)
    api_key = UserAPIKey.objects.select_for_update().get(pk=api_key.pk)
    if not api_key.revoked:
        api_key.revoked = True
        api_key.save(update_fields=["revoked"])
    # This process forgets at once; others within API_KEY_CACHE_SECONDS.
    transaction.on_commit(APIKeyAuthentication.forget_all)
    return api_key


# --- products --------------------------------------------------------------------------------

SKU_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")
MAX_TAGS = 20
MAX_TAG_LENGTH = 50


def tags_normalise(tags: list[str] | None) -> list[str] | None:
    """Lower-case, trimmed, without blanks or duplicates, in first-seen order."""
    if tags is None:
        return None
    seen: dict[str, None] = {}
    for tag in tags:
        clean = " ".join(tag.split()).lower()
        if clean:
            seen.setdefault(clean, None)
    return list(seen)


def _product_validate(fields: dict[str, Any]) -> None:
    errors: dict[str, list[str]] = {}
    sku = fields.get("sku")
    if sku is not None and not SKU_PATTERN.match(sku):
        errors["sku"] = [
            "Use 1 to 100 letters, digits, '.', '_' or '-', starting with a letter or digit."
        ]
    price = fields.get("price")
    if price is not None and (not isinstance(price, Decimal) or price <= 0):
        errors["price"] = ["The price must be greater than zero."]
    quantity = fields.get("inventory_quantity")
    if quantity is not None and quantity < 0:
        errors["inventory_quantity"] = ["Stock cannot be negative."]
    tags = fields.get("tags")
    if tags is not None and (len(tags) > MAX_TAGS or any(len(t) > MAX_TAG_LENGTH for t in tags)):
        errors["tags"] = [f"At most {MAX_TAGS} tags of at most {MAX_TAG_LENGTH} characters."]
    if errors:
        raise ValidationError(errors)


PRODUCT_EDITABLE_FIELDS = frozenset(
    {"sku", "name", "description", "category", "price", "inventory_quantity", "tags", "metadata"}
)


@transaction.atomic
def product_create(
    *,
    sku: str,
    name: str,
    price: Decimal,
    description: str | None = None,
    category: str | None = None,
    inventory_quantity: int = 0,
    tags: list[str] | None = None,
    metadata: dict[str, Any] | None = None,
) -> Product:
    """Create a draft product. Raises ValidationError (e.g. a taken SKU)."""
    fields = {
        "sku": sku,
        "name": name,
        "price": price,
        "description": description,
        "category": category,
        "inventory_quantity": inventory_quantity,
        "tags": tags_normalise(tags),
        "metadata": metadata or {},
    }
    _product_validate(fields)
    product = Product(**fields)
    product.full_clean()
    product.save()
    return product


@transaction.atomic
def product_update(*, product: Product, **changes: Any) -> Product:
    """Change a product's editable fields under a row lock. A price change never touches placed
    orders: they keep their own copies of prices."""
    unknown = set(changes) - PRODUCT_EDITABLE_FIELDS
    if unknown:
        raise ValidationError({name: ["This field cannot be changed."] for name in unknown})
    if "tags" in changes:
        changes["tags"] = tags_normalise(changes["tags"])
    _product_validate(changes)
    product = Product.objects.select_for_update().get(pk=product.pk)
    for name, value in changes.items():
        setattr(product, name, value)
    product.full_clean()
    product.save(update_fields=[*changes])
    product.refresh_from_db(fields=["updated_at"])
    return product


@transaction.atomic
def _product_move(*, product: Product, status: str) -> Product:
    product = Product.objects.select_for_update().get(pk=product.pk)
    if not product.can_transition_to(status):
        raise InvalidTransition(current=product.status, target=status)
    product.status = status
    product.save(update_fields=["status"])
    product.refresh_from_db(fields=["updated_at"])
    return product


def product_publish(*, product: Product) -> Product:
    return _product_move(product=product, status=Product.Status.PUBLISHED)


def product_archive(*, product: Product) -> Product:
    return _product_move(product=product, status=Product.Status.ARCHIVED)
