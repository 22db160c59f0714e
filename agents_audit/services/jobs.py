"""The job queue (seed 003 ``jobs``): enqueue, claim under a lease, heartbeat, complete, fail,
recover expired leases, prune finished jobs, and the operators' cancel, retry and pause.

Life of a job::

    queued --claim--> running --complete--> succeeded
       ^                 |  \\--fail (retryable, retries left)--> failed --(run_after)--> claim
       |                 |   \\-fail (not retryable / no retries left)--> dead
       |                 \\--lease expired, recovered--> failed (runs again now) | dead
       \\--operator retry-- dead | cancelled | failed          operator cancel: -> cancelled

Rules every function here keeps:

- **One short transaction per call**, and every write happens inside the caller's transaction
  when there is one (``transaction.atomic``, not durable): an enqueue rolled back with its
  caller's transaction leaves no job. ``jobs_prune`` alone runs its batches as transactions of
  their own (``durable=True``), so it never holds one long transaction.
- **Claims** pick one runnable job (``queued`` or ``failed``, ``run_after <= now()``, of the
  worker's types, not paused), highest ``priority`` first, then oldest ``run_after``, then
  lowest ``id``, with ``SELECT ... FOR UPDATE SKIP LOCKED LIMIT 1`` over ``jobs_runnable_idx``:
  concurrent claims never wait for each other nor take the same job.
- **Fencing**: a claim gives the job a fresh ``lease_token``. Heartbeat, complete and fail lock
  the row and act only if the job is still ``running`` under that token; otherwise they raise
  ``LeaseLost`` and change nothing. A worker whose lease expired may still complete or fail the
  job as long as nobody recovered it (its token still matches, and nobody else holds the job:
  River and Oban accept such a late result too); once recovered, its token is gone.
- **Retries**: ``max_retries`` counts retries, not runs: a job runs at most ``1 + max_retries``
  times, so ``attempts`` (claims, including those whose lease expired) reaches at most
  ``max_retries + 1``. A failure with ``attempts <= max_retries`` (and ``retryable``) waits for
  its backoff (``retry_delay``); any other failure makes the job ``dead``.
- **Recovery**: a ``running`` job whose lease expired (its worker died or hung) goes back to
  ``failed`` runnable at once (its attempt already counted: a job that keeps killing its worker
  still dies after ``max_retries`` retries), or ``dead`` when its attempts are used up. Every
  claim first recovers a bounded batch (``CLAIM_RECOVERY_BATCH``) with SKIP LOCKED, so no
  separate reaper is needed and concurrent claims do not contend; ``manage.py queue_recover``
  does the same on demand.
- **Time** is the database's ``now()``, the start of the current transaction: a claim, a
  lease and a backoff are measured from it. Call each claim in a transaction of its own (a
  long-poll loop must not wrap its claims in one transaction, or it never sees time pass).
- **Events**: every status change writes exactly one ``Event`` (``agents_audit.events``) in
  its transaction. A heartbeat is not a status change and writes none.

Locks: each call locks the rows it changes and no other row (enqueue also takes a FOR SHARE
lock on the task, so the task cannot end while a job is being added to it). A call that waits
for a lock waits for one job row; the statements that lock many (claim, recovery, prune) skip
locked rows instead of waiting, so there is no lock order to keep and no deadlock to have.
"""

from __future__ import annotations

import functools
import random
import re
import uuid
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any, Protocol

import psycopg
from django.db import IntegrityError, connection, transaction

from agents_audit import events
from agents_audit.errors import DuplicateJob, LeaseLost, TaskNotRunnable
from agents_audit.events import NO_TRACE, Trace
from agents_audit.models import Job, JobTypePause, Task
from agents_audit.models.jobs import FINISHED_STATES, LIVE_STATES, RUNNABLE_STATES
from commerce.models import User
from devskyy.db import prepared_connection, prepared_statements_enabled
from devskyy.errors import FieldError, InvalidInput, InvalidTransition, NotPermitted
from devskyy.models import DatabaseNow

S = Job.Status

# Job types: lowercase letters, digits and ``_ . : -`` (``task.execute``, ``deploy:web``), so a
# type is safe in a URL, a log line and a NOTIFY channel payload.
JOB_TYPE_RE = re.compile(r"[a-z0-9_.:-]+")
JOB_TYPE_MAX_LENGTH = 100
DEDUPE_KEY_MAX_LENGTH = 255
WORKER_ID_MAX_LENGTH = 255
PRIORITY_MIN, PRIORITY_MAX = -32768, 32767  # smallint
MAX_RETRIES_MAX = 100
BACKOFF_SECONDS_MAX = 86400
BACKOFF_CAP_SECONDS = 3600
LEASE_SECONDS_MAX = 3600
CLAIM_JOB_TYPES_MAX = 20
# How many expired leases a claim recovers before claiming (the rest: the next claims).
CLAIM_RECOVERY_BATCH = 100
LIVE = tuple(str(s) for s in LIVE_STATES)
RUNNABLE = tuple(str(s) for s in RUNNABLE_STATES)
FINISHED = tuple(str(s) for s in FINISHED_STATES)


