"""The trace view's reads: everything that shares a correlation id, a task or a thread, gathered
on one timeline (issue 11). The admin's trace page renders what ``trace_for`` returns.

What belongs to a trace, by its root:

- **a correlation id**: the tool executions and events that carry it; the tasks and jobs those
  events are about (and each job's task); the agent executions its tool executions name (a
  tool execution's ``agent_id`` equal to an agent execution's ``execution_id``).
- **a task**: the task, its jobs, the events about the task and about its jobs, and the tool
  executions that share a correlation id with those events (with the agent executions they
  name).
- **a job**: its task's trace.
- **a thread**: the trace of the task whose ``thread_id`` it is; a thread no task names is the
  thread alone.
- **an agent execution** (its ``execution_id``): the trace of the correlation ids of the tool
  executions that name it; an execution no tool execution names is the execution alone.

A trace's tasks bring their execution logs, and their LangGraph threads with their checkpoints
(``tasks.thread_id``; where a thread was saved).

Bounded: each kind of row is read oldest first, at most ``KIND_LIMIT`` rows, and counted in the
same statement (``COUNT(*) OVER ()``), so the page says how many more there are. Every statement
is served by an index (a test runs ``EXPLAIN`` on each with sequential scans disabled), and a
trace costs the same number of statements however many rows it holds: one per kind, plus the
root's own look-up.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.db.models import Count, Model, Q, QuerySet, Window

from agents_audit.models import (
    AgentExecution,
    Checkpoint,
    CheckpointThread,
    Event,
    EventSubject,
    ExecutionLog,
    Job,
    Task,
    ToolExecution,
)
from agents_audit.models.checkpoints import THREAD_ID_MAX_LENGTH

KIND_LIMIT = 500

# The longest id each root takes; anything longer (or holding a NUL) names nothing.
CORRELATION_ID_MAX_LENGTH = ToolExecution._meta.get_field("correlation_id").max_length or 64
EXECUTION_ID_MAX_LENGTH = AgentExecution._meta.get_field("execution_id").max_length or 100


class Root:
    CORRELATION = "correlation_id"
    TASK = "task"
    JOB = "job"
    THREAD = "thread"
    AGENT_EXECUTION = "agent_execution"

    ALL = (CORRELATION, TASK, JOB, THREAD, AGENT_EXECUTION)


@dataclass(frozen=True)
class Kind:
    """One kind of row on a timeline (``name``: its key in ``Trace.kinds``, stable for pages and
    tests)."""

    name: str
    label: str
    model: type[Model]


TOOL_EXECUTION = Kind("tool_execution", "tool execution", ToolExecution)
AGENT_EXECUTION = Kind("agent_execution", "agent execution", AgentExecution)
TASK = Kind("task", "task", Task)
EXECUTION_LOG = Kind("execution_log", "execution log", ExecutionLog)
JOB = Kind("job", "job", Job)
EVENT = Kind("event", "event", Event)
CHECKPOINT_THREAD = Kind("checkpoint_thread", "checkpoint thread", CheckpointThread)
CHECKPOINT = Kind("checkpoint", "checkpoint", Checkpoint)

KINDS = (
    TOOL_EXECUTION,
    AGENT_EXECUTION,
    TASK,
    EXECUTION_LOG,
    JOB,
    EVENT,
    CHECKPOINT_THREAD,
    CHECKPOINT,
)


@dataclass
class KindRows:
    """The rows of one kind that a trace shows (at most ``KIND_LIMIT``), and how many it has."""

    kind: Kind
    rows: list[Any] = field(default_factory=list)
    total: int = 0

    @property
    def more(self) -> int:
        return self.total - len(self.rows)


@dataclass
class Trace:
    """A trace's rows, per kind. ``found`` is False when the root names nothing."""

    root: str
    key: str
    found: bool
    kinds: dict[str, KindRows]

    def rows(self, kind: Kind) -> list[Any]:
        return self.kinds[kind.name].rows


def _bounded(queryset: QuerySet[Any], *order: str) -> tuple[list[Any], int]:
    """The first ``KIND_LIMIT`` rows in ``order`` and the number of rows the query matches, in
    one statement."""
    rows = list(
        queryset.annotate(trace_total=Window(expression=Count("pk"))).order_by(*order)[:KIND_LIMIT]
    )
    return rows, (rows[0].trace_total if rows else 0)


def _clean(value: str, max_length: int) -> str | None:
    """``value`` when it can be a stored id (not blank, no NUL, not too long), else None."""
    if not value or "\x00" in value or len(value) > max_length:
        return None
    return value


