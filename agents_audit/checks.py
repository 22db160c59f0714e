"""System checks (``manage.py check``, and every command that runs them): configuration that
would otherwise fail only later, at the first request that uses it."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core import checks

from agents_audit.services.jobs import JOB_TYPE_MAX_LENGTH, JOB_TYPE_RE


@checks.register()
def first_job_type_is_a_job_type(app_configs: Any = None, **kwargs: Any) -> list[checks.Error]:
    """Approving a task enqueues a job of AGENTS_TASK_FIRST_JOB_TYPE: a value that is not a job
    type would make every approval fail."""
    value = settings.AGENTS_TASK_FIRST_JOB_TYPE
    if (
        isinstance(value, str)
        and len(value) <= JOB_TYPE_MAX_LENGTH
        and JOB_TYPE_RE.fullmatch(value)
    ):
        return []
    return [
        checks.Error(
            f"AGENTS_TASK_FIRST_JOB_TYPE {value!r} is not a job type.",
            hint="1 to 100 of lowercase letters, digits and _ . : - (e.g. task.execute).",
            id="agents_audit.E001",
        )
    ]
