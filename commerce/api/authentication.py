"""``Authorization: Api-Key <key>``: resolve a hashed API key to the user who owns it."""

from __future__ import annotations

import hashlib
from functools import cache
from typing import Any

from django.conf import settings
from django.db import connection
from django.utils import timezone
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication
from rest_framework.request import Request

from commerce import api_key_cache
from commerce.models import User, UserAPIKey

KEYWORD = "Api-Key"


@cache
def _lookup_sql() -> tuple[str, list[str], list[Any]]:
    """One statement, built once from the models: the key's hash and expiry, and its owner; with
    the fields' ``from_db_value`` converters (jsonb arrives as text), as a queryset applies them.
    """
    fields = User._meta.concrete_fields
    attnames = [f.attname for f in fields]
    columns = ", ".join(f'u."{f.column}"' for f in fields)
    keys, users = UserAPIKey._meta.db_table, User._meta.db_table
    sql = (
        f"SELECT k.id, k.hashed_key, k.expiry_date, {columns} "  # noqa: S608 (model columns)
        f'FROM "{keys}" k JOIN "{users}" u ON u.id = k.user_id '
        "WHERE k.prefix = %s AND NOT k.revoked"
    )
    return sql, attnames, [getattr(f, "from_db_value", None) for f in fields]


class APIKeyAuthentication(BaseAuthentication):
    """Authenticate with an API key (djangorestframework-api-key: SHA-512, looked up by prefix).

    ``request.user`` is the key's owner and ``request.auth`` the key's id. A request without the
    header is left to the next authenticator (the session); a wrong, revoked or expired key, an
    inactive owner or an owner whose role has no API access (an agent demoted to customer) is a
    401 with no hint which of these it was.

    This is the hot path of every agent request: the lookup is one SQL statement (key and owner
    together) built once per process rather than an ORM query compiled per request (it is not a
    server-side prepared statement: Django's psycopg backend binds on the client), and a key that
    checked out is remembered in this process for ``API_KEY_CACHE_SECONDS`` (see
    ``commerce.api_key_cache``).
    """

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
        hit = api_key_cache.get(digest)
        if hit is not None:
            return hit
        user, key_id = self._resolve(key)
        api_key_cache.put(digest, key_id=key_id, user=user, ttl=ttl)
        return user, key_id

    def _resolve(self, key: str) -> tuple[User, Any]:
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
            or not user.can_use_api
        ):
            raise exceptions.AuthenticationFailed("Invalid API key.")
        return user, key_id

    def authenticate_header(self, request: Request) -> str:
        return KEYWORD


def caller(request: Request) -> User:
    """The authenticated user of a request that passed ``RolePermission``."""
    user = request.user
    if not isinstance(user, User):  # pragma: no cover - RolePermission ran first
        raise exceptions.NotAuthenticated()
    return user


class APIKeyAuthenticationScheme(OpenApiAuthenticationExtension):
    target_class = APIKeyAuthentication
    name = "ApiKeyAuth"

    def get_security_definition(self, auto_schema: Any) -> dict[str, Any]:
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "`Api-Key <key>`; create keys with `manage.py create_api_key` or in "
            "the admin.",
        }
