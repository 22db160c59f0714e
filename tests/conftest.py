from __future__ import annotations

import pytest
from django.test import Client

from commerce.models import User
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
