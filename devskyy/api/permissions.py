"""Role-based access: each view says which roles may call each action.

The roles themselves are the user model's (``settings.AUTH_USER_MODEL``'s ``role`` field and its
role groups); this module only reads ``user.role``, ``user.is_staff`` and ``user.can_use_api``.
Visibility of rows is not decided here but in each view's ``get_queryset`` (a selector), so that
list, detail and filters always agree and another caller's record is a 404, never a 403.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from rest_framework.permissions import BasePermission
from rest_framework.request import Request


class RolePermission(BasePermission):
    """Allow the roles named in the view's ``roles`` map for the current action.

    ``roles = {"list": User.API_ROLES, "create": {User.Role.AGENT}, "*": User.STAFF_ROLES}``;
    ``"*"`` is the default. A view or action that the map does not name is for staff only, so a
    forgotten map fails closed.
    """

    message = "Your role may not do this."

    def has_permission(self, request: Request, view: Any) -> bool:
        user = request.user
        if not user or not user.is_authenticated or not user.is_active:
            return False
        if hasattr(view, "action") and view.action is None:
            return True  # a method the view does not have: let DRF answer 405
        if getattr(view, "action", None) == "metadata":
            return bool(getattr(user, "can_use_api", False))  # OPTIONS
        roles: dict[str, Collection[str]] = getattr(view, "roles", {})
        action = getattr(view, "action", None) or (request.method or "").lower()
        allowed = roles.get(action, roles.get("*"))
        if allowed is None:
            return bool(user.is_staff)
        return getattr(user, "role", None) in allowed
