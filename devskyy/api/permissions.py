"""Role-based access: each view says which roles may call each action.

Visibility of rows is not decided here but in each view's ``get_queryset`` (a selector), so that
list, detail and filters always agree and another caller's record is a 404, never a 403.
"""

from __future__ import annotations

from typing import Any

from rest_framework.exceptions import NotAuthenticated
from rest_framework.permissions import BasePermission
from rest_framework.request import Request

from commerce.models import User

AGENT = "agent"
CUSTOMER = "customer"
OPERATOR = "operator"
ADMIN = "admin"
STAFF = frozenset({OPERATOR, ADMIN})
API_USERS = frozenset({AGENT, OPERATOR, ADMIN})
# Commerce (the catalogue, orders, users/me) is also for customers, with a session.
SHOPPERS = frozenset({CUSTOMER, AGENT, OPERATOR, ADMIN})
ADMINS = frozenset({ADMIN})


class RolePermission(BasePermission):
    """Allow the roles named in the view's ``roles`` map for the current action.

    ``roles = {"list": API_USERS, "create": {AGENT}, "*": STAFF}``; ``"*"`` is the default. A view
    that names no roles is for staff only, so a forgotten map fails closed.
    """

    message = "Your role may not do this."

    def has_permission(self, request: Request, view: Any) -> bool:
        user = request.user
        if not user or not user.is_authenticated or not user.is_active:
            return False
        roles: dict[str, frozenset[str]] = getattr(view, "roles", {})
        if hasattr(view, "action") and view.action is None:
            return True  # a method the view does not have: let DRF answer 405
        if getattr(view, "action", None) == "metadata":
            return user.role in API_USERS  # OPTIONS
        action = getattr(view, "action", None) or (request.method or "").lower()
        allowed = roles.get(action, roles.get("*", STAFF))
        return user.role in allowed


def caller(request: Request) -> User:
    """The authenticated user of a request that passed ``RolePermission``."""
    user = request.user
    if not isinstance(user, User):  # pragma: no cover - RolePermission ran first
        raise NotAuthenticated()
    return user


def is_staff(user: Any) -> bool:
    return bool(user.is_authenticated and user.is_active and user.role in STAFF)
