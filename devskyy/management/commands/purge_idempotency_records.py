"""Delete Idempotency-Key records older than API_IDEMPOTENCY_TTL_HOURS (run it from cron)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from devskyy.services import idempotency_records_purge


class Command(BaseCommand):
    help = "Delete expired Idempotency-Key records."

    def handle(self, *args: Any, **options: Any) -> None:
        deleted = idempotency_records_purge()
        self.stdout.write(f"deleted {deleted} expired idempotency record(s)")
