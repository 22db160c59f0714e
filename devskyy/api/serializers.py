"""Serializer pieces shared by every app's API."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers


class StringsOnlyMixin:
    """Text fields take JSON strings only (DRF would turn ``5`` into ``"5"``)."""

    def _reject_non_strings(self, data: Any) -> None:
        if not isinstance(data, dict):
            return
        errors = {
            name: [serializers.ErrorDetail("Must be a string.", code="invalid")]
            for name, field in self.fields.items()  # type: ignore[attr-defined]
            if isinstance(field, serializers.CharField)
            and data.get(name) is not None
            and not isinstance(data[name], str)
        }
        if errors:
            raise serializers.ValidationError(errors)


class StrictInputSerializer(StringsOnlyMixin, serializers.Serializer):
    """An input serializer that rejects fields it does not know, instead of silently dropping
    them: a caller who sends ``role`` or ``user`` learns it is not theirs to set."""

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, dict):
            unknown = sorted(set(data) - set(self.fields))
            if unknown:
                raise serializers.ValidationError(
                    {
                        name: [serializers.ErrorDetail("Unknown field.", code="unknown_field")]
                        for name in unknown
                    }
                )
        self._reject_non_strings(data)
        return super().to_internal_value(data)


class JSONObjectField(serializers.JSONField):
    """A JSON value that must be an object (``{}``), e.g. ``metadata``."""

    default_error_messages = {"not_an_object": "Must be a JSON object."}

    def to_internal_value(self, data: Any) -> Any:
        value = super().to_internal_value(data)
        if not isinstance(value, dict):
            self.fail("not_an_object")
        return value


class ErrorDetailSerializer(serializers.Serializer):
    message = serializers.CharField()
    code = serializers.CharField()


class ErrorSerializer(serializers.Serializer):
    """The body of every 4xx response (for the OpenAPI document)."""

    code = serializers.CharField(help_text="Machine-readable error code; branch on this.")
    detail = serializers.CharField(help_text="Human-readable summary.")
    errors = serializers.DictField(  # type: ignore[assignment]
        required=False,
        help_text="Validation errors keyed by field (or item index): lists of {message, code}.",
    )


class FastInputSerializer(StrictInputSerializer):
    """An input serializer for hot write paths (one row per request, or a thousand per bulk).

    It validates with direct type checks instead of DRF's per-field machinery, reading the rules
    from the declared fields (so the OpenAPI schema and the runtime agree). Supported fields:
    CharField, ChoiceField, IntegerField, JSONField (and JSONObjectField). Stricter than DRF's
    coercions on purpose: a string is a JSON string, an integer a JSON integer.
    """

    _plan_cache: dict[type, list[tuple[str, str, serializers.Field]]] = {}

    def _plan(self) -> list[tuple[str, str, serializers.Field]]:
        plan = self._plan_cache.get(type(self))
        if plan is None:
            plan = []
            for name, field in self.fields.items():
                if field.read_only:
                    continue
                if isinstance(field, serializers.ChoiceField):
                    kind = "choice"
                elif isinstance(field, serializers.CharField):
                    kind = "char"
                elif isinstance(field, serializers.IntegerField):
                    kind = "int"
                elif isinstance(field, JSONObjectField):
                    kind = "object"
                elif isinstance(field, serializers.JSONField):
                    kind = "json"
                else:
                    raise TypeError(f"{type(self).__name__}.{name}: unsupported field type")
                plan.append((name, kind, field))
            self._plan_cache[type(self)] = plan
        return plan

    def run_validation(self, data: Any = serializers.empty) -> Any:
        # No serializer-level validators here: skip DRF's pass over (deep-copied) fields.
        if data is serializers.empty or data is None:
            raise serializers.ValidationError(
                {
                    "non_field_errors": [
                        serializers.ErrorDetail("Expected a JSON object.", code="invalid")
                    ]
                }
            )
        return self.to_internal_value(data)

    def to_internal_value(self, data: Any) -> Any:
        if not isinstance(data, dict):
            raise serializers.ValidationError(
                {
                    "non_field_errors": [
                        serializers.ErrorDetail("Expected a JSON object.", code="invalid")
                    ]
                }
            )
        plan = self._plan()
        errors: dict[str, list[serializers.ErrorDetail]] = {}
        known = {name for name, _, _ in plan}
        for name in data:
            if name not in known:
                errors[name] = [serializers.ErrorDetail("Unknown field.", code="unknown_field")]
        out: dict[str, Any] = {}
        for name, kind, field in plan:
            if name not in data:
                if field.required:
                    errors[name] = [
                        serializers.ErrorDetail("This field is required.", code="required")
                    ]
                elif field.default is not serializers.empty:
                    out[name] = field.get_default()
                continue
            value = data[name]
            if value is None:
                if field.allow_null:
                    out[name] = None
                else:
                    errors[name] = [
                        serializers.ErrorDetail("This field may not be null.", code="null")
                    ]
                continue
            problem = _check(kind, field, value)
            if problem is None:
                out[name] = (
                    value.strip()
                    if kind == "char" and getattr(field, "trim_whitespace", False)
                    else value
                )
            else:
                errors[name] = [problem]
        if errors:
            raise serializers.ValidationError(errors)
        return self.validate(out)


def _check(kind: str, field: Any, value: Any) -> serializers.ErrorDetail | None:
    detail = serializers.ErrorDetail
    if kind == "char":
        if not isinstance(value, str):
            return detail("Must be a string.", code="invalid")
        if not field.allow_blank and not value.strip():
            return detail("This field may not be blank.", code="blank")
        if field.max_length is not None and len(value) > field.max_length:
            return detail(
                f"Ensure this field has no more than {field.max_length} characters.",
                code="max_length",
            )
        if "\x00" in value:
            return detail("Null characters are not allowed.", code="null_characters_not_allowed")
    elif kind == "choice":
        if not isinstance(value, str) or value not in field.choices:
            return detail(f'"{str(value)[:50]}" is not a valid choice.', code="invalid_choice")
    elif kind == "int":
        if not isinstance(value, int) or isinstance(value, bool):
            return detail("A valid integer is required.", code="invalid")
        if field.min_value is not None and value < field.min_value:
            return detail(
                f"Ensure this value is greater than or equal to {field.min_value}.",
                code="min_value",
            )
        if field.max_value is not None and value > field.max_value:
            return detail(
                f"Ensure this value is less than or equal to {field.max_value}.", code="max_value"
            )
    elif kind == "object" and not isinstance(value, dict):
        return detail("Must be a JSON object.", code="not_an_object")
    return None


_representers: dict[type, Any] = {}


def represent(serializer_class: type[serializers.BaseSerializer], instance: Any) -> Any:
    """``serializer_class(instance).data`` without building the serializer's fields again.

    DRF builds (and deep-copies) a ModelSerializer's fields for every instance it serializes:
    most of the cost of rendering one row. The fields are stateless once bound, so one bound
    serializer per class renders every instance. For output serializers without context.
    """
    representer = _representers.get(serializer_class)
    if representer is None:
        representer = serializer_class()
        representer.fields  # type: ignore[attr-defined]  # noqa: B018 (bind the fields once)
        _representers[serializer_class] = representer
    return representer.to_representation(instance)
