"""OpenAPI: the document is the exact contract of the API.

What the server enforces, the schema says, and what the schema allows, the server accepts:

- every operation documents the error responses it can return, in the one error format (the
  ``Error`` component, whose ``errors`` is typed), and every POST its ``Idempotency-Key`` header
  with the header's rules;
- request bodies of strict input serializers refuse unknown fields (``additionalProperties:
  false``); free-form JSON fields are non-null unless null is accepted; text fields that are
  trimmed must hold a non-space character; nested lists carry their ``minItems``/``maxItems``;
- query parameters: a value must not be empty, list-valued filters are arrays sent as repeated
  parameters (``style: form, explode: true``; commas work too), filter lengths are documented;
- natural keys in paths carry their pattern, reserved route names excluded;
- operations and components are described for the agents that call the API, never with the
  maintainers' docstrings: operation text comes only from ``@extend_schema(summary=...,
  description=...)``, and a serializer's docstring is used only if the class itself has one.

Anything generated here is checked against a live server by tests/api/test_schemathesis.py.
"""

from __future__ import annotations

import inspect
from typing import Any

from django.core.validators import MaxLengthValidator, MaxValueValidator, MinValueValidator
from drf_spectacular.drainage import get_override, has_override
from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema
from drf_spectacular.plumbing import append_meta
from drf_spectacular.utils import OpenApiParameter
from rest_framework import serializers

from devskyy.api import natural_keys
from devskyy.api.idempotency import IDEMPOTENCY_KEY_IGNORED, KEY_PATTERN, MAX_KEY_LENGTH
from devskyy.api.serializers import JSONObjectField, StrictInputSerializer

ERROR_DESCRIPTIONS = {
    "400": "Invalid input: `errors` holds messages and codes per field (per item index for "
    "lists, per query parameter for the query string).",
    "401": "Missing, invalid, revoked or expired credentials.",
    "403": "Your role may not do this.",
    "404": "No such record, or not one you may see.",
    "409": "Conflict: see `code` (`conflict`, `invalid_transition`, "
    "`idempotency_in_progress`, ...).",
    "412": "The record changed since you read it (`version_mismatch`).",
    "413": "The request body is too large (`request_too_large`).",
    "415": "Send `Content-Type: application/json`.",
    "422": "This Idempotency-Key was used with a different request (`idempotency_key_reused`).",
    "428": "Send the `ETag` you read in `If-Match` (`precondition_required`).",
    "429": "Too many requests; retry after `Retry-After` seconds.",
}

# Python's str.strip() also removes U+001C..U+001F and U+0085 (NEL), which ECMA's \s does
# not name.
NON_SPACE = r"[^\s\x1c-\x1f\x85]"
# One value of a list-valued query parameter: comma-separated parts, none of them empty.
LIST_ITEM_PATTERN = r"^[^,]+(,[^,]+)*$"

# A JSON value other than null.
NON_NULL_JSON = [
    {"type": "object", "additionalProperties": {}},
    {"type": "array", "items": {}},
    {"type": "string"},
    {"type": "number"},
    {"type": "boolean"},
]

ERROR_COMPONENTS: dict[str, Any] = {
    "Error": {
        "type": "object",
        "description": "The body of every error response. Branch on `code`; `detail` is for "
        "people.",
        "properties": {
            "code": {
                "type": "string",
                "description": "Machine-readable error code (`invalid`, `not_found`, "
                "`permission_denied`, `invalid_transition`, ...).",
            },
            "detail": {"type": "string", "description": "Human-readable summary."},
            "errors": {"$ref": "#/components/schemas/FieldErrors"},
        },
        "required": ["code", "detail"],
    },
    "FieldErrors": {
        "type": "object",
        "description": "Validation errors keyed by field name, query parameter or header "
        "(`non_field_errors` for the body as a whole). A key holds a list of errors, or, for "
        "a nested object or a list of objects, the same structure keyed by field name or by "
        'item index (`"0"`, `"1"`, ...).',
        "additionalProperties": {
            "oneOf": [
                {"type": "array", "items": {"$ref": "#/components/schemas/ErrorDetail"}},
                {"$ref": "#/components/schemas/FieldErrors"},
            ]
        },
    },
    "ErrorDetail": {
        "type": "object",
        "description": "One validation error.",
        "properties": {
            "message": {"type": "string", "description": "Human-readable."},
            "code": {
                "type": "string",
                "description": "Machine-readable: `required`, `invalid`, `blank`, `null`, "
                "`max_length`, `min_value`, `invalid_choice`, `unknown_field`, "
                "`repeated_parameter`, ...",
            },
        },
        "required": ["message", "code"],
    },
}


