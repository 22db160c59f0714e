"""The lookups LangGraph makes all the time are index lookups: the latest checkpoint, a
thread's checkpoints newest first (one namespace or all, before an id), metadata filters, a
run's checkpoints, and deleting a thread (the cascade's deletes). Tables here are tiny, so the
planner is told to avoid sequential scans, as tests/api/test_isolation_and_indexes.py does."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection, transaction

from agents_audit import checkpoints as reads
from agents_audit.services import checkpoints as services
from tests.agents_audit.factories import CheckpointFactory, checkpoint_id

pytestmark = pytest.mark.django_db


def plan(sql: str, params: Any, *, ordered: bool = False) -> str:
    """The plan of a statement. ``ordered``: the rows must come in the index's order (a bitmap
    scan and a sort are priced out, as on a table too big to sort)."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        if ordered:
            cursor.execute("SET LOCAL enable_bitmapscan = off")
            cursor.execute("SET LOCAL enable_sort = off")
        cursor.execute(f"EXPLAIN {sql}", params)
        return "\n".join(row[0] for row in cursor.fetchall())


@pytest.fixture
def thread(agent_a):
    thread = CheckpointFactory.create(thread__owner=agent_a).thread
    CheckpointFactory.create(thread=thread, checkpoint_ns="child:1")
    with connection.cursor() as cursor:
        cursor.execute(
            "ANALYZE checkpoints, checkpoint_blobs, checkpoint_writes, checkpoint_threads"
        )
    return thread


def search(viewer: Any, *, ordered: bool = False, **kwargs: Any) -> str:
    arguments: dict[str, Any] = {
        "thread_id": None,
        "checkpoint_ns": None,
        "checkpoint_id": None,
        "filter": None,
        "before": None,
        "limit": 20,
        "after": None,
        **kwargs,
    }
    return plan(*reads.search_statement(viewer=viewer, **arguments), ordered=ordered)


@pytest.mark.parametrize("viewer", ["agent_a", "operator"])
def test_the_latest_checkpoint_is_an_index_scan_with_its_values_and_writes(thread, viewer, request):
    user = request.getfixturevalue(viewer)
    found = plan(
        *reads.tuple_statement(
            thread_id=thread.pk, viewer=user, checkpoint_ns="", checkpoint_id=None
        ),
        ordered=True,
    )
    assert "Index Scan Backward using checkpoints_thread_ns_id_key" in found, found
    # the values' blobs and the pending writes by their keys
    assert "checkpoint_blobs_thread_ns_channel_version_key" in found, found
    assert "checkpoint_writes_thread_ns_id_task_idx_key" in found, found
    assert "Sort" not in found.split("SubPlan")[0], found


def test_a_namespace_newest_first_before_an_id_reads_the_unique_key_in_order(thread, agent_a):
    found = search(
        agent_a, thread_id=thread.pk, checkpoint_ns="", before=checkpoint_id(10**6), ordered=True
    )
    assert "Index Scan Backward using checkpoints_thread_ns_id_key" in found, found


def test_every_namespace_newest_first_reads_the_thread_id_index(thread, agent_a):
    found = search(agent_a, thread_id=thread.pk, ordered=True)
    assert "checkpoints_thread_id_idx" in found, found


def test_a_metadata_filter_uses_the_gin_index(thread, operator):
    found = search(operator, filter={"source": "loop"})
    assert "checkpoints_metadata_gin" in found, found


def test_a_runs_checkpoints_are_found_by_the_run_id_index(thread, agent_a):
    found = plan(services.RUN_THREADS_SQL, [agent_a.pk, ["run-1"]])
    assert "checkpoints_run_id_idx" in found, found


@pytest.mark.parametrize(
    ("table", "indexes"),
    [
        # the primary key, or Django's varchar_pattern_ops twin of it (the same under C)
        ("checkpoint_threads", ["Index Scan using checkpoint_threads_"]),
        # either index that leads with thread_id serves it; the planner picks by its estimates
        ("checkpoints", ["checkpoints_thread_ns_id_key", "checkpoints_thread_id_idx"]),
        ("checkpoint_blobs", ["checkpoint_blobs_thread_ns_channel_version_key"]),
        ("checkpoint_writes", ["checkpoint_writes_thread_ns_id_task_idx_key"]),
    ],
)
def test_deleting_a_thread_finds_its_rows_by_index(thread, table, indexes):
    # The cascade deletes each table's rows of the thread as this statement does.
    found = plan(f"DELETE FROM {table} WHERE thread_id = %s", [thread.pk])
    assert any(index in found for index in indexes), found
