"""Serializer pieces shared by every app's API."""

from __future__ import annotations

import re
from collections.abc import Callable
from enum import Enum
from typing import Any, ClassVar, cast

from django.core.exceptions import ImproperlyConfigured
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import (
    MaxLengthValidator,
    MaxValueValidator,
    MinLengthValidator,
    MinValueValidator,
    ProhibitNullCharactersValidator,
)
from rest_framework import serializers
from rest_framework.serializers import as_serializer_error
from rest_framework.validators import ProhibitSurrogateCharactersValidator

from devskyy.json_codec import INT64_MAX, INT64_MIN, number_out_of_range


class StringsOnlyMixin:
    """Text fields take JSON strings only (DRF would turn ``5`` into ``"5"``)."""

    def _non_string_errors(self, data: Any) -> dict[str, list[serializers.ErrorDetail]]:
        if not isinstance(data, dict):
            return {}
        return {
            name: [serializers.ErrorDetail("Must be a string.", code="invalid")]
            for name, field in self.fields.items()  # type: ignore[attr-defined]
            if isinstance(field, serializers.CharField)
            and data.get(name) is not None
            and not isinstance(data[name], str)
        }

    def _reject_non_strings(self, data: Any) -> None:
        errors = self._non_string_errors(data)
        if errors:
            raise serializers.ValidationError(errors)


def _unknown_field_errors(serializer: serializers.Serializer, data: Any) -> None:
    if isinstance(data, dict):
        unknown = sorted(set(data) - set(serializer.fields))
        if unknown:
            raise serializers.ValidationError(
                {
                    name: [serializers.ErrorDetail("Unknown field.", code="unknown_field")]
                    for name in unknown
                }
            )


class QueryParametersSerializer(serializers.Serializer):
    """Validates a view's own query parameters. They are text by nature, so DRF's coercions
    apply (``?before=5`` is the integer 5); parameters it does not know are refused
    (``unknown_field``), like unknown body fields."""

    def to_internal_value(self, data: Any) -> Any:
        _unknown_field_errors(self, data)
        return super().to_internal_value(data)


class StrictInputSerializer(StringsOnlyMixin, serializers.Serializer):
    """An input serializer that takes JSON as JSON.

    It rejects fields it does not know, instead of silently dropping them: a caller who sends
    ``role`` or ``user`` learns it is not theirs to set. Text fields take JSON strings and integer
    fields JSON integers only: DRF would turn ``5`` into ``"5"``, and ``"5"``, ``" 5 "`` or
    ``5.0`` into ``5``; here they are 400s with the code ``invalid``, as the OpenAPI types say.
    The checks run in stages: unknown fields, then wrong JSON types, then DRF's own validation.
    """

    def _non_integer_errors(self, data: Any) -> dict[str, list[serializers.ErrorDetail]]:
        if not isinstance(data, dict):
            return {}
        return {
            name: [serializers.ErrorDetail(str(field.error_messages["invalid"]), code="invalid")]
            for name, field in self.fields.items()
            if isinstance(field, serializers.IntegerField)
            and data.get(name) is not None
            and (isinstance(data[name], bool) or not isinstance(data[name], int))
        }

    def to_internal_value(self, data: Any) -> Any:
        _unknown_field_errors(self, data)
        wrong_types = {**self._non_string_errors(data), **self._non_integer_errors(data)}
        if wrong_types:
            raise serializers.ValidationError(wrong_types)
        return super().to_internal_value(data)


class JSONNumberField(serializers.FloatField):
    """A JSON number, read as a float. DRF's FloatField also reads strings (``"1e308"``,
    ``" 5 "``, ``"\u0661"``) and booleans: they are refused (``invalid``), as the OpenAPI type
    says, and a string could otherwise carry a number past the parser's range rule. An integer
    whose float falls outside that rule (``2**63 - 1`` rounds to ``2**63``) is refused too."""

    default_error_messages = {
        "number_out_of_range": f"Must lie between {INT64_MIN} and {INT64_MAX}, exclusive."
    }

    def to_internal_value(self, data: Any) -> float:
        if isinstance(data, bool) or not isinstance(data, int | float):
            self.fail("invalid")
        value: float = super().to_internal_value(data)
        if number_out_of_range(value):
            self.fail("number_out_of_range")
        return value


