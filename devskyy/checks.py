"""System checks of the plumbing's settings."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core import checks

from devskyy import hot_lane


@checks.register()
def hot_lane_is_used(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """The hot lane turns itself off rather than skip a middleware it does not know, or skip
    one that would act on its requests: say so, and why."""
    if hot_lane.LANE not in settings.MIDDLEWARE:
        return []
    return hot_lane.problems(settings.MIDDLEWARE)