class RandomSource(Protocol):
    def random(self) -> float: ...


_random: RandomSource = random.Random()  # noqa: S311 (jitter, not a secret)


# --- validation --------------------------------------------------------------------------------


def _add(errors: dict[str, list[FieldError]], name: str, message: str, code: str) -> None:
    errors.setdefault(name, []).append(FieldError(message, code))


def _check_int(
    errors: dict[str, list[FieldError]], name: str, value: Any, low: int, high: int
) -> None:
    if not isinstance(value, int) or isinstance(value, bool):
        _add(errors, name, "A whole number is required.", "invalid")
    elif value < low:
        _add(errors, name, f"Ensure this value is greater than or equal to {low}.", "min_value")
    elif value > high:
        _add(errors, name, f"Ensure this value is less than or equal to {high}.", "max_value")


def _check_job_type(errors: dict[str, list[FieldError]], name: str, value: Any) -> None:
    if not isinstance(value, str) or not value.strip():
        _add(errors, name, "This field may not be blank.", "blank")
    elif len(value) > JOB_TYPE_MAX_LENGTH:
        _add(
            errors,
            name,
            f"Ensure this field has no more than {JOB_TYPE_MAX_LENGTH} characters.",
            "max_length",
        )
    elif not JOB_TYPE_RE.fullmatch(value):
        _add(
            errors,
            name,
            "Use lowercase letters, digits and _ . : - only.",
            "invalid",
        )


def _raise_if(errors: dict[str, list[FieldError]]) -> None:
    if errors:
        raise InvalidInput(errors)


def _validate_job_types(job_types: Any) -> list[str]:
    errors: dict[str, list[FieldError]] = {}
    if isinstance(job_types, str) or not isinstance(job_types, Sequence):
        _add(errors, "job_types", "A list of job types is required.", "not_a_list")
    elif not job_types:
        _add(errors, "job_types", "Name at least one job type.", "empty")
    elif len(job_types) > CLAIM_JOB_TYPES_MAX:
        _add(
            errors,
            "job_types",
            f"Name at most {CLAIM_JOB_TYPES_MAX} job types.",
            "max_length",
        )
    else:
        for value in job_types:
            _check_job_type(errors, "job_types", value)
    _raise_if(errors)
    return list(dict.fromkeys(job_types))


def _validate_lease_seconds(errors: dict[str, list[FieldError]], lease_seconds: Any) -> None:
    _check_int(errors, "lease_seconds", lease_seconds, 1, LEASE_SECONDS_MAX)


def _lease_uuid(lease_token: Any) -> uuid.UUID:
    if isinstance(lease_token, uuid.UUID):
        return lease_token
    try:
        return uuid.UUID(str(lease_token))
    except ValueError:
        raise InvalidInput(
            {"lease_token": [FieldError("Must be a valid UUID.", "invalid")]}
        ) from None


def _require_staff(user: User | None, doing: str) -> User:
    if user is None or user.role not in User.STAFF_ROLES:
        raise NotPermitted(f"Only operators {doing}.")
    return user


# --- enqueue -----------------------------------------------------------------------------------


DEDUPE_CONSTRAINT = "jobs_live_task_dedupe_key_uniq"


def _live_with_key(task_id: Any, job_type: str, dedupe_key: str) -> Job | None:
    return Job.objects.filter(
        task_id=task_id, job_type=job_type, dedupe_key=dedupe_key, status__in=LIVE
    ).first()


def _is_dedupe_violation(exc: IntegrityError) -> bool:
    name = getattr(getattr(exc.__cause__, "diag", None), "constraint_name", None)
    return name == DEDUPE_CONSTRAINT


