"""A JSON parser that turns every malformed or hostile body into a 4xx, never a 500.

orjson refuses invalid UTF-8, lone UTF-16 surrogates, NaN/Infinity and numbers that overflow a
double, and nests at most 1024 deep. PostgreSQL additionally cannot store NUL characters in text
or jsonb, so strings and keys are checked for them, and documents are limited to
``MAX_DEPTH`` levels. Oversized bodies are refused before they cost memory.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson
from django.conf import settings
from rest_framework.exceptions import ParseError
from rest_framework.parsers import BaseParser

from devskyy.api.exceptions import RequestTooLarge

MAX_DEPTH = 32


def check_json_value(value: Any) -> None:
    """Raise ParseError if decoded JSON is nested too deep or holds a NUL character."""
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, str):
            if "\x00" in node:
                raise ParseError("Strings may not contain NUL (\\u0000) characters.")
        elif isinstance(node, dict):
            if depth >= MAX_DEPTH:
                raise ParseError(f"JSON is nested deeper than {MAX_DEPTH} levels.")
            for key, item in node.items():
                if "\x00" in key:
                    raise ParseError("Keys may not contain NUL (\\u0000) characters.")
                if isinstance(item, dict | list | str):
                    stack.append((item, depth + 1))
        elif isinstance(node, list):
            if depth >= MAX_DEPTH:
                raise ParseError(f"JSON is nested deeper than {MAX_DEPTH} levels.")
            stack.extend((item, depth + 1) for item in node if isinstance(item, dict | list | str))


def loads(raw: bytes) -> Any:
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise ParseError(f"Malformed JSON: {exc}") from None
    if b"\\u0000" in raw or b"[" in raw or b"{" in raw:
        check_json_value(data)
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
