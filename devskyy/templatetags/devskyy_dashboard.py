"""``{% admin_dashboard %}``: the dashboard's panels, on the admin index (devskyy/dashboard.py)."""

from __future__ import annotations

from typing import Any

from django import template

from devskyy.dashboard import dashboard_panels

register = template.Library()


@register.inclusion_tag("admin/devskyy/dashboard.html", takes_context=True)
def admin_dashboard(context: template.Context) -> dict[str, Any]:
    return {"panels": dashboard_panels(context["request"])}
