"""The raw writes of tool executions (one INSERT, or COPY for bulk) take their columns from the
model: every column a writer sets, none that the database fills."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection

from agents_audit import services
from agents_audit.models import AgentExecution, ToolExecution

pytestmark = pytest.mark.django_db


def catalog_columns(table: str) -> dict[str, str | None]:
    """``{column: its default expression or None}`` from PostgreSQL's catalog."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT column_name, column_default FROM information_schema.columns "
            "WHERE table_schema = current_schema() AND table_name = %s",
            [table],
        )
        return dict(cursor.fetchall())


def test_the_written_columns_are_every_column_but_the_ones_the_database_fills():
    columns = catalog_columns("tool_executions")
    written = services.TOOL_EXECUTION_COPY_COLUMNS
    assert len(set(written)) == len(written)
    assert set(columns) - set(written) == {"id", "created_at"}
    assert columns["id"] == "gen_random_uuid()"
    assert columns["created_at"] == "now()"
    # Every column the model lets a writer set is written.
    editable = {field.column for field in ToolExecution._meta.concrete_fields if field.editable}
    assert editable - {"id"} <= set(written)
    # The INSERT names the same columns in the same order, one placeholder each.
    insert = services.TOOL_EXECUTION_INSERT_SQL
    assert f"({', '.join(written)})" in insert
    assert insert.count("%s") == len(written)


def test_the_columns_come_from_the_model():
    assert [field.column for field in services.written_fields(AgentExecution)] == [
        "execution_id",
        "agent_name",
        "prompt",
        "status",  # a db_default, but a writer may set it
        "result",
        "tokens_used",
        "duration_ms",
        "metadata",
        "user_id",
    ]


def test_a_row_written_without_the_optional_values_gets_the_database_defaults(agent_a):
    # given: a row written by raw SQL with only the required columns: the database's defaults
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO tool_executions (correlation_id, tool_name, inputs, status) "
            "VALUES ('a-raw', 't', '{}', 'success')"
        )
    # when: the same call recorded by the INSERT and by COPY, without metadata or output
    required: dict[str, Any] = {"tool_name": "t", "inputs": {}, "status": "success"}
    services.tool_execution_record(user=agent_a, correlation_id="b-insert", **required)
    services.tool_executions_record_bulk(
        user=agent_a, items=[{"correlation_id": "c-copy", **required}]
    )
    # then: the same metadata, ids and created_at (now(): this test's transaction) as the raw row
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT metadata::text, output IS NULL, created_at = now(), id IS NOT NULL "
            "FROM tool_executions ORDER BY correlation_id"
        )
        assert cursor.fetchall() == [("{}", True, True, True)] * 3


def test_the_insert_is_not_a_prepared_statement(agent_a):
    # As TOOL_EXECUTION_INSERT_SQL's comment says: client-side binding, prepare_threshold=None.
    for n in range(8):
        services.tool_execution_record(
            user=agent_a, correlation_id=f"c{n}", tool_name="t", inputs={}, status="success"
        )
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_prepared_statements")
        assert cursor.fetchone() == (0,)
