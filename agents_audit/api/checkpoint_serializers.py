"""Bodies of the LangGraph checkpoint endpoints (``agents_audit.api.checkpoints``)."""

from __future__ import annotations

import base64
import binascii
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.core.validators import (
    MaxLengthValidator,
    MinLengthValidator,
    ProhibitNullCharactersValidator,
)
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.exceptions import ErrorDetail
from rest_framework.validators import ProhibitSurrogateCharactersValidator

from agents_audit import checkpoints as reads
from agents_audit.models import CheckpointThread
from agents_audit.services.checkpoints import (
    ID_MAX_LENGTH,
    IDX_MAX,
    IDX_MIN,
    NAME_MAX_LENGTH,
    PRUNE_STRATEGIES,
    WriteInput,
    checkpoint_errors,
    writes_errors,
)
from devskyy.api.pagination import InvalidCursor
from devskyy.api.serializers import (
    REFUSED,
    Checker,
    FastInputSerializer,
    JSONObjectField,
    QueryParametersSerializer,
    char_checker,
    is_json_document,
)
from devskyy.api.serializers import StrictInputSerializer as Strict
from devskyy.json_codec import INT64_MAX, INT64_MIN

# A thread id: 1 to 255 characters, no "/", no control characters (C0, DEL, C1); not "." or ".."
# (clients resolve them away in a URL) nor the names of the threads endpoints' own routes. ECMA
# (with or without its `u` flag), Rust's regex (the JSON Schema validators) and Python read it
# alike. Lone surrogates need no mention: the JSON parser refuses them before any field sees the
# body, and a URL path cannot decode to one. Naming them would break the pattern for validators
# that read text as Unicode scalar values, and for UTF-16 ones bar every astral character.
RESERVED_THREAD_IDS = ("prune", "delete-for-runs")
THREAD_ID_CHARACTERS = r"[^/\x00-\x1f\x7f-\x9f]"
THREAD_ID_PATTERN = (
    rf"^(?!(?:{'|'.join(RESERVED_THREAD_IDS)}|\.\.?)$){THREAD_ID_CHARACTERS}{{1,{ID_MAX_LENGTH}}}$"
)
# The same as a URL segment (Django matches the decoded path).
THREAD_ID_URL_REGEX = (
    rf"(?P<thread_id>(?!(?:{'|'.join(RESERVED_THREAD_IDS)}|\.\.?)/)"
    rf"{THREAD_ID_CHARACTERS}{{1,{ID_MAX_LENGTH}}})"
)
THREAD_ID_RULE = (
    f"1 to {ID_MAX_LENGTH} characters, no `/` and no control characters; not `.`, `..`, "
    f"{', '.join(f'`{word}`' for word in RESERVED_THREAD_IDS)}"
)
THREAD_ID_SCHEMA = {
    "type": "string",
    "minLength": 1,
    "maxLength": ID_MAX_LENGTH,
    "pattern": THREAD_ID_PATTERN,
}
# Standard base64 (RFC 4648, with padding), as Python's b64decode(validate=True) reads it.
BASE64_PATTERN = r"^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$"

WRITES_MAX = 10_000
BLOBS_MAX = 10_000
RUN_IDS_MAX = 1000
THREAD_IDS_MAX = 1000


class _StringsOnly:
    """Text only, also as a list's items (DRF's CharField would turn ``5`` into ``"5"``)."""

    def to_internal_value(self, data: Any) -> Any:
        if not isinstance(data, str):
            self.fail("invalid")  # type: ignore[attr-defined]
        return super().to_internal_value(data)  # type: ignore[misc]


class StrictCharField(_StringsOnly, serializers.CharField):
    # FastInputSerializer's checker: CharField's, which takes strings only as this field does.
    fast_kwargs = frozenset({"max_length", "min_length", "allow_blank", "trim_whitespace"})
    fast_validators: tuple[type, ...] = (
        MaxLengthValidator,
        MinLengthValidator,
        ProhibitNullCharactersValidator,
        ProhibitSurrogateCharactersValidator,
    )

    def fast_checker(self) -> Checker:
        return char_checker(self)


class StrictRegexField(_StringsOnly, serializers.RegexField):
    pass


