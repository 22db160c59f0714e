"""A JSON parser that turns every malformed or hostile body into a 4xx, never a 500.

orjson refuses invalid UTF-8, lone UTF-16 surrogates, NaN/Infinity and numbers that overflow a
double, and nests at most 1024 deep. PostgreSQL additionally cannot store NUL characters in text
or jsonb, so strings and keys are checked for them, and documents are limited to
``MAX_DEPTH`` levels. Oversized bodies are refused before they cost memory.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import orjson
from django.conf import settings
from rest_framework.exceptions import ParseError
from rest_framework.parsers import BaseParser

from devskyy.api.exceptions import RequestTooLarge

MAX_DEPTH = 32


def _check_nul(value: Any) -> None:
    stack = [value]
    while stack:
        node = stack.pop()
        if isinstance(node, str):
            if "\x00" in node:
                raise ParseError("Strings may not contain NUL (\\u0000) characters.")
        elif isinstance(node, dict):
            for key, item in node.items():
                if "\x00" in key:
                    raise ParseError("Keys may not contain NUL (\\u0000) characters.")
                stack.append(item)
        elif isinstance(node, list):
            stack.extend(node)


def _check_depth(value: Any) -> None:
    """Visit containers only (scalars are most of a document and cannot nest)."""
    level: list[Any] = [value]
    depth = 0
    while level:
        if depth >= MAX_DEPTH:
            raise ParseError(f"JSON is nested deeper than {MAX_DEPTH} levels.")
        deeper: list[Any] = []
        push = deeper.append
        for node in level:
            for item in node.values() if type(node) is dict else node:
                kind = type(item)
                if kind is dict or kind is list:
                    push(item)
        level = deeper
        depth += 1


# A \u0000 escape that is not itself an escaped backslash followed by "u0000".
_NUL_ESCAPE = re.compile(rb"(?<!\\)(?:\\\\)*\\u0000")


def check_json_value(value: Any, raw: bytes | None = None) -> None:
    """Raise ParseError if decoded JSON nests deeper than MAX_DEPTH or holds a NUL character.

    orjson's own limits are 1024 levels to read and 254 to write; responses are written with it,
    so documents are held to MAX_DEPTH on the way in. NULs can only come from a ``\\u0000``
    escape, so the string walk runs only when the raw body has one.
    """
    if isinstance(value, dict | list):
        _check_depth(value)
    if raw is None or (b"\\u0000" in raw and _NUL_ESCAPE.search(raw)):
        _check_nul(value)


def loads(raw: bytes) -> Any:
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise ParseError(f"Malformed JSON: {exc}") from None
    check_json_value(data, raw)
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
