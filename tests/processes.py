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
import socket
import subprocess
import sys
import time
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
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


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def serving(tmp_path: Path, **env: str) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """The production server (``python -m devskyy.serve``) with its defaults but ONE worker and
    ``env``, on the test database: its URL and its process once ``/healthz`` answers, stopped
    (SIGTERM) on the way out if it still runs. Its output goes to ``tmp_path/server.log``."""
    port = free_port()
    log_path = tmp_path / "server.log"
    log = log_path.open("w")
    process = subprocess.Popen(  # noqa: S603 (our interpreter, fixed arguments)
        [PYTHON, "-m", "devskyy.serve"],
        cwd=ROOT,
        env=child_env(WEB_BIND=f"127.0.0.1:{port}", WEB_WORKERS="1", **env),
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert process.poll() is None, log_path.read_text()
            assert time.monotonic() < deadline, "the server did not start"
            time.sleep(0.1)
        yield url, process
    finally:
        process.terminate()
        process.wait(timeout=60)
        log.close()
