"""Abstract bases shared by every app's models.

Every default that matters is a *database* default (``db_default``), so that a row written by raw
SQL (psql, another service) gets the same values as one written through the ORM. Where a Python
``default`` is set as well, it only makes unsaved instances readable; the column default in
PostgreSQL is the contract.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django import forms
from django.contrib.postgres.functions import RandomUUID
from django.core.exceptions import ValidationError
from django.db import IntegrityError, models, transaction

from devskyy.json_codec import (
    INT64_MAX,
    INT64_MIN,
    TotalJSONDecoder,
    TotalJSONEncoder,
    contains_nul,
    loads,
    locate_number_out_of_range,
)


@contextmanager
def unique_taken_as_validation_error(model: type[models.Model]) -> Iterator[None]:
    """Run a write that a concurrent writer may beat to one of ``model``'s single-field unique
    constraints: the friendly check (``full_clean``, a serializer's ``UniqueValidator``) passed
    before the other writer committed, and the constraint refuses this write. That refusal
    becomes the friendly check's own error (a ValidationError under the field, code
    ``unique``), so a taken value gets one answer whoever won the race. The write runs in a
    savepoint, so the caller's transaction stays usable; other integrity errors pass through."""
    try:
        with transaction.atomic():
            yield
    except IntegrityError as exc:
        name = getattr(getattr(exc.__cause__, "diag", None), "constraint_name", None)
        for constraint in model._meta.constraints:
            if (
                isinstance(constraint, models.UniqueConstraint)
                and constraint.name == name
                and len(constraint.fields) == 1
                and constraint.condition is None
            ):
                field = constraint.fields[0]
                error = model().unique_error_message(model, (field,))
                raise ValidationError({field: error}) from None
        raise


class DatabaseNow(models.Func):
    """``now()``: the transaction's start time, as the seed's ``CURRENT_TIMESTAMP`` defaults.

    Django's ``Now()`` compiles to ``STATEMENT_TIMESTAMP()`` on PostgreSQL; the seed contract and
    the ``update_updated_at_column()`` trigger use the transaction timestamp.
    """

    function = "now"
    template = "%(function)s()"
    output_field = models.DateTimeField()


class JSONField(models.JSONField):
    """A ``jsonb`` column whose every stored value reads and writes back, whoever stored it (see
    ``devskyy.json_codec``): huge numbers, numbers beyond a double, documents nested thousands
    deep. The admin's form fields and DRF's serializer fields get the same codec.

    It deconstructs as a plain ``models.JSONField``: the codec changes Python's reading and
    writing of the values, not the schema, so migrations have nothing to record.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("encoder", TotalJSONEncoder)
        kwargs.setdefault("decoder", TotalJSONDecoder)
        super().__init__(*args, **kwargs)

    def deconstruct(self) -> Any:
        name, _, args, kwargs = super().deconstruct()
        if kwargs.get("encoder") is TotalJSONEncoder:
            del kwargs["encoder"]
        if kwargs.get("decoder") is TotalJSONDecoder:
            del kwargs["decoder"]
        return name, "django.db.models.JSONField", args, kwargs

    def validate(self, value: Any, model_instance: models.Model | None) -> None:
        super().validate(value, model_instance)
        if contains_nul(value):  # what the admin's JSON form fields would otherwise send
            raise ValidationError(
                "Null characters (\\u0000) are not allowed.", code="null_characters_not_allowed"
            )
        # The API's number rule (devskyy.api.parsers), for the admin's forms: NaN and Infinity
        # (Python's json reads them) would be a DataError, huge numbers would not read back.
        located = locate_number_out_of_range(value)
        if located is not None:
            where, number = located
            raise ValidationError(
                f"The number at {where} ({number}) is out of range: numbers must lie between "
                f"{INT64_MIN} and {INT64_MAX}.",
                code="number_out_of_range",
            )

    def from_db_value(self, value: Any, expression: Any, connection: Any) -> Any:
        # psycopg hands jsonb over as PostgreSQL's text (Django registers a text loader), always
        # well-formed; one shared decoder instead of a new one per value.
        return loads(value) if isinstance(value, str) else value


NOT_AN_OBJECT = "Must be a JSON object."


class JSONObjectFormField(forms.JSONField):
    def validate(self, value: Any) -> None:
        super().validate(value)
        # ``[]`` is one of Django's "empty" values, which model validation skips: refuse it here.
        if value is not None and not isinstance(value, dict):
            raise ValidationError(NOT_AN_OBJECT, code="not_an_object")


class JSONObjectField(JSONField):
    """A ``jsonb`` column that holds a JSON object, like the API's ``JSONObjectField``: the admin's
    forms (and ``full_clean``) refuse ``[]``, ``"s"`` or ``-1`` there, as the API does."""

    def validate(self, value: Any, model_instance: models.Model | None) -> None:
        super().validate(value, model_instance)
        if not isinstance(value, dict):
            raise ValidationError(NOT_AN_OBJECT, code="not_an_object")

    def formfield(
        self,
        form_class: type[forms.Field] | None = None,
        choices_form_class: type[forms.ChoiceField] | None = None,
        **kwargs: Any,
    ) -> forms.Field | None:
        return super().formfield(
            form_class=form_class or JSONObjectFormField,
            choices_form_class=choices_form_class,
            **kwargs,
        )


def empty_json_object() -> dict[str, Any]:
    return {}


def metadata_field(**kwargs: Any) -> models.JSONField:
    """The seed's ``metadata`` column: JSONB, NOT NULL, default ``'{}'``; a JSON object."""
    return JSONObjectField(
        default=empty_json_object,
        db_default=models.Value({}, output_field=models.JSONField()),
        blank=True,
        **kwargs,
    )


