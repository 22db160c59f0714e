"""Log in with a username or an email address (the admin's login form, the browsable API)."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.backends import ModelBackend
from django.db.models import Q
from django.http import HttpRequest

from commerce.models import User


class UsernameOrEmailBackend(ModelBackend):
    """Authenticate by username or (case-insensitive) email.

    Permissions come from ``User.role`` (``User.has_perm``), not from Django's permission tables,
    so this backend only authenticates.
    """

    def authenticate(
        self,
        request: HttpRequest | None,
        username: str | None = None,
        password: str | None = None,
        **kwargs: Any,
    ) -> User | None:
        login = username if username is not None else kwargs.get(User.USERNAME_FIELD)
        if not login or password is None:
            return None
        user = User.objects.filter(Q(username=login) | Q(email__iexact=login)).first()
        if user is None:
            # Run the hasher anyway so that response time does not reveal which logins exist.
            User().set_password(password)
            return None
        if user.check_password(password) and self.user_can_authenticate(user):
            return user
        return None

    def get_user(self, user_id: Any) -> User | None:
        user = User.objects.filter(pk=user_id).first()
        return user if user is not None and self.user_can_authenticate(user) else None
