"""Where an API write came from, for the event trail: the API key's public prefix and the
caller's correlation id (``X-Correlation-ID``), as an ``agents_audit.events.Trace``."""

from __future__ import annotations

import re

from drf_spectacular.utils import OpenApiParameter
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request

from agents_audit.events import Trace

CORRELATION_HEADER = "X-Correlation-ID"
CORRELATION_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:/-]{0,63}")

CORRELATION_ID_PARAMETER = OpenApiParameter(
    name=CORRELATION_HEADER,
    location=OpenApiParameter.HEADER,
    type=str,
    required=False,
    pattern=CORRELATION_PATTERN.pattern,
    description="Your trace's correlation id (1 to 64 characters: letters, digits, `._:/-`), "
    "recorded with the events this request writes.",
)


def request_trace(request: Request) -> Trace:
    """The request's Trace; a malformed ``X-Correlation-ID`` is a 400."""
    correlation_id = request.headers.get(CORRELATION_HEADER, "")
    if correlation_id and not CORRELATION_PATTERN.fullmatch(correlation_id):
        raise ValidationError(
            {
                CORRELATION_HEADER: [
                    "Must be 1 to 64 characters: letters, digits and ._:/- "
                    "(starting with a letter or digit)."
                ]
            }
        )
    key_id = request.auth if isinstance(request.auth, str) else ""
    return Trace(api_key_prefix=key_id.partition(".")[0][:8], correlation_id=correlation_id)
