"""LangGraph checkpoints (issue 10): put a checkpoint, put a task's writes, delete or copy a
thread, delete the checkpoints of runs, prune threads. Each is one transaction.

Ownership. A thread belongs to the user whose request created it: a put, put_writes or copy into
a thread id nobody has yet creates it, owned by the caller, unless it is the ``thread_id`` of a
task someone else created (that thread is the task's creator's to make). Only the owner writes
to a thread. Who is refused hears what they may know: an agent, who sees only its own threads,
gets ``ThreadNotFound`` (404) for another's thread as for a missing one; operators and admins,
who read every thread, get ``NotPermitted`` (403). Bulk calls (prune, delete for runs) act on
the caller's own threads and skip the others as if they did not exist.

Locks. Writes to one thread serialize on its row in ``checkpoint_threads``: put and put_writes
hold it ``FOR SHARE`` (taken after the insert-if-missing; puts to one thread go on side by side),
delete, prune, delete for runs and a copy's target hold it ``FOR UPDATE`` (they wait for the puts
in flight, and puts wait for them); a copy holds its source ``FOR SHARE``. A call that locks
several thread rows locks them in ``thread_id`` order, so two copies in opposite directions, or
two prunes of overlapping lists, queue instead of deadlocking. Creating a thread and creating a
task (``task_create``) take a transaction lock on the thread id (``lock_thread_id``) before
reading the other's table, so a thread and another user's task never take one id at once.

Statements are raw SQL with parameters, the official saver's upserts (``ON CONFLICT``): a put
retried is one row, blobs are written once per (channel, version), and writes of special
channels (``idx < 0``) are upserted while the others keep their first value.

Blobs are garbage-collected where checkpoints go (prune, delete for runs): within each thread
namespace touched, every blob that no remaining checkpoint's ``channel_versions`` names is
deleted. Under the thread's ``FOR UPDATE`` no put is in flight there, and a put writes its blobs
with its checkpoint, so nothing a checkpoint will name is taken.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from django.db import connection, transaction
from django.db.backends.utils import CursorWrapper

from agents_audit.errors import PruneUnsupported, ThreadNotFound
from commerce.models import User
from devskyy.db import pipeline, prepared_cursor, run_checked_by_use
from devskyy.errors import FieldError, InvalidInput, NotPermitted
from devskyy.json_codec import dumps

# Limits of the identifiers a client sends (the API documents them).
ID_MAX_LENGTH = 255  # thread, checkpoint, parent checkpoint, task and run ids; versions
NAME_MAX_LENGTH = 1024  # namespaces, task paths, channel names, serializer type names
IDX_MIN, IDX_MAX = -(2**31), 2**31 - 1
# Metadata keys a DeltaChannel leaves (langgraph-checkpoint-postgres' PRUNE_DELTA_THREADS_SQL).
DELTA_METADATA_KEYS = ("counters_since_delta_snapshot", "delta_writes_versioned")

PruneStrategy = Literal["keep_latest", "delete"]
PRUNE_STRATEGIES: tuple[PruneStrategy, ...] = ("keep_latest", "delete")


@dataclass(frozen=True)
class BlobInput:
    """One channel value of a put: ``version`` as the checkpoint's ``channel_versions`` has it."""

    channel: str
    version: str | int | float
    type: str
    data: bytes | None


@dataclass(frozen=True)
class WriteInput:
    """One pending write of a task: ``idx`` is the official saver's (``WRITES_IDX_MAP``: special
    channels are negative)."""

    idx: int
    channel: str
    type: str
    data: bytes


# --- ownership and locks ---------------------------------------------------------------------

# Create the thread for the caller unless it exists, or is the thread of another user's task.
# (Casts: bound on the server, each parameter has one type wherever it stands.)
CLAIM_THREAD_SQL = """
INSERT INTO checkpoint_threads (thread_id, owner_id)
SELECT %(thread_id)s::varchar, %(owner_id)s::uuid
WHERE NOT EXISTS (
    SELECT 1 FROM tasks
    WHERE thread_id = %(thread_id)s::varchar AND created_by_id IS DISTINCT FROM %(owner_id)s::uuid
)
ON CONFLICT (thread_id) DO NOTHING
"""

