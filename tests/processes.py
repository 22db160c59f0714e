"""Run other processes (workers, servers, commands) against the test database.

pytest-django's test database (``test_<name>``) exists only inside this run; a child process
that imports the settings would open the development database instead. ``child_env``
gives a child the environment that points it at the same server and database as this process:
``DATABASE_URL`` (the settings' documented override) built from the live connection. Rows a
child writes are visible to the test only when the test commits its own writes too
(``transaction=True`` / ``transactional_db``).
"""

from __future__ import annotations

import os
import sys
import urllib.parse
from pathlib import Path

from django.db import connection

ROOT = Path(__file__).resolve().parent.parent


def child_database_url() -> str:
    settings = connection.settings_dict
    host = urllib.parse.quote(settings["HOST"] or "", safe="")
    user = urllib.parse.quote(settings["USER"] or "", safe="")
    password = settings.get("PASSWORD") or ""
    credentials = f"{user}:{urllib.parse.quote(password, safe='')}@" if password else f"{user}@"
    port = f":{settings['PORT']}" if settings.get("PORT") else ""
    return f"postgres://{credentials}{host}{port}/{urllib.parse.quote(settings['NAME'])}"


def child_env(**extra: str) -> dict[str, str]:
    """The environment for a child process of this test run, on the test database."""
    return {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "DJANGO_SETTINGS_MODULE": "devskyy.settings.test",
        "DATABASE_URL": child_database_url(),
        **extra,
    }


PYTHON = sys.executable
