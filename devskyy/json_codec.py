"""JSON that always reads and always writes back: the codec of every ``jsonb`` column and response.

PostgreSQL's ``jsonb`` stores numbers as ``numeric`` (up to 131,072 digits, any scale) and nests
thousands of levels deep; Python's ``json`` and orjson each hold less. A value written by raw SQL
(psql, another service) must still be readable and renderable, so:

- ``loads`` reads numbers as ``int`` or ``float`` when those hold them exactly, and any other
  number (more digits than ``int()`` converts, beyond or below the range of a double, or more
  digits than a double keeps) as a ``JSONNumber``: a ``Decimal`` that is written back digit for
  digit. Documents nested deeper than Python's recursion limit are read without recursion.
- ``dumps`` writes with orjson, and only where orjson refuses (integers beyond 64 bits,
  ``JSONNumber``, more than 254 levels, strings with lone surrogates, non-string keys) writes that
  part itself: every value renders, and the output is orjson's wherever orjson could write it.

The API refuses such numbers at the door (``devskyy.api.parsers``); this module is what keeps a
row that got in another way from breaking every read of it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator, Mapping
from decimal import Decimal
from json.encoder import encode_basestring_ascii
from typing import Any

import orjson

# orjson writes integers in [-2**63, 2**64 - 1]; the API accepts the signed 64-bit range.
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1


class JSONNumber(Decimal):
    """A JSON number that no Python ``int`` or ``float`` holds exactly, kept as its digits."""

    __slots__ = ()


def _parse_int(text: str) -> int | JSONNumber:
    try:
        return int(text)
    except ValueError:  # more digits than sys.get_int_max_str_digits() allows
        return JSONNumber(text)


def _parse_float(text: str) -> float | JSONNumber:
    number = float(text)
    shortest = repr(number)
    if shortest == text or Decimal(shortest) == Decimal(text):
        return number
    return JSONNumber(text)  # rounded, overflowed to infinity, or underflowed to zero


# A JSON text as tokens; whitespace between them is skipped by finditer.
_TOKEN = re.compile(
    r'[{}\[\],:]|"(?:[^"\\]|\\.)*"|-?[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?|true|false|null',
    re.DOTALL,
)
_LITERALS: dict[str, Any] = {"true": True, "false": False, "null": None}
_END: Any = object()


def _loads_without_recursion(text: str) -> Any:
    """Read a well-formed JSON text (PostgreSQL's output) with an explicit stack."""
    root: Any = _END
    stack: list[Any] = []  # open containers, innermost last
    keys: list[Any] = []  # per open container: the key awaiting its value (objects)
    expect_key = False
    for match in _TOKEN.finditer(text):
        token = match.group()
        first = token[0]
        if first in "]}":
            stack.pop()
            keys.pop()
            expect_key = False
            continue
        if first == ",":
            expect_key = type(stack[-1]) is dict
            continue
        if first == ":":
            continue
        if first == '"':
            value: Any = json.loads(token)
            if expect_key:
                keys[-1], expect_key = value, False
                continue
        elif first in "{[":
            value = {} if first == "{" else []
        elif token in _LITERALS:
            value = _LITERALS[token]
        elif match.group(1) or match.group(2):
            value = _parse_float(token)
        else:
            value = _parse_int(token)
        if not stack:
            root = value
        elif type(stack[-1]) is list:
            stack[-1].append(value)
        else:
            stack[-1][keys[-1]] = value
        if first in "{[":
            stack.append(value)
            keys.append(None)
            expect_key = first == "{"
    if root is _END:
        raise ValueError("No JSON value.")
    return root


class TotalJSONDecoder(json.JSONDecoder):
    """``json.JSONDecoder`` that reads every JSON text PostgreSQL can hold (see ``loads``)."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("parse_int", _parse_int)
        kwargs.setdefault("parse_float", _parse_float)
        super().__init__(**kwargs)

    def decode(self, s: str, *args: Any, **kwargs: Any) -> Any:
        try:
            return super().decode(s, *args, **kwargs)
        except RecursionError:
            return _loads_without_recursion(s)


_DECODER = TotalJSONDecoder()


def loads(text: str) -> Any:
    return _DECODER.decode(text)


class _NotPlainJSON(Exception):
    """Raised inside the standard encoder for a value only ``dumps`` can write."""


class TotalJSONEncoder(json.JSONEncoder):
    """``json.JSONEncoder`` for JSON columns: the standard (C) encoder, and ``dumps`` for what it
    cannot write (``JSONNumber``, nesting deeper than the recursion limit, huge integers). Other
    non-JSON types stay a ``TypeError``, as with the standard encoder."""

    def default(self, o: Any) -> Any:
        if isinstance(o, JSONNumber):
            raise _NotPlainJSON()
        return super().default(o)

    def encode(self, o: Any) -> str:
        try:
            return super().encode(o)
        except (_NotPlainJSON, RecursionError, ValueError):
            return dumps(o, sort_keys=self.sort_keys).decode()


def number_out_of_range(node: Any) -> bool:
    """Whether ``node`` is a number outside what this project stores exactly: integers must lie
    in ``[-2**63, 2**63 - 1]``, other numbers strictly between ``-2**63`` and ``2**63`` (NaN and
    the infinities are out too). See ``devskyy.api.parsers`` for why."""
    kind = type(node)
    if kind is int:
        return not INT64_MIN <= node <= INT64_MAX
    if kind is float:
        # -2**63 itself is out for a double: its shortest digits, -9.223372036854776e18, are not.
        return not INT64_MIN < node <= INT64_MAX
    if isinstance(node, Decimal):  # a JSONNumber, as Python-side decoders (the admin's) read one
        return not node.is_finite() or not INT64_MIN < node <= INT64_MAX
    return False


def locate_number_out_of_range(value: Any) -> tuple[str, str] | None:
    """The first out-of-range number in ``value`` and where it is (``.key[index]...``), or None."""
    stack: list[tuple[Any, str]] = [(value, "")]
    while stack:
        node, path = stack.pop()
        if isinstance(node, Mapping):
            stack.extend((item, f"{path}.{key}") for key, item in node.items())
        elif isinstance(node, list | tuple):
            stack.extend((item, f"{path}[{index}]") for index, item in enumerate(node))
        elif number_out_of_range(node):
            return path or ".", repr(node)
    return None


def contains_nul(value: Any) -> bool:
    """Whether a string or key anywhere in ``value`` holds a NUL, which ``jsonb`` cannot store."""
    stack = [value]
    while stack:
        node = stack.pop()
        if isinstance(node, str):
            if "\x00" in node:
                return True
        elif isinstance(node, Mapping):
            stack.extend(node.keys())
            stack.extend(node.values())
        elif isinstance(node, list | tuple):
            stack.extend(node)
    return False


def _integer_text(number: int) -> str:
    try:
        return int.__repr__(number)
    except ValueError:  # beyond sys.get_int_max_str_digits(); Decimal converts without the limit
        return format(Decimal(number), "f")


def _key_text(key: Any) -> str:
    if isinstance(key, str):
        return key
    if key is None or isinstance(key, bool):
        return json.dumps(key)
    if isinstance(key, int):
        return _integer_text(key)
    return str(key)


def dumps(
    value: Any, *, default: Callable[[Any], Any] | None = None, sort_keys: bool = False
) -> bytes:
    """Compact JSON of ``value``, with orjson. ``default`` turns other objects into JSON-able ones
    (as for orjson); without it they are a ``TypeError``. Where orjson refuses a part of a
    JSON-shaped value, that part is written here (strings escaped to ASCII): never fails."""
    option = orjson.OPT_SORT_KEYS if sort_keys else 0

    def fallback(item: Any) -> Any:
        if isinstance(item, JSONNumber):
            return orjson.Fragment(str(item))
        if default is None:
            raise TypeError(f"Object of type {type(item).__name__} is not JSON serializable")
        return default(item)

    parts: list[bytes] = []
    # Open containers: [closing bracket, items iterator, is an object, nothing written, container]
    stack: list[list[Any]] = []
    open_ids: set[int] = set()  # containers being written: one met again is a cycle

    def open_container(item: Any) -> None:
        if id(item) in open_ids:
            raise ValueError("Circular reference detected")
        open_ids.add(id(item))

    def emit(item: Any) -> None:
        for _ in range(8):  # default() may return another object that needs default()
            try:
                parts.append(orjson.dumps(item, default=fallback, option=option))
                return
            except orjson.JSONEncodeError:
                pass  # this item, or something inside it, needs the slow path
            if isinstance(item, str):  # lone surrogates
                parts.append(encode_basestring_ascii(item).encode())
            elif isinstance(item, int):  # beyond 64 bits (bool is written by orjson)
                parts.append(_integer_text(item).encode())
            elif isinstance(item, Mapping):
                pairs: Iterator[Any] = iter(item.items())
                if sort_keys:
                    pairs = iter(sorted(item.items(), key=lambda pair: _key_text(pair[0])))
                open_container(item)
                parts.append(b"{")
                stack.append([b"}", pairs, True, True, item])
            elif isinstance(item, list | tuple):
                open_container(item)
                parts.append(b"[")
                stack.append([b"]", iter(item), False, True, item])
            else:
                item = fallback(item)
                continue
            return
        parts.append(encode_basestring_ascii(str(item)).encode())

    emit(value)
    while stack:
        frame = stack[-1]
        item = next(frame[1], _END)
        if item is _END:
            parts.append(frame[0])
            open_ids.discard(id(frame[4]))
            stack.pop()
            continue
        if not frame[3]:
            parts.append(b",")
        frame[3] = False
        if frame[2]:
            key, item = item
            parts.append(encode_basestring_ascii(_key_text(key)).encode() + b":")
        emit(item)
    return b"".join(parts)
