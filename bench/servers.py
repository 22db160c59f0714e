"""What the benchmarks that call devskyy's API share: the database's URL and a server to call.

Import it after ``django.setup()`` (the URL is read from Django's database settings). The scripts
in bench/ import it as ``servers``: run as ``python bench/<script>.py``, their folder comes first
on ``sys.path``.
"""

from __future__ import annotations

import os
import secrets
import socket
import subprocess
import sys
import time
import urllib.parse
from pathlib import Path

import httpx
from django.db import connection

ROOT = Path(__file__).resolve().parent.parent


def database_url(name: str | None = None) -> str:
    """A ``postgres://`` URL of Django's database, or of database ``name`` on the same server."""
    settings = connection.settings_dict
    host = urllib.parse.quote(settings["HOST"] or "", safe="")
    user = urllib.parse.quote(settings["USER"] or "", safe="")
    password = settings.get("PASSWORD") or ""
    credentials = f"{user}:{urllib.parse.quote(password, safe='')}@" if password else f"{user}@"
    port = f":{settings['PORT']}" if settings.get("PORT") else ""
    return f"postgres://{credentials}{host}{port}/{name or settings['NAME']}"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _server_env(port: int) -> dict[str, str]:
    """Production settings on Django's database, no throttling."""
    return {
        **os.environ,
        "DATABASE_URL": database_url(),
        "DJANGO_SETTINGS_MODULE": "devskyy.settings.production",
        "DJANGO_SECRET_KEY": secrets.token_hex(32),
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
        "DJANGO_SECURE_SSL_REDIRECT": "0",
        "API_THROTTLE_RATE": "",
        "DJANGO_LOG_LEVEL": "WARNING",
    }


def _wait_until_up(process: subprocess.Popen[bytes], url: str, name: str) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.2)
    process.terminate()
    raise SystemExit(f"bench: {name} did not start")


def start_server(
    workers: int, *, threads: int | None = None
) -> tuple[subprocess.Popen[bytes], str]:
    """devskyy served as in production (``python -m devskyy.serve``: granian, WSGI) on Django's
    database with production settings, ``workers`` processes of ``threads`` blocking threads
    (None: ``WEB_THREADS`` from the environment, or devskyy.serve's default), on a free port of
    127.0.0.1, no throttling; returns the process and the server's URL once ``/healthz``
    answers. The caller terminates it."""
    port = _free_port()
    env = {
        **_server_env(port),
        "WEB_BIND": f"127.0.0.1:{port}",
        "WEB_WORKERS": str(workers),
        "WEB_LOG_LEVEL": "warning",
    }
    if threads is not None:
        env["WEB_THREADS"] = str(threads)
    process = subprocess.Popen([sys.executable, "-m", "devskyy.serve"], cwd=ROOT, env=env)
    url = f"http://127.0.0.1:{port}"
    _wait_until_up(process, url, "devskyy.serve")
    return process, url
