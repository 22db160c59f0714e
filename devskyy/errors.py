"""Domain errors: what a service raises when a request cannot be carried out.

Plain Python, no DRF: services, the admin and management commands raise and catch these; the API
turns them into its one error format (``devskyy.api.exceptions``), the admin into a message, a
command into one line on stderr. Each error has a machine ``code`` (agents branch on it), a
human ``message`` and the HTTP ``status`` an API answers with; ``extra()`` adds structured fields
to the error body (e.g. ``sku`` and ``available`` for ``insufficient_stock``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar


class DomainError(Exception):
    code: ClassVar[str] = "conflict"
    status: ClassVar[int] = 409
    default_message: ClassVar[str] = "The request conflicts with the current state."

    def __init__(self, message: str | None = None) -> None:
        self.message = message or self.default_message
        super().__init__(self.message)

    def extra(self) -> dict[str, Any]:
        """Structured fields for the error body, beside ``code`` and ``detail``."""
        return {}


class Conflict(DomainError):
    code = "conflict"
    default_message = "A different record already exists under this key."


class InvalidTransition(DomainError):
    code = "invalid_transition"

    def __init__(self, *, current: str, target: str) -> None:
        super().__init__(f"Cannot go from '{current}' to '{target}'.")
        self.current, self.target = current, target

    def extra(self) -> dict[str, Any]:
        return {"current": self.current, "target": self.target}


class VersionMismatch(DomainError):
    code = "version_mismatch"
    status = 412
    default_message = "The record changed since you read it."


class NotPermitted(DomainError):
    """The caller may not do this to this record (checked by the service, under its lock)."""

    code = "permission_denied"
    status = 403
    default_message = "You may not do this."


class NotFound(DomainError):
    """The record named by the request does not exist (an id a service was given, not a row a
    view looked up: those are Django's ``Http404``)."""

    code = "not_found"
    status = 404
    default_message = "Not found."


@dataclass(frozen=True)
class FieldError:
    message: str
    code: str = "invalid"


# {"field": [FieldError, ...]} or, for lists of items, {"items": {"<index>": {...}}}
ErrorTree = Mapping[str, "list[FieldError] | ErrorTree"]


class InvalidInput(DomainError):
    """Input that fails a rule only a service can check (it needs the database): field-keyed
    like a serializer's errors, nested by item index for lists (``{"items": {"0": {...}}}``)."""

    code = "invalid"
    status = 400
    default_message = "Invalid input."

    def __init__(self, errors: ErrorTree) -> None:
        super().__init__()
        self.errors = errors
