"""Natural keys: identifiers the caller chooses and then uses in URLs.

An agent execution's ``execution_id`` and a round-table result's ``result_id`` name their record
in ``/api/v1/agent-executions/{execution_id}/`` and ``/api/v1/round-table-results/{result_id}/``.
A key that cannot appear in such a URL (``a/b``, ``.``, ``..``) or that another route of the
resource already answers (``leaderboard``) would make a record nobody can address, so keys are
held to one pattern: 1 to 100 characters from ``A-Z a-z 0-9 . _ : -``, starting with a letter or a
digit. UUIDs, ``exec-2024-06-01-0042`` and ``run:7`` fit.

The URL route (``lookup_value_regex``) and the serializer field use the same pattern, and the
field's pattern is what the OpenAPI document shows.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from rest_framework import serializers

MAX_LENGTH = 100
# The characters of a key, without anchors: the URL route's lookup_value_regex.
URL_REGEX = f"[A-Za-z0-9][A-Za-z0-9._:-]{{0,{MAX_LENGTH - 1}}}"


def pattern(reserved: Iterable[str] = ()) -> str:
    """The full-match pattern (``\\A...\\Z``, shown as ``^...$`` in the OpenAPI document) of a
    key that is none of the ``reserved`` words."""
    refuse = "".join(rf"(?!{re.escape(word)}\Z)" for word in sorted(reserved))
    return rf"\A{refuse}{URL_REGEX}\Z"


def natural_key_field(*, reserved: Iterable[str] = (), **kwargs: Any) -> serializers.RegexField:
    """A serializer field for a natural key; ``reserved`` are the resource's own route names."""
    reserved = sorted(reserved)
    words = "".join(f" '{word}' is reserved." for word in reserved)
    message = (
        f"Use 1 to {MAX_LENGTH} letters, digits, '.', '_', ':' or '-', starting with a letter "
        f"or a digit.{words}"
    )
    return serializers.RegexField(
        pattern(reserved),
        max_length=MAX_LENGTH,
        trim_whitespace=False,
        error_messages={"invalid": message},
        help_text=message,
        **kwargs,
    )


def list_routes(viewset: Any) -> set[str]:
    """The URL paths of a viewset's list-level actions (``leaderboard``): words its keys may not
    be."""
    return {action.url_path for action in viewset.get_extra_actions() if not action.detail}