@transaction.atomic
def job_enqueue(
    *,
    task: Task,
    job_type: str,
    payload: dict[str, Any] | None = None,
    priority: int = 0,
    max_retries: int = 3,
    dedupe_key: str = "",
    run_after: datetime | None = None,
    retry_backoff_seconds: int | None = None,
    by: User | None,
    trace: Trace = NO_TRACE,
) -> tuple[Job, bool]:
    """Add a job to ``task`` (approved or executing, else ``TaskNotRunnable``); returns
    ``(job, created)``.

    ``job_type``: 1 to 100 of ``[a-z0-9_.:-]``. ``priority``: a smallint, higher runs first.
    ``max_retries``: 0 to 100 retries after the first run. ``run_after``: not before this time
    (default: now). ``retry_backoff_seconds``: the backoff's base, 1 s to 1 day (default: the
    column's, 10 s). ``payload``: a JSON object. Bad values raise ``InvalidInput`` by field.

    ``dedupe_key`` (blank: none): while a live (queued, running or failed) job of this type holds
    the same key for the same task, that job is returned with ``created=False`` and nothing is
    written. Keys are per task: another task's job never answers (its payload is not the
    caller's to read) nor blocks the enqueue. The partial unique index ``DEDUPE_CONSTRAINT`` is
    the guarantee:
    of concurrent enqueues with one key, one inserts, the others wait for its commit and then
    return its job.

    Runs in the caller's transaction: the job exists (and is claimable) exactly when that
    transaction commits. Writes ``job_enqueued``.
    """
    errors: dict[str, list[FieldError]] = {}
    _check_job_type(errors, "job_type", job_type)
    if payload is not None and not isinstance(payload, dict):
        _add(errors, "payload", "A JSON object is required.", "not_an_object")
    _check_int(errors, "priority", priority, PRIORITY_MIN, PRIORITY_MAX)
    _check_int(errors, "max_retries", max_retries, 0, MAX_RETRIES_MAX)
    if retry_backoff_seconds is not None:
        _check_int(errors, "retry_backoff_seconds", retry_backoff_seconds, 1, BACKOFF_SECONDS_MAX)
    if not isinstance(dedupe_key, str):
        _add(errors, "dedupe_key", "A string is required.", "invalid")
    elif len(dedupe_key) > DEDUPE_KEY_MAX_LENGTH:
        _add(
            errors,
            "dedupe_key",
            f"Ensure this field has no more than {DEDUPE_KEY_MAX_LENGTH} characters.",
            "max_length",
        )
    if run_after is not None and (not isinstance(run_after, datetime) or run_after.tzinfo is None):
        _add(errors, "run_after", "An aware date-time is required.", "invalid")
    _raise_if(errors)

    # FOR SHARE: the task cannot move (complete, fail) until this transaction ends, and
    # concurrent enqueues do not wait for each other. Raw SQL: the ORM has no FOR SHARE.
    with connection.cursor() as cursor:
        cursor.execute("SELECT status FROM tasks WHERE id = %s FOR SHARE", [task.pk])
        row = cursor.fetchone()
    if row is None:
        raise Task.DoesNotExist(f"No task {task.pk}.")
    if row[0] not in (Task.Status.APPROVED, Task.Status.EXECUTING):
        raise TaskNotRunnable()

    values: dict[str, Any] = {
        "task_id": task.pk,
        "job_type": job_type,
        "payload": dict(payload or {}),
        "priority": priority,
        "max_retries": max_retries,
        "dedupe_key": dedupe_key,
    }
    if run_after is not None:
        values["run_after"] = run_after
    if retry_backoff_seconds is not None:
        values["retry_backoff_seconds"] = retry_backoff_seconds
    for _ in range(3):
        if dedupe_key:
            existing = _live_with_key(task.pk, job_type, dedupe_key)
            if existing is not None:
                return existing, False
        try:
            with transaction.atomic():  # a savepoint: a lost race leaves the caller usable
                job = Job.objects.create(**values)
        except IntegrityError as exc:
            if not _is_dedupe_violation(exc):
                raise
            # Another transaction inserted the key first; the index made us wait for its
            # commit, so its job is visible to the next statement (READ COMMITTED).
            continue
        job.refresh_from_db()
        events.job_enqueued(job=job, actor=by, trace=trace)
        return job, True
    # The job holding the key ended between our insert and our read, three times over.
    raise DuplicateJob()


# --- claim -------------------------------------------------------------------------------------

