"""``Authorization: Api-Key <key>``: resolve a hashed API key to the user who owns it."""

from __future__ import annotations

import hashlib
import time
from functools import cache
from typing import Any

from django.conf import settings
from django.db import connection
from django.utils import timezone
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication
from rest_framework.request import Request

KEYWORD = "Api-Key"


@cache
def _lookup_sql() -> tuple[str, list[str], list[Any]]:
    """One statement, built once: the key's hash and expiry, and its owner's columns; with the
    fields' ``from_db_value`` converters (jsonb arrives as text), as a queryset would apply."""
    from commerce.models import User

    fields = User._meta.concrete_fields
    attnames = [f.attname for f in fields]
    columns = ", ".join(f'u."{f.column}"' for f in fields)
    sql = (
        f"SELECT k.id, k.hashed_key, k.expiry_date, {columns} "  # noqa: S608 (model columns)
        "FROM user_api_keys k JOIN users u ON u.id = k.user_id "
        "WHERE k.prefix = %s AND NOT k.revoked"
    )
    return sql, attnames, [getattr(f, "from_db_value", None) for f in fields]


class APIKeyAuthentication(BaseAuthentication):
    """Authenticate with an API key (djangorestframework-api-key: SHA-512, looked up by prefix).

    ``request.user`` is the key's owner and ``request.auth`` the key's id. A request without the
    header is left to the next authenticator (the session); a wrong, revoked or expired key, or an
    inactive owner, is a 401 with no hint which of these it was.

    This is the hot path of every agent request, so the lookup is one prepared-once SQL statement
    (key and owner together) rather than an ORM query compiled per request, and a key that
    checked out is remembered in this process for ``API_KEY_CACHE_SECONDS`` (default 5; 0 turns
    it off): a revoked or expired key, or a deactivated owner, is refused within that time.
    """

    # SHA-256 of the presented key -> (monotonic deadline, key id, user); per process.
    _cache: dict[bytes, tuple[float, Any, Any]] = {}
    _CACHE_MAX = 10_000

    def authenticate(self, request: Request) -> tuple[Any, Any] | None:
        header = request.META.get("HTTP_AUTHORIZATION", "")
        keyword, _, key = header.partition(" ")
        if keyword != KEYWORD:
            return None
        key = key.strip()
        if not key or len(key) > 100 or "\x00" in key:
            raise exceptions.AuthenticationFailed("Invalid API key.")
        ttl = settings.API_KEY_CACHE_SECONDS
        if ttl <= 0:
            return self._resolve(key)
        digest = hashlib.sha256(key.encode()).digest()
        now = time.monotonic()
        hit = self._cache.get(digest)
        if hit is not None and hit[0] > now:
            return hit[2], hit[1]
        user, key_id = self._resolve(key)
        if len(self._cache) >= self._CACHE_MAX:
            self._cache.clear()
        self._cache[digest] = (now + ttl, key_id, user)
        return user, key_id

    @classmethod
    def forget_all(cls) -> None:
        """Drop this process's remembered keys (revocation in this process takes effect now)."""
        cls._cache.clear()

    def _resolve(self, key: str) -> tuple[Any, Any]:
        from commerce.models import User, UserAPIKey

        prefix, _, _ = key.partition(".")
        sql, attnames, converters = _lookup_sql()
        with connection.cursor() as cursor:
            cursor.execute(sql, [prefix])
            row = cursor.fetchone()
        if row is None:
            raise exceptions.AuthenticationFailed("Invalid API key.")
        key_id, hashed_key, expiry_date, *user_values = row
        user_values = [
            value if convert is None or value is None else convert(value, None, connection)
            for convert, value in zip(converters, user_values, strict=True)
        ]
        user = User.from_db(connection.alias, attnames, user_values)
        if (
            not UserAPIKey.objects.key_generator.verify(key, hashed_key)
            or (expiry_date is not None and expiry_date <= timezone.now())
            or not user.is_active
        ):
            raise exceptions.AuthenticationFailed("Invalid API key.")
        return user, key_id

    def authenticate_header(self, request: Request) -> str:
        return KEYWORD