class JSONObjectField(serializers.JSONField):
    """A JSON value that must be an object (``{}``), e.g. ``metadata``."""

    default_error_messages = {"not_an_object": "Must be a JSON object."}

    def to_internal_value(self, data: Any) -> Any:
        value = super().to_internal_value(data)
        if not isinstance(value, dict):
            self.fail("not_an_object")
        return value


# --- The fast path: a serializer's declaration compiled to one checker per field --------------
#
# A checker returns the field's validated value exactly as DRF's machinery (with
# StrictInputSerializer's JSON types) would, or REFUSED when that machinery would refuse the
# value or the checker cannot be sure it accepts it. The fast path only ever accepts: any refusal
# is decided and explained by the plain path, so error bodies are DRF's by construction.

REFUSED = object()
_MISSING = object()
_SURROGATE = re.compile("[\ud800-\udfff]")
# Deeper JSON goes to the plain path; DRF's json.dumps check handles far deeper documents, and the
# request parser refuses anything deeper than devskyy.api.parsers.MAX_DEPTH (32) anyway.
_JSON_MAX_DEPTH = 64

Checker = Callable[[Any], Any]

# Keyword arguments every supported field may carry: they change what is required, defaulted or
# nullable (all enforced), or only documentation and error wording (a refusal's wording comes
# from the plain path). Anything else (validators, source, read_only, ...) is refused.
_COMMON_KWARGS = frozenset(
    {
        "required",
        "default",
        "allow_null",
        "label",
        "help_text",
        "style",
        "write_only",
        "initial",
        "error_messages",
    }
)


def char_checker(field: serializers.CharField) -> Checker:
    """CharField.run_validation: blank test on the trimmed value, then to_internal_value (trim),
    then every validator (max_length, min_length, NUL and surrogate characters) on the result.
    Non-strings are refused by StrictInputSerializer before DRF would coerce numbers to text."""
    max_length, min_length = field.max_length, field.min_length
    allow_blank, trim = field.allow_blank, field.trim_whitespace

    def check(value: Any) -> Any:
        if type(value) is not str:
            return REFUSED
        if trim:
            value = value.strip()
        if not value:
            return "" if allow_blank else REFUSED
        if max_length is not None and len(value) > max_length:
            return REFUSED
        if min_length is not None and len(value) < min_length:
            return REFUSED
        if "\x00" in value or (not value.isascii() and _SURROGATE.search(value)):
            return REFUSED
        return value

    return check


def _choice_checker(field: serializers.ChoiceField) -> Checker:
    """ChoiceField.to_internal_value: ``""`` if blank is allowed, else the choice whose string
    form is ``str(value)``."""
    choices, allow_blank = field.choice_strings_to_values, field.allow_blank

    def check(value: Any) -> Any:
        if type(value) is str:
            if value == "" and allow_blank:
                return ""
            return choices.get(value, REFUSED)
        if isinstance(value, Enum):
            return REFUSED  # DRF maps enums by their value; not JSON, so not here
        return choices.get(str(value), REFUSED)

    return check


def _integer_checker(field: serializers.IntegerField) -> Checker:
    """A JSON integer (StrictInputSerializer refuses strings, floats and booleans), within
    min_value and max_value. Integers beyond 64 bits (which no JSON parser here produces) go to
    the plain path, where ``str()`` may refuse them."""
    low, high = field.min_value, field.max_value

    def check(value: Any) -> Any:
        if type(value) is not int or value.bit_length() > 64:
            return REFUSED
        if (low is not None and value < low) or (high is not None and value > high):
            return REFUSED
        return value

    return check


