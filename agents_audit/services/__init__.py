"""Every write on the audit tables. Rows are written once (executions end once) and never edited
otherwise; views, commands and tests all call these functions."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import orjson
from django.db import IntegrityError, connection, models, transaction

from agents_audit.models import AgentExecution, LLMRoundTableResult, ToolExecution
from commerce.models import User
from devskyy.errors import Conflict, InvalidTransition


def written_fields(model: type[models.Model]) -> tuple[models.Field[Any, Any], ...]:
    """The columns a writer of ``model`` sets, in the model's order: every concrete field except
    those the database fills, i.e. the primary key and the non-editable fields with a
    ``db_default`` (``id``: gen_random_uuid(), ``created_at``: now()). Editable fields with a
    ``db_default`` (``metadata``) are written, with the model's default when none is given,
    which equals the database's (a test holds them equal)."""
    return tuple(
        field
        for field in model._meta.concrete_fields
        if not field.primary_key
        and not (field.db_default is not models.NOT_PROVIDED and not field.editable)
    )


TOOL_EXECUTION_FIELDS = written_fields(ToolExecution)
# One list for the INSERT, the COPY and the row tuples below.
TOOL_EXECUTION_COPY_COLUMNS = tuple(field.column for field in TOOL_EXECUTION_FIELDS)
# A statement text built once at import. Not a prepared statement: Django's psycopg 3 backend
# uses client-side binding cursors and sets prepare_threshold=None unless OPTIONS ask for
# server_side_binding and a threshold, so every call sends this text with the values bound into
# it on the client, and PostgreSQL parses and plans it each time. What it saves is the ORM's
# work (building and compiling an INSERT per call), not the database's.
TOOL_EXECUTION_INSERT_SQL = (
    f"INSERT INTO tool_executions ({', '.join(TOOL_EXECUTION_COPY_COLUMNS)}) "  # noqa: S608 (from the model)
    "VALUES ({}) RETURNING id, created_at".format(
        ", ".join(
            "%s::jsonb" if isinstance(field, models.JSONField) else "%s"
            for field in TOOL_EXECUTION_FIELDS
        )
    )
)
# For each column: the item's key (the field's attname: ``user_id`` for the user), whether it is
# JSON (sent as text for a jsonb column), and for a NOT NULL column with a default (metadata),
# that default, written when the item has no value.
_TOOL_EXECUTION_ROW = tuple(
    (
        field.attname,
        isinstance(field, models.JSONField),
        field.get_default if field.has_default() and not field.null else None,
    )
    for field in TOOL_EXECUTION_FIELDS
)


def _dump(value: Any) -> str | None:
    """JSON text for a jsonb column (SQL NULL for None)."""
    return None if value is None else orjson.dumps(value).decode()


def _tool_execution_row(item: Mapping[str, Any]) -> tuple[Any, ...]:
    """The values of TOOL_EXECUTION_COPY_COLUMNS for one validated item (``user_id`` included)."""
    row = []
    for key, is_json, default in _TOOL_EXECUTION_ROW:
        value = item.get(key)
        if value is None and default is not None:
            value = default()
        row.append(_dump(value) if is_json else value)
    return tuple(row)


def tool_execution_record(
    *,
    user: User | None,
    correlation_id: str,
    tool_name: str,
    inputs: Any,
    status: str,
    agent_id: str | None = None,
    output: Any = None,
    duration_ms: int | None = None,
    error_message: str | None = None,
    metadata: Mapping[str, Any] | None = None,
) -> ToolExecution:
    """Record one tool call. Input is expected to be validated (types, lengths, choices).

    One INSERT ... RETURNING (the hot write of every agent), its text built once (see
    TOOL_EXECUTION_INSERT_SQL): the database gives the id and ``created_at``; the returned
    instance is what the ORM would have built.
    """
    execution = ToolExecution(
        user=user,
        correlation_id=correlation_id,
        tool_name=tool_name,
        agent_id=agent_id,
        inputs=inputs,
        output=output,
        status=status,
        duration_ms=duration_ms,
        error_message=error_message,
        metadata=dict(metadata or {}),
    )
    values = {field.attname: getattr(execution, field.attname) for field in TOOL_EXECUTION_FIELDS}
    with connection.cursor() as cursor:
        cursor.execute(TOOL_EXECUTION_INSERT_SQL, _tool_execution_row(values))
        execution.id, execution.created_at = cursor.fetchone()
    execution._state.adding = False
    return execution


