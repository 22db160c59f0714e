"""A JSON parser that turns every malformed or hostile body into a 4xx, never a 500.

PostgreSQL cannot store NUL characters or lone UTF-16 surrogates in text or jsonb, nor NaN or
Infinity in jsonb; Python's json module accepts all of them. Deep nesting and oversized bodies
are refused before they cost memory or recursion.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any

from django.conf import settings
from rest_framework.exceptions import ParseError
from rest_framework.parsers import BaseParser

from devskyy.api.exceptions import RequestTooLarge

MAX_DEPTH = 32


def _reject_constant(name: str) -> None:
    raise ValueError(f"{name} is not allowed in JSON")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"number {text[:20]} is out of range")
    return value


def _check_text(text: str, check_surrogates: bool) -> None:
    if "\x00" in text:
        raise ParseError("Strings may not contain NUL (\\u0000) characters.")
    if check_surrogates:
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            raise ParseError("Strings may not contain unpaired UTF-16 surrogates.") from None


def check_json_value(value: Any, *, check_surrogates: bool = True) -> None:
    """Raise ParseError if ``value`` (decoded JSON) cannot be stored in PostgreSQL."""
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, str):
            _check_text(node, check_surrogates)
        elif isinstance(node, dict):
            if depth >= MAX_DEPTH:
                raise ParseError(f"JSON is nested deeper than {MAX_DEPTH} levels.")
            for key, item in node.items():
                _check_text(key, check_surrogates)
                if isinstance(item, dict | list | str):
                    stack.append((item, depth + 1))
        elif isinstance(node, list):
            if depth >= MAX_DEPTH:
                raise ParseError(f"JSON is nested deeper than {MAX_DEPTH} levels.")
            stack.extend((item, depth + 1) for item in node if isinstance(item, dict | list | str))


def loads(raw: bytes) -> Any:
    try:
        text = raw.decode("utf-8")
        data = json.loads(text, parse_constant=_reject_constant, parse_float=_finite_float)
    except RecursionError:
        raise ParseError(f"JSON is nested deeper than {MAX_DEPTH} levels.") from None
    except (ValueError, UnicodeDecodeError) as exc:  # JSONDecodeError is a ValueError
        raise ParseError(f"Malformed JSON: {exc}") from None
    # Lone surrogates can only come from \\uD8xx-\\uDFxx escapes; skip that check without them.
    check_json_value(data, check_surrogates="\\u" in text or "\\U" in text)
    return data


class StrictJSONParser(BaseParser):
    media_type = "application/json"

    def parse(
        self,
        stream: Any,
        media_type: str | None = None,
        parser_context: Mapping[str, Any] | None = None,
    ) -> Any:
        limit: int = settings.API_MAX_BODY_BYTES
        request = (parser_context or {}).get("request")
        length = request.META.get("CONTENT_LENGTH") if request is not None else None
        try:
            declared = int(length) if length else None
        except ValueError:
            raise ParseError("Invalid Content-Length.") from None
        if declared is not None and declared > limit:
            raise RequestTooLarge(f"The request body is larger than {limit} bytes.")
        raw = stream.read(limit + 1) if stream is not None else b""
        if len(raw) > limit:
            raise RequestTooLarge(f"The request body is larger than {limit} bytes.")
        if not raw:
            raise ParseError("The request body is empty.")
        return loads(raw)