LOCK_THREAD_SQL = {
    "SHARE": "SELECT owner_id FROM checkpoint_threads WHERE thread_id = %s FOR SHARE",
    "UPDATE": "SELECT owner_id FROM checkpoint_threads WHERE thread_id = %s FOR UPDATE",
}

OTHER_USERS_TASK_SQL = (
    "SELECT EXISTS (SELECT 1 FROM tasks WHERE thread_id = %s AND created_by_id IS DISTINCT FROM %s)"
)

# Who takes a thread id first, a new thread or a new task: the two rows live in different
# tables, so neither insert waits for the other's; this lock on the id makes them queue.
THREAD_ID_LOCK_SQL = "SELECT pg_advisory_xact_lock(hashtextextended('checkpoint_thread:' || %s, 0))"

LockMode = Literal["SHARE", "UPDATE"]


def _refuse_write(by: User) -> None:
    """Refuse a write to a thread that is not ``by``'s, saying only what ``by`` may know."""
    if by.is_staff:
        raise NotPermitted("Operators read every thread; only its owner writes to it.")
    raise ThreadNotFound()


def _lock(cursor: CursorWrapper, thread_id: str, mode: LockMode) -> tuple[bool, Any]:
    """Lock the thread's row; return (whether it exists, its owner's id)."""
    cursor.execute(LOCK_THREAD_SQL[mode], [thread_id])
    row = cursor.fetchone()
    return (False, None) if row is None else (True, row[0])


def lock_thread_id(thread_id: str) -> None:
    """Hold the lock on a thread id until the transaction ends. Creating a thread and creating
    a task with that ``thread_id`` both take it, each before checking the other's table, so
    neither commits unseen by the other (``task_create`` refuses a thread id taken by another
    user's thread; a new thread, the thread id of another user's task)."""
    with connection.cursor() as cursor:
        cursor.execute(THREAD_ID_LOCK_SQL, [thread_id])


def _claim(cursor: CursorWrapper, *, thread_id: str, by: User, mode: LockMode) -> None:
    """Create the thread for ``by`` if nobody has it, lock its row and check ``by`` owns it.
    Call inside a transaction; the lock is held until it ends. The insert and the lock go to
    the database in one round trip."""
    for _ in range(3):
        with pipeline() as sent_together, prepared_cursor() as lock:
            cursor.execute(CLAIM_THREAD_SQL, {"thread_id": thread_id, "owner_id": by.pk})
            lock.execute(LOCK_THREAD_SQL[mode], [thread_id])
            sent_together.sync()
            created = cursor.rowcount == 1
            row = lock.fetchone()
        if created:
            # A new thread: a task of another user's, created meanwhile, may have committed
            # since the insert's snapshot. Read the tasks again under the thread id's lock.
            lock_thread_id(thread_id)
            cursor.execute(OTHER_USERS_TASK_SQL, [thread_id, by.pk])
            if cursor.fetchone()[0]:
                _refuse_write(by)
        if row is not None:
            if row[0] != by.pk:
                _refuse_write(by)
            return
        cursor.execute(OTHER_USERS_TASK_SQL, [thread_id, by.pk])
        if cursor.fetchone()[0]:
            _refuse_write(by)
        # Deleted between the insert (which found it) and the lock: claim it again.
    raise ThreadNotFound()


def _lock_own(cursor: CursorWrapper, *, thread_id: str, by: User) -> None:
    """Lock an existing thread ``FOR UPDATE`` and check ``by`` owns it."""
    exists, owner_id = _lock(cursor, thread_id, "UPDATE")
    if not exists or (owner_id != by.pk and not by.is_staff):
        raise ThreadNotFound()
    if owner_id != by.pk:
        _refuse_write(by)


def _lock_own_threads(cursor: CursorWrapper, *, thread_ids: Iterable[str], by: User) -> list[str]:
    """Lock ``FOR UPDATE``, in ``thread_id`` order, those of ``thread_ids`` that ``by`` owns;
    return their ids (sorted). The others are skipped, as if they did not exist."""
    cursor.execute(
        "SELECT thread_id FROM checkpoint_threads WHERE thread_id = ANY(%s) AND owner_id = %s "
        "ORDER BY thread_id FOR UPDATE",
        [sorted(set(thread_ids)), by.pk],
    )
    return [row[0] for row in cursor.fetchall()]


