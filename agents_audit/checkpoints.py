"""Reads of LangGraph checkpoints (issue 10): threads, one checkpoint tuple, and searches.

Visibility: operators and admins read every thread; an agent reads the threads it owns.

A checkpoint *tuple* is what LangGraph's ``get_tuple`` and ``list`` return: the checkpoint and
its metadata, its channel values (the blobs named by its ``channel_versions``; ``empty`` ones
are left out) and its pending writes in the order (task_path, task_id, idx). PostgreSQL renders
each tuple as the API's JSON, bytes as standard base64, in the statement that finds it (the
official saver's ``SELECT_SQL`` with its two subselects), so a page of tuples is one statement.

Search order is newest first: ``checkpoint_id`` descending, then ``thread_id`` and
``checkpoint_ns`` descending. A cursor is the position of a page's last tuple in that order.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from typing import Any

from django.db import connection
from django.db.backends.utils import CursorWrapper
from django.db.models import Count, Exists, OuterRef, QuerySet, Subquery
from django.db.models.fields.json import KT, KeyTransform
from django.db.models.functions import Coalesce, Length

from agents_audit.models import Checkpoint, CheckpointThread, CheckpointWrite, Task
from agents_audit.services.checkpoints import ID_MAX_LENGTH, NAME_MAX_LENGTH
from commerce.models import User
from devskyy.api.sql_json import PG_DATETIME_FORMAT
from devskyy.db import prepared_cursor, run_checked_by_use
from devskyy.json_codec import dumps

SEARCH_MAX_LIMIT = 100
# The channel LangGraph writes an interrupt() to (langgraph.checkpoint.serde.types.INTERRUPT).
INTERRUPT_CHANNEL = "__interrupt__"
SEARCH_DEFAULT_LIMIT = 20


def thread_list(*, viewer: User) -> QuerySet[CheckpointThread]:
    """The threads ``viewer`` may read, each with the id of its task (``task_id``: the task
    whose ``thread_id`` it is, or None)."""
    queryset = CheckpointThread.objects.annotate(task_id=linked_task_id())
    return queryset if viewer.is_staff else queryset.filter(owner=viewer)


def thread_visible(*, thread_id: str, viewer: User) -> bool:
    return thread_list(viewer=viewer).filter(thread_id=thread_id).exists()


def _base64(column: str) -> str:
    # encode() breaks base64 into lines of 76 characters.
    return f"translate(encode({column}, 'base64'), E'\\n', '')"


# SQL text only: no input reaches it (values are parameters).
TUPLE_JSON = f"""json_build_object(
    'thread_id', c.thread_id,
    'checkpoint_ns', c.checkpoint_ns,
    'checkpoint_id', c.checkpoint_id,
    'parent_checkpoint_id', c.parent_checkpoint_id,
    'checkpoint', c.checkpoint,
    'metadata', c.metadata,
    'channel_values', coalesce((
        SELECT json_agg(json_build_object(
            'channel', bl.channel, 'type', bl.type, 'data', {_base64("bl.blob")}
        ) ORDER BY bl.channel)
        FROM jsonb_each_text(
            CASE WHEN jsonb_typeof(c.checkpoint -> 'channel_versions') = 'object'
                 THEN c.checkpoint -> 'channel_versions' ELSE '{{}}'::jsonb END
        ) AS v
        JOIN checkpoint_blobs bl
            ON bl.thread_id = c.thread_id AND bl.checkpoint_ns = c.checkpoint_ns
            AND bl.channel = v.key AND bl.version = v.value
        WHERE bl.type <> 'empty'
    ), '[]'),
    'pending_writes', coalesce((
        SELECT json_agg(json_build_object(
            'task_id', w.task_id, 'task_path', w.task_path, 'idx', w.idx,
            'channel', w.channel, 'type', w.type, 'data', {_base64("w.blob")}
        ) ORDER BY w.task_path, w.task_id, w.idx)
        FROM checkpoint_writes w
        WHERE w.thread_id = c.thread_id AND w.checkpoint_ns = c.checkpoint_ns
        AND w.checkpoint_id = c.checkpoint_id
    ), '[]'),
    'created_at', to_char(c.created_at AT TIME ZONE 'UTC', '{PG_DATETIME_FORMAT}')
)::text"""  # noqa: S608

SELECT_TUPLES = f"""
SELECT {TUPLE_JSON}, c.checkpoint_id, c.thread_id, c.checkpoint_ns
FROM checkpoints c
"""  # noqa: S608 (no input in the text)

# An agent's rows: those of the threads it owns.
OWN_THREADS_JOIN = (
    "JOIN checkpoint_threads t ON t.thread_id = c.thread_id AND t.owner_id = %(viewer)s\n"
)


@dataclass(frozen=True)
class Position:
    """Where a page ended, in search order."""

    checkpoint_id: str
    thread_id: str
    checkpoint_ns: str


def encode_cursor(position: Position) -> str:
    parts = [position.checkpoint_id, position.thread_id, position.checkpoint_ns]
    payload = json.dumps(parts, ensure_ascii=False)
    return base64.urlsafe_b64encode(payload.encode()).decode("ascii")


# A cursor holds three ids: base64 of their JSON (at most 6 bytes a character: a "\u001f").
CURSOR_MAX_LENGTH = 4 * (6 * (2 * ID_MAX_LENGTH + NAME_MAX_LENGTH) + 20) // 3 + 4


def decode_cursor(raw: str) -> Position | None:
    """The position a cursor names, or None for anything this API did not issue."""
    try:
        if len(raw) > CURSOR_MAX_LENGTH:
            raise ValueError(raw)
        parts = json.loads(base64.urlsafe_b64decode(raw.encode("ascii")))
        if type(parts) is not list or [type(part) for part in parts] != [str] * 3:
            raise ValueError(parts)
        checkpoint_id, thread_id, checkpoint_ns = parts
        if (
            len(checkpoint_id) > ID_MAX_LENGTH
            or len(thread_id) > ID_MAX_LENGTH
            or len(checkpoint_ns) > NAME_MAX_LENGTH
            or "\x00" in checkpoint_id + thread_id + checkpoint_ns
        ):
            raise ValueError(parts)
        # JSON escapes can spell lone surrogates, which no database text holds.
        (checkpoint_id + thread_id + checkpoint_ns).encode("utf-8")
    except (ValueError, TypeError, UnicodeError, RecursionError, binascii.Error):
        return None
    return Position(checkpoint_id, thread_id, checkpoint_ns)


@dataclass(frozen=True)
class TuplePage:
    """Tuples rendered as JSON texts, and where the next page starts (None: no more)."""

    tuples: list[str]
    next_cursor: str | None

    def json(self) -> bytes:
        cursor = dumps(self.next_cursor)
        return (
            b'{"results":[' + ",".join(self.tuples).encode() + b'],"next_cursor":' + cursor + b"}"
        )


def checkpoint_tuple_get(
    *, thread_id: str, viewer: User, checkpoint_ns: str = "", checkpoint_id: str | None = None
) -> str | None:
    """One tuple as JSON text: the one named ``checkpoint_id``, or the namespace's latest
    without it; None when there is none or the thread is not ``viewer``'s to read."""
    sql, params = tuple_statement(
        thread_id=thread_id, viewer=viewer, checkpoint_ns=checkpoint_ns, checkpoint_id=checkpoint_id
    )

    def read(cursor: CursorWrapper) -> Any:
        cursor.execute(sql, params)
        return cursor.fetchone()

    row = run_checked_by_use(read)  # the hot path's only statement (checkpoint_hot_path)
    return None if row is None else str(row[0])