def is_json_document(value: Any) -> bool:
    """Whether ``value`` is made of JSON's types only: ``dict`` with ``str`` keys, ``list``,
    ``str``, ``int`` of at most 64 bits, ``float``, ``bool`` and ``None`` (exact types), nested
    at most _JSON_MAX_DEPTH levels. What the JSON parser gives always is, and ``json.dumps``
    (DRF's JSONField check) accepts all of it."""
    level = [value]
    for _ in range(_JSON_MAX_DEPTH):
        deeper: list[Any] = []
        for node in level:
            kind = type(node)
            if kind is dict:
                for key in node:
                    if type(key) is not str:
                        return False
                items = node.values()
            elif kind is list:
                items = node
            else:
                items = (node,)
            for item in items:
                kind = type(item)
                if kind is str or kind is float or kind is bool or item is None:
                    continue
                if kind is int:
                    if item.bit_length() > 64:
                        return False
                elif kind is dict or kind is list:
                    deeper.append(item)
                else:
                    return False
        if not deeper:
            return True
        level = deeper
    return False


def _json_checker(field: serializers.JSONField) -> Checker:
    """JSONField.to_internal_value: anything ``json.dumps`` accepts, returned unchanged."""

    def check(value: Any) -> Any:
        return value if is_json_document(value) else REFUSED

    return check


def _json_object_checker(field: serializers.JSONField) -> Checker:
    def check(value: Any) -> Any:
        return value if type(value) is dict and is_json_document(value) else REFUSED

    return check


# The supported field types (exact types: a subclass may validate differently), with the
# keyword arguments each may carry beyond _COMMON_KWARGS, the validators those arguments imply,
# and the checker that enforces them.
_SUPPORTED_FIELDS: dict[type, tuple[frozenset[str], tuple[type, ...], Callable[[Any], Checker]]] = {
    serializers.CharField: (
        frozenset({"max_length", "min_length", "allow_blank", "trim_whitespace"}),
        (
            MaxLengthValidator,
            MinLengthValidator,
            ProhibitNullCharactersValidator,
            ProhibitSurrogateCharactersValidator,
        ),
        char_checker,
    ),
    serializers.ChoiceField: (
        frozenset({"choices", "allow_blank", "html_cutoff", "html_cutoff_text"}),
        (),
        _choice_checker,
    ),
    serializers.IntegerField: (
        frozenset({"min_value", "max_value"}),
        (MaxValueValidator, MinValueValidator),
        _integer_checker,
    ),
    serializers.JSONField: (frozenset(), (), _json_checker),
}


def _default_factory(owner: str, field: Any) -> Callable[[], Any] | None:
    """What Field.get_default returns, as a function; None for no default."""
    default = field.default
    if default is serializers.empty:
        return None
    if callable(default):
        if getattr(default, "requires_context", False):
            raise ImproperlyConfigured(f"{owner}: a default that needs the field's context")
        return default
    if type(default) in (str, int, float, bool, type(None)):
        return lambda: default
    # DRF deep-copies a mutable default with the field for every serializer instance.
    raise ImproperlyConfigured(f"{owner}: a mutable default; use a callable such as `dict`")


