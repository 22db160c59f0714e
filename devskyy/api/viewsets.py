"""The base of every API viewset: list and retrieve, plus checks of the URL that keep
hostile input (NUL characters in query strings or path segments) away from PostgreSQL."""

from __future__ import annotations

from typing import Any

from rest_framework import mixins, viewsets
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.request import Request


class APIViewSetMixin:
    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        cursor = getattr(self.paginator, "cursor_query_param", None)  # type: ignore[attr-defined]
        bad = {
            name: ["Null characters are not allowed."]
            for name, values in request.query_params.lists()
            if name != cursor  # the paginator refuses any bad cursor as `invalid_cursor`
            and ("\x00" in name or any("\x00" in value for value in values))
        }
        if any("\x00" in str(value) for value in kwargs.values()):
            raise NotFound()
        super().initial(request, *args, **kwargs)  # type: ignore[misc]
        if bad:
            raise ValidationError(bad)


class ReadOnlyModelViewSet(
    APIViewSetMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """List and retrieve; writes are explicit methods and actions that call services."""
