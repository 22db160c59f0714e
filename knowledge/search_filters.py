"""The filter language of knowledge search, validated and compiled to parameterized SQL.

One language for all three search modes; it filters chunks (``rag_documents``, alias ``d``)::

    {"source_path": "docs/a.md" | {"prefix": "docs/"} | {"in": ["a.md", "b.md"]},
     "document_id": "returns-policy" | {"in": [...]},   # the chunk's source document
     "embedding_model": "all-MiniLM-L6-v2",             # top level only; see below
     "metadata": {"lang": "en", "year": {"gte": 2024}, "tag": {"in": ["a", "b"]},
                  "draft": {"exists": false}},
     "and": [filters, ...], "or": [filters, ...], "not": filters}

- Keys at one level are ANDed; ``and`` and ``or`` take non-empty lists of filters, ``not`` one.
  ``{}`` matches every chunk. At most ``MAX_DEPTH`` levels of filters and ``MAX_CONDITIONS``
  conditions (each source_path, document_id, embedding_model and metadata operator is one).
- ``embedding_model`` keeps the chunks that have a current vector (computed from the chunk's
  present content) under that model, and makes the vector leg search that model's vectors; it
  may appear only at the top level.
- Metadata, per key (``^[A-Za-z_][A-Za-z0-9_.-]{0,63}$``): a scalar (string, number, boolean,
  null) means ``eq``; an object holds operators, ANDed:

  ``eq``, ``ne``      the value equals (``ne``: does not equal, or the key is absent) a scalar
  ``in``, ``nin``     the value is (``nin``: is not, or the key is absent) one of 1-100 scalars
  ``gt`` ``gte`` ``lt`` ``lte``  ranges over numbers or strings: a number matches only numbers,
                      a string only strings (compared by code point); other values never match
  ``exists``          ``true``: the key is present (even with ``null``); ``false``: it is absent
  ``contains``        the value is a list holding this scalar

  Equality compares JSON values: ``1`` equals ``1.0``, ``"1"`` equals neither; ``eq`` on a key
  whose value is a list never matches (use ``contains``).
- ``not`` is the exact complement: ``{"not": f}`` matches every chunk ``f`` does not match.

Compilation: equality, ``in`` and ``contains`` become ``d.metadata @> %s::jsonb`` (ORed for
``in``), which the GIN ``jsonb_path_ops`` index serves; a source_path prefix becomes ``LIKE`` with
``%``, ``_`` and ``\\`` escaped, which the ``varchar_pattern_ops`` index serves; ``document_id``
selects the parent through ``rag_sources``' unique ``document_id``. Every value, metadata keys
included, is a query parameter.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from devskyy.errors import FieldError, InvalidInput
from devskyy.json_codec import number_out_of_range
from knowledge.embedding_models import EMBEDDING_MODELS, EmbeddingModel

MAX_DEPTH = 5
MAX_CONDITIONS = 50
MAX_LIST_ITEMS = 100
MAX_STRING_LENGTH = 1000
MAX_SOURCE_PATH_LENGTH = 500
MAX_DOCUMENT_ID_LENGTH = 100

METADATA_KEY_PATTERN = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]{0,63}\Z")
_SURROGATE = re.compile("[\ud800-\udfff]")

FILTER_KEYS = ("source_path", "document_id", "embedding_model", "metadata", "and", "or", "not")
RANGE_OPERATORS = {"gt": ">", "gte": ">=", "lt": "<", "lte": "<="}
METADATA_OPERATORS = ("eq", "ne", "in", "nin", *RANGE_OPERATORS, "exists", "contains")


@dataclass(frozen=True)
class CompiledFilter:
    """A boolean SQL expression over ``rag_documents d`` and its parameters, in order."""

    sql: str
    params: list[Any]
    # the model named by the top level's ``embedding_model``, if any
    embedding_model: EmbeddingModel | None = None


@dataclass
class _Compiler:
    errors: list[FieldError] = field(default_factory=list)
    conditions: int = 0
    embedding_model: EmbeddingModel | None = None

    def error(self, path: str, message: str, code: str = "invalid") -> None:
        self.errors.append(FieldError(f"{path}: {message}", code))

    def condition(self, path: str) -> None:
        self.conditions += 1
        if self.conditions == MAX_CONDITIONS + 1:
            self.error(
                path,
                f"more than {MAX_CONDITIONS} conditions in filters",
                "too_many_conditions",
            )

    # --- filters objects --------------------------------------------------------------------

    def filters(self, value: Any, path: str, depth: int) -> tuple[str, list[Any]]:
        if not isinstance(value, Mapping):
            self.error(path, "must be an object", "not_an_object")
            return "TRUE", []
        if depth > MAX_DEPTH:
            self.error(path, f"filters nest deeper than {MAX_DEPTH} levels", "too_deep")
            return "TRUE", []
        parts: list[tuple[str, list[Any]]] = []
        for key, item in value.items():
            where = f"{path}.{key}"
            if key == "source_path":
                parts.append(self.source_path(item, where))
            elif key == "document_id":
                parts.append(self.document_id(item, where))
            elif key == "embedding_model":
                parts.append(self.model(item, where, top_level=depth == 1))
            elif key == "metadata":
                parts.append(self.metadata(item, where))
            elif key in ("and", "or"):
                parts.append(self.junction(str(key), item, where, depth))
            elif key == "not":
                sql, params = self.filters(item, where, depth + 1)
                parts.append((f"(({sql}) IS NOT TRUE)", params))
            else:
                self.error(
                    where,
                    f"unknown key {key!r} (use {', '.join(FILTER_KEYS)})",
                    "unknown_key",
                )
        return _join(parts, "AND")

    def junction(self, op: str, value: Any, path: str, depth: int) -> tuple[str, list[Any]]:
        if not isinstance(value, list) or not value:
            self.error(path, "must be a non-empty list of filters", "invalid")
            return "TRUE", []
        if len(value) > MAX_CONDITIONS:
            self.error(path, f"at most {MAX_CONDITIONS} filters", "too_many_conditions")
            return "TRUE", []
        parts = [self.filters(item, f"{path}.{i}", depth + 1) for i, item in enumerate(value)]
        return _join(parts, op.upper())

    # --- columns ----------------------------------------------------------------------------

    def source_path(self, value: Any, path: str) -> tuple[str, list[Any]]:
        self.condition(path)
        if isinstance(value, Mapping):
            if len(value) != 1 or next(iter(value)) not in ("prefix", "in"):
                self.error(
                    path,
                    "must be a path, {'prefix': path} or {'in': [paths]}",
                    "unknown_operator",
                )
                return "TRUE", []
            ((op, operand),) = value.items()
            if op == "prefix":
                if self.text(operand, f"{path}.prefix", MAX_SOURCE_PATH_LENGTH):
                    return "d.source_path LIKE %s", [_like_prefix(operand)]
                return "TRUE", []
            values = self.texts(operand, f"{path}.in", MAX_SOURCE_PATH_LENGTH)
            return "d.source_path = ANY(%s::text[])", [values]
        if self.text(value, path, MAX_SOURCE_PATH_LENGTH):
            return "d.source_path = %s", [value]
        return "TRUE", []

    def document_id(self, value: Any, path: str) -> tuple[str, list[Any]]:
        self.condition(path)
        parent = "d.parent_id IN (SELECT ds.id FROM rag_sources ds WHERE ds.document_id {})"
        if isinstance(value, Mapping):
            if len(value) != 1 or next(iter(value)) != "in":
                self.error(path, "must be a document id or {'in': [ids]}", "unknown_operator")
                return "TRUE", []
            values = self.texts(value["in"], f"{path}.in", MAX_DOCUMENT_ID_LENGTH)
            return parent.format("= ANY(%s::text[])"), [values]
        if self.text(value, path, MAX_DOCUMENT_ID_LENGTH):
            return parent.format("= %s"), [value]
        return "TRUE", []

    def model(self, value: Any, path: str, *, top_level: bool) -> tuple[str, list[Any]]:
        self.condition(path)
        if not top_level:
            self.error(path, "allowed only at the top level of filters", "invalid")
            return "TRUE", []
        if not isinstance(value, str) or value not in EMBEDDING_MODELS:
            self.error(
                path,
                f"unknown embedding model {value!r} (use {', '.join(sorted(EMBEDDING_MODELS))})",
                "invalid_choice",
            )
            return "TRUE", []
        self.embedding_model = EMBEDDING_MODELS[value]
        # "has a current vector under this model": what the vector leg can find
        return (
            "EXISTS (SELECT 1 FROM rag_embeddings de WHERE de.chunk_id = d.id "
            "AND de.model = %s AND de.content_hash = d.content_hash)",
            [value],
        )

    # --- metadata ---------------------------------------------------------------------------

    def metadata(self, value: Any, path: str) -> tuple[str, list[Any]]:
        if not isinstance(value, Mapping):
            self.error(path, "must be an object of metadata keys", "not_an_object")
            return "TRUE", []
        parts: list[tuple[str, list[Any]]] = []
        for key, condition in value.items():
            where = f"{path}.{key}"
            if not isinstance(key, str) or not METADATA_KEY_PATTERN.match(key):
                self.error(
                    where,
                    f"invalid metadata key (must match {METADATA_KEY_PATTERN.pattern[:-2]}$)",
                    "invalid_key",
                )
                continue
            if isinstance(condition, Mapping):
                if not condition:
                    self.error(where, "give at least one operator", "invalid")
                for op, operand in condition.items():
                    parts.append(self.operator(key, op, operand, where, f"{where}.{op}"))
            elif isinstance(condition, list):
                self.error(
                    where,
                    "a list is not a value to compare; use {'in': [...]} or {'contains': value}",
                    "invalid",
                )
            else:
                parts.append(self.operator(key, "eq", condition, where, where))
        return _join(parts, "AND")

    def operator(
        self, key: str, op: Any, operand: Any, key_path: str, path: str
    ) -> tuple[str, list[Any]]:
        """One operator on one metadata key; ``path`` names the operand."""
        self.condition(path)
        if op in ("eq", "ne"):
            if not self.scalar(operand, path):
                return "TRUE", []
            sql = "d.metadata @> %s::jsonb"
            return (sql if op == "eq" else f"NOT ({sql})"), [_json({key: operand})]
        if op in ("in", "nin"):
            values = self.scalars(operand, path)
            if not values:
                return "TRUE", []
            sql = " OR ".join(["d.metadata @> %s::jsonb"] * len(values))
            params = [_json({key: item}) for item in values]
            return (f"({sql})" if op == "in" else f"NOT ({sql})"), params
        if op in RANGE_OPERATORS:
            comparison = RANGE_OPERATORS[op]
            if isinstance(operand, str) and self.string(operand, path):
                # by code point, whatever the database's collation
                return (
                    f"(jsonb_typeof(d.metadata -> %s) = 'string' "
                    f'AND (d.metadata ->> %s) COLLATE "C" {comparison} %s COLLATE "C")',
                    [key, key, operand],
                )
            if _is_number(operand):
                if not self.number(operand, path):
                    return "TRUE", []
                # jsonb orders numbers numerically (1 = 1.0)
                return (
                    f"(jsonb_typeof(d.metadata -> %s) = 'number' "
                    f"AND (d.metadata -> %s) {comparison} %s::jsonb)",
                    [key, key, _json(operand)],
                )
            if not isinstance(operand, str):
                self.error(path, "must be a number or a string", "invalid")
            return "TRUE", []
        if op == "exists":
            if not isinstance(operand, bool):
                self.error(path, "must be true or false", "invalid")
                return "TRUE", []
            return ("d.metadata ? %s" if operand else "NOT (d.metadata ? %s)"), [key]
        if op == "contains":
            if not self.scalar(operand, path):
                return "TRUE", []
            return "d.metadata @> %s::jsonb", [_json({key: [operand]})]
        self.error(
            key_path,
            f"unknown operator {op!r} (use {', '.join(METADATA_OPERATORS)})",
            "unknown_operator",
        )
        return "TRUE", []

    # --- values -----------------------------------------------------------------------------

    def text(self, value: Any, path: str, max_length: int) -> bool:
        if not isinstance(value, str) or not value:
            self.error(path, "must be a non-empty string", "invalid")
            return False
        if len(value) > max_length:
            self.error(path, f"at most {max_length} characters", "max_length")
            return False
        return self.characters(value, path)

    def texts(self, value: Any, path: str, max_length: int) -> list[str]:
        if not isinstance(value, list) or not 1 <= len(value) <= MAX_LIST_ITEMS:
            self.error(path, f"must be a list of 1 to {MAX_LIST_ITEMS} strings", "invalid")
            return []
        checks = [self.text(item, f"{path}.{i}", max_length) for i, item in enumerate(value)]
        return list(value) if all(checks) else []

    def string(self, value: str, path: str) -> bool:
        if len(value) > MAX_STRING_LENGTH:
            self.error(path, f"at most {MAX_STRING_LENGTH} characters", "max_length")
            return False
        return self.characters(value, path)

    def characters(self, value: str, path: str) -> bool:
        """What PostgreSQL's text (and UTF-8) cannot hold: NUL, lone surrogates."""
        if "\x00" in value:
            self.error(path, "must not contain NUL characters", "invalid")
            return False
        if has_surrogates(value):
            self.error(path, "must not contain surrogate characters", "invalid")
            return False
        return True

    def number(self, value: Any, path: str) -> bool:
        if number_out_of_range(value) or (isinstance(value, float) and not math.isfinite(value)):
            self.error(
                path,
                "numbers must lie in the signed 64-bit range and be finite",
                "number_out_of_range",
            )
            return False
        return True

    def scalar(self, value: Any, path: str) -> bool:
        if value is None or isinstance(value, bool):
            return True
        if isinstance(value, str):
            return self.string(value, path)
        if _is_number(value):
            return self.number(value, path)
        self.error(path, "must be a string, number, boolean or null", "invalid")
        return False

    def scalars(self, value: Any, path: str) -> list[Any]:
        if not isinstance(value, list) or not 1 <= len(value) <= MAX_LIST_ITEMS:
            self.error(path, f"must be a list of 1 to {MAX_LIST_ITEMS} scalars", "invalid")
            return []
        checks = [self.scalar(item, f"{path}.{i}") for i, item in enumerate(value)]
        return list(value) if all(checks) else []


