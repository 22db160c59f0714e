"""Schemathesis failures that are accepted, each with its reason.

Everything else Schemathesis reports fails tests/api/test_schemathesis.py. An entry names the
failure (Schemathesis's code, e.g. ``ST202`` "schema-valid request rejected"), the operations it
applies to and a predicate on the response narrow enough to accept only the case it describes.

Besides these entries, the harness makes three choices, each said where it is made:
Schemathesis puts no U+0000 in generated strings (the API refuses them everywhere, which OpenAPI
cannot state of every string); the throttle is off during the run (429 stays documented); and
Idempotency-Keys are forgotten between cases (each case is an independent request, not a retry).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

# Schemathesis failure codes
SERVER_ERROR = "ST101"
UNDOCUMENTED_STATUS = "ST103"
POSITIVE_DATA_REJECTED = "ST202"


@dataclass(frozen=True)
class Accepted:
    failure: str  # Schemathesis's failure code
    operations: re.Pattern[str]  # matched against "METHOD /path"
    when: Callable[[Any, Any], bool]  # (case, response body) -> does it apply?
    reason: str


def _errors_only_under(*fields: str) -> Callable[[Any, Any], bool]:
    return lambda _, body: (
        isinstance(body, dict)
        and body.get("code") == "invalid"
        and bool(body.get("errors"))
        and set(body["errors"]) <= set(fields)
    )


def _sends_a_huge_number(case: Any, _: Any) -> bool:
    return _huge(case.body)


def _only_codes(body: Any, codes: set[str], under: set[str] | None = None) -> bool:
    """A 400 whose errors are lists (under ``under``, if given) with only these codes."""
    errors = body.get("errors") if isinstance(body, dict) else None
    if not errors or (under is not None and not set(errors) <= under):
        return False
    if not all(isinstance(items, list) for items in errors.values()):
        return False
    return {error["code"] for items in errors.values() for error in items} <= codes


def _line_errors(codes: set[str]) -> Callable[[Any, Any], bool]:
    """``{"errors": {"items": {"<index>": {"sku": [{"code": ...}]}}}}`` with only these codes."""

    def check(_: Any, body: Any) -> bool:
        if not (isinstance(body, dict) and set(body.get("errors") or {}) == {"items"}):
            return False
        lines = body["errors"]["items"]
        if not isinstance(lines, dict):
            return False
        found = {
            error["code"] for line in lines.values() for errors in line.values() for error in errors
        }
        return bool(found) and found <= codes

    return check


def _field_codes(allowed: dict[str, set[str]]) -> Callable[[Any, Any], bool]:
    """A 400 whose every error sits under a field of ``allowed`` (``chunks.*.embedding`` for the
    items of a list) with one of that field's codes."""

    def leaves(tree: Any, path: str) -> list[tuple[str, str]]:
        if isinstance(tree, list):
            return [(path, error["code"]) for error in tree]
        return [
            leaf
            for key, sub in tree.items()
            for leaf in leaves(sub, f"{path}.{'*' if key.isdigit() else key}".lstrip("."))
        ]

    def check(_: Any, body: Any) -> bool:
        if not (isinstance(body, dict) and body.get("code") == "invalid" and body.get("errors")):
            return False
        found = leaves(body["errors"], "")
        return all(code in allowed.get(path, set()) for path, code in found)

    return check


def _code(code: str) -> Callable[[Any, Any], bool]:
    return lambda _, body: isinstance(body, dict) and body.get("code") == code


def _huge(value: Any) -> bool:
    """Does this JSON value hold a number of magnitude 2**63 or more (e.g. ``1e20``)?"""
    stack = [value]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
        elif isinstance(node, int | float) and not isinstance(node, bool) and abs(node) >= 2**63:
            return True
    return False


