"""Login lockout with django-axes: the pieces that fit it to this project (settings: AXES_*).

- ``LoginLockoutBackend``: axes' backend, which must come first in ``AUTHENTICATION_BACKENDS``.
- ``canonical_login``: the name axes counts failures under, one per account.
- ``client_ip``: the address axes counts failures under, right behind reverse proxies.
"""

from __future__ import annotations

import ipaddress
from typing import Any

from axes.backends import AxesStandaloneBackend
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db.models import Q
from django.http import HttpRequest


class LoginLockoutBackend(AxesStandaloneBackend):
    """Refuse a login that axes has locked out; authenticate nobody itself.

    Every login over HTTP passes its request to ``authenticate()`` (the admin's login form,
    DRF's basic authentication); axes counts and locks those. A call without a request is the
    code of this process itself (a management command, the shell, a test): it is not an attempt
    from a client and is let through to the next backend instead of failing, as axes would.
    """

    def authenticate(
        self,
        request: HttpRequest | None,
        username: str | None = None,
        password: str | None = None,
        **kwargs: Any,
    ) -> None:
        if request is None:
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)


def canonical_login(request: HttpRequest, credentials: dict[str, Any] | None) -> str | None:
    """The account a login names, so that all its spellings share one failure counter.

    The login form takes a username or an email (any case: commerce.auth_backends); counting
    "Admin@Example.com" apart from "admin@example.com" would give an attacker a fresh set of
    tries per spelling. A login that names an account counts as that account's username; any
    other counts as itself, lowercased.
    """
    field = settings.AXES_USERNAME_FORM_FIELD
    source = credentials if credentials is not None else getattr(request, "POST", {})
    login = source.get(field) if source else None
    if not login or not isinstance(login, str):
        return None
    user_model = get_user_model()
    found = (
        user_model._default_manager.filter(Q(username=login) | Q(email__iexact=login))
        .values_list("username", flat=True)
        .first()
    )
    return found if found is not None else login.lower()


def client_ip(request: HttpRequest) -> str | None:
    """The client's address: the socket's, or with ``TRUSTED_PROXY_COUNT`` proxies in front,
    the entry of ``X-Forwarded-For`` that the outermost trusted proxy appended.

    Each proxy appends the address it received the request from, so the entry that many places
    from the right was written by a proxy we trust; entries further left are the client's to
    forge. With fewer entries than proxies (the request did not come through them), or an entry
    that is not an address, the socket's address is used.
    """
    proxies = settings.TRUSTED_PROXY_COUNT
    if proxies > 0:
        forwarded = [
            part.strip()
            for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
            if part.strip()
        ]
        if len(forwarded) >= proxies:
            try:
                return str(ipaddress.ip_address(forwarded[-proxies]))
            except ValueError:
                pass
    return request.META.get("REMOTE_ADDR")
