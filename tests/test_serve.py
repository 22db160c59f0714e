"""``python -m devskyy.serve``: the production server's configuration from WEB_* variables, and
how it keeps serving when its workers are replaced (SIGHUP) or die.

A graceful shutdown with a claim waiting, and twenty waiting claims in one process, are in
tests/agents_audit/test_job_claim_waiting.py.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from granian.constants import HTTPModes, Interfaces

from agents_audit.api.job_serializers import MAX_WAIT_SECONDS
from commerce.services import api_key_create
from devskyy.serve import (
    KILL_TIMEOUT_SECONDS,
    ConfigurationError,
    config_from,
    granian_options,
    prepare_environment,
)
from tests.commerce.factories import AgentUserFactory
from tests.processes import ROOT, serving


def test_the_defaults_serve_loopback_with_a_process_per_core_and_32_threads():
    config = config_from({})

    assert (config.host, config.port, config.uds) == ("127.0.0.1", 8000, None)
    assert config.workers == min(os.cpu_count() or 1, 4)
    assert config.threads == 32
    assert config.workers_lifetime is None
    assert config.access_log is False
    assert config.log_level == "info"
    assert config.url == "http://127.0.0.1:8000"


@pytest.mark.parametrize(
    ("bind", "host", "port", "uds"),
    [
        ("0.0.0.0:8080", "0.0.0.0", 8080, None),  # noqa: S104 (parsing, not binding)
        ("[::1]:9000", "::1", 9000, None),
        ("localhost:1", "localhost", 1, None),
        ("unix:/run/devskyy/web.sock", "127.0.0.1", 8000, Path("/run/devskyy/web.sock")),
    ],
)
def test_the_bind_address_is_a_host_and_port_or_a_unix_socket(bind, host, port, uds):
    config = config_from({"WEB_BIND": bind})

    assert (config.host, config.port, config.uds) == (host, port, uds)


def test_an_ipv6_address_is_bracketed_in_the_url():
    assert config_from({"WEB_BIND": "[::1]:9000"}).url == "http://[::1]:9000"
    assert config_from({"WEB_BIND": "unix:/tmp/s"}).url == "unix:/tmp/s"


def test_every_setting_is_read_from_its_variable():
    config = config_from(
        {
            "WEB_WORKERS": "3",
            "WEB_THREADS": "12",
            "WEB_WORKERS_LIFETIME": "3600",
            "WEB_ACCESS_LOG": "1",
            "WEB_LOG_LEVEL": "WARNING",
        }
    )

    assert (config.workers, config.threads, config.workers_lifetime) == (3, 12, 3600)
    assert config.access_log is True
    assert config.log_level == "warning"


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("WEB_WORKERS", "two", "WEB_WORKERS must be a whole number, not 'two'"),
        ("WEB_WORKERS", "0", "WEB_WORKERS must be at least 1, not 0"),
        ("WEB_THREADS", "-4", "WEB_THREADS must be at least 1, not -4"),
        ("WEB_THREADS", "1.5", "WEB_THREADS must be a whole number, not '1.5'"),
        ("WEB_WORKERS_LIFETIME", "30", "WEB_WORKERS_LIFETIME must be 0 or at least 60, not 30"),
        ("WEB_ACCESS_LOG", "maybe", "WEB_ACCESS_LOG must be 1 or 0, not 'maybe'"),
        ("WEB_LOG_LEVEL", "loud", "WEB_LOG_LEVEL must be one of critical, error, warning"),
        ("WEB_BIND", "8000", "WEB_BIND must be host:port, [ipv6]:port or unix:/path, not '8000'"),
        ("WEB_BIND", "host:http", "WEB_BIND must be host:port"),
        ("WEB_BIND", "host:70000", "WEB_BIND must be host:port"),
        ("WEB_BIND", ":8000", "WEB_BIND must be host:port"),
        ("WEB_BIND", "unix:", "WEB_BIND unix: needs a socket path"),
    ],
)
def test_a_value_that_cannot_be_used_is_refused_naming_its_variable(variable, value, message):
    with pytest.raises(ConfigurationError, match="^" + message.replace("[", r"\[")):
        config_from({variable: value})


def test_an_empty_variable_means_its_default():
    assert config_from({"WEB_WORKERS": "", "WEB_BIND": " ", "WEB_THREADS": ""}) == config_from({})


def test_waiting_claims_leave_eight_threads_of_each_process_to_other_calls():
    environ: dict[str, str] = {}

    prepare_environment(config_from({"WEB_THREADS": "20"}), environ)

    assert environ == {
        "JOB_CLAIM_MAX_WAITERS": "12",
        "DJANGO_SETTINGS_MODULE": "devskyy.settings.production",
    }


def test_a_cap_or_settings_module_set_by_the_deployer_is_kept():
    environ = {"JOB_CLAIM_MAX_WAITERS": "5", "DJANGO_SETTINGS_MODULE": "my.settings"}

    prepare_environment(config_from({"WEB_THREADS": "4"}), environ)

    assert environ == {"JOB_CLAIM_MAX_WAITERS": "5", "DJANGO_SETTINGS_MODULE": "my.settings"}
    assert config_from({"WEB_THREADS": "4"}).job_claim_max_waiters == 0


def test_granian_serves_wsgi_over_http1_replacing_dead_workers():
    options = granian_options(config_from({"WEB_BIND": "[::]:80", "WEB_WORKERS_LIFETIME": "0"}))

    assert options["target"] == "devskyy.wsgi:application"
    assert options["interface"] == Interfaces.WSGI
    assert options["http"] == HTTPModes.http1
    assert (options["address"], options["port"], options["uds"]) == ("::", 80, None)
    assert options["respawn_failed_workers"] is True
    assert options["workers_lifetime"] is None


def test_a_shutdown_waits_longer_than_the_longest_claim():
    assert KILL_TIMEOUT_SECONDS > MAX_WAIT_SECONDS
    assert granian_options(config_from({}))["workers_kill_timeout"] == KILL_TIMEOUT_SECONDS


def test_the_command_refuses_a_bad_setting_with_one_line_and_a_nonzero_exit():
    run = subprocess.run(
        [sys.executable, "-m", "devskyy.serve"],
        cwd=ROOT,
        env={**os.environ, "WEB_WORKERS": "lots"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert run.returncode == 1
    assert run.stderr == "devskyy.serve: WEB_WORKERS must be a whole number, not 'lots'\n"
    assert run.stdout == ""


# --- the running server ------------------------------------------------------------------------


def _workers(server: subprocess.Popen[bytes]) -> set[int]:
    """The server's worker processes (its children)."""
    children: set[int] = set()
    for task in Path(f"/proc/{server.pid}/task").iterdir():
        children.update(int(pid) for pid in (task / "children").read_text().split())
    return children