# For each of the worker's types that is not paused, the head of that type's queue is read from
# jobs_runnable_idx (job_type, priority DESC, run_after, id): an index scan that stops at the
# first row it can lock (SKIP LOCKED), whatever the backlog. The best of those heads (at most
# 20) is the job. A single ``job_type = ANY(...)`` scan cannot use the index's order across
# types: it read and sorted every due job of the types (116 ms with 200,000 queued, against
# 0.2 ms this way). The heads not taken stay locked until this short transaction ends; a
# concurrent claim skips them meanwhile. ``RETURNING`` gives the whole row (a Job)
# and the status it left.
# The claim's plan must not depend on the table's statistics, which lag behind a queue: right
# after a burst of enqueues they may say the type has no jobs, and a plan made for that reads
# and sorts the whole backlog (measured: 65 ms per claim with 200,000 new jobs, every claim until
# the next ANALYZE) instead of reading the head of the queue from the index (0.2 ms). Sequential
# scans and sorts are priced out for this one statement: SET LOCAL, sent in the same round trip,
# put back to their defaults right after (so the rest of a caller's transaction plans as usual;
# outside a transaction they all run in one implicit transaction). A prepared claim is planned
# under them too, whenever PostgreSQL plans it (its first executions, and after an ANALYZE).
CLAIM_PLAN_SETTINGS = ("SET LOCAL enable_seqscan = off", "SET LOCAL enable_sort = off")
CLAIM_PLAN_RESET = ("SET LOCAL enable_seqscan TO DEFAULT", "SET LOCAL enable_sort TO DEFAULT")
CLAIM_SQL = f"""
WITH types AS (
    SELECT unnest(%(types)s::varchar[]) AS job_type
    EXCEPT SELECT job_type FROM job_type_pauses
), picked AS (
    SELECT head.id, head.status
    FROM types CROSS JOIN LATERAL (
        SELECT id, status, priority, run_after FROM jobs
        WHERE jobs.job_type = types.job_type
          AND status IN {RUNNABLE!r}
          AND run_after <= now()
        ORDER BY priority DESC, run_after, id
        LIMIT 1
        FOR UPDATE SKIP LOCKED
    ) AS head
    ORDER BY head.priority DESC, head.run_after, head.id
    LIMIT 1
)
, claimed AS (
UPDATE jobs SET
    status = 'running',
    worker_id = %(worker_id)s,
    lease_token = gen_random_uuid(),
    lease_expires_at = now() + make_interval(secs => %(lease_seconds)s),
    attempts = jobs.attempts + 1
FROM picked
WHERE jobs.id = picked.id
RETURNING jobs.*, picked.status AS old_status
), claimed_event AS ({events.job_claimed(source="claimed")}
)
SELECT claimed.*, expiry.leases_expired
FROM (
    SELECT EXISTS (
        SELECT FROM jobs WHERE status = 'running' AND lease_expires_at < now()
    ) AS leases_expired
) AS expiry
LEFT JOIN claimed ON true
"""  # noqa: S608 (constants only)


def job_claim(
    *,
    worker_id: str,
    job_types: Sequence[str],
    lease_seconds: int = 60,
    by: User | None = None,
    trace: Trace = NO_TRACE,
) -> Job | None:
    """Claim the next runnable job of ``job_types`` for ``worker_id`` (None: nothing to do).

    Takes one job: ``running``, ``worker_id``, a fresh ``lease_token``, ``lease_expires_at`` =
    now + ``lease_seconds``, one more ``attempts``, and writes ``job_claimed``: one SQL statement
    (so one transaction, whether or not the caller has one open), which also tells whether some
    running job's lease has expired. If so, this claim then recovers up to
    ``CLAIM_RECOVERY_BATCH`` of them (``jobs_recover``, its own transaction) and, if it had found
    nothing, claims again. ``worker_id``: 1 to 255 characters; ``job_types``: 1 to 20 types;
    ``lease_seconds``: 1 to 3600. A pause committed while a claim runs may not stop that claim.
    """
    errors: dict[str, list[FieldError]] = {}
    if not isinstance(worker_id, str) or not worker_id.strip():
        _add(errors, "worker_id", "This field may not be blank.", "blank")
    elif len(worker_id) > WORKER_ID_MAX_LENGTH:
        _add(
            errors,
            "worker_id",
            f"Ensure this field has no more than {WORKER_ID_MAX_LENGTH} characters.",
            "max_length",
        )
    _validate_lease_seconds(errors, lease_seconds)
    _raise_if(errors)
    types = _validate_job_types(job_types)

    params = {
        "types": types,
        "worker_id": worker_id,
        "lease_seconds": lease_seconds,
        **events.sql_trace_params(actor=by, trace=trace),
    }
    job, leases_expired = _claim_once(params)
    if leases_expired:
        # Some worker's lease ran out: put its jobs back now (their own short transaction),
        # then, if nothing was claimed above, claim again (a recovered job may be the one).
        jobs_recover(limit=CLAIM_RECOVERY_BATCH, trace=trace)
        if job is None:
            job, _ = _claim_once(params)
    return job


def _claim_once(params: dict[str, Any]) -> tuple[Job | None, bool]:
    """One claim statement: the claimed job (None: nothing to do) and whether expired leases
    are waiting to be recovered."""
    names, rows = _execute(
        CLAIM_SQL, params, before=CLAIM_PLAN_SETTINGS, after=CLAIM_PLAN_RESET, prepared=True
    )
    (row,) = rows
    leases_expired = bool(row[names.index("leases_expired")])
    if row[names.index("id")] is None:
        return None, leases_expired
    return _job_from_row(names, row), leases_expired


