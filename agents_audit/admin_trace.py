"""The operator console's trace view (issue 11): one page with everything that shares a
correlation id, a task or a thread on one timeline, and a "trace" link on every admin row that
carries such an id.

The page is ``/admin/agents_audit/toolexecution/trace/?correlation_id=<id>`` (or
``?task=<uuid>``, ``?job=<id>``, ``?thread=<thread id>``, ``?agent_execution=<execution id>``):
the id is a query parameter, so any id (slashes, dots, spaces) reaches the view as it is, and one
with a NUL is dropped by ``AdminNulQueryMiddleware``.
What a trace holds is ``agents_audit.trace``'s business; this module renders it.
"""

from __future__ import annotations

import functools
import urllib.parse
from datetime import UTC
from typing import Any

from django.contrib import admin
from django.contrib.admin.utils import quote
from django.core.exceptions import PermissionDenied
from django.db.models import Model
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import get_script_prefix, path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.http import urlencode

from agents_audit.models import (
    AgentExecution,
    Checkpoint,
    CheckpointThread,
    Event,
    EventSubject,
    ExecutionLog,
    Job,
    Task,
    ToolExecution,
)
from agents_audit.trace import KIND_LIMIT, KINDS, Kind, Root, TimelineEntry, timeline, trace_for
from devskyy.admin import human_duration, pretty_json, status_badge

TRACE_URL_NAME = "agents_audit_trace"


def trace_url(root: str, key: str) -> str:
    return f"{reverse(f'admin:{TRACE_URL_NAME}')}?{urlencode({root: key})}"


def trace_target(obj: Model) -> tuple[str, str] | None:
    """The trace a row belongs to, as ``(root, key)``; None for a row with no id to trace."""
    if isinstance(obj, ToolExecution):
        return Root.CORRELATION, obj.correlation_id
    if isinstance(obj, AgentExecution):
        return Root.AGENT_EXECUTION, obj.execution_id
    if isinstance(obj, Event):
        if obj.correlation_id:
            return Root.CORRELATION, obj.correlation_id
        if obj.subject_type == EventSubject.TASK:
            return Root.TASK, obj.subject_id
        if obj.subject_type == EventSubject.JOB:
            return Root.JOB, obj.subject_id
        return None
    if isinstance(obj, Task):
        return Root.TASK, str(obj.pk)
    if isinstance(obj, ExecutionLog | Job):
        return Root.TASK, str(obj.task_id)
    if isinstance(obj, CheckpointThread):
        return Root.THREAD, obj.thread_id
    if isinstance(obj, Checkpoint):
        return Root.THREAD, obj.thread_id
    return None


class TraceLinkMixin:
    """A "trace" column on the changelist and a "trace" line on the change page, linking each row
    to the trace of its correlation id, task or thread (nothing for a row with none)."""

    def get_list_display(self, request: HttpRequest) -> Any:
        return (*super().get_list_display(request), "trace_link")  # type: ignore[misc]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        readonly = tuple(super().get_readonly_fields(request, obj))  # type: ignore[misc]
        return readonly if obj is None else (*readonly, "trace_link")

    def get_fieldsets(self, request: HttpRequest, obj: Any = None) -> Any:
        fieldsets = list(super().get_fieldsets(request, obj))  # type: ignore[misc]
        if obj is None:
            return fieldsets
        return [
            *(
                (name, {**options, "fields": [f for f in options["fields"] if f != "trace_link"]})
                for name, options in fieldsets
            ),
            ("Trace", {"fields": ("trace_link",)}),
        ]

    @admin.display(description="trace")
    def trace_link(self, obj: Model) -> str:
        target = trace_target(obj)
        if target is None:
            return "-"
        root, key = target
        return format_html(
            '<a class="trace-link" href="{}" title="Everything that shares this {}, on one '
            'timeline">trace</a>',
            trace_url(root, key),
            ROOT_LABELS[root],
        )


ROOT_LABELS = {
    Root.CORRELATION: "correlation id",
    Root.TASK: "task",
    Root.JOB: "job",
    Root.THREAD: "thread",
    Root.AGENT_EXECUTION: "agent execution",
}


def _utc_ms(value: Any) -> str:
    """A time to the millisecond, in UTC: ``2026-11-27 05:43:26.123 UTC``."""
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")[:-3] + " UTC"


def offset_text(milliseconds: int) -> str:
    """An offset from the first entry: ``+0.000 s``, ``+12.345 s``, ``+2 min 03.456 s``,
    ``+1 h 02 min 03.456 s``."""
    seconds, ms = divmod(milliseconds, 1000)
    minutes, seconds = divmod(seconds, 60)
    hours, minutes = divmod(minutes, 60)
    if hours:
        return f"+{hours} h {minutes:02d} min {seconds:02d}.{ms:03d} s"
    if minutes:
        return f"+{minutes} min {seconds:02d}.{ms:03d} s"
    return f"+{seconds}.{ms:03d} s"


_PK = "TRACEPK"


@functools.cache
def _change_url_pattern(app_label: str, model_name: str, script_prefix: str) -> str:
    return reverse(f"admin:{app_label}_{model_name}_change", args=[_PK])


def _change_url(app_label: str, model_name: str, pk: Any) -> str:
    """``reverse()`` of a row's change page (a test holds them equal), without resolving the
    pattern for each of a trace's rows (a fifth of a large page's time): the admin's quoting of
    the key, then the percent-encoding ``reverse`` applies."""
    key = urllib.parse.quote(quote(str(pk)), safe="!$&'()*+,;=/~:@")
    pattern = _change_url_pattern(app_label, model_name, get_script_prefix())
    return pattern.replace(_PK, key, 1)