class FastPath:
    """A FastInputSerializer's declared fields compiled to one checker per field.

    ``check(data)`` gives, for a ``dict``, the validated data exactly as DRF's field machinery
    (with StrictInputSerializer's stages: unknown fields, JSON types, then each field) gives it,
    or None when that machinery would refuse the data or must decide. Built at class creation; a
    declaration it cannot enforce is an ImproperlyConfigured error at import, not a silently
    skipped rule.
    """

    __slots__ = ("known", "steps")

    # Methods of the plain path that the fast path replaces or skips: a subclass overriding one
    # would validate differently on the two paths.
    REPLACED = (
        "run_validation",
        "to_internal_value",
        "run_validators",
        "get_validators",
        "validate_empty_values",
        "get_value",
        "get_fields",
        "fields",
        "_writable_fields",
        "_non_string_errors",
        "_non_integer_errors",
        "_reject_non_strings",
    )

    def __init__(self, serializer_class: type[FastInputSerializer]) -> None:
        name = serializer_class.__name__
        for method in self.REPLACED:
            if getattr(serializer_class, method) is not getattr(FastInputSerializer, method):
                raise ImproperlyConfigured(f"{name} overrides {method}(); the fast path skips it")
        if getattr(getattr(serializer_class, "Meta", None), "validators", None):
            raise ImproperlyConfigured(f"{name}: serializer-level validators (Meta.validators)")
        steps = []
        for field_name, field in serializer_class._declared_fields.items():
            owner = f"{name}.{field_name}"
            if callable(getattr(serializer_class, f"validate_{field_name}", None)):
                raise ImproperlyConfigured(f"{owner}: a validate_{field_name}() method")
            steps.append(
                (
                    field_name,
                    field.required,
                    _default_factory(owner, field),
                    field.allow_null,
                    self._checker(owner, field),
                )
            )
        self.known = frozenset(field_name for field_name, *_ in steps)
        self.steps = tuple(steps)

    @staticmethod
    def _checker(owner: str, field: Any) -> Checker:
        kind = type(field)
        extra_kwargs: frozenset[str]
        implied_validators: tuple[type, ...]
        build: Callable[[Any], Checker]
        if isinstance(field, serializers.ListSerializer):
            return FastPath._list_checker(owner, field)
        if callable(getattr(field, "fast_checker", None)):
            # A field type of an app's own that says how to check it (FastCheckedField).
            extra_kwargs, implied_validators = field.fast_kwargs, field.fast_validators
            build = type(field).fast_checker
        elif kind is JSONObjectField:
            extra_kwargs, implied_validators, build = frozenset(), (), _json_object_checker
        elif kind in _SUPPORTED_FIELDS:
            extra_kwargs, implied_validators, build = _SUPPORTED_FIELDS[kind]
        else:
            raise ImproperlyConfigured(f"{owner}: unsupported field type {kind.__name__}")
        unsupported = set(field._kwargs) - _COMMON_KWARGS - extra_kwargs
        if unsupported or (field._args and kind is not serializers.ChoiceField):
            raise ImproperlyConfigured(f"{owner}: unsupported arguments {sorted(unsupported)}")
        if any(type(validator) not in implied_validators for validator in field.validators):
            raise ImproperlyConfigured(f"{owner}: validators the fast path does not know")
        return build(field)

    @staticmethod
    def _list_checker(owner: str, field: Any) -> Checker:
        """``Child(many=True)`` of a FastInputSerializer without a ``validate()`` of its own:
        ListSerializer.to_internal_value (a list, not empty unless allowed, within max_length
        and min_length) with the child's checker on every item."""
        child = field.child
        if not isinstance(child, FastInputSerializer) or child.fast_path is None:
            raise ImproperlyConfigured(f"{owner}: a nested serializer that is not fast")
        if type(child).validate is not serializers.Serializer.validate:
            raise ImproperlyConfigured(f"{owner}: a nested serializer with validate()")
        unsupported = (
            set(field._kwargs)
            - _COMMON_KWARGS
            - {"max_length", "min_length", "allow_empty", "child"}
        )
        allow_empty, max_length, min_length = field.allow_empty, field.max_length, field.min_length
        if unsupported or field.validators or type(field) is not serializers.ListSerializer:
            raise ImproperlyConfigured(f"{owner}: unsupported arguments {sorted(unsupported)}")
        check_item = child.fast_path.check

        def check(value: Any) -> Any:
            if type(value) is not list or (not value and not allow_empty):
                return REFUSED
            if (max_length is not None and len(value) > max_length) or (
                min_length is not None and len(value) < min_length
            ):
                return REFUSED
            items = []
            for item in value:
                checked = check_item(item) if type(item) is dict else None
                if checked is None:
                    return REFUSED
                items.append(checked)
            return items

        return check

    def check(self, data: dict[str, Any]) -> dict[str, Any] | None:
        if not self.known.issuperset(data):
            return None
        out: dict[str, Any] = {}
        for name, required, default, allow_null, check in self.steps:
            value = data.get(name, _MISSING)
            if value is _MISSING:
                if required:
                    return None
                if default is not None:
                    out[name] = default()
            elif value is None:
                if not allow_null:
                    return None
                out[name] = None
            else:
                value = check(value)
                if value is REFUSED:
                    return None
                out[name] = value
        return out