# --- put and put_writes ----------------------------------------------------------------------


def checkpoint_errors(checkpoint: Any) -> dict[str, list[FieldError]]:
    """What is wrong with a checkpoint dict, by key (empty: nothing). It is stored as sent,
    without its ``channel_values`` (those are blobs); ``id`` names it and ``channel_versions``
    says which blob holds each channel's value."""
    errors: dict[str, list[FieldError]] = {}
    if not isinstance(checkpoint, dict):
        return {"non_field_errors": [FieldError("Must be a JSON object.", "not_an_object")]}
    if "channel_values" in checkpoint:
        errors["channel_values"] = [
            FieldError(
                "Send channel values as `blobs`, not inside the checkpoint.", "channel_values"
            )
        ]
    checkpoint_id = checkpoint.get("id")
    if not isinstance(checkpoint_id, str) or not 1 <= len(checkpoint_id) <= ID_MAX_LENGTH:
        errors["id"] = [
            FieldError(f"Required: a string of 1 to {ID_MAX_LENGTH} characters.", "invalid")
        ]
    versions = checkpoint.get("channel_versions")
    if not isinstance(versions, dict):
        errors["channel_versions"] = [
            FieldError("Required: an object of channel names to versions.", "invalid")
        ]
    else:
        wrong = sorted(name for name, version in versions.items() if not _is_version(version))
        if wrong:
            errors["channel_versions"] = [
                FieldError(
                    f"A version is a string of at most {ID_MAX_LENGTH} characters or a number; "
                    f"not so for: {', '.join(wrong)[:200]}.",
                    "invalid",
                )
            ]
    return errors


def _is_version(version: Any) -> bool:
    if isinstance(version, str):
        return len(version) <= ID_MAX_LENGTH
    return isinstance(version, int | float) and not isinstance(version, bool)


def _json(value: Any) -> str:
    return dumps(value).decode()


INSERT_BLOBS_SQL = """
INSERT INTO checkpoint_blobs (thread_id, checkpoint_ns, channel, version, type, blob)
SELECT %s, %s, b.channel, b.version::jsonb #>> '{}', b.type, b.blob
FROM unnest(%s::text[], %s::text[], %s::text[], %s::bytea[]) AS b(channel, version, type, blob)
ON CONFLICT (thread_id, checkpoint_ns, channel, version) DO NOTHING
"""

# (xmax = 0): the row was inserted by this statement, not updated.
UPSERT_CHECKPOINT_SQL = """
INSERT INTO checkpoints
    (thread_id, checkpoint_ns, checkpoint_id, parent_checkpoint_id, checkpoint, metadata)
VALUES (%s, %s, %s, %s, %s::jsonb, %s::jsonb)
ON CONFLICT (thread_id, checkpoint_ns, checkpoint_id)
DO UPDATE SET checkpoint = EXCLUDED.checkpoint, metadata = EXCLUDED.metadata
RETURNING (xmax = 0)
"""


# A put to a thread the caller already owns, the common case, in one statement (one round trip,
# its own transaction in autocommit): lock the thread's row FOR SHARE if ``owner_id`` owns it,
# then insert the blobs and upsert the checkpoint, both only if it was found. No row back: the
# thread is missing or another's, and ``checkpoint_put`` takes the claiming path instead.
# The thread's row, locked FOR SHARE, if (thread_id, owner_id) names a thread that owner owns.
OWNED_THREAD_CTE = """
WITH owned AS (
    SELECT thread_id FROM checkpoint_threads
    WHERE thread_id = %s::varchar AND owner_id = %s::uuid
    FOR SHARE
)"""
PUT_OWNED_SQL = (
    OWNED_THREAD_CTE  # noqa: S608 (constant text, no input)
    + """, blobs AS (
    INSERT INTO checkpoint_blobs (thread_id, checkpoint_ns, channel, version, type, blob)
    SELECT owned.thread_id, %s::varchar, b.channel, b.version::jsonb #>> '{}', b.type, b.blob
    FROM owned,
        unnest(%s::text[], %s::text[], %s::text[], %s::bytea[]) AS b(channel, version, type, blob)
    ON CONFLICT (thread_id, checkpoint_ns, channel, version) DO NOTHING
), saved AS (
    INSERT INTO checkpoints
        (thread_id, checkpoint_ns, checkpoint_id, parent_checkpoint_id, checkpoint, metadata)
    SELECT owned.thread_id, %s::varchar, %s, %s, %s::jsonb, %s::jsonb FROM owned
    ON CONFLICT (thread_id, checkpoint_ns, checkpoint_id)
    DO UPDATE SET checkpoint = EXCLUDED.checkpoint, metadata = EXCLUDED.metadata
    RETURNING (xmax = 0) AS created
)
SELECT created FROM saved
"""
)