def _row(placed: TimelineEntry) -> dict[str, Any]:
    """One timeline row's values, and its ``html``."""
    entry = placed.entry
    opts = entry.obj._meta
    row = {
        "kind": entry.kind.name,
        "kind_label": entry.kind.label,
        "at": _utc_ms(entry.at),
        "at_iso": entry.at.isoformat(),
        "offset": offset_text(placed.offset_ms),
        "offset_ms": placed.offset_ms,
        "duration": None if entry.duration_ms is None else human_duration(entry.duration_ms),
        "duration_ms": entry.duration_ms,
        "left": f"{placed.left:.3f}",
        "width": f"{placed.width:.3f}",
        "status": status_badge(entry.status, entry.status_label),
        "title": entry.title,
        "summary": entry.summary,
        "error": entry.error,
        "url": _change_url(opts.app_label, opts.model_name, entry.obj.pk),
        "json": [(label, pretty_json(value)) for label, value in entry.json if value is not None],
    }
    row["html"] = _row_html(row)
    return row


# A timeline row, written here rather than in the template: a trace may show thousands of rows,
# and the template engine took about a millisecond a row (1.2 s for 1,500 rows) where
# format_html takes a few dozen microseconds. The classes are the page's stable hooks (see
# trace.html).
ROW_HTML = (
    '<tr class="trace-entry trace-kind-{kind}{bad}" data-kind="{kind}" '
    'data-offset-ms="{offset_ms}"{duration_attribute}>'
    '<td class="trace-time"><time datetime="{at_iso}">{at}</time></td>'
    '<td class="trace-offset">{offset}</td>'
    '<td class="trace-what"><span class="trace-kind">{kind_label}</span> '
    '<a href="{url}">{title}</a>{summary}{error}{json}</td>'
    '<td class="trace-status">{status}</td>'
    '<td class="trace-duration">{duration}</td>'
    '<td class="trace-timeline-cell"><div class="trace-track">{bar}</div></td>'
    "</tr>"
)


def _row_html(row: dict[str, Any]) -> str:
    if row["duration_ms"] is None:
        bar = format_html(
            '<span class="trace-bar trace-bar-tick" style="left: {}%"></span>', row["left"]
        )
        duration_attribute = ""
    else:
        bar = format_html(
            '<span class="trace-bar trace-bar-span" style="left: {}%; width: {}%" '
            'title="{}"></span>',
            row["left"],
            row["width"],
            row["duration"],
        )
        duration_attribute = format_html(' data-duration-ms="{}"', row["duration_ms"])
    return format_html(
        ROW_HTML,
        kind=row["kind"],
        bad=" trace-entry-bad" if row["error"] else "",
        offset_ms=row["offset_ms"],
        duration_attribute=duration_attribute,
        at_iso=row["at_iso"],
        at=row["at"],
        offset=row["offset"],
        kind_label=row["kind_label"],
        url=row["url"],
        title=row["title"],
        summary=format_html('<div class="trace-summary">{}</div>', row["summary"])
        if row["summary"]
        else "",
        error=format_html('<div class="trace-error">{}</div>', row["error"])
        if row["error"]
        else "",
        json=format_html_join(
            "",
            '<details class="trace-json"><summary>{}</summary>{}</details>',
            row["json"],
        ),
        status=row["status"],
        duration=row["duration"] or "-",
        bar=bar,
    )


def _root_and_key(request: HttpRequest) -> tuple[str | None, str]:
    for root in Root.ALL:
        if root in request.GET:
            return root, request.GET[root].strip()
    return None, ""


class TraceViewMixin(TraceLinkMixin):
    """Serves the trace page from the admin it is mixed into (its URLs, its permission)."""

    admin_site: admin.AdminSite

    def get_urls(self) -> list[Any]:
        view = self.admin_site.admin_view(self.trace_view)
        return [path("trace/", view, name=TRACE_URL_NAME), *super().get_urls()]  # type: ignore[misc]

    def _permitted(self, request: HttpRequest) -> Any:
        registry = self.admin_site._registry

        def permitted(kind: Kind) -> bool:
            model_admin = registry.get(kind.model)
            return model_admin is not None and model_admin.has_view_permission(request)

        return permitted

    def trace_view(self, request: HttpRequest) -> HttpResponse:
        """The timeline of a correlation id, task, job or thread. An id that names nothing is an
        empty timeline that says so."""
        permitted = self._permitted(request)
        if not any(permitted(kind) for kind in KINDS):
            raise PermissionDenied
        root, key = _root_and_key(request)
        trace = None if root is None else trace_for(root, key, permitted=permitted)
        rows = [] if trace is None else [_row(p) for p in timeline(trace)]
        truncated = (
            []
            if trace is None
            else [(k.kind.label, k.more) for k in trace.kinds.values() if k.more > 0]
        )
        opts = ToolExecution._meta
        context = {
            **self.admin_site.each_context(request),
            "title": "Trace" if root is None else f"Trace of {ROOT_LABELS[root]} {key}",
            "opts": opts,
            "root": root,
            "root_label": None if root is None else ROOT_LABELS[root],
            "key": key,
            "trace": trace,
            "rows": rows,
            "truncated": truncated,
            "kind_limit": KIND_LIMIT,
        }
        return TemplateResponse(request, "admin/agents_audit/trace.html", context)
