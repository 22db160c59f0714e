"""Create an API key for a user and print it once: ``manage.py create_api_key --user bot``."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.dateparse import parse_datetime, parse_duration

from commerce.models import User
from commerce.services import api_key_create


def _expiry(value: str | None) -> dt.datetime | None:
    """``30d``, ``12h``, an ISO duration or an ISO 8601 timestamp with a time zone."""
    if not value:
        return None
    from django.utils import timezone

    units = {"d": "days", "h": "hours", "m": "minutes"}
    try:
        if value[-1:] in units and value[:-1].isdigit():
            return timezone.now() + dt.timedelta(**{units[value[-1]]: int(value[:-1])})
        if (duration := parse_duration(value)) is not None:
            return timezone.now() + duration
        moment = parse_datetime(value)
    except OverflowError:  # 99999999999d: past datetime's year 9999
        raise CommandError(f"--expires: '{value}' is too far in the future") from None
    except ValueError:  # 2030-13-45T00:00Z: well-formed, but no such date
        moment = None
    if moment is None or moment.tzinfo is None:
        raise CommandError(
            f"--expires: '{value}' is neither a duration (30d, 12h) nor an ISO "
            "timestamp with a time zone"
        )
    return moment


class Command(BaseCommand):
    help = "Create an API key for a user (agent, operator or admin) and print it once."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--user", required=True, help="username of the key's owner")
        parser.add_argument("--name", default="", help="a label for the key (default: the user)")
        parser.add_argument("--expires", help="30d, 12h, an ISO duration or timestamp")

    def handle(self, *args: Any, **options: Any) -> None:
        expires_at = _expiry(options["expires"])  # a bad argument is reported before any query
        user = User.objects.filter(username=options["user"]).first()
        if user is None:
            raise CommandError(f"no user named '{options['user']}'")
        try:
            api_key, key = api_key_create(
                user=user, name=options["name"] or user.username, expires_at=expires_at
            )
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages)) from None
        self.stderr.write(
            f"API key '{api_key.name}' for {user.username} ({user.role}); shown "
            "once, stored hashed:"
        )
        self.stdout.write(key)
