"""Django's ``migrate``, with the timeouts that suit a migration instead of a request's.

Requests run under ``DB_STATEMENT_TIMEOUT_MS`` (30 s by default), which an index build or a
table rewrite may rightly exceed: ``migrate`` lifts it for its session. It sets
``DB_MIGRATE_LOCK_TIMEOUT_MS`` (10 s by default) as the ``lock_timeout`` instead: a migration
that waits for a table lock makes every request on that table queue behind it, so it gives up
(and can be run again) rather than stall the site. Both are reset when the command ends.
"""

from __future__ import annotations

import contextlib
from typing import Any

from django.conf import settings
from django.core.management.commands import migrate
from django.db import DatabaseError, connections
from django.db.backends.base.base import BaseDatabaseWrapper


def _reset_timeouts(connection: BaseDatabaseWrapper) -> None:
    with connection.cursor() as cursor:
        cursor.execute("RESET statement_timeout")
        cursor.execute("RESET lock_timeout")


class Command(migrate.Command):
    def handle(self, *args: Any, **options: Any) -> None:
        connection = connections[options["database"]]
        with connection.cursor() as cursor:
            cursor.execute("SET statement_timeout = 0")
            cursor.execute(
                "SELECT set_config('lock_timeout', %s, false)",
                [str(settings.DB_MIGRATE_LOCK_TIMEOUT_MS)],
            )
        try:
            super().handle(*args, **options)
        except BaseException:
            with contextlib.suppress(DatabaseError):  # the migration's error is the one to see
                _reset_timeouts(connection)
            raise
        _reset_timeouts(connection)
