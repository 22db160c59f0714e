from __future__ import annotations

import socket
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client
from rest_framework.test import APIClient

from commerce.models import User
from commerce.services import api_key_create
from tests.commerce.factories import AdminFactory, AgentUserFactory, OperatorFactory


@pytest.fixture
def operator(db: None) -> User:
    return OperatorFactory.create()


@pytest.fixture
def admin_user(db: None) -> User:
    return AdminFactory.create()


@pytest.fixture
def agent_user(db: None) -> User:
    return AgentUserFactory.create()


@pytest.fixture
def operator_client(operator: User) -> Client:
    client = Client()
    client.force_login(operator)
    return client


def key_client(user: User) -> APIClient:
    """An API client that authenticates like an agent does: ``Authorization: Api-Key <key>``."""
    _, key = api_key_create(user=user, name=f"{user.username} test key")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {key}")
    return client


@pytest.fixture
def make_key_client(db: None) -> Callable[[User], APIClient]:
    return key_client


@pytest.fixture
def agent_a(db: None) -> User:
    return AgentUserFactory.create(username="agent_a")


@pytest.fixture
def agent_b(db: None) -> User:
    return AgentUserFactory.create(username="agent_b")


@pytest.fixture
def agent_client(agent_a: User) -> APIClient:
    return key_client(agent_a)


@pytest.fixture
def agent_b_client(agent_b: User) -> APIClient:
    return key_client(agent_b)


@pytest.fixture
def operator_api(operator: User) -> APIClient:
    return key_client(operator)


@pytest.fixture
def admin_api(admin_user: User) -> APIClient:
    return key_client(admin_user)


def error_codes(body: dict[str, Any]) -> dict[str, list[str]]:
    """``{"field": ["code", ...]}`` from a 400 body, for compact assertions."""
    return {
        field: [e["code"] for e in errors] if isinstance(errors, list) else errors
        for field, errors in body.get("errors", {}).items()
    }


@pytest.hookimpl(tryfirst=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """`pytest -n N` runs whole modules per worker, Schemathesis one role per worker (see
    tests/xdist_scheduling.py)."""
    from tests.xdist_scheduling import ModuleScheduling

    return ModuleScheduling(config, log)


@pytest.fixture(autouse=True, scope="session")
def _stop_job_wakeup_listener(django_db_setup: None, django_db_blocker: Any) -> Any:
    """A waiting claim served in this process (live_server tests) starts this process's job
    wake-up listener, which holds a connection to the test database: close it before pytest
    drops that database."""
    yield
    from agents_audit.job_wakeups import wakeups

    with django_db_blocker.unblock():
        wakeups.stop()


@pytest.fixture(scope="session")
def live_server(live_server: Any) -> Any:
    """pytest-django's live server (a thread of this process), answering without Nagle's delay.

    Django's test server writes a response's status line, headers and body separately; with
    Nagle's algorithm on, the later writes wait for the client's delayed ACK (40 ms on Linux), so
    every request took about 55 ms instead of 6. Accepted sockets inherit TCP_NODELAY from the
    listening one."""
    live_server.thread.httpd.socket.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return live_server
