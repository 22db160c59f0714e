"""The admin index's dashboard: a registry of panels that the apps fill from their
``AppConfig.ready()`` (the plumbing knows no app), each panel's data cached briefly, and the
server-side SVG charts the panels draw with.

A panel is one aggregate query (``load``, given the time it is computed for) and a renderer of
its result (``render``). ``load`` returns plain, picklable data: that is what the cache keeps for
``ADMIN_DASHBOARD_CACHE_SECONDS``, so a second view of the index within that time runs no
aggregate query at all. A panel is shown only to users holding its ``permission`` (the view
permission of the model it reads).

Every text in a chart is escaped (``format_html``): tool names and error messages are whatever
an agent sent, and a ``<script>`` in one must show as text, in the HTML and in the SVG alike.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import DatabaseError
from django.db.models import Aggregate, FloatField
from django.http import HttpRequest
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

CACHE_KEY_PREFIX = "devskyy:dashboard:v1:"

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Panel:
    key: str  # the panel's element id is ``dashboard-<key>``
    title: str
    permission: str  # e.g. "agents_audit.view_toolexecution"
    load: Callable[[datetime], Any]  # the one aggregate query, for the given "now"
    render: Callable[[Any], SafeString]  # HTML of the loaded data (a non-empty result)
    is_empty: Callable[[Any], bool] = field(default=lambda data: not data)
    order: int = 100


@dataclass(frozen=True)
class PanelView:
    """A panel as the index renders it."""

    panel: Panel
    computed_at: datetime
    body: SafeString | None  # None: "no data" (or the query failed)
    failed: bool = False


_panels: dict[str, Panel] = {}


def register(panel: Panel) -> None:
    """Add (or replace, by ``key``) a panel of the admin index's dashboard."""
    _panels[panel.key] = panel


def unregister(key: str) -> None:
    _panels.pop(key, None)


def registered_panels() -> list[Panel]:
    return sorted(_panels.values(), key=lambda panel: (panel.order, panel.key))


def panel_data(panel: Panel) -> tuple[datetime, Any]:
    """``(computed_at, data)``: from the cache, or computed now and cached."""
    key = CACHE_KEY_PREFIX + panel.key
    cached = cache.get(key)
    if cached is not None:
        return cached
    now = timezone.now()
    entry = (now, panel.load(now))
    cache.set(key, entry, settings.ADMIN_DASHBOARD_CACHE_SECONDS)
    return entry


def dashboard_panels(request: HttpRequest) -> list[PanelView]:
    """The panels ``request.user`` may see, loaded (or read from the cache) and rendered."""
    user = request.user
    views = []
    for panel in registered_panels():
        if not user.has_perm(panel.permission):
            continue
        try:
            computed_at, data = panel_data(panel)
        except DatabaseError:
            # A panel whose query fails (a statement timeout) must not take the admin index
            # down with it: the operators need the rest of the page most in an incident. The
            # request runs in autocommit (ATOMIC_REQUESTS is off), so the next query is fine.
            logger.exception("The dashboard panel %r failed", panel.key)
            views.append(PanelView(panel, timezone.now(), body=None, failed=True))
            continue
        body = None if panel.is_empty(data) else panel.render(data)
        views.append(PanelView(panel=panel, computed_at=computed_at, body=body))
    return views


def days_ending(now: datetime, count: int) -> tuple[datetime, list[date]]:
    """The ``count`` days (in the current time zone, UTC) up to and including ``now``'s, oldest
    first, and the moment the first one starts: the window of a daily series."""
    today = timezone.localdate(now)
    days = [today - timedelta(days=offset) for offset in range(count - 1, -1, -1)]
    return timezone.make_aware(datetime.combine(days[0], time.min)), days


# --- charts ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Segment:
    value: float
    css_class: str  # e.g. "bar-ok", "bar-failed"; the stylesheet colours it


@dataclass(frozen=True)
class Bar:
    label: str
    segments: Sequence[Segment]
    text: str  # the value as shown at the bar's end, e.g. "1,204 calls"
    title: str = ""  # tooltip; defaults to "label: text"


_FILLS = {  # used when the stylesheet is missing (an SVG saved on its own)
    "bar-ok": "#417690",
    "bar-failed": "#ba2121",
    "bar-timeout": "#e0a800",
    "bar-p50": "#417690",
    "bar-p95": "#79aec8",
    "bar-muted": "#b8c4ce",
}


def _fill(css_class: str) -> str:
    return _FILLS.get(css_class, "#417690")