def tuple_statement(
    *, thread_id: str, viewer: User, checkpoint_ns: str, checkpoint_id: str | None
) -> tuple[str, dict[str, Any]]:
    """``checkpoint_tuple_get``'s statement and parameters."""
    sql = SELECT_TUPLES + ("" if viewer.is_staff else OWN_THREADS_JOIN)
    sql += "WHERE c.thread_id = %(thread_id)s AND c.checkpoint_ns = %(ns)s\n"
    if checkpoint_id is not None:
        sql += "AND c.checkpoint_id = %(checkpoint_id)s\n"
    sql += "ORDER BY c.checkpoint_id DESC LIMIT 1"
    params = {
        "thread_id": thread_id,
        "ns": checkpoint_ns,
        "checkpoint_id": checkpoint_id,
        "viewer": viewer.pk,
    }
    return sql, params


def checkpoint_search(
    *,
    viewer: User,
    thread_id: str | None = None,
    checkpoint_ns: str | None = None,
    checkpoint_id: str | None = None,
    filter: dict[str, Any] | None = None,
    before: str | None = None,
    limit: int = SEARCH_DEFAULT_LIMIT,
    after: Position | None = None,
) -> TuplePage:
    """A page of the tuples ``viewer`` may read, newest first, in one statement: of one thread
    (``thread_id``) or of every visible thread; of one namespace (``checkpoint_ns``; None: all),
    one id, whose metadata contains ``filter``, with ids below ``before``; ``limit`` tuples
    from ``after`` (a cursor's position) on."""
    sql, params = search_statement(
        viewer=viewer,
        thread_id=thread_id,
        checkpoint_ns=checkpoint_ns,
        checkpoint_id=checkpoint_id,
        filter=filter,
        before=before,
        limit=limit,
        after=after,
    )
    with prepared_cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    more = len(rows) > limit
    rows = rows[:limit]
    next_cursor = encode_cursor(Position(*rows[-1][1:])) if more else None
    return TuplePage([str(row[0]) for row in rows], next_cursor)