NEXT_RUN_AFTER_SQL = f"""
WITH types AS (
    SELECT unnest(%(types)s::varchar[]) AS job_type
    EXCEPT SELECT job_type FROM job_type_pauses
)
SELECT min(at) FROM (
    SELECT min(run_after) AS at FROM jobs
    WHERE status IN {RUNNABLE!r} AND job_type IN (SELECT job_type FROM types)
    UNION ALL
    SELECT min(lease_expires_at) FROM jobs
    WHERE status = 'running' AND job_type IN (SELECT job_type FROM types)
) AS due
"""  # noqa: S608 (constants only)


def job_next_run_after(*, job_types: Sequence[str]) -> datetime | None:
    """When the next job of ``job_types`` (paused types excluded) becomes claimable without a
    new enqueue: the earliest future ``run_after`` of a runnable job, or the earliest lease
    expiry of a running one (a claim then recovers it). None: nothing scheduled. Jobs due now
    are not considered (a claim takes them)."""
    types = _validate_job_types(job_types)
    with connection.cursor() as cursor:
        cursor.execute(NEXT_RUN_AFTER_SQL, {"types": types})
        row = cursor.fetchone()
    return None if row is None else row[0]


# --- the worker's calls: heartbeat, complete, fail ---------------------------------------------


def _leased(job_id: int, lease_token: Any) -> Job:
    """The job, locked, provided it runs under ``lease_token``; else ``LeaseLost``. An unknown
    id raises ``Job.DoesNotExist``."""
    token = _lease_uuid(lease_token)
    job = Job.objects.select_for_update().get(pk=job_id)
    if job.status != S.RUNNING or job.lease_token != token:
        raise LeaseLost()
    return job


_JOB_FIELDS = tuple(Job._meta.concrete_fields)
_JOB_ATTNAMES = tuple(field.attname for field in _JOB_FIELDS)


@functools.cache
def _row_plan(names: tuple[str, ...]) -> tuple[tuple[int, ...], tuple[Any, ...], tuple[str, ...]]:
    """For a result's column names: where each of the Job's fields is in a row, each field's
    converter (None: the value is used as it comes), and the extra columns' names."""
    positions = tuple(names.index(field.column) for field in _JOB_FIELDS)
    converters = tuple(getattr(field, "from_db_value", None) for field in _JOB_FIELDS)
    fields = {field.column for field in _JOB_FIELDS}
    return positions, converters, tuple(name for name in names if name not in fields)


def _execute(
    sql: str,
    params: dict[str, Any],
    *,
    before: Sequence[str] = (),
    after: Sequence[str] = (),
    prepared: bool = False,
) -> tuple[tuple[str, ...], list[tuple[Any, ...]]]:
    """Run ``sql`` and return its column names and rows, with ``before``/``after`` (statements
    without parameters, e.g. ``SET LOCAL``) in the same round trip.

    ``prepared``: as a server-side prepared statement, unless ``DB_PREPARED_STATEMENTS`` is
    off (``devskyy.db``). Django binds parameters on the client and never prepares; for the
    queue's two hot statements (claim and complete, once per job each) planning cost as much as
    running them.
    psycopg prepares the statement on the connection's first use of it (only cursors that bind
    on the server prepare; Django's own cursors never do), and its pipeline mode sends the
    statements around it in the same round trip (and, outside a transaction, the same implicit
    transaction)."""
    if not (prepared and prepared_statements_enabled()):
        text = "; ".join([*before, sql, *after])
        with connection.cursor() as cursor:
            cursor.execute(text, params)
            while cursor.description is None and cursor.nextset():
                pass  # the results of ``before``
            names = tuple(column.name for column in cursor.description or ())
            return names, cursor.fetchall()
    raw = prepared_connection()
    if not connection.in_atomic_block:
        after = ()  # the implicit transaction ends with the statement, and its SET LOCALs
    with connection.wrap_database_errors, raw.pipeline() as pipeline:
        for statement in before:
            psycopg.Cursor(raw).execute(statement)
        prepared_cursor = psycopg.Cursor(raw)
        prepared_cursor.execute(sql, params, prepare=True)
        for statement in after:
            psycopg.Cursor(raw).execute(statement)
        pipeline.sync()
        names = tuple(column.name for column in prepared_cursor.description or ())
        return names, prepared_cursor.fetchall()


def _job_from_row(names: tuple[str, ...], row: tuple[Any, ...]) -> Job:
    """A Job from a row with every column of ``jobs`` (and maybe more: set as attributes, e.g.
    ``old_status``). This is ``Job.objects.raw()`` without its per-query set-up, which cost more
    than the statements themselves on the queue's hot path (claim and complete run once per
    job)."""
    positions, converters, extra = _row_plan(names)
    values = [
        row[at] if convert is None else convert(row[at], None, connection)
        for at, convert in zip(positions, converters, strict=True)
    ]
    job = Job.from_db(connection.alias, _JOB_ATTNAMES, values)
    for name in extra:
        setattr(job, name, row[names.index(name)])
    return job