class UUIDPrimaryKeyModel(models.Model):
    # Python generates the id for ORM inserts (no round trip needed to know it);
    # gen_random_uuid() covers raw SQL inserts.
    id = models.UUIDField(
        primary_key=True, default=uuid.uuid4, db_default=RandomUUID(), editable=False
    )

    class Meta:
        abstract = True


class CreatedAtModel(UUIDPrimaryKeyModel):
    created_at = models.DateTimeField(db_default=DatabaseNow(), editable=False)

    class Meta:
        abstract = True


class TimestampedModel(CreatedAtModel):
    """``created_at`` and ``updated_at``, both ``now()`` by default.

    ``updated_at`` is maintained by the ``update_updated_at_column()`` trigger (see
    ``devskyy.migration_operations.UpdatedAtTrigger``), for the ORM and raw SQL alike. After an ORM
    ``save()`` the instance still holds the old value; ``refresh_from_db(fields=["updated_at"])``
    reads the new one.
    """

    updated_at = models.DateTimeField(db_default=DatabaseNow(), editable=False)

    class Meta:
        abstract = True


class IdempotencyRecord(models.Model):
    """One ``Idempotency-Key`` of one caller: claimed before the write, completed with the response
    in the write's own transaction, replayed for retries. See ``devskyy.api.idempotency``."""

    class State(models.TextChoices):
        IN_PROGRESS = "in_progress", "In progress"
        COMPLETED = "completed", "Completed"

    id = models.BigAutoField(primary_key=True)
    user = models.ForeignKey(
        "commerce.User", on_delete=models.CASCADE, related_name="idempotency_records"
    )
    key = models.CharField(max_length=255)
    fingerprint = models.CharField(max_length=64, help_text="SHA-256 of method, path and body")
    state = models.CharField(
        max_length=20,
        choices=State.choices,
        db_default=State.IN_PROGRESS,
        default=State.IN_PROGRESS,
    )
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    response_body = JSONField(null=True, blank=True)
    created_at = models.DateTimeField(db_default=DatabaseNow(), editable=False)

    class Meta:
        db_table = "api_idempotency_records"
        constraints = [
            models.UniqueConstraint(fields=["user", "key"], name="api_idempotency_user_key_uniq"),
        ]
        indexes = [models.Index(fields=["created_at"], name="api_idempotency_created_idx")]

    def __str__(self) -> str:
        return f"{self.key} ({self.state})"
