"""Writes on the plumbing's own tables."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from devskyy.models import IdempotencyRecord


def idempotency_records_purge(*, older_than: timedelta | None = None) -> int:
    """Delete Idempotency-Key records past their time to live (``API_IDEMPOTENCY_TTL_HOURS``);
    return how many. Indexed on ``created_at``."""
    age = older_than or timedelta(hours=settings.API_IDEMPOTENCY_TTL_HOURS)
    deleted, _ = IdempotencyRecord.objects.filter(created_at__lt=timezone.now() - age).delete()
    return deleted