def _jobs(sql: str, params: dict[str, Any], *, prepared: bool = False) -> list[Job]:
    names, rows = _execute(sql, params, prepared=prepared)
    return [_job_from_row(names, row) for row in rows]


def _fenced(sql: str, job_id: int, lease_token: Any, params: dict[str, Any]) -> Job:
    """Run ``sql``, an ``UPDATE jobs ... RETURNING *`` whose WHERE clause is the fence (this id,
    running, this token): one statement, which re-checks the fence on the row it locks. No row:
    ``LeaseLost``, or ``Job.DoesNotExist`` for an unknown id."""
    token = _lease_uuid(lease_token)
    rows = _jobs(sql, {**params, "id": job_id, "token": token}, prepared=True)
    if rows:
        return rows[0]
    if not Job.objects.filter(pk=job_id).exists():
        raise Job.DoesNotExist(f"No job {job_id}.")
    raise LeaseLost()


# A heartbeat extends, never shortens: a worker that claimed a 10-minute lease and beats with
# the default 60 s keeps its 10 minutes (else the next claim would recover a job still at work).
HEARTBEAT_SQL = """
UPDATE jobs SET
    lease_expires_at = GREATEST(lease_expires_at, now() + make_interval(secs => %(secs)s))
WHERE id = %(id)s AND status = 'running' AND lease_token = %(token)s
RETURNING *
"""
COMPLETE_SQL = f"""
WITH done AS (
    UPDATE jobs SET
        status = 'succeeded',
        result = %(result)s,
        finished_at = now(),
        lease_token = NULL,
        lease_expires_at = NULL
    WHERE id = %(id)s AND status = 'running' AND lease_token = %(token)s
    RETURNING jobs.*, 'running'::varchar AS old_status
), done_event AS ({events.job_succeeded(source="done")}
)
SELECT * FROM done
"""  # noqa: S608 (the event writer's SQL)


def _update(job: Job, **values: Any) -> Job:
    """Write ``values`` (expressions allowed: the database's now()) to ``job``, locked by the
    caller, and read the row back."""
    Job.objects.filter(pk=job.pk).update(**values)
    job.refresh_from_db()
    return job


def job_heartbeat(*, job_id: int, lease_token: Any, lease_seconds: int = 60) -> Job:
    """Extend the lease of a running job: it expires ``lease_seconds`` (1 to 3600) from now.
    Raises ``LeaseLost`` if the job no longer runs under ``lease_token`` (see the module's
    fencing rule). Writes no event (not a status change). One statement."""
    errors: dict[str, list[FieldError]] = {}
    _validate_lease_seconds(errors, lease_seconds)
    _raise_if(errors)
    return _fenced(HEARTBEAT_SQL, job_id, lease_token, {"secs": lease_seconds})


def job_complete(
    *,
    job_id: int,
    lease_token: Any,
    result: Any = None,
    by: User | None = None,
    trace: Trace = NO_TRACE,
) -> Job:
    """The worker holding the lease finished the job: ``succeeded`` with ``result`` (any JSON
    value; None: none), ``finished_at`` set, the lease cleared (so a repeat, or a late call with
    the same token, raises ``LeaseLost``). Writes ``job_succeeded`` in the same statement."""
    result_param = Job._meta.get_field("result").get_db_prep_save(result, connection)
    return _fenced(
        COMPLETE_SQL,
        job_id,
        lease_token,
        {"result": result_param, **events.sql_trace_params(actor=by, trace=trace)},
    )


def retry_delay(*, attempts: int, base_seconds: int, rng: RandomSource | None = None) -> float:
    """Seconds to wait before the retry that follows failed attempt number ``attempts`` (1 for
    the first run), with exponential growth and "equal jitter"::

        ceiling = min(base_seconds * 2 ** (attempts - 1), max(BACKOFF_CAP_SECONDS, base_seconds))
        delay   = ceiling / 2 + rng.random() * ceiling / 2          # in [ceiling/2, ceiling)

    So with the default base of 10 s: 5-10 s, then 10-20 s, 20-40 s, ... up to 30-60 min. Half
    the delay is fixed (a failing dependency always gets a pause), half is random (workers that
    failed together do not retry together). ``rng``: anything with ``random()`` (default: the
    module's ``random.Random``); tests pass a seeded or fixed one.
    """
    cap = max(BACKOFF_CAP_SECONDS, base_seconds)
    # 2 ** n overflows nothing in Python, but keep the number small before min().
    ceiling = float(min(base_seconds * 2 ** min(max(attempts - 1, 0), 32), cap))
    return ceiling / 2 + (rng or _random).random() * ceiling / 2


