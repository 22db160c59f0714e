"""Keyset (cursor) pagination, newest first, on ``(created_at, id)``.

Ties on ``created_at`` are normal (a bulk insert gives 500 rows one transaction timestamp), so the
key is the pair and the comparison is PostgreSQL's row comparison ``(created_at, id) < (%s, %s)``,
which a ``(..., created_at, id)`` index answers directly. No ``COUNT(*)``, no offsets.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
import re
import uuid
from collections.abc import Callable
from functools import partial
from typing import Any

import orjson
from django.db.models import F, QuerySet

# Django 5.2's row-comparison lookups (added for composite primary keys).
from django.db.models.fields.tuple_lookups import (  # type: ignore[import-untyped]
    Tuple,
    TupleGreaterThan,
    TupleLessThan,
)
from django.http import HttpResponse
from rest_framework import status
from rest_framework.exceptions import APIException, ErrorDetail, ValidationError
from rest_framework.pagination import BasePagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.utils.urls import replace_query_param


def _fetch_queryset(
    queryset: QuerySet[Any],
    position: tuple[dt.datetime, uuid.UUID] | None,
    backwards: bool,
    limit: int,
) -> list[Any]:
    key = Tuple(F("created_at"), F("pk"))
    if position is None:
        queryset = queryset.order_by("-created_at", "-pk")
    elif backwards:
        queryset = queryset.filter(TupleGreaterThan(key, position)).order_by("created_at", "pk")
    else:
        queryset = queryset.filter(TupleLessThan(key, position)).order_by("-created_at", "-pk")
    return list(queryset[:limit])


class InvalidCursor(APIException):
    status_code = status.HTTP_400_BAD_REQUEST
    default_code = "invalid_cursor"
    default_detail = "The cursor is not one this API issued; use a `next` or `previous` link."


# Cursors are URL-safe base64 of ``["<ISO timestamp>", "<uuid>", "n"|"p"]``: about 110 characters.
MAX_CURSOR_LENGTH = 200
_CURSOR = re.compile(r"[A-Za-z0-9_-]+={0,2}")


def page_size_from(request: Request, *, param: str, default: int, maximum: int) -> int:
    """The page size asked for in ``param``: a whole number from 1 to ``maximum``, else a 400
    (more than the maximum is refused, not silently cut: the caller would miss rows)."""
    raw = request.query_params.get(param)
    if raw is None:
        return default
    if not (raw.isascii() and raw.isdigit()):
        raise ValidationError({param: [ErrorDetail("A whole number is required.", code="invalid")]})
    digits = raw.lstrip("0") or "0"
    size = int(digits) if len(digits) <= 9 else maximum + 1  # int() refuses 4,300+ digits
    if size < 1:
        raise ValidationError(
            {param: [ErrorDetail("Ensure this value is at least 1.", code="min_value")]}
        )
    if size > maximum:
        raise ValidationError(
            {param: [ErrorDetail(f"Ensure this value is at most {maximum}.", code="max_value")]}
        )
    return size


class KeysetPagination(BasePagination):
    page_size = 50
    max_page_size = 200
    page_size_query_param = "page_size"
    cursor_query_param = "cursor"
    max_cursor_length = MAX_CURSOR_LENGTH

    def parse_key(self, raw: str) -> Any:
        """The row's key as a cursor holds it (a subclass keyed by text, not UUIDs, says so)."""
        return uuid.UUID(raw)

    def get_page_size(self, request: Request) -> int:
        return page_size_from(
            request,
            param=self.page_size_query_param,
            default=self.page_size,
            maximum=self.max_page_size,
        )

    def decode_cursor(self, request: Request) -> tuple[dt.datetime, Any, bool] | None:
        """The position a cursor names, or InvalidCursor (400) for anything this API did not
        issue: checked for length and alphabet before it is decoded, and read as JSON only
        after that (so no nesting can reach the decoder)."""
        raw = request.query_params.get(self.cursor_query_param)
        if raw is None:
            return None
        try:
            if len(raw) > self.max_cursor_length or not _CURSOR.fullmatch(raw):
                raise ValueError(raw)
            position = json.loads(base64.urlsafe_b64decode(raw))
            if type(position) is not list or [type(part) for part in position] != [str] * 3:
                raise ValueError(position)
            created_at, pk, direction = position
            moment, key = dt.datetime.fromisoformat(created_at), self.parse_key(pk)
            if direction not in ("n", "p") or moment.tzinfo is None:
                raise ValueError(direction)
            # In UTC: PostgreSQL takes offsets up to 15:59 only; Python's go to 23:59. An
            # offset that moves the moment out of range is an OverflowError.
            moment = moment.astimezone(dt.UTC)
        except (ValueError, TypeError, ArithmeticError, RecursionError, binascii.Error):
            raise InvalidCursor(
                {self.cursor_query_param: [ErrorDetail("Invalid cursor.", code="invalid_cursor")]}
            ) from None
        return moment, key, direction == "p"

    @staticmethod
    def encode_cursor(created_at: dt.datetime, pk: Any, direction: str) -> str:
        payload = json.dumps([created_at.isoformat(), str(pk), direction])
        return base64.urlsafe_b64encode(payload.encode()).decode("ascii")

    def _page(
        self,
        fetch: Callable[[tuple[dt.datetime, uuid.UUID] | None, bool, int], list[Any]],
        request: Request,
        keys: Callable[[Any], tuple[dt.datetime, Any]],
    ) -> list[Any]:
        """Fetch one page with ``fetch(position, backwards, limit)`` (rows after ``position``,
        newest first, or oldest first when going backwards); ``keys(row)`` gives (created_at, pk).
        """
        self.request = request
        size = self.get_page_size(request)
        cursor = self.decode_cursor(request)
        backwards = cursor is not None and cursor[2]
        rows = fetch(None if cursor is None else cursor[:2], backwards, size + 1)
        more = len(rows) > size
        rows = rows[:size]
        if backwards:
            rows.reverse()
        has_next = (more and not backwards) or (backwards and bool(rows))
        has_previous = (cursor is not None and not backwards and bool(rows)) or (backwards and more)
        self.next_cursor = self.encode_cursor(*keys(rows[-1]), "n") if has_next else None
        self.previous_cursor = self.encode_cursor(*keys(rows[0]), "p") if has_previous else None
        return rows

    def paginate_queryset(
        self, queryset: QuerySet[Any], request: Request, view: Any = None
    ) -> list[Any]:
        return self._page(
            partial(_fetch_queryset, queryset), request, lambda row: (row.created_at, row.pk)
        )

    def paginate_sql(self, fetch: Callable[..., list[Any]], request: Request) -> list[str]:
        """One page of rows rendered by PostgreSQL as JSON text: ``fetch`` is a
        ``KeysetListSQL.fetch`` with its conditions bound (see devskyy.api.sql_json)."""
        rows = self._page(fetch, request, lambda row: (row[1], row[2]))
        return [row[0] for row in rows]

    def _link(self, cursor: str | None) -> str | None:
        if cursor is None:
            return None
        url = self.request.build_absolute_uri()
        return replace_query_param(url, self.cursor_query_param, cursor)

    def get_paginated_response(self, data: Any) -> Response:
        return Response(
            {
                "next": self._link(self.next_cursor),
                "previous": self._link(self.previous_cursor),
                "results": data,
            }
        )

    def get_paginated_json_response(self, rows: list[str]) -> HttpResponse:
        """The same body as get_paginated_response, joined from pre-rendered rows."""
        links = orjson.dumps(
            {"next": self._link(self.next_cursor), "previous": self._link(self.previous_cursor)}
        )
        body = b"".join((links[:-1], b',"results":[', ",".join(rows).encode(), b"]}"))
        return HttpResponse(body, content_type="application/json")

    def get_paginated_response_schema(self, schema: dict[str, Any]) -> dict[str, Any]:
        link = {"type": "string", "nullable": True, "format": "uri"}
        return {
            "type": "object",
            "required": ["next", "previous", "results"],
            "properties": {"next": link, "previous": link, "results": schema},
        }

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        return [
            {
                "name": self.cursor_query_param,
                "required": False,
                "in": "query",
                "description": "Opaque cursor from a `next` or `previous` link; any other "
                "value is a 400 `invalid_cursor`.",
                "schema": {"type": "string", "maxLength": self.max_cursor_length},
            },
            {
                "name": self.page_size_query_param,
                "required": False,
                "in": "query",
                "description": f"Rows per page: 1 to {self.max_page_size} (default "
                f"{self.page_size}); more is a 400 `max_value`.",
                "schema": {"type": "integer", "minimum": 1, "maximum": self.max_page_size},
            },
        ]
