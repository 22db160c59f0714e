"""A JSON parser that turns every malformed or hostile body into a 4xx, never a 500.

orjson refuses invalid UTF-8, lone UTF-16 surrogates, NaN/Infinity and numbers that overflow a
double, and nests at most 1024 deep. PostgreSQL additionally cannot store NUL characters in text
or jsonb, so strings and keys are checked for them, and documents are limited to
``MAX_DEPTH`` levels. Oversized bodies are refused before they cost memory: larger than
``API_MAX_BODY_BYTES``, or than the setting a view names in ``max_body_bytes_setting``.

Numbers must lie in the signed 64-bit integer range (integers ``-2**63`` to ``2**63 - 1``, other
numbers strictly between ``-2**63`` and ``2**63``), or the request is a 400
``number_out_of_range``. orjson reads integers beyond 64 bits as (rounded) doubles, and ``jsonb``
stores a double of 1e16 or more as the integer its shortest digits spell (``1e20`` comes back as
``100000000000000000000``), which beyond 64 bits no reader of the row could write back. Within
the range every integer reads back exactly and every other number as the same double.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any

import orjson
from django.conf import settings
from rest_framework.exceptions import ParseError
from rest_framework.parsers import BaseParser

from devskyy.api.exceptions import RequestTooLarge
from devskyy.json_codec import INT64_MAX, INT64_MIN, locate_number_out_of_range
from devskyy.json_codec import number_out_of_range as _out_of_range

MAX_DEPTH = 32


class NumberOutOfRange(ParseError):
    default_code = "number_out_of_range"
    default_detail = f"JSON numbers must lie between {INT64_MIN} and {INT64_MAX}."


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


def _check_depth_and_numbers(value: Any) -> None:
    """One pass, level by level, over every item of every container: containers are counted for
    depth, numbers checked for range (the comparisons add about half to the walk: 1 ms for a
    300 KB bulk body; a scan of the raw bytes to skip it costs as much, and UUIDs defeat it)."""
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
                elif (kind is float or kind is int) and _out_of_range(item):
                    raise _out_of_range_error(*_locate(value))
        level = deeper
        depth += 1


def _out_of_range_error(where: str, number: str) -> NumberOutOfRange:
    return NumberOutOfRange(
        f"The number at {where} ({number}) is outside the range this API stores exactly: JSON "
        f"numbers must lie between {INT64_MIN} and {INT64_MAX}."
    )


def _locate(value: Any) -> tuple[str, str]:
    located = locate_number_out_of_range(value)
    assert located is not None  # only called when there is one
    return located


# A \u0000 escape that is not itself an escaped backslash followed by "u0000".
_NUL_ESCAPE = re.compile(rb"(?<!\\)(?:\\\\)*\\u0000")


def check_json_value(value: Any, raw: bytes | None = None) -> None:
    """Raise ParseError if decoded JSON nests deeper than MAX_DEPTH or holds a NUL character, and
    NumberOutOfRange if it holds a number outside the signed 64-bit range.

    orjson's own limits are 1024 levels to read and 254 to write; responses are written with it,
    so documents are held to MAX_DEPTH on the way in. NULs can only come from a ``\\u0000``
    escape, so the string walk runs only when the raw body has one.
    """
    if isinstance(value, dict | list):
        _check_depth_and_numbers(value)
    elif _out_of_range(value):
        raise _out_of_range_error(".", repr(value))
    if raw is None or (b"\\u0000" in raw and _NUL_ESCAPE.search(raw)):
        _check_nul(value)


_NUMBER = re.compile(r"-?[0-9]+(?:\.[0-9]+)?(?:[eE][-+]?[0-9]+)?")


def _overflowing_number(text: str, position: int) -> str | None:
    """The number orjson stopped at, if it was refused for overflowing a double."""
    number = _NUMBER.match(text, position)
    return number.group() if number and math.isinf(float(number.group())) else None


def loads(raw: bytes) -> Any:
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        number = _overflowing_number(raw.decode("utf-8", "replace"), exc.pos)
        if number is not None:
            where = "." if raw.lstrip()[:1] not in (b"[", b"{") else f"character {exc.pos}"
            raise _out_of_range_error(where, number[:40]) from None
        raise ParseError(f"Malformed JSON: {exc}") from None
    check_json_value(data, raw)
    return data


DEFAULT_BODY_LIMIT_SETTING = "API_MAX_BODY_BYTES"


def body_limit(view: Any) -> tuple[int, str]:
    """The body limit of a view's requests, in bytes, and the setting that holds it: the view's
    ``max_body_bytes_setting`` (e.g. checkpoints, which carry a graph's state, have a larger
    one), else ``API_MAX_BODY_BYTES``."""
    name = getattr(view, "max_body_bytes_setting", None) or DEFAULT_BODY_LIMIT_SETTING
    return int(getattr(settings, name)), name


def _too_large(limit: int, name: str) -> RequestTooLarge:
    if name == DEFAULT_BODY_LIMIT_SETTING:
        return RequestTooLarge(f"The request body is larger than {limit} bytes.")
    return RequestTooLarge(f"The request body is larger than {limit} bytes (the {name} limit).")


class StrictJSONParser(BaseParser):
    media_type = "application/json"

    def parse(
        self,
        stream: Any,
        media_type: str | None = None,
        parser_context: Mapping[str, Any] | None = None,
    ) -> Any:
        limit, name = body_limit((parser_context or {}).get("view"))
        request = (parser_context or {}).get("request")
        length = request.META.get("CONTENT_LENGTH") if request is not None else None
        try:
            declared = int(length) if length else None
        except ValueError:
            raise ParseError("Invalid Content-Length.") from None
        if declared is not None and declared > limit:
            raise _too_large(limit, name)
        raw = stream.read(limit + 1) if stream is not None else b""
        if len(raw) > limit:
            raise _too_large(limit, name)
        if not raw:
            raise ParseError("The request body is empty.")
        return loads(raw)
