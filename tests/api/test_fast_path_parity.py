"""FastInputSerializer is its plain path, faster: same decision, same validated data (hence the
same stored row), same error body, for any JSON body; and it refuses at class creation any
declaration it could not enforce."""

from __future__ import annotations

import base64
import re
from typing import Any

import orjson
import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db import connection
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from rest_framework import serializers
from rest_framework.exceptions import ErrorDetail, ValidationError

from agents_audit import services
from agents_audit.api.checkpoint_serializers import (
    BlobSerializer,
    CheckpointPutSerializer,
    WriteSerializer,
    WritesPutSerializer,
)
from agents_audit.api.serializers import AgentExecutionEndSerializer, ToolExecutionInputSerializer
from agents_audit.models import ToolExecution
from devskyy.api.serializers import FastInputSerializer, JSONObjectField
from tests.conftest import error_codes

# --- what the two paths answer ---------------------------------------------------------------


def outcome(serializer_class: type[serializers.Serializer], body: Any) -> tuple[bool, Any]:
    """``(True, validated data)`` or ``(False, the 400 body's errors)``, as a view sees them."""
    serializer = serializer_class(data=body)
    if serializer.is_valid():
        return True, serializer.validated_data
    return False, serializer.errors


def field_level(serializer_class: type[FastInputSerializer], body: Any) -> Any:
    """The plain path's field-level result (DRF's to_internal_value), or None if it refuses."""
    try:
        return serializer_class.plain_twin()().to_internal_value(body)
    except ValidationError:
        return None


def _tagged_bytes(value: Any) -> Any:
    if isinstance(value, bytes):
        return {"<bytes>": value.hex()}
    raise TypeError(type(value))


def json_text(value: Any) -> bytes:
    """Equal texts mean equal values of equal JSON types (``1`` is not ``1.0`` nor ``true``);
    bytes (a decoded base64 field) are tagged with their hex."""
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS, default=_tagged_bytes)


def assert_same_answer(serializer_class: type[FastInputSerializer], body: Any) -> None:
    fast_ok, fast = outcome(serializer_class, body)
    plain_ok, plain = outcome(serializer_class.plain_twin(), body)
    assert fast_ok == plain_ok, (body, fast, plain)
    if fast_ok:
        assert json_text(fast) == json_text(plain)
    else:
        assert fast == plain  # messages and codes, field by field
    # The checkers on their own (no fallback): they accept exactly what DRF's fields accept.
    assert serializer_class.fast_path is not None
    checked = serializer_class.fast_path.check(body) if type(body) is dict else None
    plain_fields = field_level(serializer_class, body)
    assert (checked is None) == (plain_fields is None), (body, checked, plain_fields)
    if checked is not None:
        assert json_text(checked) == json_text(plain_fields)


# --- bodies, derived from the declaration ----------------------------------------------------

WHITESPACE = [" ", "  ", "\t", "\n", "\r\n", "\x0b", "\x0c", "\x1c", "\x85", "\xa0", "\u2028"]
ODD_CHARACTERS = ["\x00", "\ud800", "\udfff", "\u200b", "\ufeff", "é", "\U0001f600"]
padding = st.sampled_from(["", "", *WHITESPACE])

json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**63), max_value=2**64 - 1),
    st.sampled_from([0, 1, -1, 2**31 - 1, 2**31, -(2**31), 2**63 - 1, 2**64 - 1, -(2**63)]),
    st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from([0.0, -0.0, 5.0, 1e20, 1e308, -1e308, 5e-324]),
    st.text(max_size=6),
)
json_values = st.recursive(
    json_scalars,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner, max_size=3)
    ),
    max_leaves=8,
)


# Text as a client sends it: no NUL, no lone surrogate (the parser refuses both).
plain_characters = st.characters(exclude_categories=["Cs"], exclude_characters="\x00")


def sized(low: int, high: int, characters: Any = plain_characters) -> st.SearchStrategy[str]:
    """Strings of ``low`` to ``high`` characters: a repeated filler and a random tail (cheaper
    to draw than ``high`` random characters, and as good at the length limits)."""
    return st.builds(
        lambda length, tail, filler: (filler * length + tail)[-length:] if length else "",
        st.integers(max(low, 0), high),
        st.text(characters, max_size=4),
        st.sampled_from(["x", "é", "\U0001f600", "a b"]),
    )