def _own_docstring(cls: type) -> str:
    """The class's own docstring; an inherited one is about the base class."""
    doc = cls.__dict__.get("__doc__")
    return inspect.cleandoc(doc).replace("``", "`") if doc else ""  # reST to Markdown


def _ecma(pattern: str) -> str:
    return pattern.replace(r"\Z", "$").replace(r"\A", "^")


class AutoSchema(SpectacularAutoSchema):
    def get_description(self) -> str:  # type: ignore[override]
        return ""  # docstrings are for maintainers; agents get @extend_schema(description=...)

    def _error_codes(self) -> list[str]:
        # Every operation may be a 400: the query string's rules (devskyy.api.viewsets) apply to
        # all of them, and a write's body or a list's filters have theirs.
        codes = ["400", "401", "403", "429"]
        writes = self.method in ("POST", "PUT", "PATCH")
        if "{" in self.path:
            codes.append("404")
        if writes:
            codes += ["413", "415"]
        if self.method == "POST":
            codes += ["409", "422"]
        codes += [
            str(c)
            for c in getattr(self.view, "extra_error_statuses", {}).get(
                getattr(self.view, "action", None), ()
            )
        ]
        return codes

    def _get_response_bodies(self, direction: Any = "response") -> dict[str, Any]:
        responses = super()._get_response_bodies(direction)
        if (
            getattr(self.view, "permission_classes", None)
            and self.view.get_permissions()
            and all(p.__class__.__name__ == "AllowAny" for p in self.view.get_permissions())
        ):
            return responses
        for code in self._error_codes():
            if code not in responses:
                responses[code] = {
                    "content": {
                        "application/json": {"schema": {"$ref": "#/components/schemas/Error"}}
                    },
                    "description": ERROR_DESCRIPTIONS[code],
                }
        return responses

    def get_override_parameters(self) -> list[Any]:
        parameters = list(super().get_override_parameters())
        handler = getattr(
            self.view, getattr(self.view, "action", None) or self.method.lower(), None
        )
        if self.method == "POST" and not getattr(handler, IDEMPOTENCY_KEY_IGNORED, False):
            parameters.append(
                OpenApiParameter(
                    name="Idempotency-Key",
                    location=OpenApiParameter.HEADER,
                    required=False,
                    type={
                        "type": "string",
                        "minLength": 1,
                        "maxLength": MAX_KEY_LENGTH,
                        "pattern": KEY_PATTERN.pattern,
                    },
                    description="Makes the POST safe to retry: the same key and body replay the "
                    "first response for 24 hours; a different body is a 422. 1 to "
                    f"{MAX_KEY_LENGTH} printable ASCII characters, not starting or ending with "
                    "a space (a UUID is a good key).",
                )
            )
        return parameters

    def _resolve_path_parameters(self, variables: list[str]) -> list[dict[str, Any]]:
        parameters: list[dict[str, Any]] = super()._resolve_path_parameters(variables)
        if getattr(self.view, "lookup_value_regex", None) == natural_keys.URL_REGEX:
            reserved = natural_keys.list_routes(type(self.view))
            for parameter in parameters:
                if parameter["name"] == getattr(self.view, "lookup_field", None):
                    parameter["schema"] = {
                        "type": "string",
                        "pattern": _ecma(natural_keys.pattern(reserved)),
                    }
        return parameters

    def _get_filter_parameters(self) -> list[dict[str, Any]]:
        parameters: list[dict[str, Any]] = super()._get_filter_parameters()
        filterset = getattr(self.view, "filterset_class", None)
        filters = getattr(filterset, "base_filters", {})
        for parameter in parameters:
            flt = filters.get(parameter["name"])
            schema = parameter["schema"]
            for validator in flt.field.validators if flt is not None else ():
                limit = getattr(validator, "limit_value", None)
                if isinstance(validator, MaxLengthValidator) and schema.get("type") == "string":
                    schema["maxLength"] = limit
                elif isinstance(validator, MaxValueValidator) and "maximum" not in schema:
                    schema["maximum"] = limit
                elif isinstance(validator, MinValueValidator) and "minimum" not in schema:
                    schema["minimum"] = limit
        return parameters

    def get_operation(self, *args: Any, **kwargs: Any) -> dict[str, Any] | None:
        operation: dict[str, Any] | None = super().get_operation(*args, **kwargs)
        blank_allowed: frozenset[str] = getattr(self.view, "blank_query_parameters", frozenset())
        for parameter in (operation or {}).get("parameters", []):
            if parameter["in"] == "query":
                _describe_query_parameter(
                    parameter, blank_allowed=parameter["name"] in blank_allowed
                )
        return operation

    def _map_basic_serializer(self, serializer: Any, direction: Any) -> dict[str, Any]:
        schema: dict[str, Any] = super()._map_basic_serializer(serializer, direction)
        if get_override(serializer, "description") is None:
            schema.pop("description", None)
            if doc := _own_docstring(type(serializer)):
                schema["description"] = doc
        if direction == "request" and isinstance(serializer, StrictInputSerializer):
            schema["additionalProperties"] = False
        return schema

    def _unwrap_list_serializer(self, serializer: Any, direction: Any) -> dict[str, Any] | None:
        schema: dict[str, Any] | None = super()._unwrap_list_serializer(serializer, direction)
        if schema is not None and schema.get("type") == "array":
            if not getattr(serializer, "allow_empty", True):
                schema["minItems"] = 1
            if getattr(serializer, "min_length", None) is not None:
                schema["minItems"] = serializer.min_length
            if getattr(serializer, "max_length", None) is not None:
                schema["maxItems"] = serializer.max_length
        return schema

    def _map_serializer_field(
        self, field: Any, direction: Any, bypass_extensions: bool = False
    ) -> dict[str, Any] | None:
        if (
            direction == "request"
            and isinstance(field, serializers.JSONField)
            and not has_override(field, "field")
        ):
            meta = self._get_serializer_field_meta(field, direction)
            if isinstance(field, JSONObjectField):
                return append_meta({"type": "object", "additionalProperties": {}}, meta)
            if not field.allow_null:
                return append_meta({"anyOf": NON_NULL_JSON}, meta)
        schema: dict[str, Any] | None = super()._map_serializer_field(
            field, direction, bypass_extensions
        )
        if (
            schema is not None
            and direction == "request"
            and type(field) in (serializers.CharField, serializers.EmailField)
            and field.trim_whitespace
            and not field.allow_blank
            and schema.get("type") == "string"
        ):
            # Leading and trailing spaces are trimmed, and what is left must not be empty.
            schema["pattern"] = NON_SPACE.replace(r"\x", r"\u00")
        return schema