def checkpoint_put(
    *,
    thread_id: str,
    by: User,
    checkpoint: dict[str, Any],
    metadata: dict[str, Any],
    checkpoint_ns: str = "",
    parent_checkpoint_id: str | None = None,
    blobs: Sequence[BlobInput] = (),
) -> bool:
    """Store a checkpoint (the dict without ``channel_values``) and its new channel values.

    Blobs are inserted once per (channel, version): a blob already stored is kept. The
    checkpoint row is the official saver's upsert: stored again under the same id, its
    ``checkpoint`` and ``metadata`` are replaced, so a retried put is one row. Returns whether
    the row is new. Raises ``InvalidInput`` for a malformed checkpoint dict, ``ThreadNotFound``
    or ``NotPermitted`` for a thread that is not ``by``'s.

    One transaction. A put to a thread ``by`` owns is one statement (``PUT_OWNED_SQL``), which
    inside a caller's transaction takes no savepoint. A thread to create, or someone else's,
    takes ``_claim``'s path, in a savepoint inside a caller's transaction: a refusal leaves the
    caller's transaction usable.
    """
    errors = checkpoint_errors(checkpoint)
    if errors:
        raise InvalidInput({"checkpoint": errors})
    checkpoint_json, metadata_json = _json(checkpoint), _json(metadata)
    blob_columns: list[list[Any]] = [
        [blob.channel for blob in blobs],
        [_json(blob.version) for blob in blobs],
        [blob.type for blob in blobs],
        [blob.data for blob in blobs],
    ]

    def put_owned(cursor: CursorWrapper) -> Any:
        cursor.execute(
            PUT_OWNED_SQL,
            [
                thread_id,
                by.pk,
                checkpoint_ns,
                *blob_columns,
                checkpoint_ns,
                checkpoint["id"],
                parent_checkpoint_id,
                checkpoint_json,
                metadata_json,
            ],
        )
        return cursor.fetchone()

    # An upsert: safe to run again on a new connection (run_checked_by_use).
    row = run_checked_by_use(put_owned)
    if row is not None:
        return bool(row[0])
    with transaction.atomic(), prepared_cursor() as cursor:
        _claim(cursor, thread_id=thread_id, by=by, mode="SHARE")
        # The blobs and the checkpoint in one round trip.
        with pipeline(), prepared_cursor() as blobs_cursor:
            if blobs:
                blobs_cursor.execute(INSERT_BLOBS_SQL, [thread_id, checkpoint_ns, *blob_columns])
            cursor.execute(
                UPSERT_CHECKPOINT_SQL,
                [
                    thread_id,
                    checkpoint_ns,
                    checkpoint["id"],
                    parent_checkpoint_id,
                    checkpoint_json,
                    metadata_json,
                ],
            )
            (created,) = cursor.fetchone()
    return bool(created)


WRITES_SQL = """
INSERT INTO checkpoint_writes
    (thread_id, checkpoint_ns, checkpoint_id, task_id, task_path, idx, channel, type, blob)
SELECT %s, %s, %s, %s, %s, w.idx, w.channel, w.type, w.blob
FROM unnest(%s::integer[], %s::text[], %s::text[], %s::bytea[]) AS w(idx, channel, type, blob)
ON CONFLICT (thread_id, checkpoint_ns, checkpoint_id, task_id, idx)
"""
# A write already stored is kept, or (special channels) replaced.
ON_CONFLICT_KEEP = "DO NOTHING"
ON_CONFLICT_REPLACE = (
    "DO UPDATE SET channel = EXCLUDED.channel, type = EXCLUDED.type, blob = EXCLUDED.blob"
)
INSERT_WRITES_SQL = WRITES_SQL + ON_CONFLICT_KEEP
UPSERT_WRITES_SQL = WRITES_SQL + ON_CONFLICT_REPLACE