def valid_values(field: serializers.Field) -> st.SearchStrategy[Any]:
    """Values the field should accept (give or take whitespace that trims to too little)."""
    if isinstance(field, serializers.ChoiceField):
        return st.sampled_from([*field.choice_strings_to_values.values()])
    if isinstance(field, serializers.CharField):
        low, high = max(field.min_length or 1, 1), field.max_length or 40
        core = st.one_of(
            st.text(plain_characters, min_size=low, max_size=min(high, low + 6)),
            sized(max(high - 1, low), high),
        )
        return st.builds(lambda left, text, right: left + text + right, padding, core, padding)
    if isinstance(field, serializers.IntegerField):
        low = -(2**63) if field.min_value is None else field.min_value
        high = 2**64 - 1 if field.max_value is None else field.max_value
        return st.one_of(st.integers(low, high), st.sampled_from([low, high]))
    if isinstance(field, JSONObjectField):
        return st.dictionaries(st.text(max_size=4), json_values, max_size=4)
    return json_values


def texts(field: serializers.CharField) -> st.SearchStrategy[str]:
    """Strings at and around the length limits, padded with whitespace; blank ones; valid ones
    holding NUL, a lone surrogate, or characters that are not whitespace (zero-width space,
    BOM)."""
    cores = [st.text(max_size=6)]
    for limit in (field.max_length, field.min_length):
        if limit is not None:
            cores.append(sized(limit - 2, limit + 2, st.characters()))
    padded = st.builds(
        lambda left, text, right: left + text + right, padding, st.one_of(*cores), padding
    )
    odd = st.builds(
        lambda text, char, at: text[:at] + char + text[at:],
        valid_values(field),
        st.sampled_from(ODD_CHARACTERS),
        st.integers(0, 80),
    )
    return st.one_of(padded, odd, st.sampled_from(["", *WHITESPACE]))


def edge_values(field: serializers.Field) -> st.SearchStrategy[Any]:
    """Values on either side of the field's rules, or of another JSON type."""
    if isinstance(field, serializers.ChoiceField):
        keys = [*field.choice_strings_to_values, ""]
        edges = st.sampled_from(keys).flatmap(
            lambda key: st.sampled_from([key, f" {key}", key.upper(), f"{key}\x00", key + "\n"])
        )
    elif isinstance(field, serializers.CharField):
        edges = texts(field)
    elif isinstance(field, serializers.IntegerField):
        numbers = [0, 1, -1, 2**63, 2**64 - 1, -(2**63)]
        for bound in (field.min_value, field.max_value):
            if bound is not None:
                numbers += [bound - 1, bound, bound + 1]
        edges = st.sampled_from(numbers).flatmap(
            lambda n: st.sampled_from([n, float(n), str(n), f" {n} ", f"{n}.0", n == 1])
        )
    else:
        edges = st.one_of(json_values, st.dictionaries(st.text(max_size=4), json_values))
    return st.one_of(edges, json_values)


def bodies(serializer_class: type[serializers.Serializer]) -> st.SearchStrategy[Any]:
    """Mostly a valid body with up to two defects: a value at or past an edge, a missing
    field, a null, an unknown field. Sometimes not an object at all."""
    fields = serializer_class._declared_fields
    valid = {name: valid_values(field) for name, field in fields.items()}
    edges = {name: edge_values(field) for name, field in fields.items()}
    names = st.sampled_from([*fields, *fields, "user", "id", f" {next(iter(fields))}"])
    changes = st.sampled_from(["edge", "edge", "edge", "drop", "null"])

    @st.composite
    def body(draw: st.DrawFn) -> Any:
        if draw(st.integers(0, 9)) == 0:
            return draw(json_values)
        data = {
            name: draw(valid[name])
            for name, field in fields.items()
            if field.required or draw(st.booleans())
        }
        for _ in range(draw(st.integers(0, 2))):
            name, change = draw(names), draw(changes)
            if change == "drop":
                data.pop(name, None)
            elif change == "null":
                data[name] = None
            else:
                data[name] = draw(edges.get(name, json_values))
        return data

    return body()