def _uuid(value: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(value)
    except (ValueError, AttributeError, TypeError):
        return None


def _bigint(value: str) -> int | None:
    """A positive bigint written in ASCII digits (``int()`` also takes ``" 7"``, ``"1_0"``,
    ``"٣"``)."""
    if not _DIGITS.fullmatch(value):
        return None
    number = int(value)
    return number if number < 2**63 else None


_DIGITS = re.compile(r"[1-9][0-9]{0,18}")


class _Builder:
    """Fills a ``Trace`` kind by kind, each with one statement (none for no keys)."""

    def __init__(self, root: str, key: str, permitted: Callable[[Kind], bool]) -> None:
        self.permitted = permitted
        self.trace = Trace(
            root=root, key=key, found=False, kinds={k.name: KindRows(k) for k in KINDS}
        )

    def read(self, kind: Kind, queryset: QuerySet[Any], *order: str) -> list[Any]:
        rows, total = _bounded(queryset, *order)
        if self.permitted(kind):
            self.trace.kinds[kind.name] = KindRows(kind, rows, total)
        return rows

    def tool_executions(self, correlation_ids: Iterable[str]) -> list[ToolExecution]:
        ids = sorted(set(correlation_ids) - {""})
        if not ids:
            return []
        queryset = ToolExecution.objects.filter(correlation_id__in=ids)
        return self.read(TOOL_EXECUTION, queryset, "created_at", "id")

    def agent_executions(self, tool_executions: list[ToolExecution]) -> None:
        names = sorted({t.agent_id for t in tool_executions if t.agent_id})
        if names:
            queryset = AgentExecution.objects.filter(execution_id__in=names)
            self.read(AGENT_EXECUTION, queryset, "created_at", "id")

    def tasks_parts(self, tasks: list[Task]) -> None:
        """A trace's tasks' execution logs, and their threads with their checkpoints."""
        if not tasks:
            return
        task_ids = [t.pk for t in tasks]
        logs = ExecutionLog.objects.filter(task_id__in=task_ids)
        self.read(EXECUTION_LOG, logs, "timestamp", "step_number", "id")
        thread_ids = sorted({t.thread_id for t in tasks})
        threads = self.read(
            CHECKPOINT_THREAD,
            CheckpointThread.objects.filter(thread_id__in=thread_ids).select_related("owner"),
            "created_at",
            "thread_id",
        )
        self.checkpoints([t.thread_id for t in threads])

    def checkpoints(self, thread_ids: list[str]) -> None:
        if thread_ids:
            queryset = Checkpoint.objects.filter(thread_id__in=thread_ids)
            self.read(CHECKPOINT, queryset, "created_at", "id")

    def correlation(self, correlation_ids: list[str]) -> None:
        tools = self.tool_executions(correlation_ids)
        events = self.read(
            EVENT,
            Event.objects.filter(correlation_id__in=correlation_ids)
            .exclude(correlation_id="")  # the partial index's condition, for a generic plan too
            .select_related("actor"),
            "created_at",
            "id",
        )
        job_ids = {
            n
            for e in events
            if e.subject_type == EventSubject.JOB and (n := _bigint(e.subject_id)) is not None
        }
        task_ids = {
            u
            for e in events
            if e.subject_type == EventSubject.TASK and (u := _uuid(e.subject_id)) is not None
        }
        jobs: list[Job] = []
        if job_ids:
            jobs = self.read(JOB, Job.objects.filter(pk__in=sorted(job_ids)), "created_at", "id")
        task_ids |= {j.task_id for j in jobs}
        tasks: list[Task] = []
        if task_ids:
            tasks = self.read(
                TASK, Task.objects.filter(pk__in=sorted(task_ids)), "created_at", "id"
            )
        self.tasks_parts(tasks)
        self.agent_executions(tools)
        self.trace.found = bool(tools or events)

    def thread(self, thread_id: str) -> None:
        if task := Task.objects.filter(thread_id=thread_id).first():
            self.task(task)
            return
        threads = self.read(
            CHECKPOINT_THREAD,
            CheckpointThread.objects.filter(thread_id=thread_id).select_related("owner"),
            "created_at",
            "thread_id",
        )
        self.checkpoints([t.thread_id for t in threads])
        self.trace.found = bool(threads)

    def agent_execution(self, execution: AgentExecution) -> None:
        named = ToolExecution.objects.filter(agent_id=execution.execution_id)
        correlation_ids = sorted(
            set(
                named.order_by("created_at", "id").values_list("correlation_id", flat=True)[
                    :KIND_LIMIT
                ]
            )
        )
        if correlation_ids:
            self.correlation(correlation_ids)
        elif self.permitted(AGENT_EXECUTION):
            self.trace.kinds[AGENT_EXECUTION.name] = KindRows(AGENT_EXECUTION, [execution], 1)
        self.trace.found = True

    def task(self, task: Task) -> None:
        if self.permitted(TASK):
            self.trace.kinds[TASK.name] = KindRows(TASK, [task], 1)
        jobs = self.read(JOB, Job.objects.filter(task_id=task.pk), "created_at", "id")
        about = Q(subject_type=EventSubject.TASK, subject_id=str(task.pk))
        if jobs:
            about |= Q(subject_type=EventSubject.JOB, subject_id__in=[str(j.pk) for j in jobs])
        events = self.read(
            EVENT, Event.objects.filter(about).select_related("actor"), "created_at", "id"
        )
        tools = self.tool_executions(e.correlation_id for e in events)
        self.agent_executions(tools)
        self.tasks_parts([task])
        self.trace.found = True


def trace_for(root: str, key: str, *, permitted: Callable[[Kind], bool]) -> Trace:
    """The trace of ``key`` as a ``root`` (one of ``Root.ALL``). ``permitted(kind)`` says
    whether the viewer may see a kind's rows; the rows of the others are still followed (they
    link the trace) but not returned. An id that names nothing (unknown, malformed, too long,
    holding a NUL) gives an empty trace, ``found`` False.
    """
    builder = _Builder(root, key, permitted)
    if root == Root.CORRELATION:
        if (correlation_id := _clean(key, CORRELATION_ID_MAX_LENGTH)) is not None:
            builder.correlation([correlation_id])
    elif root == Root.TASK:
        task_id = _uuid(key)
        if task_id is not None and (task := Task.objects.filter(pk=task_id).first()):
            builder.task(task)
    elif root == Root.JOB:
        job_id = _bigint(key)
        jobs = Job.objects.select_related("task")
        if job_id is not None and (job := jobs.filter(pk=job_id).first()):
            builder.task(job.task)
    elif root == Root.THREAD:
        if (thread_id := _clean(key, THREAD_ID_MAX_LENGTH)) is not None:
            builder.thread(thread_id)
    elif root == Root.AGENT_EXECUTION:
        execution_id = _clean(key, EXECUTION_ID_MAX_LENGTH)
        executions = AgentExecution.objects.filter(execution_id=execution_id)
        if execution_id is not None and (execution := executions.first()):
            builder.agent_execution(execution)
    return builder.trace


# --- the timeline: the trace's rows in time order, with offsets and bars ------------------------


@dataclass(frozen=True)
class Entry:
    """One row of a trace on the timeline.

    ``at`` is the row's time (when it was written; an execution log's ``timestamp``); its bar
    spans ``start`` to ``end``: from ``at`` for the length of its duration, except a tool
    execution's, which is recorded when the call ends, so its bar ends at ``at``. ``duration_ms``
    is None for a row with no duration (it gets a tick)."""

    kind: Kind
    obj: Any
    at: datetime
    duration_ms: int | None
    status: str
    status_label: str
    title: str
    summary: str
    error: str
    json: tuple[tuple[str, Any], ...]

    @property
    def start(self) -> datetime:
        if self.kind is TOOL_EXECUTION and self.duration_ms is not None:
            return self.at - timedelta(milliseconds=self.duration_ms)
        return self.at

    @property
    def end(self) -> datetime:
        if self.kind is TOOL_EXECUTION or self.duration_ms is None:
            return self.at
        return self.at + timedelta(milliseconds=self.duration_ms)


def _ms_between(start: datetime | None, end: datetime | None) -> int | None:
    if start is None or end is None:
        return None
    return max(0, round((end - start).total_seconds() * 1000))


def _entry(kind: Kind, obj: Any) -> Entry:
    """What the timeline shows of one row."""
    if kind is TOOL_EXECUTION:
        return Entry(
            kind, obj, obj.created_at, obj.duration_ms, obj.status, obj.get_status_display(),
            obj.tool_name,
            f"agent {obj.agent_id or '-'} · correlation {obj.correlation_id}",
            obj.error_message or "",
            (("inputs", obj.inputs), ("output", obj.output), ("metadata", obj.metadata)),
        )  # fmt: skip
    if kind is AGENT_EXECUTION:
        failed = obj.status == AgentExecution.Status.FAILED
        return Entry(
            kind, obj, obj.created_at, obj.duration_ms, obj.status, obj.get_status_display(),
            f"{obj.agent_name} {obj.execution_id}",
            f"tokens {obj.tokens_used if obj.tokens_used is not None else '-'}",
            _failure_text(obj.result) if failed else "",
            (("result", obj.result), ("metadata", obj.metadata)),
        )  # fmt: skip
    if kind is TASK:
        return Entry(
            kind, obj, obj.created_at, _ms_between(obj.created_at, obj.completed_at), obj.status,
            obj.get_status_display(), str(obj), f"thread {obj.thread_id}",
            obj.error_message or obj.rejection_reason,
            (
                ("estimated resources", obj.estimated_resources),
                ("actual resources", obj.actual_resources),
            ),
        )  # fmt: skip
    if kind is EXECUTION_LOG:
        return Entry(
            kind, obj, obj.timestamp, obj.duration_ms, obj.status, obj.get_status_display(),
            f"step {obj.step_number} ({obj.get_agent_type_display()}): {obj.action}",
            obj.output_summary,
            obj.output_summary if obj.status == ExecutionLog.Status.FAILED else "",
            (("input", obj.input), ("output", obj.output_full)),
        )  # fmt: skip
    if kind is JOB:
        return Entry(
            kind, obj, obj.created_at, _ms_between(obj.created_at, obj.finished_at), obj.status,
            obj.get_status_display(), f"{obj.job_type} #{obj.pk}",
            f"attempts {obj.attempts} / {obj.max_retries}"
            + (f" · worker {obj.worker_id}" if obj.worker_id else ""),
            obj.last_error,
            (("payload", obj.payload), ("result", obj.result)),
        )  # fmt: skip
    if kind is EVENT:
        # The event type's last word is its outcome (task_failed, job_dead, job_succeeded...).
        return Entry(
            kind, obj, obj.created_at, None, obj.event_type.rsplit("_", 1)[-1],
            obj.get_event_type_display(), f"{obj.subject_type} {obj.subject_id}",
            f"by {obj.actor or '-'}"
            + (f" (key {obj.api_key_prefix})" if obj.api_key_prefix else "")
            + (f" · correlation {obj.correlation_id}" if obj.correlation_id else ""),
            "",
            (("payload", obj.payload),),
        )  # fmt: skip
    if kind is CHECKPOINT_THREAD:
        return Entry(
            kind, obj, obj.created_at, None, "saved", "Thread", obj.thread_id,
            f"owner {obj.owner or '-'}", "", (),
        )  # fmt: skip
    metadata = obj.metadata if isinstance(obj.metadata, dict) else {}
    return Entry(
        kind, obj, obj.created_at, None, "saved", "Checkpoint", obj.checkpoint_id,
        f"thread {obj.thread_id}"
        + (f" · namespace {obj.checkpoint_ns}" if obj.checkpoint_ns else "")
        + (f" · step {metadata['step']}" if "step" in metadata else "")
        + (f" · {metadata['source']}" if "source" in metadata else ""),
        "",
        (("metadata", obj.metadata),),
    )  # fmt: skip


def _failure_text(result: Any) -> str:
    """A failed agent execution's error: its result's ``error`` when there is one."""
    if isinstance(result, dict) and isinstance(result.get("error"), str):
        return result["error"]
    return "Failed (see the result)."


@dataclass(frozen=True)
class TimelineEntry:
    """An entry placed on the timeline: ``offset_ms`` from the first entry's time; its bar's
    ``left`` and ``width`` as percentages of the timeline's span."""

    entry: Entry
    offset_ms: int
    left: float
    width: float


def timeline(trace: Trace) -> list[TimelineEntry]:
    """Every row of ``trace`` in time order (ties: by kind, then as read)."""
    order = {kind.name: n for n, kind in enumerate(KINDS)}
    entries = sorted(
        (_entry(rows.kind, obj) for rows in trace.kinds.values() for obj in rows.rows),
        key=lambda e: (e.at, order[e.kind.name]),
    )
    if not entries:
        return []
    first = entries[0].at
    span_start = min(e.start for e in entries)
    span_ms = max(1, _ms_between(span_start, max(e.end for e in entries)) or 0)
    placed = []
    for e in entries:
        left = 100 * (_ms_between(span_start, e.start) or 0) / span_ms
        width = 0.0 if e.duration_ms is None else 100 * e.duration_ms / span_ms
        placed.append(
            TimelineEntry(
                entry=e,
                offset_ms=round((e.at - first).total_seconds() * 1000),
                left=round(min(left, 100.0), 3),
                width=round(min(width, 100.0 - left), 3),
            )
        )
    return placed
