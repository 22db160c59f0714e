"""Serializer pieces shared by every app's API."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers


class StrictInputSerializer(serializers.Serializer):
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
