"""Management commands refuse bad arguments with one readable line and a non-zero exit, never a
traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from commerce.models import User, UserAPIKey
from tests.commerce.factories import AgentUserFactory

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("expires", "message"),
    [
        ("99999999999d", "--expires: '99999999999d' is too far in the future"),
        ("10000000000000000000000h", "is too far in the future"),
        ("P999999999D", "--expires: 'P999999999D' is too far in the future"),
        ("2030-13-45T00:00:00Z", "is neither a duration (30d, 12h) nor an ISO timestamp"),
        ("2030-02-30T00:00:00+00:00", "is neither a duration (30d, 12h) nor an ISO timestamp"),
    ],
)
def test_create_api_key_refuses_an_expiry_it_cannot_represent(expires, message):
    agent = AgentUserFactory.create()

    with pytest.raises(CommandError, match=message.replace("(", r"\(").replace(")", r"\)")):
        call_command("create_api_key", "--user", agent.username, "--expires", expires)

    assert not UserAPIKey.objects.exists()


def test_create_api_key_names_an_unknown_user():
    with pytest.raises(CommandError, match="no user named 'nobody'"):
        call_command("create_api_key", "--user", "nobody")


def test_a_bad_expiry_exits_non_zero_with_one_line_on_stderr():
    # The expiry is checked before the database is asked anything, so no rows are needed here.
    result = subprocess.run(
        [sys.executable, "manage.py", "create_api_key", "--user", "x", "--expires", "99999999999d"],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr.splitlines() == [
        "CommandError: --expires: '99999999999d' is too far in the future"
    ]


def test_createsuperuser_applies_the_password_rules(monkeypatch):
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", "123")

    with pytest.raises(CommandError, match="This password is too short"):
        call_command("createsuperuser", "--noinput", "--username", "boss", "--email", "b@x.org")

    assert not User.objects.filter(username="boss").exists()


def test_createsuperuser_makes_an_admin_with_a_good_password(monkeypatch):
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", "a long enough passphrase")

    call_command(
        "createsuperuser", "--noinput", "--username", "boss", "--email", "b@x.org", verbosity=0
    )

    boss = User.objects.get(username="boss")
    assert boss.role == User.Role.ADMIN
    assert boss.check_password("a long enough passphrase")
