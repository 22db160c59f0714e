"""Post-mortem reports over HTTP: ``GET /api/v1/reports/`` and one path per report of
``agents_audit.reports.REPORTS`` (``/api/v1/reports/failed-tasks/``, ...), operators and admins
only.

Each report is its own path, so that the OpenAPI document states exactly what it takes: ``days``
(1 to 3660) only where the report has a window, and ``task`` (required) only for
``task-timeline``. A name that is no report is a 404 like any unknown path. Rows are objects
keyed by the report's columns; decimals are strings (exact), times ISO 8601 in UTC, ids text.

A response holds at most ``limit`` rows (default 100, at most 1000): the first ones in the
report's order; ``truncated`` says the window holds more (narrow it, or raise ``limit``).
"""

from __future__ import annotations

import datetime
import decimal
import uuid
from typing import Any, ClassVar

from drf_spectacular.utils import OpenApiParameter
from rest_framework import serializers
from rest_framework.exceptions import ErrorDetail, ValidationError
from rest_framework.generics import GenericAPIView
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.reverse import reverse

from agents_audit.api import task_serializers as s
from agents_audit.reports import DEFAULT_LIMIT, MAX_DAYS, MAX_LIMIT, REPORTS, Report, Row
from commerce.models import User
from devskyy.api.schema import AutoSchema
from devskyy.api.viewsets import APIViewSetMixin

_DATETIME = serializers.DateTimeField()


def _value(value: Any) -> Any:
    """One cell as JSON: decimals as exact strings, times ISO 8601 (UTC), ids as text."""
    if isinstance(value, decimal.Decimal | uuid.UUID):
        return str(value)
    if isinstance(value, datetime.datetime):
        return _DATETIME.to_representation(value)
    if isinstance(value, datetime.date):
        return value.isoformat()
    return value


def report_rows(rows: list[Row]) -> list[dict[str, Any]]:
    return [{name: _value(value) for name, value in row.items()} for row in rows]


def _window(report: Report) -> str:
    if report.days is None:
        return "It takes no window."
    return (
        f"`days` is the window, counted back from now (default {report.days}, at most {MAX_DAYS})."
    )


class ReportSchema(AutoSchema):
    """The operation of one report: its own parameters and row columns."""

    def _report(self) -> Report | None:
        return getattr(self.view, "report", None)

    def get_summary(self) -> str | None:
        report = self._report()
        return report.title if report else "List the post-mortem reports"

    def get_description(self) -> str:  # type: ignore[override]
        report = self._report()
        if report is None:
            return (
                "Operators and admins: the post-mortem reports, each with its path, window "
                "and columns."
            )
        task = " `task` (required) is the task's id." if report.takes_task else ""
        return (
            f"Operators and admins (agents: 403). {_window(report)}{task} The rows are objects "
            f"with the columns {', '.join(f'`{c}`' for c in report.columns)}; decimals are "
            f"strings, times ISO 8601 in UTC. At most `limit` rows (default {DEFAULT_LIMIT}, at "
            f"most {MAX_LIMIT}), the first in the report's order; `truncated` is true when there "
            "are more. A bad parameter is a 400 under its name."
        )

    def get_override_parameters(self) -> list[Any]:
        parameters = list(super().get_override_parameters())
        report = self._report()
        if report is not None and report.days is not None:
            parameters.append(
                OpenApiParameter(
                    "days",
                    {"type": "integer", "minimum": 1, "maximum": MAX_DAYS},
                    required=False,
                    description=f"The window in days (default {report.days}).",
                )
            )
        if report is not None:
            parameters.append(
                OpenApiParameter(
                    "limit",
                    {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT},
                    required=False,
                    description=f"The most rows to return (default {DEFAULT_LIMIT}).",
                )
            )
        if report is not None and report.takes_task:
            parameters.append(
                OpenApiParameter(
                    "task",
                    {"type": "string", "format": "uuid"},
                    required=True,
                    description="The task's id (an unknown task has no rows).",
                )
            )
        return parameters

    def get_response_serializers(self) -> Any:
        report = self._report()
        if report is None:
            return s.ReportSummarySerializer(many=True)
        row = {
            "type": "object",
            "properties": {name: {} for name in report.columns},
            "required": list(report.columns),
        }
        return {
            200: {
                "type": "object",
                "properties": {
                    "report": {"type": "string", "enum": [report.name]},
                    "title": {"type": "string"},
                    "days": {"type": "integer", "nullable": True},
                    "columns": {"type": "array", "items": {"type": "string"}},
                    "rows": {"type": "array", "items": row},
                    "limit": {"type": "integer"},
                    "truncated": {"type": "boolean"},
                },
                "required": ["report", "title", "days", "columns", "rows", "limit", "truncated"],
            }
        }


class _ReportBase(APIViewSetMixin, GenericAPIView):
    roles: ClassVar[dict[str, Any]] = {"get": User.STAFF_ROLES}
    pagination_class = None
    filter_backends: list[Any] = []
    schema = ReportSchema()


class ReportListView(_ReportBase):
    def get(self, request: Request) -> Response:
        return Response(
            [
                {
                    "name": report.name,
                    "title": report.title,
                    "url": reverse(f"report-{report.name}", request=request),
                    "default_days": report.days,
                    "takes_task": report.takes_task,
                    "columns": list(report.columns),
                }
                for report in REPORTS.values()
            ]
        )


class ReportView(_ReportBase):
    report: Report | None = None  # set per path by as_view(report=...)

    def get(self, request: Request) -> Response:
        report = self.report
        assert report is not None  # every route sets it
        days = (
            _whole_number(request, "days", f"days from 1 to {MAX_DAYS}")
            if report.days is not None
            else None
        )
        limit = _whole_number(request, "limit", f"rows from 1 to {MAX_LIMIT}")
        task = request.query_params.get("task") if report.takes_task else None
        result = report.run(days=days, task=task, limit=DEFAULT_LIMIT if limit is None else limit)
        return Response(
            {
                "report": report.name,
                "title": report.title,
                "days": report.days if days is None else days,
                "columns": list(report.columns),
                "rows": report_rows(result.rows),
                "limit": result.limit,
                "truncated": result.more,
            }
        )


def _whole_number(request: Request, name: str, what: str) -> int | None:
    """A query parameter holding a whole number (the report checks its range), or ``None``."""
    raw = request.query_params.get(name)
    if raw is None:
        return None
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 9:
        raise ValidationError(
            {name: [ErrorDetail(f"Give a whole number of {what}.", code="invalid")]}
        )
    return int(raw)
