"""Create a demo operator on first run and print the admin URL and login (``make run``)."""

from __future__ import annotations

import os
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from commerce.services import demo_operator_ensure
from devskyy.embedded_db import STATE_DIR


class Command(BaseCommand):
    help = "Create a demo operator if no operator or admin exists; print the admin URL and login."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--url", default="http://127.0.0.1:8000/admin/")

    def handle(self, *args: Any, **options: Any) -> None:
        user, password = demo_operator_ensure()
        credentials_file = STATE_DIR / "demo_operator.txt"
        self.stdout.write(f"Admin: {options['url']}")
        if password is not None:
            # Kept beside the embedded database (git-ignored, owner-only) for the next `make run`.
            STATE_DIR.mkdir(parents=True, exist_ok=True)
            fd = os.open(credentials_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w") as fh:
                fh.write(f"username: {user.username}\npassword: {password}\n")
            self.stdout.write(
                self.style.SUCCESS(f"Created demo operator. Log in as {user.username} / {password}")
            )
        else:
            hint = (
                f"password in {credentials_file}"
                if credentials_file.exists()
                else f"`manage.py changepassword {user.username}` to reset it"
            )
            self.stdout.write(f"Log in as {user.username} ({hint})")