@transaction.atomic
def job_fail(
    *,
    job_id: int,
    lease_token: Any,
    error: str,
    retryable: bool = True,
    by: User | None = None,
    trace: Trace = NO_TRACE,
    rng: RandomSource | None = None,
) -> Job:
    """The worker holding the lease reports a failure (``error``: what went wrong, kept as
    ``last_error``).

    ``retryable`` and ``attempts <= max_retries``: ``failed``, to run again at ``run_after`` =
    now + ``retry_delay(attempts, retry_backoff_seconds)``; writes ``job_failed``. Otherwise
    (not retryable, or retries used up): ``dead``, ``finished_at`` set; writes ``job_dead``.
    The lease is cleared either way.
    """
    if not isinstance(error, str):
        raise InvalidInput({"error": [FieldError("A string is required.", "invalid")]})
    job = _leased(job_id, lease_token)
    ended = {"last_error": error, "lease_token": None, "lease_expires_at": None}
    if retryable and job.attempts <= job.max_retries:
        delay = retry_delay(attempts=job.attempts, base_seconds=job.retry_backoff_seconds, rng=rng)
        _update(job, status=S.FAILED, run_after=DatabaseNow() + timedelta(seconds=delay), **ended)
        events.job_failed(job=job, actor=by, error=error, trace=trace)
    else:
        _update(job, status=S.DEAD, finished_at=DatabaseNow(), **ended)
        events.job_dead(
            job=job, actor=by, old_status=S.RUNNING, error=error, retryable=retryable, trace=trace
        )
    return job


# --- recovery and pruning ----------------------------------------------------------------------

# format()ted by PostgreSQL with the worker's id.
LEASE_EXPIRED_ERROR = "Lease expired: worker '%s' stopped renewing it."

RECOVER_SQL = """
WITH expired AS (
    SELECT id, worker_id FROM jobs
    WHERE status = 'running' AND lease_expires_at < COALESCE(%(now)s, now())
    ORDER BY lease_expires_at
    LIMIT %(limit)s
    FOR UPDATE SKIP LOCKED
)
UPDATE jobs SET
    status = CASE WHEN jobs.attempts > jobs.max_retries THEN 'dead' ELSE 'failed' END,
    finished_at = CASE WHEN jobs.attempts > jobs.max_retries THEN now() END,
    run_after = CASE WHEN jobs.attempts > jobs.max_retries THEN jobs.run_after ELSE now() END,
    last_error = format(%(error)s, expired.worker_id),
    lease_token = NULL,
    lease_expires_at = NULL
FROM expired
WHERE jobs.id = expired.id
RETURNING jobs.*
"""


@transaction.atomic
def jobs_recover(*, now: datetime | None = None, limit: int = 1000, trace: Trace = NO_TRACE) -> int:
    """Put back up to ``limit`` running jobs whose lease expired before ``now`` (default: the
    database's now()); returns how many. Their worker died or hung: a job with retries left
    becomes ``failed`` and runnable at once (``job_lease_expired``), one whose attempts are used
    up becomes ``dead`` (``job_dead``). Either way its lease token is cleared, which fences the
    old worker. Jobs locked by a concurrent call are skipped (SKIP LOCKED), never waited for."""
    return _recover_expired(now=now, limit=limit, trace=trace)


def _recover_expired(*, now: datetime | None, limit: int, trace: Trace) -> int:
    """jobs_recover's work, in the caller's transaction (a claim's: no savepoint)."""
    recovered = list(_jobs(RECOVER_SQL, {"now": now, "limit": limit, "error": LEASE_EXPIRED_ERROR}))
    for job in recovered:
        if job.status == S.DEAD:
            events.job_dead(
                job=job,
                actor=None,
                old_status=S.RUNNING,
                error=job.last_error,
                lease_expired=True,
                trace=trace,
            )
        else:
            events.job_lease_expired(job=job, expired_worker_id=job.worker_id, trace=trace)
    return len(recovered)


PRUNE_SQL = f"""
DELETE FROM jobs WHERE id IN (
    SELECT id FROM jobs
    WHERE status IN {FINISHED!r} AND finished_at < %(cutoff)s
    ORDER BY finished_at
    LIMIT %(limit)s
    FOR UPDATE SKIP LOCKED
)
"""  # noqa: S608 (constants only)


