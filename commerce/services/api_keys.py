"""API keys: created for users with API access, shown once, revoked for good."""

from __future__ import annotations

import datetime as dt
from typing import cast

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from commerce import api_key_cache
from commerce.models import User, UserAPIKey


def _check_key_grant(*, user: User, created_by: User | None) -> None:
    """Who may hold a key, and who may hand one out."""
    if user.role not in User.API_ROLES:
        raise ValidationError({"user": [f"A {user.role} has no API access."]})
    if not user.is_active:
        raise ValidationError({"user": ["This user is inactive."]})
    if created_by is None or created_by.is_superuser:
        return  # a deployer on the server, or an admin
    # Operators hand out keys to agents and to themselves, never to other staff: a key for an
    # admin would be an escalation.
    if not created_by.is_staff or (user.role != User.Role.AGENT and user.pk != created_by.pk):
        raise PermissionDenied("Operators may create keys only for agents and for themselves.")


def _check_key_revoke(*, owner: User, revoked_by: User | None) -> None:
    """Who may take a key away. Unlike granting, revoking never depends on the owner's current
    role or state: a key whose owner was demoted or deactivated must still be revocable."""
    if revoked_by is None or revoked_by.is_superuser:
        return
    if not revoked_by.is_staff:
        raise PermissionDenied("Only staff may revoke API keys.")
    # Operators manage the keys of non-staff accounts and their own, as when granting.
    if owner.role in User.STAFF_ROLES and owner.pk != revoked_by.pk:
        raise PermissionDenied("Operators may revoke keys only of non-staff users and their own.")


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
    """Revoke a key for good (the library refuses to un-revoke). ``revoked_by=None`` means a
    trusted caller (a management command)."""
    api_key = UserAPIKey.objects.select_for_update().select_related("user").get(pk=api_key.pk)
    _check_key_revoke(owner=api_key.user, revoked_by=revoked_by)
    if not api_key.revoked:
        api_key.revoked = True
        api_key.save(update_fields=["revoked"])
    # This process forgets at once; others within API_KEY_CACHE_SECONDS.
    transaction.on_commit(api_key_cache.clear)
    return api_key
