"""``Authorization: Api-Key <key>``: resolve a hashed API key to the user who owns it."""

from __future__ import annotations

from typing import Any

from django.utils import timezone
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication
from rest_framework.request import Request

KEYWORD = "Api-Key"


class APIKeyAuthentication(BaseAuthentication):
    """Authenticate with an API key (djangorestframework-api-key: SHA-512, looked up by prefix).

    ``request.user`` is the key's owner and ``request.auth`` the key. A request without the header
    is left to the next authenticator (the session); a wrong, revoked or expired key, or an
    inactive owner, is a 401 with no hint which of these it was.
    """

    def authenticate(self, request: Request) -> tuple[Any, Any] | None:
        header = request.META.get("HTTP_AUTHORIZATION", "")
        keyword, _, key = header.partition(" ")
        if keyword != KEYWORD:
            return None
        key = key.strip()
        if not key or len(key) > 100 or "\x00" in key:
            raise exceptions.AuthenticationFailed("Invalid API key.")
        return self._resolve(key)

    def _resolve(self, key: str) -> tuple[Any, Any]:
        from commerce.models import UserAPIKey

        prefix, _, _ = key.partition(".")
        api_key = (
            UserAPIKey.objects.select_related("user").filter(prefix=prefix, revoked=False).first()
        )
        if (
            api_key is None
            or not api_key.is_valid(key)
            or (api_key.expiry_date is not None and api_key.expiry_date <= timezone.now())
            or not api_key.user.is_active
        ):
            raise exceptions.AuthenticationFailed("Invalid API key.")
        return api_key.user, api_key

    def authenticate_header(self, request: Request) -> str:
        return KEYWORD
