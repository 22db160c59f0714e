"""The base of every API viewset: list and retrieve, plus the rules of the query string.

The query string is checked once, here, before any filter or paginator reads it, so that the fast
filter path, django-filter and the paginators see the same, already-normalized parameters:

- NUL characters are refused (PostgreSQL cannot compare text with them): a 400, or a 404 in
  a path segment. The cursor is the paginator's to judge: any bad cursor is its 400
  ``invalid_cursor``.
- A parameter without a value (``?status=``) is a 400 ``blank``: leave the parameter out instead
  (except the view's ``blank_query_parameters``, whose empty value means something).
  So is an empty item of a list-valued one (``?ordering=,``, ``?tags=a,,b``): django-filter would
  drop it, and an ``ordering`` of nothing but empty items would leave a list unordered.
- List-valued filters (the FilterSet's comma-separated filters, e.g. ``tags``, ``ordering``) may
  be repeated, as clients generated from the OpenAPI document send them (``?tags=a&tags=b``), or
  comma-separated (``?tags=a,b``); both mean the same. Any other parameter given twice is a 400
  ``repeated_parameter`` rather than a silent choice of one of its values.
"""

from __future__ import annotations

from typing import Any

from django_filters.filters import BaseCSVFilter
from rest_framework import mixins, viewsets
from rest_framework.exceptions import ErrorDetail, NotFound, ValidationError
from rest_framework.request import Request


def _list_valued(view: Any) -> frozenset[str]:
    """Names of the query parameters that take several values on this view's action."""
    filterset = getattr(view, "filterset_class", None)
    if filterset is None or not getattr(view, "filter_backends", None):
        return frozenset()
    return frozenset(
        name for name, flt in filterset.base_filters.items() if isinstance(flt, BaseCSVFilter)
    )


def query_string_errors(
    request: Request, list_valued: frozenset[str], opaque: frozenset[str] = frozenset()
) -> dict[str, Any]:
    """The query string's errors by parameter; joins repeated list values with commas. The value
    of an ``opaque`` parameter (the cursor) is left to whoever decodes it."""
    errors: dict[str, list[ErrorDetail]] = {}
    joined: dict[str, str] = {}
    for name, values in request.query_params.lists():
        if "\x00" in name:
            errors[name] = [ErrorDetail("Null characters are not allowed.", code="invalid")]
        elif name in opaque and len(values) == 1:
            continue  # the paginator refuses any bad cursor, NUL or empty, as `invalid_cursor`
        elif any("\x00" in value for value in values):
            errors[name] = [ErrorDetail("Null characters are not allowed.", code="invalid")]
        elif any(value == "" for value in values) or (
            name in list_valued and any("" in value.split(",") for value in values)
        ):
            errors[name] = [ErrorDetail("Give a value, or leave the parameter out.", code="blank")]
        elif len(values) > 1:
            if name in list_valued:
                joined[name] = ",".join(values)
            else:
                errors[name] = [
                    ErrorDetail(
                        "Give this parameter once; only list-valued filters may be repeated.",
                        code="repeated_parameter",
                    )
                ]
    if joined and not errors:
        query = request._request.GET.copy()
        for name, value in joined.items():
            query.setlist(name, [value])
        query._mutable = False
        # what request.query_params returns from now on (the stubs want the immutable type)
        request._request.GET = query  # type: ignore[assignment]
    return errors


class APIViewSetMixin:
    # Parameters whose empty value means something (an empty namespace): the view's own
    # serializer judges them, as the paginator judges the cursor.
    blank_query_parameters: frozenset[str] = frozenset()

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        if any("\x00" in str(value) for value in kwargs.values()):
            raise NotFound()
        cursor = getattr(self.paginator, "cursor_query_param", None)  # type: ignore[attr-defined]
        opaque = self.blank_query_parameters | ({cursor} if cursor else set())
        bad = query_string_errors(request, _list_valued(self), frozenset(opaque))
        super().initial(request, *args, **kwargs)  # type: ignore[misc]
        if bad:  # after authentication and permissions: a stranger learns nothing from a 400
            raise ValidationError(bad)


class APIViewSet(
    APIViewSetMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """List and retrieve; writes are explicit methods and actions that call services."""
