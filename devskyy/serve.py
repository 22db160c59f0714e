"""Serve devskyy in production: ``python -m devskyy.serve`` (granian, WSGI, from the environment).

granian's workers are processes; each runs requests on up to ``WEB_THREADS`` blocking threads,
while its Rust runtime reads and writes the sockets (an idle keep-alive connection holds no
thread). A job claim that waits for work (``wait_seconds``, up to 30 s) holds one thread while it
waits, so a process lets at most ``JOB_CLAIM_MAX_WAITERS`` claims wait (``WEB_THREADS`` - 8
unless set), and the other threads stay for everything else. Each thread that served a request
keeps one database connection (``DB_CONN_MAX_AGE``), plus one per process for the job wake-up
listener: size PostgreSQL's ``max_connections`` for ``WEB_WORKERS`` x (``WEB_THREADS`` + 1).

On SIGTERM or SIGINT the server stops accepting, lets the requests in flight finish (a waiting
claim answers within 30 s) and kills what is still running after ``KILL_TIMEOUT_SECONDS``. On
SIGHUP it replaces its workers one by one (a deploy without downtime). A worker that dies is
replaced. Neither here nor in any other WSGI server is a request thread stopped halfway: what
bounds a request is the database's statement timeout (``DB_STATEMENT_TIMEOUT_MS``) and the claim's
longest wait.

Configuration (environment):

- ``WEB_BIND``: ``host:port`` (``[::1]:8000`` for IPv6) or ``unix:/path/to/socket``;
  ``127.0.0.1:8000``.
- ``WEB_WORKERS``: processes; the machine's cores, at most 4.
- ``WEB_THREADS``: blocking threads per process; 32.
- ``WEB_WORKERS_LIFETIME``: replace each worker after this many seconds (at least 60); 0, never.
- ``WEB_ACCESS_LOG``: 1 to log every request; 0.
- ``WEB_LOG_LEVEL``: granian's log level; ``info``.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping, MutableMapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

TARGET = "devskyy.wsgi:application"
# A waiting claim answers within 30 s (agents_audit.api.job_serializers.MAX_WAIT_SECONDS): a
# shutdown or a worker's replacement gives the requests in flight this long before killing them.
KILL_TIMEOUT_SECONDS = 35
# Threads a process keeps for everything but waiting claims.
THREADS_KEPT_FROM_WAITING = 8
LOG_LEVELS = ("critical", "error", "warning", "info", "debug")


class ConfigurationError(Exception):
    """A WEB_* variable that cannot be used; its message names the variable and the value."""


@dataclass(frozen=True)
class ServeConfig:
    host: str
    port: int
    uds: Path | None
    workers: int
    threads: int
    workers_lifetime: int | None
    access_log: bool
    log_level: str

    @property
    def job_claim_max_waiters(self) -> int:
        return max(self.threads - THREADS_KEPT_FROM_WAITING, 0)

    @property
    def url(self) -> str:
        if self.uds is not None:
            return f"unix:{self.uds}"
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"


def _whole(environ: Mapping[str, str], name: str, default: int, *, minimum: int) -> int:
    raw = environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigurationError(f"{name} must be a whole number, not {raw!r}") from None
    if value < minimum:
        raise ConfigurationError(f"{name} must be at least {minimum}, not {value}")
    return value


def _flag(environ: Mapping[str, str], name: str) -> bool:
    raw = environ.get(name, "").strip().lower()
    if raw in ("", "0", "false", "no", "off"):
        return False
    if raw in ("1", "true", "yes", "on"):
        return True
    raise ConfigurationError(f"{name} must be 1 or 0, not {raw!r}")


def _bind(raw: str) -> tuple[str, int, Path | None]:
    if raw.startswith("unix:"):
        path = raw.removeprefix("unix:")
        if not path:
            raise ConfigurationError("WEB_BIND unix: needs a socket path: unix:/run/devskyy.sock")
        return "127.0.0.1", 8000, Path(path)
    host, sep, port = raw.rpartition(":")
    host = host.removeprefix("[").removesuffix("]")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ConfigurationError(
            f"WEB_BIND must be host:port, [ipv6]:port or unix:/path, not {raw!r}"
        )
    return host, int(port), None


def config_from(environ: Mapping[str, str]) -> ServeConfig:
    """The server's configuration from ``environ`` (the WEB_* variables); ConfigurationError
    names the first variable that cannot be used."""
    host, port, uds = _bind(environ.get("WEB_BIND", "").strip() or "127.0.0.1:8000")
    lifetime = _whole(environ, "WEB_WORKERS_LIFETIME", 0, minimum=0)
    if 0 < lifetime < 60:
        raise ConfigurationError(f"WEB_WORKERS_LIFETIME must be 0 or at least 60, not {lifetime}")
    log_level = environ.get("WEB_LOG_LEVEL", "").strip().lower() or "info"
    if log_level not in LOG_LEVELS:
        raise ConfigurationError(
            f"WEB_LOG_LEVEL must be one of {', '.join(LOG_LEVELS)}, not {log_level!r}"
        )
    return ServeConfig(
        host=host,
        port=port,
        uds=uds,
        workers=_whole(environ, "WEB_WORKERS", min(os.cpu_count() or 1, 4), minimum=1),
        threads=_whole(environ, "WEB_THREADS", 32, minimum=1),
        workers_lifetime=lifetime or None,
        access_log=_flag(environ, "WEB_ACCESS_LOG"),
        log_level=log_level,
    )


def granian_options(config: ServeConfig) -> dict[str, Any]:
    """Keyword arguments of ``granian.Granian`` for ``config``."""
    from granian.constants import HTTPModes, Interfaces
    from granian.log import LogLevels

    return {
        "target": TARGET,
        "interface": Interfaces.WSGI,
        "address": config.host,
        "port": config.port,
        "uds": config.uds,
        "workers": config.workers,
        "blocking_threads": config.threads,
        # Behind a reverse proxy that speaks HTTP/1.1 to it; no HTTP/2, no websockets.
        "http": HTTPModes.http1,
        "websockets": False,
        "respawn_failed_workers": True,
        "workers_lifetime": config.workers_lifetime,
        "workers_kill_timeout": KILL_TIMEOUT_SECONDS,
        "log_level": LogLevels(config.log_level),
        "log_access": config.access_log,
    }


def prepare_environment(config: ServeConfig, environ: MutableMapping[str, str]) -> None:
    """What the workers' settings read from the environment they inherit: production settings
    and the cap on waiting claims that leaves ``THREADS_KEPT_FROM_WAITING`` threads free,
    unless ``environ`` says otherwise."""
    environ.setdefault("DJANGO_SETTINGS_MODULE", "devskyy.settings.production")
    environ.setdefault("JOB_CLAIM_MAX_WAITERS", str(config.job_claim_max_waiters))


def main() -> None:
    try:
        config = config_from(os.environ)
    except ConfigurationError as error:
        sys.exit(f"devskyy.serve: {error}")
    prepare_environment(config, os.environ)
    from granian import Granian

    Granian(**granian_options(config)).serve()


if __name__ == "__main__":
    main()