def writes_errors(writes: Sequence[WriteInput]) -> dict[str, dict[str, list[FieldError]]]:
    """Writes of one call that repeat an ``idx``, by position (each idx is one row)."""
    seen: set[int] = set()
    errors: dict[str, dict[str, list[FieldError]]] = {}
    for position, write in enumerate(writes):
        if write.idx in seen:
            errors[str(position)] = {
                "idx": [FieldError(f"idx {write.idx} is given twice in this call.", "duplicate")]
            }
        seen.add(write.idx)
    return errors


# put_writes to a thread the caller owns in one statement, as PUT_OWNED_SQL does for put: the
# writes are inserted only if the thread's row was found and locked; the count says whether.
WRITES_OWNED_SQL = (
    OWNED_THREAD_CTE  # noqa: S608 (constant text, no input)
    + """, written AS (
    INSERT INTO checkpoint_writes
        (thread_id, checkpoint_ns, checkpoint_id, task_id, task_path, idx, channel, type, blob)
    SELECT owned.thread_id, %s, %s, %s, %s, w.idx, w.channel, w.type, w.blob
    FROM owned,
        unnest(%s::integer[], %s::text[], %s::text[], %s::bytea[]) AS w(idx, channel, type, blob)
    ON CONFLICT (thread_id, checkpoint_ns, checkpoint_id, task_id, idx)
    {on_conflict}
)
SELECT count(*) FROM owned
"""
)
INSERT_WRITES_OWNED_SQL = WRITES_OWNED_SQL.format(on_conflict=ON_CONFLICT_KEEP)
UPSERT_WRITES_OWNED_SQL = WRITES_OWNED_SQL.format(on_conflict=ON_CONFLICT_REPLACE)


def checkpoint_writes_put(
    *,
    thread_id: str,
    by: User,
    checkpoint_id: str,
    task_id: str,
    writes: Sequence[WriteInput],
    checkpoint_ns: str = "",
    task_path: str = "",
) -> int:
    """Store a task's pending writes for a checkpoint (which need not be saved yet: LangGraph
    saves writes in the background). When every write is to a special channel (``idx < 0``,
    e.g. an error or an interrupt) they replace what is stored under the same (task, idx);
    otherwise a write already stored is kept, as the official saver does. Returns how many
    writes the call carried. Raises ``InvalidInput`` for an ``idx`` given twice.

    One transaction, as ``checkpoint_put``: one statement for a thread ``by`` owns, else
    ``_claim``'s path (in a savepoint inside a caller's transaction)."""
    errors = writes_errors(writes)
    if errors:
        raise InvalidInput({"writes": errors})
    if not writes:
        return 0
    upsert = all(write.idx < 0 for write in writes)
    write_columns: list[list[Any]] = [
        [write.idx for write in writes],
        [write.channel for write in writes],
        [write.type for write in writes],
        [write.data for write in writes],
    ]
    keys = [checkpoint_ns, checkpoint_id, task_id, task_path]

    def put_owned(cursor: CursorWrapper) -> Any:
        sql = UPSERT_WRITES_OWNED_SQL if upsert else INSERT_WRITES_OWNED_SQL
        cursor.execute(sql, [thread_id, by.pk, *keys, *write_columns])
        return cursor.fetchone()[0]

    # Upserts and inserts-if-missing: safe to run again on a new connection.
    if run_checked_by_use(put_owned):
        return len(writes)
    with transaction.atomic(), prepared_cursor() as cursor:
        _claim(cursor, thread_id=thread_id, by=by, mode="SHARE")
        cursor.execute(
            UPSERT_WRITES_SQL if upsert else INSERT_WRITES_SQL,
            [thread_id, *keys, *write_columns],
        )
    return len(writes)


# --- delete and copy a thread ----------------------------------------------------------------


@transaction.atomic
def checkpoint_thread_delete(*, thread_id: str, by: User) -> None:
    """Delete a thread with all its checkpoints, blobs and writes (the database's cascade)."""
    with connection.cursor() as cursor:
        _lock_own(cursor, thread_id=thread_id, by=by)
        cursor.execute("DELETE FROM checkpoint_threads WHERE thread_id = %s", [thread_id])