def thread_id_field(**kwargs: Any) -> serializers.RegexField:
    return StrictRegexField(
        THREAD_ID_PATTERN,
        max_length=ID_MAX_LENGTH,
        trim_whitespace=False,
        error_messages={"invalid": f"A thread id is {THREAD_ID_RULE}."},
        **{"help_text": f"A thread id: {THREAD_ID_RULE}.", **kwargs},
    )


def id_field(**kwargs: Any) -> serializers.CharField:
    return StrictCharField(max_length=ID_MAX_LENGTH, trim_whitespace=False, **kwargs)


def name_field(**kwargs: Any) -> serializers.CharField:
    """A namespace, task path, channel or type name: may be empty."""
    return StrictCharField(
        max_length=NAME_MAX_LENGTH, allow_blank=True, trim_whitespace=False, **kwargs
    )


@extend_schema_field({"type": "string", "format": "byte", "pattern": BASE64_PATTERN})
class Base64Field(StrictCharField):
    """Bytes as standard base64 text (with padding)."""

    default_error_messages = {"invalid_base64": "Must be standard base64 (A-Z a-z 0-9 + /, =)."}

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("trim_whitespace", False)
        kwargs.setdefault("allow_blank", True)
        super().__init__(**kwargs)
        # CharField's NUL and surrogate checks would run on the decoded bytes (scanning their
        # repr, character by character in Python: 7 ms for a 48 KB value); the base64 alphabet
        # already excludes both.
        self.validators = [
            validator
            for validator in self.validators
            if not isinstance(
                validator, ProhibitNullCharactersValidator | ProhibitSurrogateCharactersValidator
            )
        ]

    def run_validation(self, data: Any = serializers.empty) -> Any:
        # CharField answers a blank string itself, without to_internal_value: no bytes is bytes.
        value = super().run_validation(data)
        return b"" if value == "" else value

    def to_internal_value(self, data: Any) -> bytes:  # type: ignore[override]
        text = super().to_internal_value(data)
        try:
            return base64.b64decode(text.encode("ascii"), validate=True)
        except (binascii.Error, UnicodeEncodeError):
            self.fail("invalid_base64")
            raise  # unreachable: fail() raises

    def to_representation(self, value: Any) -> str:
        return base64.b64encode(bytes(value)).decode("ascii")

    fast_kwargs = frozenset({"allow_blank", "trim_whitespace"})
    fast_validators = ()

    def fast_checker(self) -> Checker:
        if not self.allow_blank or self.trim_whitespace or self.max_length or self.min_length:
            raise ImproperlyConfigured("Base64Field's fast path: blank allowed, untrimmed only")

        def check(value: Any) -> Any:
            if type(value) is not str:
                return REFUSED
            try:
                return base64.b64decode(value.encode("ascii"), validate=True)
            except (binascii.Error, UnicodeEncodeError):
                return REFUSED

        return check


@extend_schema_field(
    {
        "oneOf": [
            {"type": "string", "maxLength": ID_MAX_LENGTH},
            {"type": "number", "minimum": INT64_MIN, "maximum": INT64_MAX},
        ]
    }
)
class VersionField(serializers.Field):
    """A channel version as the checkpoint's ``channel_versions`` holds it: a string or a number."""

    default_error_messages = {
        "invalid": f"A version is a string of at most {ID_MAX_LENGTH} characters or a number."
    }

    def to_internal_value(self, data: Any) -> str | int | float:
        if isinstance(data, str) and len(data) <= ID_MAX_LENGTH:
            return data
        if isinstance(data, int | float) and not isinstance(data, bool):
            return data
        self.fail("invalid")
        raise AssertionError("unreachable")  # pragma: no cover

    def to_representation(self, value: Any) -> Any:
        return value

    fast_kwargs: frozenset[str] = frozenset()
    fast_validators = ()

    def fast_checker(self) -> Checker:
        def check(value: Any) -> Any:
            if type(value) is str:
                return value if len(value) <= ID_MAX_LENGTH else REFUSED
            return value if type(value) is int or type(value) is float else REFUSED

        return check


VERSIONS_SCHEMA = {
    "type": "object",
    "description": "Channel name to version (a string or a number).",
    "additionalProperties": {
        "oneOf": [
            {"type": "string", "maxLength": ID_MAX_LENGTH},
            {"type": "number", "minimum": INT64_MIN, "maximum": INT64_MAX},
        ]
    },
}