class EveryOptionInputSerializer(FastInputSerializer):
    """What ToolExecutionInputSerializer does not use: min_length, untrimmed blanks, defaults,
    blank and non-string choices, an unbounded integer, validate()."""

    name = serializers.CharField(min_length=2, max_length=5)
    code = serializers.CharField(
        max_length=4, trim_whitespace=False, allow_blank=True, required=False
    )
    note = serializers.CharField(allow_null=True, allow_blank=True, default="none")
    level = serializers.ChoiceField(choices=[("low", "Low"), ("high", "High")], allow_blank=True)
    rank = serializers.ChoiceField([1, 2, "3"], required=False, allow_null=True)
    count = serializers.IntegerField(min_value=-3, max_value=3, default=0)
    big = serializers.IntegerField(required=False, allow_null=True)
    payload = serializers.JSONField(required=False, allow_null=True)
    extra = JSONObjectField(default=dict)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if attrs["name"] == "stop":
            raise serializers.ValidationError({"name": [ErrorDetail("Stopped.", code="stopped")]})
        if attrs["level"] == "low" and attrs["count"] == 3:
            raise serializers.ValidationError("Too much for low.", code="too_much")
        return attrs


def test_every_fast_input_serializer_is_covered_here():
    def subclasses(cls: type) -> set[type]:
        found = set()
        for sub in cls.__subclasses__():
            # (Classes a test defines inside itself are not the API's.)
            if not sub.__dict__.get("_plain_twin_of") and "<locals>" not in sub.__qualname__:
                found |= {sub} | subclasses(sub)
        return found

    assert subclasses(FastInputSerializer) == {
        ToolExecutionInputSerializer,
        EveryOptionInputSerializer,
        BlobSerializer,
        CheckpointPutSerializer,
        WriteSerializer,
        WritesPutSerializer,
    }


PARITY = settings(max_examples=300, deadline=None)


@PARITY
@given(body=bodies(ToolExecutionInputSerializer))
@example(  # DRF trims before it measures; the old checker measured first
    body={"correlation_id": "c" * 64 + " ", "tool_name": "t", "inputs": {}, "status": "success"}
)
@example(body={"correlation_id": " ", "tool_name": "t", "inputs": {}, "status": "success"})
@example(body={"correlation_id": "c", "tool_name": "t", "inputs": "{}", "status": "success"})
@example(body={"correlation_id": "c", "tool_name": "t", "inputs": {}, "status": 1})
@example(body={"correlation_id": 7, "tool_name": True, "inputs": [], "duration_ms": "5"})
@example(body={"correlation_id": "c\x00", "tool_name": "t", "inputs": {}, "status": "failed"})
@example(body={"correlation_id": "c", "tool_name": "\ud800", "inputs": {}, "status": "failed"})
@example(body={"correlation_id": "c", "tool_name": "t", "inputs": {}, "status": "failed", "id": 1})
@example(body=None)
@example(body=[])
def test_tool_execution_input_fast_and_plain_paths_agree(body):
    assert_same_answer(ToolExecutionInputSerializer, body)


@settings(max_examples=200, deadline=None)
@given(body=bodies(EveryOptionInputSerializer))
@example(body={"name": " ab ", "level": ""})
@example(body={"name": " a ", "level": "low", "code": "    "})
@example(body={"name": "stop", "level": "low"})
@example(body={"name": "abc", "level": "low", "count": 3})
@example(body={"name": "abc", "level": "high", "rank": 1, "big": 2**64 - 1, "note": None})
def test_every_supported_option_fast_and_plain_paths_agree(body):
    assert_same_answer(EveryOptionInputSerializer, body)


# --- a checkpoint put: nested blobs and the checkpoints' own field types ---------------------