COPY_SQL = (
    """
INSERT INTO checkpoints
    (thread_id, checkpoint_ns, checkpoint_id, parent_checkpoint_id, checkpoint, metadata)
SELECT %(target)s, checkpoint_ns, checkpoint_id, parent_checkpoint_id, checkpoint, metadata
FROM checkpoints WHERE thread_id = %(source)s
ON CONFLICT (thread_id, checkpoint_ns, checkpoint_id) DO NOTHING
""",
    # Writes and blobs after the checkpoints: a checkpoint's blobs were committed with it, so
    # every blob a copied checkpoint names is copied.
    """
INSERT INTO checkpoint_writes
    (thread_id, checkpoint_ns, checkpoint_id, task_id, task_path, idx, channel, type, blob)
SELECT %(target)s, checkpoint_ns, checkpoint_id, task_id, task_path, idx, channel, type, blob
FROM checkpoint_writes WHERE thread_id = %(source)s
ON CONFLICT (thread_id, checkpoint_ns, checkpoint_id, task_id, idx) DO NOTHING
""",
    """
INSERT INTO checkpoint_blobs (thread_id, checkpoint_ns, channel, version, type, blob)
SELECT %(target)s, checkpoint_ns, channel, version, type, blob
FROM checkpoint_blobs WHERE thread_id = %(source)s
ON CONFLICT (thread_id, checkpoint_ns, channel, version) DO NOTHING
""",
)


@transaction.atomic
def checkpoint_thread_copy(*, source_thread_id: str, target_thread_id: str, by: User) -> int:
    """Copy every checkpoint, write and blob of a thread (every namespace) into another, which
    is created for ``by`` if nobody has it; rows the target already has are kept. ``by`` must
    see the source (its owner, or an operator) and own the target. Returns how many checkpoints
    were copied (not counting those the target already had)."""
    if source_thread_id == target_thread_id:
        raise InvalidInput(
            {"target_thread_id": [FieldError("Copy to another thread.", "same_thread")]}
        )
    with connection.cursor() as cursor:
        for thread_id in sorted((source_thread_id, target_thread_id)):
            if thread_id == target_thread_id:
                _claim(cursor, thread_id=thread_id, by=by, mode="UPDATE")
            else:
                exists, owner_id = _lock(cursor, thread_id, "SHARE")
                if not exists or (owner_id != by.pk and not by.is_staff):
                    raise ThreadNotFound()
        params = {"source": source_thread_id, "target": target_thread_id}
        copied = 0
        for number, sql in enumerate(COPY_SQL):
            cursor.execute(sql, params)
            if number == 0:
                copied = cursor.rowcount
    return copied


# --- delete for runs and prune ---------------------------------------------------------------

# Every blob of the touched (thread, namespace) pairs that no remaining checkpoint names.
COLLECT_BLOBS_SQL = """
WITH touched AS (
    SELECT * FROM unnest(%s::text[], %s::text[]) AS t(thread_id, checkpoint_ns)
),
referenced AS (
    SELECT c.thread_id, c.checkpoint_ns, v.key AS channel, v.value AS version
    FROM touched t
    JOIN checkpoints c ON c.thread_id = t.thread_id AND c.checkpoint_ns = t.checkpoint_ns
    CROSS JOIN LATERAL jsonb_each_text(
        CASE WHEN jsonb_typeof(c.checkpoint -> 'channel_versions') = 'object'
             THEN c.checkpoint -> 'channel_versions' ELSE '{}'::jsonb END
    ) AS v
)
DELETE FROM checkpoint_blobs b USING touched t
WHERE b.thread_id = t.thread_id AND b.checkpoint_ns = t.checkpoint_ns
AND NOT EXISTS (
    SELECT 1 FROM referenced r
    WHERE r.thread_id = b.thread_id AND r.checkpoint_ns = b.checkpoint_ns
    AND r.channel = b.channel AND r.version = b.version
)
"""


def _collect_blobs(cursor: CursorWrapper, touched: Sequence[tuple[str, str]]) -> None:
    """Delete the blobs nothing names any more in the touched (thread, namespace) pairs. The
    caller holds those threads ``FOR UPDATE``."""
    if touched:
        cursor.execute(
            COLLECT_BLOBS_SQL, [[thread for thread, _ in touched], [ns for _, ns in touched]]
        )