@extend_schema_field(
    {
        "type": "object",
        "properties": {
            "id": {"type": "string", "minLength": 1, "maxLength": ID_MAX_LENGTH},
            "channel_versions": VERSIONS_SCHEMA,
        },
        "required": ["id", "channel_versions"],
        "not": {"required": ["channel_values"]},
        "additionalProperties": {},
    }
)
class CheckpointDictField(JSONObjectField):
    """LangGraph's checkpoint dict without ``channel_values``: stored as sent."""

    def to_internal_value(self, data: Any) -> Any:
        value = super().to_internal_value(data)
        errors = checkpoint_errors(value)
        if errors:
            raise serializers.ValidationError(
                {
                    key: [ErrorDetail(error.message, code=error.code) for error in found]
                    for key, found in errors.items()
                }
            )
        return value

    fast_kwargs: frozenset[str] = frozenset()
    fast_validators = ()

    def fast_checker(self) -> Checker:
        def check(value: Any) -> Any:
            if type(value) is not dict or not is_json_document(value) or checkpoint_errors(value):
                return REFUSED
            return value

        return check


# --- requests --------------------------------------------------------------------------------


class BlobSerializer(FastInputSerializer):
    channel = name_field(help_text="The channel.")
    version = VersionField(help_text="Its version, as in the checkpoint's `channel_versions`.")
    type = name_field(help_text="The serializer's type name (LangGraph's `dumps_typed`).")
    data = Base64Field(allow_null=True, help_text="The serialized value (base64); null: none.")  # type: ignore[assignment]


class CheckpointPutSerializer(FastInputSerializer):
    checkpoint_ns = name_field(default="", help_text='The namespace (default: the root, `""`).')
    checkpoint = CheckpointDictField(
        help_text="LangGraph's checkpoint without `channel_values` (send those as `blobs`): "
        "`id` names it, `channel_versions` names each channel's blob."
    )
    metadata = JSONObjectField(default=dict, help_text="The checkpoint's metadata.")
    parent_checkpoint_id = id_field(
        allow_null=True, default=None, help_text="The checkpoint this one follows."
    )
    blobs = BlobSerializer(
        many=True,
        required=False,
        default=list,
        max_length=BLOBS_MAX,  # type: ignore[call-arg]
        help_text="The channel values this checkpoint adds; a (channel, version) already "
        "stored is kept.",
    )


class WriteSerializer(FastInputSerializer):
    idx = serializers.IntegerField(
        min_value=IDX_MIN,
        max_value=IDX_MAX,
        help_text="The write's index in its task (special channels: negative, LangGraph's "
        "`WRITES_IDX_MAP`).",
    )
    channel = name_field()
    type = name_field()
    data = Base64Field(help_text="The serialized value (base64).")  # type: ignore[assignment]


class WritesPutSerializer(FastInputSerializer):
    checkpoint_ns = name_field(default="")
    checkpoint_id = id_field(help_text="The checkpoint the writes are for.")
    task_id = id_field(allow_blank=True, help_text="The task that wrote them.")
    task_path = name_field(default="")
    writes = WriteSerializer(many=True, allow_empty=False, max_length=WRITES_MAX)  # type: ignore[call-arg]

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        attrs["writes"] = [WriteInput(**write) for write in attrs["writes"]]
        errors = writes_errors(attrs["writes"])
        if errors:
            raise serializers.ValidationError(
                {
                    "writes": {
                        position: {
                            field: [ErrorDetail(e.message, code=e.code) for e in found]
                            for field, found in fields.items()
                        }
                        for position, fields in errors.items()
                    }
                }
            )
        return attrs


class TupleQuerySerializer(QueryParametersSerializer):
    checkpoint_ns = name_field(
        default="", help_text="The namespace; empty or absent: the root namespace."
    )
    checkpoint_id = id_field(
        required=False, help_text="The checkpoint's id; absent: the namespace's latest."
    )