base64_texts = st.one_of(
    st.binary(max_size=12).map(lambda raw: base64.b64encode(raw).decode()),
    st.sampled_from(["", "=", "eA", "eA=", "eA==", "eA==\n", " eA==", "e A==", "éé==", "eA==eA=="]),
    st.text(max_size=6),
)
versions = st.one_of(
    st.integers(-(2**63), 2**63 - 1),  # (the request parser refuses numbers beyond)
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=3),
    sized(254, 256),
    st.booleans(),
    st.none(),
    st.lists(st.integers(), max_size=1),
)
names = st.one_of(st.text(max_size=4), sized(1023, 1025), st.sampled_from(["", " ", "a\x00"]))
ids = st.one_of(st.text(min_size=1, max_size=5), sized(254, 256), st.sampled_from(["", " x "]))
unknown = st.dictionaries(st.sampled_from(["user", "id", "extra"]), json_values, max_size=1)


def with_defects(required: dict[str, Any], optional: dict[str, Any]) -> st.SearchStrategy[Any]:
    """An object of these fields (some optional ones left out), now and then a wrong JSON type
    for one of them or an unknown field."""
    base = st.fixed_dictionaries(required, optional=optional)
    wrong = st.tuples(base, st.sampled_from([*required, *optional]), json_values).map(
        lambda drawn: {**drawn[0], drawn[1]: drawn[2]}
    )
    extra = st.tuples(base, unknown).map(lambda drawn: {**drawn[0], **drawn[1]})
    return st.one_of(base, base, base, wrong, extra)


blob_bodies = with_defects(
    {"channel": names, "version": versions, "type": names, "data": st.none() | base64_texts}, {}
)
checkpoint_dicts = with_defects(
    {"id": ids | st.integers(), "channel_versions": st.dictionaries(names, versions, max_size=3)},
    {"v": st.integers(), "ts": st.text(max_size=3), "channel_values": json_values},
)
put_bodies = with_defects(
    {"checkpoint": checkpoint_dicts},
    {
        "checkpoint_ns": names,
        "metadata": st.dictionaries(st.text(max_size=3), json_values, max_size=3),
        "parent_checkpoint_id": st.none() | ids,
        "blobs": st.lists(blob_bodies, max_size=3),
    },
)


@PARITY
@given(body=blob_bodies)
@example(body={"channel": "c", "version": True, "type": "json", "data": "eA=="})
@example(body={"channel": "c", "version": "v" * 256, "type": "json", "data": "eA=="})
@example(body={"channel": "c", "version": 1.5, "type": "json", "data": ""})
@example(body={"channel": "c", "version": 1, "type": "json", "data": " eA=="})
@example(body={"channel": "c", "version": 1, "type": "json", "data": "eA"})
@example(body={"channel": "c", "version": 1, "type": "json", "data": "é"})
def test_checkpoint_blob_fast_and_plain_paths_agree(body):
    assert_same_answer(BlobSerializer, body)


@PARITY
@given(body=put_bodies)
@example(body={"checkpoint": {"id": "1", "channel_versions": {}}})
@example(body={"checkpoint": {"id": "1", "channel_versions": {}, "channel_values": {}}})
@example(body={"checkpoint": {"id": "1", "channel_versions": {"a": True}}})
@example(body={"checkpoint": {"id": "1", "channel_versions": {}}, "blobs": "[]"})
@example(body={"checkpoint": {"id": "1", "channel_versions": {}}, "blobs": [[]]})
@example(body={"checkpoint": {"id": "1", "channel_versions": {}}, "blobs": [{"channel": "a"}]})
def test_checkpoint_put_fast_and_plain_paths_agree(body):
    assert_same_answer(CheckpointPutSerializer, body)


indexes = st.one_of(
    st.integers(-3, 3),
    st.sampled_from([2**31 - 1, 2**31, -(2**31), -(2**31) - 1]),
    st.sampled_from(["1", 1.0, True]),
)
write_bodies = with_defects(
    {"idx": indexes, "channel": names, "type": names, "data": base64_texts}, {}
)
writes_bodies = with_defects(
    {
        "checkpoint_id": ids,
        "task_id": ids | st.just(""),
        "writes": st.lists(write_bodies, max_size=3),
    },
    {"checkpoint_ns": names, "task_path": names},
)


@PARITY
@given(body=write_bodies)
@example(body={"idx": 0, "channel": "c", "type": "json", "data": None})
@example(body={"idx": 2**31, "channel": "c", "type": "json", "data": "eA=="})
def test_checkpoint_write_fast_and_plain_paths_agree(body):
    assert_same_answer(WriteSerializer, body)


