"""Keyset (cursor) pagination, newest first, on ``(created_at, id)``.

Ties on ``created_at`` are normal (a bulk insert gives 500 rows one transaction timestamp), so the
key is the pair and the comparison is PostgreSQL's row comparison ``(created_at, id) < (%s, %s)``,
which a ``(..., created_at DESC, id DESC)`` index answers directly. No ``COUNT(*)``, no offsets.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
import uuid
from typing import Any

from django.db.models import F, QuerySet

# Django 5.2's row-comparison lookups (added for composite primary keys).
from django.db.models.fields.tuple_lookups import (  # type: ignore[import-untyped]
    Tuple,
    TupleGreaterThan,
    TupleLessThan,
)
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import BasePagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.utils.urls import replace_query_param


class KeysetPagination(BasePagination):
    page_size = 50
    max_page_size = 200
    page_size_query_param = "page_size"
    cursor_query_param = "cursor"

    def get_page_size(self, request: Request) -> int:
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None:
            return self.page_size
        try:
            size = int(raw)
        except ValueError:
            size = 0
        if size < 1:
            raise ValidationError(
                {self.page_size_query_param: ["Must be a positive integer."]}, code="invalid"
            )
        return min(size, self.max_page_size)

    def decode_cursor(self, request: Request) -> tuple[dt.datetime, uuid.UUID, bool] | None:
        raw = request.query_params.get(self.cursor_query_param)
        if raw is None:
            return None
        try:
            created_at, pk, direction = json.loads(base64.urlsafe_b64decode(raw.encode("ascii")))
            position = dt.datetime.fromisoformat(created_at), uuid.UUID(pk)
            if direction not in ("n", "p") or position[0].tzinfo is None:
                raise ValueError(direction)
        except (ValueError, TypeError, UnicodeEncodeError, binascii.Error):
            raise ValidationError({self.cursor_query_param: ["Invalid cursor."]}) from None
        return position[0], position[1], direction == "p"

    @staticmethod
    def encode_cursor(row: Any, direction: str) -> str:
        payload = json.dumps([row.created_at.isoformat(), str(row.pk), direction])
        return base64.urlsafe_b64encode(payload.encode()).decode("ascii")

    def paginate_queryset(
        self, queryset: QuerySet[Any], request: Request, view: Any = None
    ) -> list[Any]:
        self.request = request
        size = self.get_page_size(request)
        cursor = self.decode_cursor(request)
        key = Tuple(F("created_at"), F("pk"))
        backwards = cursor is not None and cursor[2]
        if cursor is None:
            queryset = queryset.order_by("-created_at", "-pk")
        elif backwards:
            queryset = queryset.filter(TupleGreaterThan(key, cursor[:2])).order_by(
                "created_at", "pk"
            )
        else:
            queryset = queryset.filter(TupleLessThan(key, cursor[:2])).order_by(
                "-created_at", "-pk"
            )
        rows = list(queryset[: size + 1])
        more = len(rows) > size
        rows = rows[:size]
        if backwards:
            rows.reverse()
        has_next = (more and not backwards) or (backwards and bool(rows))
        has_previous = (cursor is not None and not backwards and bool(rows)) or (backwards and more)
        self.next_cursor = self.encode_cursor(rows[-1], "n") if has_next else None
        self.previous_cursor = self.encode_cursor(rows[0], "p") if has_previous else None
        return rows

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
                "description": "Opaque cursor from a `next` or `previous` link.",
                "schema": {"type": "string"},
            },
            {
                "name": self.page_size_query_param,
                "required": False,
                "in": "query",
                "description": f"Rows per page (default {self.page_size}, at most "
                f"{self.max_page_size}).",
                "schema": {"type": "integer", "minimum": 1, "maximum": self.max_page_size},
            },
        ]