def compile_filters(filters: Any, *, path: str = "filters") -> CompiledFilter:
    """Validate ``filters`` and compile them to a condition on ``rag_documents d``; raise
    ``InvalidInput`` (``{"filters": [...]}``, each message naming the bad part's path)."""
    if filters is None:
        return CompiledFilter("TRUE", [])
    compiler = _Compiler()
    sql, params = compiler.filters(filters, path, depth=1)
    if compiler.errors:
        raise InvalidInput({path.split(".")[0]: compiler.errors})
    return CompiledFilter(sql, params, compiler.embedding_model)


def _join(parts: list[tuple[str, list[Any]]], op: str) -> tuple[str, list[Any]]:
    """``AND`` or ``OR`` of conditions; ``TRUE`` (an empty filters object) is AND's identity
    and OR's absorbing element."""
    if op == "OR" and any(sql == "TRUE" for sql, _ in parts):
        return "TRUE", []
    parts = [part for part in parts if part[0] != "TRUE"]
    if not parts:
        return "TRUE", []
    if len(parts) == 1:
        return parts[0]
    return (
        "(" + f" {op} ".join(sql for sql, _ in parts) + ")",
        [param for _, params in parts for param in params],
    )


def has_surrogates(value: str) -> bool:
    """Whether ``value`` holds a lone UTF-16 surrogate (Python strings may; UTF-8 may not)."""
    return not value.isascii() and _SURROGATE.search(value) is not None


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, allow_nan=False, separators=(",", ":"))


def _like_prefix(prefix: str) -> str:
    """A LIKE pattern matching what starts with ``prefix`` (``\\`` is LIKE's escape)."""
    escaped = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return escaped + "%"