class FastInputSerializer(StrictInputSerializer):
    """An input serializer for hot write paths (one row per request, or a thousand per bulk).

    Validation is the plain path's (StrictInputSerializer, i.e. DRF's machinery with JSON types),
    computed faster: FastPath compiles the declared fields, at class creation, into one checker
    per field, which skips DRF's per-instance field copies and per-field exception handling. The
    fast path only accepts; whatever it does not accept goes through the plain path, which
    refuses it with DRF's own error body (or, should the checkers be stricter than DRF, accepts
    it). The serializer's ``validate()`` runs on both paths. Supported: CharField, ChoiceField,
    IntegerField, JSONField and JSONObjectField with their usual options; a list of another
    FastInputSerializer without a ``validate()`` (``Child(many=True)``, with ``max_length``,
    ``min_length``, ``allow_empty``); an app's own field type that says how to check it, with a
    ``fast_checker()`` method (the checker: the validated value, or REFUSED), ``fast_kwargs``
    (the arguments it enforces) and ``fast_validators`` (the validator types those imply),
    e.g. the checkpoints' Base64Field. Anything else in the
    declaration (another field type, validators, ``validate_<field>`` methods, ``source``,
    ``Meta.validators``, ...) is an ImproperlyConfigured error when the class is created.
    ``plain_twin()`` is the same declaration on the plain path alone; tests hold the two equal.
    """

    fast_path: ClassVar[FastPath | None] = None
    _plain_twins: ClassVar[dict[type, type[FastInputSerializer]]] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls.fast_path = None if cls.__dict__.get("_plain_twin_of") else FastPath(cls)

    @classmethod
    def plain_twin(cls) -> type[FastInputSerializer]:
        """A subclass with the same declaration that validates on the plain path only."""
        twin = cls._plain_twins.get(cls)
        if twin is None:
            attrs = {"_plain_twin_of": cls, "__module__": cls.__module__}
            # type() hands the class to the bases' metaclass (DRF's SerializerMetaclass).
            twin = cast("type[FastInputSerializer]", type(f"Plain{cls.__name__}", (cls,), attrs))
            cls._plain_twins[cls] = twin
        return twin

    def _fast_check(self, data: Any) -> dict[str, Any] | None:
        fast = self.fast_path
        if (
            fast is None
            or type(data) is not dict
            or getattr(self, "_kwargs", {}).get("validators")  # given to this instance
            or getattr(self.root, "partial", False)
        ):
            return None
        return fast.check(data)

    def run_validation(self, data: Any = serializers.empty) -> Any:
        value = self._fast_check(data)
        if value is None:
            return super().run_validation(data)
        # The rest of Serializer.run_validation, minus run_validators: there are none (refused at
        # class creation, and instances given some take the plain path).
        try:
            value = self.validate(value)
            assert value is not None, ".validate() should return the validated data"
        except (serializers.ValidationError, DjangoValidationError) as exc:
            raise serializers.ValidationError(detail=as_serializer_error(exc)) from exc
        return value

    def to_internal_value(self, data: Any) -> Any:
        value = self._fast_check(data)
        return super().to_internal_value(data) if value is None else value


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