ACCEPTED = [
    Accepted(
        POSITIVE_DATA_REJECTED,
        re.compile(r"POST .*|PATCH .*"),
        lambda case, body: (
            _sends_a_huge_number(case, body) and _code("number_out_of_range")(case, body)
        ),
        "JSON numbers must lie in the signed 64-bit range (the API description says why: jsonb "
        "turns 1e20 into an integer no client library writes back). Top-level number fields "
        "carry their bounds in the schema, but OpenAPI 3.0 cannot bound the numbers inside "
        "free-form objects (`metadata`, `inputs`, `shipping`, a participant's extra keys): "
        "such a number is a 400 `number_out_of_range`.",
    ),
    Accepted(
        POSITIVE_DATA_REJECTED,
        re.compile(r"GET .*"),
        _code("invalid_cursor"),
        "A cursor is opaque: only the server's own `next`/`previous` links hold valid ones, and "
        "the schema can only say `string` (of at most 200 characters). Any other string is a "
        "400 `invalid_cursor`.",
    ),
    Accepted(
        POSITIVE_DATA_REJECTED,
        re.compile(r"POST /api/v1/(threads/\{thread_id\}/)?checkpoints/search/"),
        _code("invalid_cursor"),
        "A checkpoint search's `cursor` is opaque too: only a `next_cursor` the server sent is "
        "valid, and the schema can only say `string`. Any other string is a 400 "
        "`invalid_cursor`.",
    ),
    Accepted(
        POSITIVE_DATA_REJECTED,
        re.compile(r"POST /api/v1/threads/\{thread_id\}/copy/"),
        lambda case, body: _only_codes(body, {"same_thread"}, under={"target_thread_id"}),
        "A rule across the path and the body: a thread is not copied into itself (400 "
        "`same_thread` under `target_thread_id`).",
    ),
    Accepted(
        POSITIVE_DATA_REJECTED,
        re.compile(r"POST /api/v1/threads/\{thread_id\}/writes/"),
        _field_codes({"writes.*.idx": {"duplicate"}}),
        "Each write of a call is one row keyed by its `idx`: an `idx` given twice is a 400 "
        "`duplicate` under `writes.<index>.idx` (JSON Schema's `uniqueItems` compares whole "
        "items, not one of their fields).",
    ),
    Accepted(
        POSITIVE_DATA_REJECTED,
        re.compile(r"PATCH /api/v1/products/\{id\}/"),
        _code("version_mismatch"),
        "`If-Match` must name the product's current version, which is data, not schema: any "
        "other well-formed ETag is a 412 `version_mismatch` (GET the product, then PATCH).",
    ),
    Accepted(
        POSITIVE_DATA_REJECTED,
        re.compile(r"POST /api/v1/orders/"),
        _line_errors({"not_for_sale", "duplicate"}),
        "Whether a SKU is for sale is data, not schema: an order naming an unknown or "
        "unpublished SKU, or the same SKU twice, is a 400 under `items.<index>.sku`.",
    ),
    Accepted(
        POSITIVE_DATA_REJECTED,
        re.compile(r"POST /api/v1/orders/"),
        lambda case, body: _only_codes(body, {"does_not_exist"}, under={"user"}),
        "An operator placing an order for a user id that does not exist gets a 400 "
        "`does_not_exist` under `user`; which ids exist is data, not schema.",
    ),
    Accepted(
        POSITIVE_DATA_REJECTED,
        re.compile(r"POST /api/v1/products/"),
        _errors_only_under("sku"),
        "Whether a SKU is taken is data, not schema: creating a product under a taken SKU is "
        "a 400 under `sku`.",
    ),
    Accepted(
        POSITIVE_DATA_REJECTED,
        re.compile(r"POST /api/v1/round-table-results/"),
        lambda case, body: _only_codes(body, {"duplicate", "not_a_participant"}),
        "Rules across fields that JSON Schema cannot state: each provider takes part once "
        "(`duplicate` under `participants`) and the winner is one of them "
        "(`not_a_participant` under `winner_provider`).",
    ),
    Accepted(
        POSITIVE_DATA_REJECTED,
        re.compile(r"POST /api/v1/users/"),
        lambda case, body: (
            _errors_only_under("username", "email")(case, body)
            and all(
                "already exists" in error["message"]
                for errors in body["errors"].values()
                for error in errors
            )
        ),
        "Whether a username or email is taken is data, not schema: a taken one is a 400 "
        "under `username` or `email`.",
    ),
    Accepted(
        POSITIVE_DATA_REJECTED,
        re.compile(r"POST /api/v1/users/"),
        _errors_only_under("password"),
        "Django's password rules go beyond the schema's `minLength: 12`: a common password, "
        "one like the username or email, or one of digits only is a 400 under `password`.",
    ),
    Accepted(
        POSITIVE_DATA_REJECTED,
        re.compile(r"PATCH /api/v1/projects/\{id\}/|(PATCH|PUT) /api/v1/tasks/\{id\}/"),
        _code("version_mismatch"),
        "`If-Match` must name the record's current version, which is data, not schema: any "
        "other well-formed ETag is a 412 `version_mismatch` (GET the record, then change it).",
    ),
    Accepted(
        POSITIVE_DATA_REJECTED,
        re.compile(r"POST /api/v1/tasks/\{id\}/(approve|reject|start|complete|fail)/"),
        _code("version_mismatch"),
        "The optional `If-Match` of a task's action must name the task's current version "
        "(data, not schema): another well-formed ETag is a 412 `version_mismatch`.",
    ),
    Accepted(
        POSITIVE_DATA_REJECTED,
        re.compile(r"POST /api/v1/tasks/|(PATCH|PUT) /api/v1/tasks/\{id\}/"),
        lambda case, body: _only_codes(
            body, {"does_not_exist", "unique"}, under={"project", "thread_id"}
        ),
        "Which projects exist and which `thread_id`s are taken is data, not schema: an unknown "
        "project is a 400 `does_not_exist` under `project`, a taken thread a 400 `unique` "
        "under `thread_id`.",
    ),
    Accepted(
        POSITIVE_DATA_REJECTED,
        re.compile(r"POST /api/v1/tasks/\{id\}/complete/"),
        lambda case, body: _only_codes(body, {"required"}, under={"external_ai_model"}),
        "A rule across fields that JSON Schema cannot state here: tokens or a cost need the "
        "model that used them (`required` under `external_ai_model`).",
    ),
    Accepted(
        POSITIVE_DATA_REJECTED,
        re.compile(r"POST /api/v1/search/"),
        lambda case, body: _only_codes(
            body,
            {"wrong_dimensions", "zero_vector", "invalid_key", "too_deep", "too_many_conditions"},
            under={"query_vector", "filters"},
        ),
        "Search rules that JSON Schema cannot state here: a `query_vector` has the dimension of "
        "the model searched (`filters.embedding_model`, else the server's setting; the schema "
        "can only list the registered dimensions) and is not all zeros (it has no direction); "
        "a metadata key in `filters` matches its pattern (OpenAPI 3.0 cannot constrain the keys "
        "of free-form objects); filters nest at most 5 levels with at most 50 conditions in "
        "all (limits over a recursive structure). Each is a 400 with its own code.",
    ),
    Accepted(
        POSITIVE_DATA_REJECTED,
        re.compile(r"POST /api/v1/documents/ingest/"),
        _field_codes(
            {
                "text": {"required", "too_many_chunks"},
                "chunks": {"invalid", "mixed_embeddings"},
                "chunks.*.embedding": {"invalid_dimensions", "invalid"},
                "chunk_size": {"only_with_text"},
                "chunk_overlap": {"only_with_text", "max_value"},
                "embedding_model": {"client_only_model"},
                "metadata": {"invalid_key", "reserved_key", "too_large"},
            }
        ),
        "Rules of an ingest that JSON Schema cannot state: `text` or `chunks`, exactly one "
        "(`required` under `text`, `invalid` under `chunks`); `chunk_size` and "
        "`chunk_overlap` only with `text` (`only_with_text`), the overlap at most half the "
        "size (`max_value`); how many chunks a text splits into (`too_many_chunks`); an "
        "embedding for every chunk or for none (`mixed_embeddings`), each with exactly its "
        "model's dimensions and not all zeros (`invalid_dimensions`, `invalid` under "
        "`chunks.<i>.embedding`); with `text`, a model the server computes "
        "(`client_only_model`); metadata keys (`invalid_key`, `reserved_key`: OpenAPI 3.0 "
        "has no `propertyNames`) and size (`too_large`, 16 KB as JSON).",
    ),
    Accepted(
        POSITIVE_DATA_REJECTED,
        re.compile(r"DELETE /api/v1/sources/"),
        lambda case, body: _only_codes(body, {"required"}, under={"source_path"}),
        "Deleting by path takes exactly one of `source_path` and `source_path_prefix` (both "
        "optional in the schema, which cannot require one of two query parameters): neither "
        "or both is a 400 `required` under `source_path`.",
    ),
    Accepted(
        POSITIVE_DATA_REJECTED,
        re.compile(r"POST .*|PATCH .*"),
        lambda case, body: _code("parse_error")(case, body) and "NUL" in body["detail"],
        "No string or object key in a body may hold U+0000 (PostgreSQL cannot store it); the "
        "API description says so, but OpenAPI 3.0 cannot constrain the keys of free-form "
        "objects (`metadata`, `shipping`). Schemathesis is told not to put NULs in strings "
        "(`allow-x00 = false`); keys still get them.",
    ),
]


def accepted(failure: Any, case: Any, response: Any) -> bool:
    """Is this failure of this case one of the accepted ones?"""
    label = f"{case.operation.method.upper()} {case.operation.path}"
    try:
        body = response.json()
    except ValueError:
        body = None
    return any(
        entry.failure == failure.code
        and entry.operations.fullmatch(label)
        and entry.when(case, body)
        for entry in ACCEPTED
    )