def _replaced(url: str, server: subprocess.Popen[bytes], old: set[int]) -> set[int]:
    """Wait until none of the ``old`` workers is left and the server answers again (a new
    worker serves); return the workers then."""
    deadline = time.monotonic() + 60
    while True:
        workers = _workers(server)
        if workers and not workers & old:
            try:
                if httpx.get(f"{url}/healthz", timeout=10).status_code == 200:
                    return workers
            except httpx.TransportError:
                pass  # the new worker is still starting
        assert server.poll() is None
        assert time.monotonic() < deadline, (old, workers)
        time.sleep(0.1)


def _claim_waiting(url: str, headers: dict[str, str], seconds: int) -> httpx.Response:
    """A job claim that waits ``seconds`` for a job type nobody enqueues (then answers 204)."""
    return httpx.post(
        f"{url}/api/v1/jobs/claim/",
        json={"worker_id": "w", "job_types": ["never"], "wait_seconds": seconds},
        headers=headers,
        timeout=60,
    )


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_sighup_replaces_the_workers_and_the_server_keeps_serving(tmp_path: Path):
    _, key = api_key_create(user=AgentUserFactory.create(), name="reload test")
    headers = {"Authorization": f"Api-Key {key}"}
    with serving(tmp_path) as (url, server):
        before = _workers(server)
        assert len(before) == 1

        with ThreadPoolExecutor(1) as pool:
            # A request in flight while the worker is replaced still gets its answer.
            slow = pool.submit(_claim_waiting, url, headers, 2)
            time.sleep(0.5)
            server.send_signal(signal.SIGHUP)

            assert len(_replaced(url, server, before)) == 1
            assert slow.result(timeout=60).status_code == 204


@pytest.mark.slow
@pytest.mark.django_db
def test_a_worker_that_dies_is_replaced(tmp_path: Path):
    with serving(tmp_path) as (url, server):
        before = _workers(server)

        os.kill(next(iter(before)), signal.SIGKILL)

        assert len(_replaced(url, server, before)) == 1