def search_statement(
    *,
    viewer: User,
    thread_id: str | None,
    checkpoint_ns: str | None,
    checkpoint_id: str | None,
    filter: dict[str, Any] | None,
    before: str | None,
    limit: int,
    after: Position | None,
) -> tuple[str, dict[str, Any]]:
    """``checkpoint_search``'s statement and parameters (one row more than ``limit``: whether
    there is a next page)."""
    clauses: list[str] = []
    params: dict[str, Any] = {"viewer": viewer.pk, "limit": limit + 1}
    if thread_id is not None:
        clauses.append("c.thread_id = %(thread_id)s")
        params["thread_id"] = thread_id
    if checkpoint_ns is not None:
        clauses.append("c.checkpoint_ns = %(ns)s")
        params["ns"] = checkpoint_ns
    if checkpoint_id is not None:
        clauses.append("c.checkpoint_id = %(checkpoint_id)s")
        params["checkpoint_id"] = checkpoint_id
    if filter:
        clauses.append("c.metadata @> %(filter)s::jsonb")
        params["filter"] = dumps(filter).decode()
    if before is not None:
        clauses.append("c.checkpoint_id < %(before)s")
        params["before"] = before
    if after is not None:
        # The first condition lets an index on checkpoint_id bound the scan.
        clauses.append(
            "c.checkpoint_id <= %(after_id)s AND (c.checkpoint_id, c.thread_id, c.checkpoint_ns)"
            " < (%(after_id)s, %(after_thread)s, %(after_ns)s)"
        )
        params.update(
            after_id=after.checkpoint_id,
            after_thread=after.thread_id,
            after_ns=after.checkpoint_ns,
        )
    sql = SELECT_TUPLES + ("" if viewer.is_staff else OWN_THREADS_JOIN)
    if clauses:
        sql += "WHERE " + "\nAND ".join(clauses) + "\n"
    sql += "ORDER BY c.checkpoint_id DESC, c.thread_id DESC, c.checkpoint_ns DESC LIMIT %(limit)s"
    return sql, params


# --- for operators: a thread's checkpoints at a glance (the admin, a task's timeline) ---------


def linked_task_id() -> Subquery:
    """The id of the task whose ``thread_id`` is the row's (``thread_id``), or None."""
    return Subquery(Task.objects.filter(thread_id=OuterRef("thread_id")).values("id")[:1])


def checkpoint_summaries(*, thread_id: str, limit: int) -> QuerySet[Checkpoint]:
    """The thread's newest ``limit`` checkpoints (every namespace), each annotated with its
    ``step`` and ``source`` (from the metadata), its number of pending ``writes``, and whether
    one of them is an ``interrupt()`` the graph waits at (``interrupted``)."""
    writes = CheckpointWrite.objects.filter(
        thread_id=OuterRef("thread_id"),
        checkpoint_ns=OuterRef("checkpoint_ns"),
        checkpoint_id=OuterRef("checkpoint_id"),
    )
    return (
        Checkpoint.objects.filter(thread_id=thread_id)
        .annotate(
            step=KeyTransform("step", "metadata"),
            source=KT("metadata__source"),
            writes=Coalesce(
                Subquery(writes.order_by().values("thread_id").annotate(n=Count("*")).values("n")),
                0,
            ),
            interrupted=Exists(writes.filter(channel=INTERRUPT_CHANNEL)),
        )
        .order_by("-checkpoint_id", "-checkpoint_ns")[:limit]
    )


@dataclass(frozen=True)
class StoredValue:
    """A channel value or pending write as operators see it: what it is, not its bytes."""

    channel: str
    type: str
    size: int | None
    version: str = ""
    task_id: str = ""
    task_path: str = ""
    idx: int = 0


def checkpoint_channel_values(checkpoint: Checkpoint) -> list[StoredValue]:
    """The blobs the checkpoint's ``channel_versions`` name, by channel (type and size)."""
    versions = checkpoint.checkpoint.get("channel_versions")
    if not isinstance(versions, dict):
        return []
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT bl.channel, bl.version, bl.type, octet_length(bl.blob)
            FROM jsonb_each_text(%s::jsonb) AS v
            JOIN checkpoint_blobs bl
                ON bl.thread_id = %s AND bl.checkpoint_ns = %s
                AND bl.channel = v.key AND bl.version = v.value
            ORDER BY bl.channel
            """,
            [dumps(versions).decode(), checkpoint.thread_id, checkpoint.checkpoint_ns],
        )
        return [
            StoredValue(channel=channel, version=version, type=kind, size=size)
            for channel, version, kind, size in cursor.fetchall()
        ]


def checkpoint_pending_writes(checkpoint: Checkpoint) -> list[StoredValue]:
    """The checkpoint's pending writes in LangGraph's order (task_path, task_id, idx)."""
    rows = (
        CheckpointWrite.objects.filter(
            thread_id=checkpoint.thread_id,
            checkpoint_ns=checkpoint.checkpoint_ns,
            checkpoint_id=checkpoint.checkpoint_id,
        )
        .annotate(size=Length("blob"))
        .order_by("task_path", "task_id", "idx")
        .values_list("task_id", "task_path", "idx", "channel", "type", "size")
    )
    return [
        StoredValue(channel=channel, type=kind, size=size, task_id=task, task_path=path, idx=idx)
        for task, path, idx, channel, kind, size in rows
    ]
