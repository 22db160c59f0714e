"""Serializer pieces shared by every app's API."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

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


class _Invalid:
    """A field checker's verdict that the value is not acceptable."""

    __slots__ = ("detail",)

    def __init__(self, message: str, code: str) -> None:
        self.detail = serializers.ErrorDetail(message, code=code)


Checker = Callable[[Any], Any]  # returns the clean value, or an _Invalid


def _char_checker(field: Any) -> Checker:
    max_length, allow_blank = field.max_length, field.allow_blank
    trim = getattr(field, "trim_whitespace", False)
    too_long = f"Ensure this field has no more than {max_length} characters."

    def check(value: Any) -> Any:
        if type(value) is not str:
            return _Invalid("Must be a string.", "invalid")
        if max_length is not None and len(value) > max_length:
            return _Invalid(too_long, "max_length")
        if "\x00" in value:
            return _Invalid("Null characters are not allowed.", "null_characters_not_allowed")
        clean = value.strip() if trim else value
        if not allow_blank and not (clean if trim else value.strip()):
            return _Invalid("This field may not be blank.", "blank")
        return clean

    return check


def _choice_checker(field: Any) -> Checker:
    choices = frozenset(str(choice) for choice in field.choices)

    def check(value: Any) -> Any:
        if type(value) is not str or value not in choices:
            return _Invalid(f'"{str(value)[:50]}" is not a valid choice.', "invalid_choice")
        return value

    return check


def _int_checker(field: Any) -> Checker:
    low, high = field.min_value, field.max_value

    def check(value: Any) -> Any:
        if type(value) is not int:
            return _Invalid("A valid integer is required.", "invalid")
        if low is not None and value < low:
            return _Invalid(f"Ensure this value is greater than or equal to {low}.", "min_value")
        if high is not None and value > high:
            return _Invalid(f"Ensure this value is less than or equal to {high}.", "max_value")
        return value

    return check


def _object_checker(field: Any) -> Checker:
    def check(value: Any) -> Any:
        if type(value) is not dict:
            return _Invalid("Must be a JSON object.", "not_an_object")
        return value

    return check


def _any_json(value: Any) -> Any:
    return value  # the parser already refused what PostgreSQL cannot store


def _checker(field: Any) -> Checker:
    if isinstance(field, serializers.ChoiceField):
        return _choice_checker(field)
    if isinstance(field, serializers.CharField):
        return _char_checker(field)
    if isinstance(field, serializers.IntegerField):
        return _int_checker(field)
    if isinstance(field, JSONObjectField):
        return _object_checker(field)
    if isinstance(field, serializers.JSONField):
        return _any_json
    raise TypeError(f"{field.field_name}: unsupported field type {type(field).__name__}")


_MISSING = object()
_NOT_AN_OBJECT = {
    "non_field_errors": [serializers.ErrorDetail("Expected a JSON object.", code="invalid")]
}


class FastInputSerializer(StrictInputSerializer):
    """An input serializer for hot write paths (one row per request, or a thousand per bulk).

    It validates with one small compiled checker per field instead of DRF's per-field
    machinery, reading the rules from the declared fields (so the OpenAPI schema and the runtime
    agree). Supported fields: CharField, ChoiceField, IntegerField, JSONField (and
    JSONObjectField). Stricter than DRF's coercions on purpose: a string is a JSON string, an
    integer a JSON integer.
    """

    _plans: ClassVar[dict[type, tuple[frozenset[str], list[tuple[Any, ...]]]]] = {}

    def _plan(self) -> tuple[frozenset[str], list[tuple[Any, ...]]]:
        plan = self._plans.get(type(self))
        if plan is None:
            steps = []
            for name, field in self.fields.items():
                if field.read_only:
                    continue
                default = _MISSING if field.default is serializers.empty else field.get_default
                steps.append((name, field.required, default, field.allow_null, _checker(field)))
            plan = (frozenset(name for name, *_ in steps), steps)
            self._plans[type(self)] = plan
        return plan

    def run_validation(self, data: Any = serializers.empty) -> Any:
        # No serializer-level validators here: skip DRF's pass over (deep-copied) fields.
        if data is serializers.empty or data is None:
            raise serializers.ValidationError(_NOT_AN_OBJECT)
        return self.to_internal_value(data)

    def to_internal_value(self, data: Any) -> Any:
        if type(data) is not dict:
            raise serializers.ValidationError(_NOT_AN_OBJECT)
        known, steps = self._plan()
        errors: dict[str, list[serializers.ErrorDetail]] | None = None
        if not known.issuperset(data):
            errors = {
                name: [serializers.ErrorDetail("Unknown field.", code="unknown_field")]
                for name in data
                if name not in known
            }
        out: dict[str, Any] = {}
        for name, required, default, allow_null, check in steps:
            value = data.get(name, _MISSING)
            if value is _MISSING:
                if required:
                    errors = errors or {}
                    errors[name] = [
                        serializers.ErrorDetail("This field is required.", code="required")
                    ]
                elif default is not _MISSING:
                    out[name] = default()
            elif value is None:
                if allow_null:
                    out[name] = None
                else:
                    errors = errors or {}
                    errors[name] = [
                        serializers.ErrorDetail("This field may not be null.", code="null")
                    ]
            else:
                clean = check(value)
                if type(clean) is _Invalid:
                    errors = errors or {}
                    errors[name] = [clean.detail]
                else:
                    out[name] = clean
        if errors:
            raise serializers.ValidationError(errors)
        return self.validate(out)


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
