"""Abstract bases shared by every app's models.

Every default that matters is a *database* default (``db_default``), so that a row written by raw
SQL (psql, another service) gets the same values as one written through the ORM. Where a Python
``default`` is set as well, it only makes unsaved instances readable; the column default in
PostgreSQL is the contract.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.contrib.postgres.functions import RandomUUID
from django.db import models


class DatabaseNow(models.Func):
    """``now()``: the transaction's start time, as the seed's ``CURRENT_TIMESTAMP`` defaults.

    Django's ``Now()`` compiles to ``STATEMENT_TIMESTAMP()`` on PostgreSQL; the seed contract and
    the ``update_updated_at_column()`` trigger use the transaction timestamp.
    """

    function = "now"
    template = "%(function)s()"
    output_field = models.DateTimeField()


def empty_json_object() -> dict[str, Any]:
    return {}


def metadata_field(**kwargs: Any) -> models.JSONField:
    """The seed's ``metadata`` column: JSONB, NOT NULL, default ``'{}'``."""
    return models.JSONField(
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