@PARITY
@given(body=writes_bodies)
@example(body={"checkpoint_id": "c", "task_id": "", "writes": []})
@example(
    body={
        "checkpoint_id": "c",
        "task_id": "t",
        "writes": [{"idx": 0, "channel": "a", "type": "j", "data": ""}] * 2,
    }
)
def test_checkpoint_writes_fast_and_plain_paths_agree(body):
    assert_same_answer(WritesPutSerializer, body)


def test_a_put_with_more_blobs_than_allowed_is_refused_on_both_paths():
    blob = {"channel": "c", "version": 1, "type": "json", "data": "eA=="}
    body = {"checkpoint": {"id": "1", "channel_versions": {}}, "blobs": [blob] * 10_001}
    assert_same_answer(CheckpointPutSerializer, body)
    assert not CheckpointPutSerializer(data=body).is_valid()


@pytest.mark.parametrize(
    "value",
    ["c" * 64 + " ", " " + "c" * 64, "\t" + "c" * 64 + "\n", "c" * 64 + "\u3000"],
)
def test_a_correlation_id_at_max_length_with_whitespace_around_it_is_accepted_trimmed(value):
    body = {"correlation_id": value, "tool_name": "t", "inputs": {}, "status": "success"}
    serializer = ToolExecutionInputSerializer(data=body)
    assert serializer.is_valid(), serializer.errors
    assert serializer.validated_data["correlation_id"] == "c" * 64


def test_the_checkers_alone_trim_before_they_measure():
    assert ToolExecutionInputSerializer.fast_path is not None
    checked = ToolExecutionInputSerializer.fast_path.check(
        {"correlation_id": "c" * 64 + " ", "tool_name": "t", "inputs": {}, "status": "success"}
    )
    assert checked is not None
    assert checked["correlation_id"] == "c" * 64


@pytest.mark.parametrize("value", ["5", " 5 ", 5.0, True, "5.0"])
def test_integer_fields_take_json_integers_only_on_every_input_serializer(value):
    # AgentExecutionEndSerializer is a plain StrictInputSerializer: the house rule, not only the
    # fast path's.
    for serializer_class in (AgentExecutionEndSerializer, ToolExecutionInputSerializer):
        serializer = serializer_class(data={"duration_ms": value})
        assert not serializer.is_valid()
        assert serializer.errors["duration_ms"] == [
            ErrorDetail("A valid integer is required.", code="invalid")
        ]


@pytest.mark.django_db
def test_tool_execution_inputs_must_be_a_json_object(agent_client):
    body = {"correlation_id": "c", "tool_name": "t", "inputs": "text", "status": "success"}
    response = agent_client.post("/api/v1/tool-executions/", body, format="json")
    assert response.status_code == 400
    assert error_codes(response.json()) == {"inputs": ["not_an_object"]}
    assert not ToolExecution.objects.exists()


# --- declarations the fast path cannot enforce are refused when the class is created ---------


def _reject_x(value: str) -> None:
    raise serializers.ValidationError("x")


def _needs_context(field: serializers.Field) -> str:
    return "x"


_needs_context.requires_context = True  # type: ignore[attr-defined]


class _Meta:
    validators = [_reject_x]


@pytest.mark.parametrize(
    ("attrs", "reason"),
    [
        ({"a": serializers.CharField(validators=[_reject_x])}, "unsupported arguments"),
        ({"a": serializers.CharField(source="b")}, "unsupported arguments"),
        ({"a": serializers.CharField(read_only=True)}, "unsupported arguments"),
        ({"a": serializers.JSONField(binary=True)}, "unsupported arguments"),
        ({"a": serializers.EmailField()}, "unsupported field type EmailField"),
        ({"a": serializers.DecimalField(max_digits=4, decimal_places=2)}, "unsupported field"),
        ({"a": serializers.ListField()}, "unsupported field type ListField"),
        ({"a": serializers.CharField(default=[])}, "mutable default"),  # type: ignore[arg-type]
        ({"a": serializers.CharField(default=_needs_context)}, "context"),  # type: ignore[arg-type]
        (
            {"a": serializers.CharField(), "validate_a": lambda self, value: value},
            "validate_a() method",
        ),
        ({"a": serializers.CharField(), "Meta": _Meta}, "Meta.validators"),
        (
            {"a": serializers.CharField(), "to_internal_value": lambda self, data: data},
            "overrides to_internal_value()",
        ),
        ({"a": serializers.CharField(), "get_fields": lambda self: {}}, "overrides get_fields"),
    ],
)
def test_declarations_the_fast_path_cannot_enforce_are_refused_at_class_creation(attrs, reason):
    with pytest.raises(ImproperlyConfigured, match=re.escape(reason)):
        type("Refused", (FastInputSerializer,), attrs)