class SearchSerializer(Strict):
    checkpoint_ns = name_field(
        allow_null=True, default=None, help_text="One namespace; null or absent: every one."
    )
    checkpoint_id = id_field(allow_null=True, default=None, help_text="Exactly this id.")
    filter = JSONObjectField(
        allow_null=True, default=None, help_text="Metadata that contains this (`@>`)."
    )
    before = id_field(allow_null=True, default=None, help_text="Ids below this one.")
    limit = serializers.IntegerField(
        min_value=1,
        max_value=reads.SEARCH_MAX_LIMIT,
        default=reads.SEARCH_DEFAULT_LIMIT,
        help_text="The page size.",
    )
    cursor = serializers.CharField(
        allow_null=True,
        default=None,
        max_length=reads.CURSOR_MAX_LENGTH,
        trim_whitespace=False,
        help_text="The `next_cursor` of the previous page; any other value is a 400 "
        "`invalid_cursor`.",
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        cursor = attrs.pop("cursor")
        attrs["after"] = None if cursor is None else reads.decode_cursor(cursor)
        if cursor is not None and attrs["after"] is None:
            # The paginators' answer to a cursor they did not issue.
            raise InvalidCursor({"cursor": [ErrorDetail("Invalid cursor.", code="invalid_cursor")]})
        return attrs


class CopySerializer(Strict):
    target_thread_id = thread_id_field(help_text=f"The thread to copy into: {THREAD_ID_RULE}.")


class DeleteForRunsSerializer(Strict):
    run_ids = serializers.ListField(
        child=id_field(), max_length=RUN_IDS_MAX, help_text="LangGraph run ids."
    )


class PruneSerializer(Strict):
    thread_ids = serializers.ListField(child=thread_id_field(), max_length=THREAD_IDS_MAX)
    strategy = serializers.ChoiceField(choices=PRUNE_STRATEGIES, default="keep_latest")


# --- responses -------------------------------------------------------------------------------


class ThreadSerializer(serializers.ModelSerializer[CheckpointThread]):
    """A LangGraph thread."""

    owner = serializers.UUIDField(source="owner_id", allow_null=True, read_only=True)
    task = serializers.UUIDField(
        source="task_id",
        allow_null=True,
        read_only=True,
        help_text="The task whose `thread_id` this is, if any.",
    )

    class Meta:
        model = CheckpointThread
        fields = ["thread_id", "owner", "task", "created_at"]
        read_only_fields = fields


class CheckpointKeySerializer(serializers.Serializer):
    thread_id = serializers.CharField()
    checkpoint_ns = serializers.CharField(allow_blank=True)
    checkpoint_id = serializers.CharField()


class WritesResultSerializer(serializers.Serializer):
    writes = serializers.IntegerField(help_text="How many writes the call carried.")


class ChannelValueSerializer(serializers.Serializer):
    channel = serializers.CharField()
    type = serializers.CharField()
    data = Base64Field(allow_null=True)  # type: ignore[assignment]


class PendingWriteSerializer(serializers.Serializer):
    task_id = serializers.CharField()
    task_path = serializers.CharField()
    idx = serializers.IntegerField(min_value=IDX_MIN, max_value=IDX_MAX)
    channel = serializers.CharField()
    type = serializers.CharField()
    data = Base64Field()  # type: ignore[assignment]


class CheckpointTupleSerializer(CheckpointKeySerializer):
    """A checkpoint with its channel values and pending writes (LangGraph's CheckpointTuple)."""

    parent_checkpoint_id = serializers.CharField(allow_null=True)
    checkpoint = serializers.DictField(help_text="As stored: without `channel_values`.")
    metadata = serializers.DictField()
    channel_values = ChannelValueSerializer(
        many=True, help_text="The blobs its `channel_versions` name (none of type `empty`)."
    )
    pending_writes = PendingWriteSerializer(
        many=True, help_text="Ordered by `task_path`, `task_id`, `idx`."
    )
    created_at = serializers.DateTimeField()


class TuplePageSerializer(serializers.Serializer):
    results = CheckpointTupleSerializer(many=True)
    next_cursor = serializers.CharField(
        allow_null=True, help_text="Send it as `cursor` for the next page; null: no more."
    )


class CopyResultSerializer(serializers.Serializer):
    thread_id = serializers.CharField(help_text="The target thread.")
    checkpoints = serializers.IntegerField(
        help_text="Checkpoints copied (those the target had are kept and not counted)."
    )


class DeleteForRunsResultSerializer(serializers.Serializer):
    checkpoints = serializers.IntegerField(help_text="Checkpoints deleted.")


class PruneResultSerializer(serializers.Serializer):
    threads = serializers.IntegerField(help_text="Your threads among those named.")
    checkpoints = serializers.IntegerField(help_text="Checkpoints deleted.")
