"""``manage.py seed_sample_data --scale F`` (issue 11): the sizes scaled, every rule of the schema
kept (the database refuses the rest), the services' invariants true of the rows, a second run
refused, ``--reset`` deleting exactly the scale rows, and bad input refused before anything is
written. At a thousandth of the issue's sizes (about 6,000 rows, a second)."""

from __future__ import annotations

import hashlib
import io

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction
from django.db.models import Count, Sum

from agents_audit import scale_data
from agents_audit.models import (
    AgentExecution,
    CheckpointThread,
    Event,
    ExecutionLog,
    Job,
    LLMRoundTableResult,
    Task,
    ToolExecution,
)
from commerce.models import Order, OrderLine, Product, StockMovement, User
from commerce.money import order_totals
from knowledge.embedding_models import EMBEDDING_MODELS
from knowledge.models import ChunkEmbedding, RAGDocument, Source
from tests.agents_audit.factories import ToolExecutionFactory
from tests.commerce.factories import UserFactory

pytestmark = pytest.mark.django_db

SCALE = 0.001
COUNTED = {
    "users": User,
    "orders": Order,
    "order_lines": OrderLine,
    "tasks": Task,
    "jobs": Job,
    "events": Event,
    "agent_executions": AgentExecution,
    "tool_executions": ToolExecution,
    "round_table_results": LLMRoundTableResult,
    "checkpoint_threads": CheckpointThread,
    "sources": Source,
    "chunks": RAGDocument,
}


def seed(*args: str) -> str:
    out = io.StringIO()
    call_command("seed_sample_data", "--scale", str(SCALE), *args, stdout=out)
    return out.getvalue()


def counts() -> dict[str, int]:
    return {name: model._default_manager.count() for name, model in COUNTED.items()}


def test_the_scale_scales_every_count_and_the_summary_says_what_was_written():
    output = seed()

    expected = scale_data.counts_for(SCALE)
    assert counts() == {name: expected[name] for name in COUNTED}
    assert (expected["tool_executions"], expected["users"]) == (1000, 100)
    assert ChunkEmbedding.objects.count() == expected["chunks"]
    for table in ("tool_executions", "orders", "events", "rag_embeddings", "total"):
        assert table in output
    assert "1,000" in output


def test_the_rows_keep_the_invariants_the_services_keep():
    seed()

    # every product's stock is the sum of its ledger, opening stock included
    for product in Product.objects.annotate(ledger=Sum("stock_movements__delta")):
        assert product.inventory_quantity == product.ledger >= 0
    # order totals are order_totals of their lines; a line is price times quantity
    for order in Order.objects.prefetch_related("lines"):
        lines = list(order.lines.all())
        assert lines
        assert all(line.line_total == line.unit_price * line.quantity for line in lines)
        totals = order_totals(line.line_total for line in lines)
        assert (order.subtotal, order.total_price) == (totals.subtotal, totals.total)
    # vectors of the configured model, computed from the chunk's content
    model = settings.KNOWLEDGE_EMBEDDING_MODEL
    for embedding in ChunkEmbedding.objects.select_related("chunk"):
        assert embedding.model == model
        assert len(embedding.embedding) == EMBEDDING_MODELS[model].dimensions
        digest = hashlib.sha256(embedding.chunk.content.encode()).hexdigest()
        assert embedding.content_hash == embedding.chunk.content_hash == digest
    for source in Source.objects.annotate(n=Count("chunks")):
        assert source.total_chunks == source.n


def test_the_data_looks_like_an_operators_week():
    seed()

    assert set(Task.objects.values_list("status", flat=True)) == set(Task.Status.values)
    assert set(ToolExecution.objects.values_list("status", flat=True)) == {
        "success",
        "failed",
        "timeout",
    }
    assert set(Job.objects.values_list("status", flat=True)) == set(Job.Status.values)
    assert ToolExecution.objects.values("tool_name").distinct().count() == 50
    assert ToolExecution.objects.values("agent_id").exclude(agent_id=None).distinct().count() == 20
    failed = ToolExecution.objects.exclude(status="success")
    assert not failed.filter(error_message=None).exists()
    # recent rows are denser, and the newest filters have rows
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FILTER (WHERE created_at > now() - interval '1 day'), "
            "count(*) FILTER (WHERE created_at > now() - interval '7 days'), "
            "count(*) FILTER (WHERE created_at > now()), "
            "count(*) FILTER (WHERE created_at < now() - interval '30 days') "
            "FROM tool_executions"
        )
        day, week, future, older = cursor.fetchone()
    assert 100 < day < week < 1000
    assert future == older == 0
    # a trace: an agent execution, its tool calls and, for some, a task's events and jobs
    shared = (
        ToolExecution.objects.values("correlation_id")
        .annotate(n=Count("id"))
        .filter(n__gt=1)
        .values_list("correlation_id", flat=True)
    )
    assert shared
    traced = AgentExecution.objects.filter(metadata__correlation_id__in=list(shared))
    assert traced.count() == len(shared)
    assert Event.objects.filter(correlation_id__in=list(shared)).exists()
    assert Job.objects.filter(payload__correlation_id__in=list(shared)).exists()
    # checkpoint threads are tasks' threads; steps are numbered per task
    assert not CheckpointThread.objects.exclude(
        thread_id__in=Task.objects.values("thread_id")
    ).exists()
    assert ExecutionLog.objects.filter(step_number=1).count() == (
        Task.objects.filter(status__in=["executing", "completed", "failed"]).count()
    )


def test_a_second_run_is_refused_and_writes_nothing():
    seed()
    before = counts()

    with pytest.raises(CommandError, match="already in this database; run with --reset"):
        seed()

    assert counts() == before


def test_reset_replaces_the_scale_rows_and_keeps_everything_else():
    mine = ToolExecutionFactory.create()
    someone = UserFactory.create()
    seed()
    expected = counts()

    output = seed("--reset")

    assert "Reset: deleted" in output
    assert counts() == expected  # the same again, not twice
    assert ToolExecution.objects.filter(pk=mine.pk).exists()
    assert User.objects.filter(pk=someone.pk).exists()


def test_a_reset_deletes_the_scale_rows_only_and_the_trails_stay_append_only():
    mine = ToolExecutionFactory.create()
    seed()

    scale_data.scale_data_reset()

    assert list(ToolExecution.objects.all()) == [mine]
    assert not User.objects.filter(username__startswith="scale-").exists()
    for model in (Event, StockMovement, Product, Source, RAGDocument, Task, Job):
        assert not model.objects.exists(), model
    assert not scale_data.scale_data_present()
    # the append-only triggers are on again
    seed()
    for table in ("events", "stock_movements"):
        with (
            pytest.raises(DatabaseError, match="append-only"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(f"DELETE FROM {table}")


@pytest.mark.parametrize("scale", ["abc", "0", "-1", "nan", "inf", "", "11", "1e400"])
def test_a_bad_scale_is_one_line_and_writes_nothing(scale):
    with pytest.raises(CommandError) as raised:
        call_command("seed_sample_data", "--scale", scale, stdout=io.StringIO())

    assert "--scale must be a number" in str(raised.value)
    assert "\n" not in str(raised.value)
    assert not User.objects.exists()


def test_size_and_scale_do_not_go_together():
    with pytest.raises(CommandError, match="--size and --scale do not go together"):
        call_command("seed_sample_data", "--scale", "1", "--size", "5", stdout=io.StringIO())

    assert not User.objects.exists()
