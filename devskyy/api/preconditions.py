"""Optimistic concurrency over HTTP: a record's version is its ``ETag``; an update must send it
back in ``If-Match``.

- ``GET`` of a detail answers ``ETag: "<version>"``.
- An update without ``If-Match`` (or with ``If-Match: *``, which names no version) is a 428
  ``precondition_required``: a lost update is never the default.
- ``If-Match`` must hold exactly one entity tag of the form ``"<version>"``; anything else is a 400
  (``errors`` keyed ``If-Match``). A ``W/`` prefix is accepted and ignored, because proxies that
  compress responses (nginx) weaken the ETags they pass on.
- A well-formed tag of another version is the service's 412 ``version_mismatch``.

The version numbers the record's editable fields, not every byte of the representation (stock,
for instance, moves without changing it), which is why the tag is compared as a version and not
used for ``If-None-Match`` caching.
"""

from __future__ import annotations

import re

from rest_framework import status
from rest_framework.exceptions import APIException, ErrorDetail, ValidationError
from rest_framework.request import Request

IF_MATCH = "If-Match"
MAX_VERSION = 2**31 - 1
_ENTITY_TAG = re.compile(r'\s*(?:W/)?"([1-9][0-9]{0,9})"\s*')
# What the OpenAPI document promises is accepted (a subset: versions of up to 9 digits).
IF_MATCH_SCHEMA = {"type": "string", "pattern": r'^(W/)?"[1-9][0-9]{0,8}"$'}


class PreconditionRequired(APIException):
    status_code = status.HTTP_428_PRECONDITION_REQUIRED
    default_code = "precondition_required"
    default_detail = (
        "Send If-Match with the ETag of the version you read (GET the record first), so that "
        "you never overwrite a change you have not seen."
    )


def version_etag(version: int) -> str:
    return f'"{version}"'


def weak_etag(version: int) -> str:
    """A record's version as a weak entity tag: it numbers the editable fields, not the bytes
    of the representation (``if_match_version`` reads both forms)."""
    return f'W/"{version}"'


def if_match_version(request: Request) -> int:
    """The version named by the request's ``If-Match``; 428 or 400 when it names none."""
    raw = request.headers.get(IF_MATCH)
    if raw is None or raw.strip() == "*":
        raise PreconditionRequired()
    match = _ENTITY_TAG.fullmatch(raw)
    if match is None or int(match.group(1)) > MAX_VERSION:
        raise ValidationError(
            {
                IF_MATCH: [
                    ErrorDetail(
                        'Send exactly one ETag as the record\'s GET gave it, e.g. "3".',
                        code="invalid",
                    )
                ]
            }
        )
    return int(match.group(1))