def test_a_nested_serializer_is_refused_at_class_creation():
    class Inner(serializers.Serializer):
        a = serializers.CharField()

    with pytest.raises(ImproperlyConfigured, match="unsupported field type Inner"):
        type("Refused", (FastInputSerializer,), {"inner": Inner()})


def test_a_list_of_a_serializer_that_is_not_fast_is_refused_at_class_creation():
    class Inner(serializers.Serializer):
        a = serializers.CharField()

    with pytest.raises(ImproperlyConfigured, match="a nested serializer that is not fast"):
        type("Refused", (FastInputSerializer,), {"inner": Inner(many=True)})


def test_a_list_of_a_fast_serializer_with_validate_is_refused_at_class_creation():
    class Inner(FastInputSerializer):
        a = serializers.CharField()

        def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
            return attrs

    with pytest.raises(ImproperlyConfigured, match="a nested serializer with validate"):
        type("Refused", (FastInputSerializer,), {"inner": Inner(many=True)})


def test_validators_given_to_an_instance_are_run_on_the_plain_path():
    body = {"correlation_id": "c", "tool_name": "t", "inputs": {}, "status": "success"}
    serializer = ToolExecutionInputSerializer(data=body, validators=[_reject_x])
    assert not serializer.is_valid()
    assert serializer.errors == {"non_field_errors": [ErrorDetail("x", code="invalid")]}


# --- the same stored row --------------------------------------------------------------------


def stored(ids: list[Any]) -> list[str]:
    """The rows as PostgreSQL holds them, minus what the database gives (id, created_at)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT (to_jsonb(t) - 'id' - 'created_at')::text FROM tool_executions t "
            "WHERE t.id = ANY(%s)",
            [ids],
        )
        return [text for (text,) in cursor.fetchall()]


def is_storable(value: Any) -> bool:
    """What the request parser lets through and PostgreSQL can store: no NUL characters, no lone
    surrogates (orjson refuses to write those)."""
    try:
        return b"\\u0000" not in orjson.dumps(value)
    except TypeError:
        return False


tool_execution_bodies = bodies(ToolExecutionInputSerializer).filter(is_storable)


@pytest.mark.django_db
@settings(
    max_examples=75, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(body=tool_execution_bodies)
@example(
    body={
        "correlation_id": " c\tc ",
        "tool_name": "t\\n",
        "agent_id": None,
        "inputs": {"a": [1, 1.0, True, None, "\\", "\t"], "big": 1e308},
        "status": "timeout",
        "error_message": "  kept as sent \n",
    }
)
def test_the_fast_path_stores_the_row_the_orm_stores_from_the_plain_path(body, agent_a):
    fast_ok, fast = outcome(ToolExecutionInputSerializer, body)
    plain_ok, plain = outcome(ToolExecutionInputSerializer.plain_twin(), body)
    assert fast_ok == plain_ok
    if not fast_ok:
        return
    before = set(ToolExecution.objects.values_list("id", flat=True))
    by_insert = services.tool_execution_record(user=agent_a, **fast)
    by_orm = ToolExecution.objects.create(user=agent_a, **plain)
    assert services.tool_executions_record_bulk(user=agent_a, items=[fast]) == 1
    (by_copy,) = (
        set(ToolExecution.objects.values_list("id", flat=True))
        - before
        - {
            by_insert.id,
            by_orm.id,
        }
    )
    insert_row, orm_row, copy_row = (stored([pk]) for pk in (by_insert.id, by_orm.id, by_copy))
    assert insert_row == orm_row == copy_row
