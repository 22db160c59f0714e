"""Projects (seed 003 ``projects``): what a set of agent tasks is for."""

from __future__ import annotations

from django.contrib.postgres.indexes import GinIndex, OpClass
from django.db import models
from django.db.models import Q
from django.db.models.functions import Upper

from devskyy.models import TimestampedModel


class Project(TimestampedModel):
    """A named body of work that tasks belong to.

    ``version`` numbers the record for optimistic locking (seed 003: several people edit the same
    project): every write adds one, and an update over a version its writer did not read is
    refused. A project that still has tasks cannot be deleted (``Task.project`` is PROTECT, and
    the database's foreign key refuses a raw SQL delete too).
    """

    name = models.CharField(max_length=255)
    description = models.TextField(blank=True, default="", db_default="")
    version = models.IntegerField(default=1, db_default=1)

    class Meta:
        db_table = "projects"
        ordering = ["name", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(version__gte=1), name="projects_version_positive"),
            models.CheckConstraint(condition=~Q(name=""), name="projects_name_not_blank"),
        ]
        indexes = [
            models.Index(fields=["created_at"], name="projects_created_idx"),
            # The admin's list (by name) and its word search.
            models.Index(fields=["name", "id"], name="projects_name_idx"),
            GinIndex(OpClass(Upper("name"), name="gin_trgm_ops"), name="projects_name_trgm"),
        ]

    def __str__(self) -> str:
        return self.name