def _describe_query_parameter(parameter: dict[str, Any], *, blank_allowed: bool = False) -> None:
    """Query parameters as APIViewSetMixin treats them: no empty values (but for the view's
    ``blank_query_parameters``); list-valued filters may be repeated (or comma-separated), others
    may appear once."""
    schema = parameter["schema"]
    if schema.get("type") == "array":
        parameter["style"], parameter["explode"] = "form", True
        items = schema.setdefault("items", {})
        if items.get("type") == "string" and "enum" not in items:
            items["minLength"] = 1
            # a value is split at commas, and an empty part is refused (``?tags=,a`` is a 400)
            items["pattern"] = LIST_ITEM_PATTERN
        note = "Repeat the parameter for several values (`?tags=a&tags=b`); `?tags=a,b` works too."
        note = note.replace("tags", parameter["name"])
        described = parameter.get("description", "").replace(
            "Multiple values may be separated by commas.", ""
        )
        parameter["description"] = f"{described.strip()}\n\n{note}".strip()
    elif schema.get("type") == "string" and "enum" not in schema and not blank_allowed:
        schema["minLength"] = max(1, schema.get("minLength", 0))


def postprocess(result: dict[str, Any], generator: Any, request: Any, public: bool) -> Any:
    """Add the error components every operation refers to."""
    result.setdefault("components", {}).setdefault("schemas", {}).update(ERROR_COMPONENTS)
    return result