RUN_THREADS_SQL = """
SELECT DISTINCT c.thread_id
FROM checkpoints c JOIN checkpoint_threads t ON t.thread_id = c.thread_id
WHERE t.owner_id = %s AND c.metadata ? 'run_id' AND c.metadata ->> 'run_id' = ANY(%s)
"""

# The checkpoints of the runs in the locked threads, and their writes; per namespace, how many.
DELETE_RUNS_SQL = """
WITH deleted AS (
    DELETE FROM checkpoints
    WHERE thread_id = ANY(%s) AND metadata ? 'run_id' AND metadata ->> 'run_id' = ANY(%s)
    RETURNING thread_id, checkpoint_ns, checkpoint_id
),
writes AS (
    DELETE FROM checkpoint_writes w USING deleted d
    WHERE w.thread_id = d.thread_id AND w.checkpoint_ns = d.checkpoint_ns
    AND w.checkpoint_id = d.checkpoint_id
)
SELECT thread_id, checkpoint_ns, count(*) FROM deleted GROUP BY thread_id, checkpoint_ns
"""


@transaction.atomic
def checkpoints_delete_for_runs(*, run_ids: Sequence[str], by: User) -> int:
    """Delete ``by``'s checkpoints whose ``metadata.run_id`` is one of ``run_ids``, with their
    writes, then the blobs no remaining checkpoint of their thread namespace names. Other users'
    threads are not touched, whoever the caller is. Returns how many checkpoints went."""
    run_ids = sorted(set(run_ids))
    if not run_ids:
        return 0
    with connection.cursor() as cursor:
        cursor.execute(RUN_THREADS_SQL, [by.pk, run_ids])
        threads = _lock_own_threads(cursor, thread_ids=[r[0] for r in cursor.fetchall()], by=by)
        if not threads:
            return 0
        cursor.execute(DELETE_RUNS_SQL, [threads, run_ids])
        counts = cursor.fetchall()
        _collect_blobs(cursor, [(thread, ns) for thread, ns, _ in counts])
    return sum(count for _, _, count in counts)


DELTA_THREADS_SQL = """
SELECT DISTINCT thread_id FROM checkpoints
WHERE thread_id = ANY(%s) AND metadata ?| %s
ORDER BY thread_id
"""

# The namespaces of finished subgraph calls, as the official saver's keep_latest finds them: a
# call's namespace has its task id after a ":" (a ``checkpointer=True`` subgraph's has none and
# outlives each call); it goes with the root checkpoint the call started from (its latest
# checkpoint's ``metadata.parents[""]``), once that one is saved and is not the root's latest.
SUBGRAPH_CALLS_SQL = """
WITH heads AS (
    SELECT DISTINCT ON (thread_id, checkpoint_ns)
        thread_id, checkpoint_ns, checkpoint_id, metadata -> 'parents' ->> '' AS root
    FROM checkpoints WHERE thread_id = ANY(%s)
    ORDER BY thread_id, checkpoint_ns, checkpoint_id DESC
)
SELECT h.thread_id, h.checkpoint_ns FROM heads h
WHERE strpos(h.checkpoint_ns, ':') > 0
AND EXISTS (
    SELECT 1 FROM checkpoints r
    WHERE r.thread_id = h.thread_id AND r.checkpoint_ns = '' AND r.checkpoint_id = h.root
)
AND h.root IS DISTINCT FROM (
    SELECT r.checkpoint_id FROM heads r WHERE r.thread_id = h.thread_id AND r.checkpoint_ns = ''
)
ORDER BY h.thread_id, h.checkpoint_ns
"""

# Whole (thread, namespace) pairs: their checkpoints, writes and blobs; how many checkpoints.
DELETE_NAMESPACES_SQL = """
WITH gone AS (
    SELECT * FROM unnest(%s::text[], %s::text[]) AS g(thread_id, checkpoint_ns)
),
deleted AS (
    DELETE FROM checkpoints c USING gone g
    WHERE c.thread_id = g.thread_id AND c.checkpoint_ns = g.checkpoint_ns
    RETURNING c.checkpoint_id
),
writes AS (
    DELETE FROM checkpoint_writes w USING gone g
    WHERE w.thread_id = g.thread_id AND w.checkpoint_ns = g.checkpoint_ns
),
blobs AS (
    DELETE FROM checkpoint_blobs b USING gone g
    WHERE b.thread_id = g.thread_id AND b.checkpoint_ns = g.checkpoint_ns
)
SELECT count(*) FROM deleted
"""

