from __future__ import annotations

import os
from io import StringIO

import pytest
from django.core.management import call_command

from commerce.models import User
from devskyy import embedded_db
from tests.commerce.factories import OperatorFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def state_dir(tmp_path, monkeypatch):
    monkeypatch.setattr("commerce.management.commands.ensure_demo_operator.STATE_DIR", tmp_path)
    return tmp_path


def run() -> str:
    out = StringIO()
    call_command("ensure_demo_operator", "--url", "http://127.0.0.1:8000/admin/", stdout=out)
    return out.getvalue()


def test_first_run_creates_an_operator_and_prints_the_login_once(state_dir):
    output = run()

    operator = User.objects.get()
    assert operator.role == User.Role.OPERATOR
    assert "http://127.0.0.1:8000/admin/" in output
    password = output.rsplit(" / ", 1)[1].strip()
    assert operator.check_password(password)
    credentials = state_dir / "demo_operator.txt"
    assert credentials.stat().st_mode & 0o077 == 0
    assert password in credentials.read_text()

    second = run()
    assert User.objects.count() == 1
    assert password not in second
    assert "Log in as operator" in second


def test_an_existing_operator_is_reused():
    existing = OperatorFactory.create()
    output = run()
    assert User.objects.count() == 1
    assert f"Log in as {existing.username}" in output


def test_embedded_state_dir_is_inside_the_project_and_git_ignored():
    assert embedded_db.STATE_DIR.name == ".devskyy" or "DEVSKYY_STATE_DIR" in os.environ
    gitignore = (embedded_db.PROJECT_DIR / ".gitignore").read_text().split()
    assert ".devskyy/" in gitignore