def bar_chart(
    bars: Sequence[Bar], *, label_width: int = 170, label_chars: int = 26, width: int = 520
) -> SafeString:
    """Horizontal bars, one per row, scaled to the longest; a bar may be stacked segments.
    Labels longer than ``label_chars`` are shortened (the tooltip has them whole)."""
    row_height, bar_height = 22, 14
    text_width = 110
    plot_width = width - label_width - text_width
    largest = max((sum(s.value for s in bar.segments) for bar in bars), default=0) or 1
    rows = []
    for index, bar in enumerate(bars):
        y = index * row_height
        x = float(label_width)
        rects = []
        for segment in bar.segments:
            length = plot_width * segment.value / largest
            if length > 0:
                rects.append(
                    format_html(
                        '<rect class="{}" x="{}" y="{}" width="{}" height="{}" fill="{}"></rect>',
                        segment.css_class,
                        f"{x:.1f}",
                        y + (row_height - bar_height) // 2,
                        f"{length:.1f}",
                        bar_height,
                        _fill(segment.css_class),
                    )
                )
            x += length
        rows.append(
            format_html(
                '<g class="bar-row"><title>{}</title>'
                '<text class="bar-label" x="{}" y="{}" text-anchor="end">{}</text>{}'
                '<text class="bar-value" x="{}" y="{}">{}</text></g>',
                bar.title or f"{bar.label}: {bar.text}",
                label_width - 6,
                y + 15,
                _shorten(bar.label, label_chars),
                SafeString("".join(rects)),
                f"{x + 4:.1f}",
                y + 15,
                bar.text,
            )
        )
    height = max(len(bars), 1) * row_height
    return format_html(
        '<svg class="dashboard-chart bar-chart" role="img" viewBox="0 0 {} {}" width="{}" '
        'height="{}" xmlns="http://www.w3.org/2000/svg" font-size="11">{}</svg>',
        width,
        height,
        width,
        height,
        SafeString("".join(rows)),
    )


def day_columns(
    days: Sequence[tuple[date, float, str]], *, width: int = 520, height: int = 120
) -> SafeString:
    """Vertical columns, one per day (oldest first): ``(day, value, text)``; the day's value as
    text in the tooltip, the day of the month under each column."""
    label_height = 16
    plot_height = height - label_height - 4
    slot = width / max(len(days), 1)
    largest = max((value for _, value, _ in days), default=0) or 1
    columns = []
    for index, (day, value, text) in enumerate(days):
        column_height = plot_height * value / largest
        x = index * slot
        columns.append(
            format_html(
                '<g class="day-column"><title>{}: {}</title>'
                '<rect class="bar-ok" x="{}" y="{}" width="{}" height="{}" fill="{}"></rect>'
                '<text class="day-label" x="{}" y="{}" text-anchor="middle">{}</text></g>',
                day.isoformat(),
                text,
                f"{x + slot * 0.15:.1f}",
                f"{plot_height - column_height + 2:.1f}",
                f"{slot * 0.7:.1f}",
                f"{column_height:.1f}",
                _fill("bar-ok"),
                f"{x + slot / 2:.1f}",
                height - 4,
                day.strftime("%d"),
            )
        )
    return format_html(
        '<svg class="dashboard-chart day-chart" role="img" viewBox="0 0 {} {}" width="{}" '
        'height="{}" xmlns="http://www.w3.org/2000/svg" font-size="10">{}</svg>',
        width,
        height,
        width,
        height,
        SafeString("".join(columns)),
    )


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> SafeString:
    """A small table; cells are escaped unless already safe (``format_html``'s output)."""
    head = format_html_join("", "<th>{}</th>", ((header,) for header in headers))
    body = format_html_join(
        "",
        "<tr>{}</tr>",
        ((format_html_join("", "<td>{}</td>", ((cell,) for cell in row)),) for row in rows),
    )
    return format_html(
        '<table class="dashboard-table"><thead><tr>{}</tr></thead><tbody>{}</tbody></table>',
        head,
        body,
    )


def percent(part: int, whole: int) -> str:
    return "-" if not whole else f"{100 * part / whole:.1f}%"


def _shorten(text: str, length: int) -> str:
    return text if len(text) <= length else text[: length - 1] + "…"


class PercentileCont(Aggregate):
    """``percentile_cont(fraction) WITHIN GROUP (ORDER BY expression)``: the continuous
    percentile (linear interpolation between the two nearest values), as a float."""

    function = "percentile_cont"
    template = "%(function)s(%(fraction)s) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = FloatField()

    def __init__(self, expression: Any, fraction: float, **extra: Any) -> None:
        if not 0 <= fraction <= 1:
            raise ValueError("fraction must be between 0 and 1")
        super().__init__(expression, fraction=repr(float(fraction)), **extra)
