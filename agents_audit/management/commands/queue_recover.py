"""Recover the jobs whose worker died or hung: running jobs whose lease expired go back to the
queue (or are dead when their attempts are used up), as every claim does for a batch.

    manage.py queue_recover

Prints how many jobs it recovered; exit status 0 (also when there were none). Runs in batches
of ``BATCH`` jobs, each its own short transaction.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from agents_audit.services.jobs import jobs_recover

BATCH = 1000


class Command(BaseCommand):
    help = "Put running jobs whose lease expired back in the queue (or dead, retries used up)."

    def handle(self, *args: Any, **options: Any) -> None:
        total = 0
        while True:
            recovered = jobs_recover(limit=BATCH)
            total += recovered
            if recovered < BATCH:
                break
        self.stdout.write(f"Recovered {total} job(s) whose lease had expired.")
