"""Where an API write came from, for its ``Event``: the caller's API key prefix and correlation id.

``X-Correlation-ID`` (optional) ties the events of one piece of work together across requests,
agents and services (the same id an agent gives its tool executions). It is 1 to 64 characters
from ``A-Z a-z 0-9 . _ : -`` (a UUID fits); anything else is a 400 keyed ``X-Correlation-ID``,
never silently dropped or cut. The API key's prefix (the part before the ``.``, which the key
table stores in clear) says which key made the change; a session (the browsable API) has none.
"""

from __future__ import annotations

import re

from drf_spectacular.utils import OpenApiParameter
from rest_framework.exceptions import ErrorDetail, ValidationError
from rest_framework.request import Request

from agents_audit.events import Trace
from commerce.api.authentication import KEYWORD, APIKeyAuthentication

CORRELATION_HEADER = "X-Correlation-ID"
CORRELATION_MAX_LENGTH = 64
_CORRELATION_ID = re.compile(rf"[A-Za-z0-9._:-]{{1,{CORRELATION_MAX_LENGTH}}}")

CORRELATION_PARAMETER = OpenApiParameter(
    name=CORRELATION_HEADER,
    location=OpenApiParameter.HEADER,
    required=False,
    type={"type": "string", "pattern": rf"^[A-Za-z0-9._:-]{{1,{CORRELATION_MAX_LENGTH}}}$"},
    description="Optional: your correlation id for this piece of work, recorded on the event "
    f"this request writes (1 to {CORRELATION_MAX_LENGTH} letters, digits, `.`, `_`, `:` or `-`; "
    "a UUID fits). Anything else is a 400 under `X-Correlation-ID`.",
)


def correlation_id(request: Request) -> str:
    raw = request.headers.get(CORRELATION_HEADER)
    if raw is None:
        return ""
    if not _CORRELATION_ID.fullmatch(raw):
        raise ValidationError(
            {
                CORRELATION_HEADER: [
                    ErrorDetail(
                        f"Send 1 to {CORRELATION_MAX_LENGTH} letters, digits, '.', '_', ':' or "
                        "'-'.",
                        code="invalid",
                    )
                ]
            }
        )
    return raw


def api_key_prefix(request: Request) -> str:
    """The prefix of the API key that authenticated ``request`` (blank for a session). The key
    was verified by ``APIKeyAuthentication``, so its header is the key ``request.auth`` names."""
    if not isinstance(request.successful_authenticator, APIKeyAuthentication):
        return ""
    _, _, key = request.META.get("HTTP_AUTHORIZATION", "").partition(f"{KEYWORD} ")
    return key.strip().partition(".")[0]


def trace_from(request: Request) -> Trace:
    return Trace(api_key_prefix=api_key_prefix(request), correlation_id=correlation_id(request))