def jobs_prune(
    *,
    older_than: timedelta,
    batch_size: int = 1000,
    dry_run: bool = False,
    on_batch: Callable[[int], None] | None = None,
) -> int:
    """Delete finished jobs (succeeded, dead, cancelled) that finished more than ``older_than``
    ago; returns how many (with ``dry_run``: how many would be, deleting nothing).

    ``batch_size`` rows per DELETE, each in a short transaction of its own (durable: never
    inside a caller's long transaction), the oldest first over ``jobs_finished_idx``, until a
    batch comes back short. The cut-off is fixed when the call starts. ``on_batch`` gets each
    batch's count (progress). Events are kept: the trail outlives the job.
    """
    if older_than <= timedelta(0):
        raise InvalidInput({"older_than": [FieldError("Must be a positive duration.", "invalid")]})
    if batch_size < 1:
        raise InvalidInput({"batch_size": [FieldError("Must be at least 1.", "min_value")]})
    with connection.cursor() as cursor:
        cursor.execute("SELECT now() - make_interval(secs => %s)", [older_than.total_seconds()])
        (cutoff,) = cursor.fetchone()
    if dry_run:
        return Job.objects.filter(status__in=FINISHED, finished_at__lt=cutoff).count()
    total = 0
    while True:
        with transaction.atomic(durable=True), connection.cursor() as cursor:
            cursor.execute(PRUNE_SQL, {"cutoff": cutoff, "limit": batch_size})
            deleted = cursor.rowcount
        total += deleted
        if on_batch is not None and deleted:
            on_batch(deleted)
        if deleted < batch_size:
            return total


# --- operators: cancel, retry, pause -----------------------------------------------------------


@transaction.atomic
def job_cancel(*, job: Job, by: User, trace: Trace = NO_TRACE) -> Job:
    """An operator cancels a queued, failed or running job: ``cancelled``, ``finished_at`` set,
    the lease cleared (a running job's worker gets ``LeaseLost`` on its next call). A finished
    job raises ``InvalidTransition``. Writes ``job_cancelled``."""
    _require_staff(by, "cancel jobs")
    job = Job.objects.select_for_update().get(pk=job.pk)
    if job.status in FINISHED:
        raise InvalidTransition(current=job.status, target=S.CANCELLED)
    old_status = job.status
    _update(
        job,
        status=S.CANCELLED,
        finished_at=DatabaseNow(),
        lease_token=None,
        lease_expires_at=None,
    )
    events.job_cancelled(job=job, actor=by, old_status=old_status, trace=trace)
    return job


@transaction.atomic
def job_retry(*, job: Job, by: User, trace: Trace = NO_TRACE) -> Job:
    """An operator sends a dead, cancelled or failed job back to the queue: ``queued``,
    runnable now, ``finished_at`` cleared, and ``attempts`` reset to 0 (the job starts over
    with its full ``max_retries``; the attempts it had are in the ``job_retried`` event and the
    trail). A queued, running or succeeded job raises ``InvalidTransition``. If another live
    job of the type holds its dedupe key, ``DuplicateJob`` (nothing changes)."""
    _require_staff(by, "retry jobs")
    job = Job.objects.select_for_update().get(pk=job.pk)
    if job.status not in (S.DEAD, S.CANCELLED, S.FAILED):
        raise InvalidTransition(current=job.status, target=S.QUEUED)
    old_status, old_attempts = job.status, job.attempts
    try:
        with transaction.atomic():  # a savepoint: the caller's transaction stays usable
            _update(
                job,
                status=S.QUEUED,
                attempts=0,
                run_after=DatabaseNow(),
                finished_at=None,
                lease_token=None,
                lease_expires_at=None,
            )
    except IntegrityError as exc:
        if _is_dedupe_violation(exc):
            raise DuplicateJob() from None
        raise
    events.job_retried(
        job=job, actor=by, old_status=old_status, old_attempts=old_attempts, trace=trace
    )
    return job


@transaction.atomic
def job_type_pause(*, job_type: str, by: User, trace: Trace = NO_TRACE) -> bool:
    """An operator pauses ``job_type``: claims skip its jobs until it is resumed (running jobs
    go on; enqueues still work). Returns whether this call paused it: pausing a paused type
    changes nothing and writes no event; otherwise writes ``job_type_paused``."""
    _require_staff(by, "pause job types")
    errors: dict[str, list[FieldError]] = {}
    _check_job_type(errors, "job_type", job_type)
    _raise_if(errors)
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO job_type_pauses (job_type, paused_by_id) VALUES (%s, %s) "
            "ON CONFLICT (job_type) DO NOTHING",
            [job_type, by.pk],
        )
        paused = cursor.rowcount == 1
    if paused:
        events.job_type_paused(job_type=job_type, actor=by, trace=trace)
    return paused


@transaction.atomic
def job_type_resume(*, job_type: str, by: User, trace: Trace = NO_TRACE) -> bool:
    """An operator resumes a paused ``job_type``. Returns whether this call resumed it: a type
    that is not paused changes nothing and writes no event; otherwise writes
    ``job_type_resumed``."""
    _require_staff(by, "resume job types")
    resumed, _ = JobTypePause.objects.filter(job_type=job_type).delete()
    if resumed:
        events.job_type_resumed(job_type=job_type, actor=by, trace=trace)
    return bool(resumed)
