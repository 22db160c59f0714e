"""LangGraph checkpoints stored in devskyy (issue 10): the state of an agent's graph, per thread.

The tables mirror what ``langgraph-checkpoint-postgres`` stores, with its column names, so a
raw-SQL reader recognises them: checkpoints (the checkpoint dict without its channel values, and
its metadata), the channel values as opaque blobs keyed by channel and version, and the pending
writes of tasks. Every row belongs to a thread, and a thread to the user (agent) whose request
created it; the thread's rows go with it (ON DELETE CASCADE in the database, migration 0016).

Blob ``version`` text is canonical: the server stores ``(<version as JSON>)::jsonb #>> '{}'``, the
text ``jsonb_each_text(checkpoint -> 'channel_versions')`` yields, so a checkpoint's values are
the blobs joined on its ``channel_versions`` (as the official saver's ``SELECT_SQL`` does).

A thread is linked to a ``Task`` when ``tasks.thread_id`` equals its ``thread_id``: a join, no
foreign key, since either may exist first. The services are ``agents_audit.services.checkpoints``,
the reads ``agents_audit.checkpoints``.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.postgres.indexes import GinIndex
from django.db import models
from django.db.models import Q
from django.db.models.fields.json import KT

from devskyy.models import DatabaseNow, JSONField, metadata_field

THREAD_ID_MAX_LENGTH = 255


def _thread() -> Any:
    # DO_NOTHING: ON DELETE CASCADE in the database (migration 0016), one DELETE for a thread
    # however many rows it holds. No index of its own: each table's unique key leads with it.
    return models.ForeignKey(
        "CheckpointThread",
        on_delete=models.DO_NOTHING,
        db_column="thread_id",
        related_name="+",
        db_index=False,
    )


def _namespace() -> Any:
    return models.TextField(default="", db_default="", blank=True)


class CheckpointThread(models.Model):
    """A LangGraph thread: the owner of a graph's checkpoints, blobs and writes.

    It belongs to the user whose request created it (``owner``; SET NULL in the database when
    that account is deleted, migration 0016: operators can still read it, nobody writes to it).
    """

    thread_id = models.CharField(max_length=THREAD_ID_MAX_LENGTH, primary_key=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.DO_NOTHING,  # SET NULL in the database (migration 0016)
        null=True,
        blank=True,
        related_name="checkpoint_threads",
        db_index=False,  # checkpoint_threads_owner_idx leads with owner_id
    )
    created_at = models.DateTimeField(db_default=DatabaseNow(), editable=False)

    class Meta:
        db_table = "checkpoint_threads"
        ordering = ["-created_at", "-thread_id"]
        indexes = [
            # The thread list, newest first: all threads (operators), an owner's (agents).
            models.Index(fields=["created_at", "thread_id"], name="checkpoint_threads_created_idx"),
            models.Index(
                fields=["owner", "created_at", "thread_id"],
                name="checkpoint_threads_owner_idx",
            ),
        ]

    def __str__(self) -> str:
        return self.thread_id


class Checkpoint(models.Model):
    """One checkpoint of a thread's namespace: the LangGraph checkpoint dict without its
    ``channel_values`` (those are blobs), and its metadata (queryable: ``metadata @> filter``)."""

    id = models.BigAutoField(primary_key=True)
    thread = _thread()
    checkpoint_ns = _namespace()
    checkpoint_id = models.TextField()
    parent_checkpoint_id = models.TextField(null=True, blank=True)  # noqa: DJ001 (the first: NULL)
    checkpoint = JSONField()
    metadata = metadata_field()
    created_at = models.DateTimeField(db_default=DatabaseNow(), editable=False)

    class Meta:
        db_table = "checkpoints"
        ordering = ["thread", "checkpoint_ns", "-checkpoint_id"]
        constraints = [
            # Latest, by id, before an id, newest first within a namespace.
            models.UniqueConstraint(
                fields=["thread", "checkpoint_ns", "checkpoint_id"],
                name="checkpoints_thread_ns_id_key",
            ),
        ]
        indexes = [
            # Newest first across a thread's namespaces.
            models.Index(fields=["thread", "checkpoint_id"], name="checkpoints_thread_id_idx"),
            # metadata @> filter
            GinIndex(
                fields=["metadata"], opclasses=["jsonb_path_ops"], name="checkpoints_metadata_gin"
            ),
            # delete_for_runs
            models.Index(
                KT("metadata__run_id"),
                condition=Q(metadata__has_key="run_id"),
                name="checkpoints_run_id_idx",
            ),
        ]

    def __str__(self) -> str:
        where = f"{self.thread_id}/{self.checkpoint_ns}" if self.checkpoint_ns else self.thread_id
        return f"{self.checkpoint_id} ({where})"


class CheckpointBlob(models.Model):
    """One version of one channel's value, serialized by LangGraph's serde (``type`` names the
    serializer; ``blob`` is null for an empty channel). Checkpoints refer to it through their
    ``channel_versions``."""

    id = models.BigAutoField(primary_key=True)
    thread = _thread()
    checkpoint_ns = _namespace()
    channel = models.TextField()
    version = models.TextField()
    type = models.TextField()
    blob = models.BinaryField(null=True, blank=True)

    class Meta:
        db_table = "checkpoint_blobs"
        ordering = ["thread", "checkpoint_ns", "channel", "version"]
        constraints = [
            models.UniqueConstraint(
                fields=["thread", "checkpoint_ns", "channel", "version"],
                name="checkpoint_blobs_thread_ns_channel_version_key",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.channel}@{self.version}"


class CheckpointWrite(models.Model):
    """A pending write of a task (``task_id``, ``idx``) to a channel, for a checkpoint (which
    need not be saved yet: LangGraph saves writes in the background)."""

    id = models.BigAutoField(primary_key=True)
    thread = _thread()
    checkpoint_ns = _namespace()
    checkpoint_id = models.TextField()
    task_id = models.TextField()
    task_path = models.TextField(default="", db_default="", blank=True)
    idx = models.IntegerField()
    channel = models.TextField()
    type = models.TextField()
    blob = models.BinaryField()
    created_at = models.DateTimeField(db_default=DatabaseNow(), editable=False)

    class Meta:
        db_table = "checkpoint_writes"
        ordering = ["thread", "checkpoint_ns", "checkpoint_id", "task_path", "task_id", "idx"]
        constraints = [
            models.UniqueConstraint(
                fields=["thread", "checkpoint_ns", "checkpoint_id", "task_id", "idx"],
                name="checkpoint_writes_thread_ns_id_task_idx_key",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.task_id}[{self.idx}] -> {self.channel}"
