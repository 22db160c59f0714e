"""``python -m devskyy.serve``: the production server's configuration from WEB_* variables.

The server itself (granian serving devskyy, a graceful shutdown with a claim waiting, twenty
waiting claims in one process) is exercised in tests/agents_audit/test_job_claim_waiting.py.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from granian.constants import HTTPModes, Interfaces

from agents_audit.api.job_serializers import MAX_WAIT_SECONDS
from devskyy.serve import (
    KILL_TIMEOUT_SECONDS,
    ConfigurationError,
    config_from,
    granian_options,
    prepare_environment,
)
from tests.processes import ROOT


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