@transaction.atomic
def tool_executions_record_bulk(*, user: User | None, items: Iterable[Mapping[str, Any]]) -> int:
    """Record many validated tool calls in one transaction (all or nothing) with COPY.

    COPY is PostgreSQL's fastest way in; the rows get their ids and ``created_at`` (one
    transaction timestamp for the whole batch) from the column defaults.
    """
    user_id = None if user is None else user.pk
    count = 0
    columns = ", ".join(TOOL_EXECUTION_COPY_COLUMNS)
    with (
        connection.cursor() as cursor,
        cursor.cursor.copy(f"COPY tool_executions ({columns}) FROM STDIN") as copy,
    ):
        for item in items:
            copy.write_row(_tool_execution_row({**item, "user_id": user_id}))
            count += 1
    return count


def _same(existing: Any, wanted: Mapping[str, Any]) -> bool:
    return all(getattr(existing, name) == value for name, value in wanted.items())


def _create_once(model: Any, key_field: str, key: str, wanted: dict[str, Any]) -> tuple[Any, bool]:
    """Insert a row under a natural key, idempotently: ``(row, True)`` if this call created it,
    ``(existing, False)`` if the same row was already there, ``Conflict`` if a different one is.
    """
    try:
        with transaction.atomic():
            return model.objects.create(**{key_field: key}, **wanted), True
    except IntegrityError:
        # Someone (maybe this caller's earlier, timed-out attempt) holds the key; the unique
        # constraint made us wait for their commit, so the row is visible now.
        existing = model.objects.filter(**{key_field: key}).first()
        if existing is not None and _same(existing, wanted):
            return existing, False
        raise Conflict(f"{key_field} '{key}' is already used by another record.") from None


def agent_execution_start(
    *,
    user: User | None,
    execution_id: str,
    agent_name: str,
    prompt: str,
    metadata: Mapping[str, Any] | None = None,
) -> tuple[AgentExecution, bool]:
    """Start an execution (status ``running``); idempotent on ``execution_id``.

    Returns ``(execution, created)``. The same request again returns the existing execution with
    ``created=False``; a different one under the same ``execution_id`` raises ``Conflict``.
    """
    wanted = {
        "user_id": None if user is None else user.pk,
        "agent_name": agent_name,
        "prompt": prompt,
        "metadata": dict(metadata or {}),
    }
    return _create_once(AgentExecution, "execution_id", execution_id, wanted)


@transaction.atomic
def _agent_execution_end(
    *,
    execution: AgentExecution,
    status: str,
    result: Any,
    tokens_used: int | None,
    duration_ms: int | None,
) -> AgentExecution:
    execution = AgentExecution.objects.select_for_update().get(pk=execution.pk)
    if not execution.can_transition_to(status):
        raise InvalidTransition(current=execution.status, target=status)
    execution.status = status
    execution.result = result
    execution.tokens_used = tokens_used
    execution.duration_ms = duration_ms
    execution.save(update_fields=["status", "result", "tokens_used", "duration_ms"])
    return execution


def agent_execution_complete(
    *,
    execution: AgentExecution,
    result: Any,
    tokens_used: int | None = None,
    duration_ms: int | None = None,
) -> AgentExecution:
    """End a running execution as ``completed``; ending it twice raises ``InvalidTransition``."""
    return _agent_execution_end(
        execution=execution,
        status=AgentExecution.Status.COMPLETED,
        result=result,
        tokens_used=tokens_used,
        duration_ms=duration_ms,
    )


def agent_execution_fail(
    *,
    execution: AgentExecution,
    result: Any,
    tokens_used: int | None = None,
    duration_ms: int | None = None,
) -> AgentExecution:
    """End a running execution as ``failed``, ``result`` holding the error."""
    return _agent_execution_end(
        execution=execution,
        status=AgentExecution.Status.FAILED,
        result=result,
        tokens_used=tokens_used,
        duration_ms=duration_ms,
    )


def round_table_result_record(
    *,
    user: User | None,
    result_id: str,
    prompt: str,
    participants: list[dict[str, Any]],
    task_category: str | None = None,
    winner_provider: str | None = None,
    winner_response: str | None = None,
    metadata: Mapping[str, Any] | None = None,
) -> tuple[LLMRoundTableResult, bool]:
    """Record a competition; idempotent on ``result_id`` like ``agent_execution_start``.

    The winner, when given, must be one of the participants' providers (validated by the caller
    for a friendly message; asserted here as the invariant).
    """
    providers = {p.get("provider") for p in participants}
    if winner_provider is not None and winner_provider not in providers:
        raise ValueError("winner_provider must be one of the participants")
    wanted = {
        "user_id": None if user is None else user.pk,
        "prompt": prompt,
        "participants": participants,
        "task_category": task_category,
        "winner_provider": winner_provider,
        "winner_response": winner_response,
        "metadata": dict(metadata or {}),
    }
    return _create_once(LLMRoundTableResult, "result_id", result_id, wanted)