# Per namespace the newest checkpoint stays; the others go with their writes, and the kept
# one's parent, deleted, is no longer named (as the official saver's PRUNE_PARENTS_SQL does).
KEEP_LATEST_SQL = """
WITH heads AS (
    SELECT thread_id, checkpoint_ns, max(checkpoint_id) AS head
    FROM checkpoints WHERE thread_id = ANY(%s)
    GROUP BY thread_id, checkpoint_ns
),
deleted AS (
    DELETE FROM checkpoints c USING heads h
    WHERE c.thread_id = h.thread_id AND c.checkpoint_ns = h.checkpoint_ns
    AND c.checkpoint_id < h.head
    RETURNING c.thread_id, c.checkpoint_ns, c.checkpoint_id
),
writes AS (
    DELETE FROM checkpoint_writes w USING deleted d
    WHERE w.thread_id = d.thread_id AND w.checkpoint_ns = d.checkpoint_ns
    AND w.checkpoint_id = d.checkpoint_id
),
parents AS (
    UPDATE checkpoints c SET parent_checkpoint_id = NULL
    FROM heads h
    WHERE c.thread_id = h.thread_id AND c.checkpoint_ns = h.checkpoint_ns
    AND c.checkpoint_id = h.head AND c.parent_checkpoint_id IS NOT NULL
    AND EXISTS (
        SELECT 1 FROM deleted d
        WHERE d.thread_id = c.thread_id AND d.checkpoint_ns = c.checkpoint_ns
        AND d.checkpoint_id = c.parent_checkpoint_id
    )
)
SELECT thread_id, checkpoint_ns, count(*) FROM deleted GROUP BY thread_id, checkpoint_ns
"""


@transaction.atomic
def checkpoint_threads_prune(
    *, thread_ids: Sequence[str], strategy: PruneStrategy, by: User
) -> tuple[int, int]:
    """Prune ``by``'s threads among ``thread_ids`` (the others are skipped as if missing).

    ``keep_latest``, as the official saver's: per namespace, keep the newest checkpoint; delete
    the others, their writes and the blobs no kept checkpoint names. A finished subgraph call's
    namespace (``node:task-id``) goes whole with the root checkpoint it started from, once that
    one is saved and is not the root's newest. A thread whose checkpoints carry DeltaChannel
    metadata cannot be pruned so (its values are rebuilt from earlier checkpoints' writes):
    ``PruneUnsupported``, and nothing is pruned. ``delete``: delete the threads whole.
    Returns (threads pruned, checkpoints deleted).
    """
    if strategy not in PRUNE_STRATEGIES:
        raise InvalidInput(
            {"strategy": [FieldError(f"One of: {', '.join(PRUNE_STRATEGIES)}.", "invalid_choice")]}
        )
    with connection.cursor() as cursor:
        threads = _lock_own_threads(cursor, thread_ids=thread_ids, by=by)
        if not threads:
            return 0, 0
        if strategy == "delete":
            cursor.execute("SELECT count(*) FROM checkpoints WHERE thread_id = ANY(%s)", [threads])
            (deleted,) = cursor.fetchone()
            cursor.execute("DELETE FROM checkpoint_threads WHERE thread_id = ANY(%s)", [threads])
            return len(threads), deleted
        cursor.execute(DELTA_THREADS_SQL, [threads, list(DELTA_METADATA_KEYS)])
        delta = [row[0] for row in cursor.fetchall()]
        if delta:
            raise PruneUnsupported(thread_ids=delta)
        cursor.execute(SUBGRAPH_CALLS_SQL, [threads])
        calls = cursor.fetchall()
        calls_deleted = 0
        if calls:
            cursor.execute(
                DELETE_NAMESPACES_SQL, [[thread for thread, _ in calls], [ns for _, ns in calls]]
            )
            (calls_deleted,) = cursor.fetchone()
        cursor.execute(KEEP_LATEST_SQL, [threads])
        counts = cursor.fetchall()
        _collect_blobs(cursor, [(thread, ns) for thread, ns, _ in counts])
    return len(threads), calls_deleted + sum(count for _, _, count in counts)
