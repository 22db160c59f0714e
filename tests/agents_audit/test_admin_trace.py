"""The trace view (issue 11): a correlation id, task, job or thread links to one page with
everything that shares it on one timeline, in time order, to the millisecond, with offsets,
duration bars, coloured statuses, errors inline and JSON escaped and folded; bounded, on indexes,
in a constant number of queries, for staff only; and every row that carries such an id links
to it."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.db import connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils.http import urlencode
from hypothesis import given, settings
from hypothesis import strategies as st

from agents_audit import admin_trace
from agents_audit import trace as trace_module
from agents_audit.admin_trace import trace_url
from agents_audit.models import (
    AgentExecution,
    Checkpoint,
    CheckpointThread,
    Event,
    ExecutionLog,
    Job,
    Task,
    ToolExecution,
)
from agents_audit.trace import Root, trace_for
from commerce.models import User
from tests.agents_audit.factories import (
    AgentExecutionFactory,
    CheckpointFactory,
    CheckpointThreadFactory,
    ExecutionLogFactory,
    JobFactory,
    TaskFactory,
    ToolExecutionFactory,
)
from tests.commerce.factories import AgentUserFactory, UserFactory

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 11, 27, 5, 0, 0, tzinfo=UTC)
CORRELATION = "corr-trace-1"


def at(seconds: float) -> datetime:
    return T0 + timedelta(milliseconds=round(seconds * 1000))


def event(**fields: Any) -> Event:
    """An event as ``agents_audit.events`` writes them, at a chosen time."""
    return Event.objects.create(**fields)


@dataclass
class Scenario:
    task: Task
    job: Job
    tool_ok: ToolExecution
    tool_failed: ToolExecution
    agent_execution: AgentExecution
    log: ExecutionLog
    thread: CheckpointThread
    checkpoint: Checkpoint
    task_created: Event
    job_dead: Event


def build_scenario(correlation: str = CORRELATION, thread_id: str = "thread-trace-1") -> Scenario:
    """A task that failed: created, its job dead, an agent run with two tool calls (one failed),
    one step logged and one checkpoint saved; the API calls sent ``correlation``."""
    task = TaskFactory.create(
        thread_id=thread_id,
        created_at=at(0),
        status=Task.Status.FAILED,
        approved_at=at(0.05),
        completed_at=at(9),
        error_message="deploy failed: exit 1",
    )
    job = JobFactory.create(
        task=task,
        created_at=at(0.2),
        status=Job.Status.DEAD,
        finished_at=at(8),
        attempts=3,
        last_error="retries exhausted",
    )
    thread = CheckpointThreadFactory.create(thread_id=thread_id, created_at=at(0.3))
    agent_execution = AgentExecutionFactory.create(
        execution_id=f"exec-{correlation}",
        created_at=at(0.5),
        status=AgentExecution.Status.COMPLETED,
        duration_ms=4000,
        result={"answer": "done"},
    )
    tool_ok = ToolExecutionFactory.create(
        correlation_id=correlation,
        agent_id=agent_execution.execution_id,
        created_at=at(1.5),
        duration_ms=500,
        inputs={"cmd": "<script>alert(1)</script>"},
    )
    log = ExecutionLogFactory.create(
        task=task,
        step_number=1,
        timestamp=at(2),
        duration_ms=1200,
        status=ExecutionLog.Status.FAILED,
        output_summary="exit 1",
    )
    checkpoint = CheckpointFactory.create(thread=thread, created_at=at(2.5))
    tool_failed = ToolExecutionFactory.create(
        correlation_id=correlation,
        agent_id=agent_execution.execution_id,
        created_at=at(3),
        duration_ms=250,
        status=ToolExecution.Status.FAILED,
        output=None,
        error_message="connection refused",
    )
    task_created = event(
        created_at=at(0.01),
        subject_type=Event.Subject.TASK,
        subject_id=str(task.pk),
        event_type=Event.Type.TASK_CREATED,
        correlation_id=correlation,
        payload={"new": {"status": "pending"}},
    )
    job_dead = event(
        created_at=at(8),
        subject_type=Event.Subject.JOB,
        subject_id=str(job.pk),
        event_type=Event.Type.JOB_DEAD,
        correlation_id=correlation,
        payload={"error": "retries exhausted"},
    )
    return Scenario(
        task, job, tool_ok, tool_failed, agent_execution, log, thread, checkpoint,
        task_created, job_dead,
    )  # fmt: skip


def noise() -> None:
    """Rows of another trace, which no trace above may show."""
    other = build_scenario(correlation="corr-other", thread_id="thread-other")
    ToolExecutionFactory.create(correlation_id="corr-other", agent_id="someone")
    event(
        created_at=at(1),
        subject_type=Event.Subject.TASK,
        subject_id=str(other.task.pk),
        event_type=Event.Type.TASK_UPDATED,
    )


@pytest.fixture
def scenario() -> Scenario:
    built = build_scenario()
    noise()
    return built


def expected_order(s: Scenario) -> list[tuple[str, Any, str, str]]:
    """(kind, row, time, offset) in time order."""
    return [
        ("task", s.task, "2026-11-27 05:00:00.000 UTC", "+0.000 s"),
        ("event", s.task_created, "2026-11-27 05:00:00.010 UTC", "+0.010 s"),
        ("job", s.job, "2026-11-27 05:00:00.200 UTC", "+0.200 s"),
        ("checkpoint_thread", s.thread, "2026-11-27 05:00:00.300 UTC", "+0.300 s"),
        ("agent_execution", s.agent_execution, "2026-11-27 05:00:00.500 UTC", "+0.500 s"),
        ("tool_execution", s.tool_ok, "2026-11-27 05:00:01.500 UTC", "+1.500 s"),
        ("execution_log", s.log, "2026-11-27 05:00:02.000 UTC", "+2.000 s"),
        ("checkpoint", s.checkpoint, "2026-11-27 05:00:02.500 UTC", "+2.500 s"),
        ("tool_execution", s.tool_failed, "2026-11-27 05:00:03.000 UTC", "+3.000 s"),
        ("event", s.job_dead, "2026-11-27 05:00:08.000 UTC", "+8.000 s"),
    ]


def page(client: Client, root: str, key: str) -> Any:
    response = client.get(trace_url(root, key))
    assert response.status_code == 200
    return response


def roots(s: Scenario) -> list[tuple[str, str]]:
    return [
        (Root.CORRELATION, CORRELATION),
        (Root.TASK, str(s.task.pk)),
        (Root.JOB, str(s.job.pk)),
        (Root.THREAD, s.thread.thread_id),
        (Root.AGENT_EXECUTION, s.agent_execution.execution_id),
    ]


def test_every_related_row_is_on_the_timeline_in_time_order_with_ms_times_and_offsets(
    operator_client, scenario
):
    for root, key in roots(scenario):
        response = page(operator_client, root, key)
        rows = response.context["rows"]

        want = expected_order(scenario)
        assert [(r["kind"], r["url"], r["at"], r["offset"]) for r in rows] == [
            (kind, url_of(obj), time, offset) for kind, obj, time, offset in want
        ], root
        html = response.content.decode()
        assert len(re.findall(r'<tr class="trace-entry ', html)) == len(want)
        assert 'id="trace-timeline"' in html


def url_of(obj: Any) -> str:
    opts = obj._meta
    return reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[obj.pk])


@settings(max_examples=300, deadline=None)
@given(key=st.text(min_size=1, max_size=40))
def test_a_rows_link_is_the_admins_own_url_for_it(key):
    """The trace builds change-page URLs from one reversed pattern per model; Django's
    ``reverse`` is the reference, for any key (slashes, underscores, percent signs, unicode)."""
    from django.contrib.admin.utils import quote

    from agents_audit.admin_trace import _change_url

    for app_label, model_name in (("agents_audit", "checkpointthread"), ("agents_audit", "job")):
        expected = reverse(f"admin:{app_label}_{model_name}_change", args=[quote(key)])
        assert _change_url(app_label, model_name, key) == expected


def test_duration_bars_are_proportional_and_rows_without_a_duration_get_a_tick(
    operator_client, scenario
):
    rows = page(operator_client, Root.CORRELATION, CORRELATION).context["rows"]
    by_url = {r["url"]: r for r in rows}

    # The span is 0 s (the task's creation) to 9 s (its completion): 9,000 ms.
    task = by_url[url_of(scenario.task)]
    assert (task["left"], task["width"], task["duration"]) == ("0.000", "100.000", "9.0 s")
    # A tool execution is recorded when it ends: its 500 ms end at 1.5 s.
    tool = by_url[url_of(scenario.tool_ok)]
    assert (tool["left"], tool["width"], tool["duration"]) == ("11.111", "5.556", "500 ms")
    agent = by_url[url_of(scenario.agent_execution)]
    assert (agent["left"], agent["width"]) == ("5.556", "44.444")
    html = page(operator_client, Root.CORRELATION, CORRELATION).content.decode()
    assert 'class="trace-bar trace-bar-span" style="left: 11.111%; width: 5.556%"' in html
    # Events, threads and checkpoints have no duration: a tick where they happened.
    assert 'class="trace-bar trace-bar-tick" style="left: 0.111%"' in html  # the event at 10 ms
    assert html.count('class="trace-bar trace-bar-tick"') == 4


def test_statuses_are_coloured_and_errors_are_shown_inline(operator_client, scenario):
    html = page(operator_client, Root.TASK, str(scenario.task.pk)).content.decode()

    for error in ("connection refused", "deploy failed: exit 1", "retries exhausted", "exit 1"):
        assert re.search(rf'<div class="trace-error">{re.escape(error)}</div>', html), error
    assert re.search(r'class="status status-bad"[^>]*>Failed</span>', html)
    assert re.search(r'class="status status-bad"[^>]*>Dead \(retries exhausted\)</span>', html)
    assert re.search(r'class="status status-good"[^>]*>Success</span>', html)
    # An event's outcome is its type's last word: job_dead is bad.
    assert re.search(
        r'class="status status-bad"[^>]*>Job dead \(retries exhausted or not retryable\)', html
    )


def test_json_is_pretty_printed_escaped_and_folded(operator_client, scenario):
    html = page(operator_client, Root.CORRELATION, CORRELATION).content.decode()

    assert "<script>alert(1)</script>" not in html
    assert (
        '<details class="trace-json"><summary>inputs</summary>'
        '<pre style="white-space: pre-wrap; margin: 0">'
        "{\n  &quot;cmd&quot;: &quot;&lt;script&gt;alert(1)&lt;/script&gt;&quot;\n}</pre>"
        "</details>"
    ) in html


def test_each_kind_is_bounded_and_the_page_says_how_many_more(
    operator_client, scenario, monkeypatch
):
    monkeypatch.setattr(trace_module, "KIND_LIMIT", 1)
    monkeypatch.setattr(admin_trace, "KIND_LIMIT", 1)

    response = page(operator_client, Root.CORRELATION, CORRELATION)

    kinds = [r["kind"] for r in response.context["rows"]]
    assert kinds.count("tool_execution") == 1
    assert kinds.count("event") == 1
    html = response.content.decode()
    assert "and 1 more tool execution." in html
    assert "and 1 more event." in html
    assert 'id="trace-truncated"' in html
    # the oldest are kept
    assert url_of(scenario.tool_ok) in html
    assert url_of(scenario.tool_failed) not in html


@pytest.mark.parametrize(
    ("root", "key"),
    [
        (Root.CORRELATION, "no-such-correlation"),
        (Root.CORRELATION, "x" * 65),  # longer than any stored correlation id
        (Root.CORRELATION, "   "),
        (Root.TASK, "not-a-uuid"),
        (Root.TASK, "2b7d3f52-6a4e-4a55-9a0e-0c1b2d3e4f50"),
        (Root.JOB, "99999999999999999999999"),
        (Root.JOB, "-1"),
        (Root.JOB, "1_0"),
        (Root.THREAD, "t" * 300),
        (Root.THREAD, "no/such/../thread"),
        (Root.AGENT_EXECUTION, "no-such-execution"),
        (Root.AGENT_EXECUTION, "e" * 101),
    ],
)
def test_an_id_that_names_nothing_is_an_empty_timeline_that_says_so(
    operator_client, scenario, root, key
):
    response = page(operator_client, root, key)

    html = response.content.decode()
    assert response.context["rows"] == []
    assert 'id="trace-empty"' in html
    assert "was found: nothing to show" in html


def test_a_page_with_no_id_says_what_to_follow(operator_client):
    response = operator_client.get(reverse("admin:agents_audit_trace"))

    assert response.status_code == 200
    assert "Nothing to trace" in response.content.decode()


def test_a_nul_in_the_id_is_dropped_with_a_message_never_a_database_error(
    operator_client, scenario
):
    query = urlencode({"correlation_id": "a\x00b"})

    response = operator_client.get(f"{reverse('admin:agents_audit_trace')}?{query}", follow=True)

    assert response.status_code == 200
    assert "null characters are not allowed" in response.content.decode()
    # the selector refuses it too, whoever calls it
    assert not trace_for(Root.CORRELATION, "a\x00b", permitted=lambda kind: True).found
    assert not trace_for(Root.THREAD, "a\x00b", permitted=lambda kind: True).found


def test_a_thread_no_task_names_is_the_thread_and_its_checkpoints(operator_client):
    thread = CheckpointThreadFactory.create(thread_id="lonely", created_at=at(0))
    checkpoint = CheckpointFactory.create(thread=thread, created_at=at(1.25))

    rows = page(operator_client, Root.THREAD, "lonely").context["rows"]

    assert [(r["url"], r["offset"]) for r in rows] == [
        (url_of(thread), "+0.000 s"),
        (url_of(checkpoint), "+1.250 s"),
    ]


def test_an_agent_execution_no_tool_call_names_is_the_execution_alone(operator_client):
    execution = AgentExecutionFactory.create(execution_id="quiet", created_at=at(0))
    ToolExecutionFactory.create(agent_id="someone-else")

    rows = page(operator_client, Root.AGENT_EXECUTION, "quiet").context["rows"]

    assert [r["url"] for r in rows] == [url_of(execution)]


def test_the_id_is_shown_as_text(operator_client):
    html = page(operator_client, Root.CORRELATION, "<script>x</script>").content.decode()

    assert "<script>x</script>" not in html
    assert "&lt;script&gt;x&lt;/script&gt;" in html


def test_anonymous_visitors_are_sent_to_the_login_page(scenario):
    response = Client().get(trace_url(Root.CORRELATION, CORRELATION))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))


@pytest.mark.parametrize("make_user", [AgentUserFactory.create, UserFactory.create])
def test_agents_and_customers_have_no_access(scenario, make_user):
    user: User = make_user()
    client = Client()
    client.force_login(user)

    response = client.get(trace_url(Root.CORRELATION, CORRELATION))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))
    assert CORRELATION not in response.content.decode()


# The session, the user, then one statement per kind of row (the tasks' look-up included).
TRACE_PAGE_QUERIES = {
    Root.CORRELATION: 2 + 8,
    Root.TASK: 2 + 1 + 7,  # the task, then its jobs, events, tools, agents, logs, threads, cps
    Root.JOB: 2 + 1 + 7,
    Root.THREAD: 2 + 1 + 7,
    # the execution, the correlation ids of its tool calls, then the correlation's eight
    Root.AGENT_EXECUTION: 2 + 1 + 1 + 8,
}


@pytest.mark.parametrize("root", Root.ALL)
def test_a_trace_costs_a_constant_number_of_queries(operator_client, scenario, root):
    key = dict(roots(scenario))[root]
    with CaptureQueriesContext(connection) as small:
        page(operator_client, root, key)
    # ten times the rows of each kind
    for n in range(9):
        ToolExecutionFactory.create(correlation_id=CORRELATION, created_at=at(4 + n))
        event(
            created_at=at(4 + n),
            subject_type=Event.Subject.TASK,
            subject_id=str(scenario.task.pk),
            event_type=Event.Type.TASK_UPDATED,
            correlation_id=CORRELATION,
        )
        ExecutionLogFactory.create(task=scenario.task, step_number=2 + n, timestamp=at(4 + n))
        JobFactory.create(task=scenario.task, created_at=at(4 + n))
        CheckpointFactory.create(thread=scenario.thread, created_at=at(4 + n))

    with CaptureQueriesContext(connection) as large:
        response = page(operator_client, root, key)

    assert len(response.context["rows"]) > 40
    assert len(small.captured_queries) == TRACE_PAGE_QUERIES[root], small.captured_queries
    assert len(large.captured_queries) == TRACE_PAGE_QUERIES[root], large.captured_queries


def explain(sql: str) -> dict[str, Any]:
    with transaction.atomic(), connection.cursor() as cursor:
        # Small tables: forbid the sequential scan, so that only a missing index shows one.
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}")
        plan: dict[str, Any] = cursor.fetchone()[0][0]["Plan"]
        return plan


def unbounded_scans(node: dict[str, Any]) -> list[str]:
    """The scans of a plan that read a whole table: a sequential scan, or an index walked from
    end to end (no ``Index Cond``: an index that only gives the order, a filter doing the
    work)."""
    found = []
    kind = node["Node Type"]
    if kind == "Seq Scan" or (
        kind in ("Index Scan", "Index Only Scan", "Bitmap Index Scan") and "Index Cond" not in node
    ):
        found.append(f"{kind} on {node.get('Relation Name') or node.get('Index Name')}")
    for child in node.get("Plans", ()):
        found.extend(unbounded_scans(child))
    return found


TRACED_TABLES = (
    "tool_executions",
    "agent_executions",
    "events",
    "jobs",
    "tasks",
    "execution_logs",
    "checkpoint_threads",
    "checkpoints",
    "users",
)


def other_traces(count: int = 100) -> None:
    """Rows of ``count`` other traces, then fresh statistics: the planner's choice must be
    the one it makes on a table with many traces. On statistics of a near-empty table (which
    autovacuum takes at any moment of a test run) walking a whole index is as cheap as
    anything, and the test would fail or pass by the clock."""
    ToolExecutionFactory.create_batch(count)
    AgentExecutionFactory.create_batch(count)
    JobFactory.create_batch(count)
    ExecutionLogFactory.create_batch(count)
    CheckpointFactory.create_batch(count)
    Event.objects.bulk_create(
        Event(
            subject_type=Event.Subject.TASK,
            subject_id=str(uuid.uuid4()),
            event_type=Event.Type.TASK_UPDATED,
            correlation_id=f"corr-noise-{n}",
        )
        for n in range(count)
    )
    with connection.cursor() as cursor:
        for table in TRACED_TABLES:
            cursor.execute(f'ANALYZE "{table}"')  # in the test's transaction: rolled back


@pytest.mark.parametrize("root", Root.ALL)
def test_every_query_of_a_trace_is_served_by_an_index(scenario, root):
    other_traces()
    key = dict(roots(scenario))[root]
    with CaptureQueriesContext(connection) as captured:
        trace = trace_for(root, key, permitted=lambda kind: True)
    assert trace.found

    statements = [q["sql"] for q in captured.captured_queries]
    assert len(statements) >= 7
    for sql in statements:
        plan = explain(sql)
        assert unbounded_scans(plan) == [], f"{sql}\n{plan}"


def test_permitted_kinds_only_are_returned(scenario):
    trace = trace_for(
        Root.CORRELATION, CORRELATION, permitted=lambda kind: kind is not trace_module.JOB
    )

    assert trace.rows(trace_module.JOB) == []
    assert trace.rows(trace_module.TASK) == [scenario.task]  # still reached through the job


# --- links from every row that carries an id to trace -----------------------------------------


def link_rows(s: Scenario) -> list[tuple[Any, str, str]]:
    """(row, root, key) for every row that links to a trace."""
    return [
        (s.tool_ok, Root.CORRELATION, CORRELATION),
        (s.agent_execution, Root.AGENT_EXECUTION, s.agent_execution.execution_id),
        (s.task_created, Root.CORRELATION, CORRELATION),
        (s.task, Root.TASK, str(s.task.pk)),
        (s.log, Root.TASK, str(s.task.pk)),
        (s.job, Root.TASK, str(s.task.pk)),
        (s.thread, Root.THREAD, s.thread.thread_id),
        (s.checkpoint, Root.THREAD, s.thread.thread_id),
    ]


def trace_href(root: str, key: str) -> str:
    return trace_url(root, key).replace("&", "&amp;")


def test_changelists_link_each_row_to_its_trace(operator_client, scenario):
    for obj, root, key in link_rows(scenario):
        opts = obj._meta
        changelist = reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")

        html = operator_client.get(changelist).content.decode()

        assert f'<a class="trace-link" href="{trace_href(root, key)}"' in html, opts.label


def test_change_pages_link_to_the_trace(operator_client, scenario):
    for obj, root, key in link_rows(scenario):
        response = operator_client.get(url_of(obj))

        assert response.status_code == 200
        assert f'<a class="trace-link" href="{trace_href(root, key)}"' in (
            response.content.decode()
        ), obj._meta.label


def test_an_event_without_a_correlation_id_links_to_its_subjects_trace(operator_client, scenario):
    about_job = event(
        subject_type=Event.Subject.JOB,
        subject_id=str(scenario.job.pk),
        event_type=Event.Type.JOB_CLAIMED,
    )
    about_order = event(
        subject_type=Event.Subject.ORDER, subject_id="42", event_type=Event.Type.TASK_UPDATED
    )

    job_page = operator_client.get(url_of(about_job)).content.decode()
    order_page = operator_client.get(url_of(about_order)).content.decode()

    assert f'href="{trace_href(Root.JOB, str(scenario.job.pk))}"' in job_page
    assert "trace-link" not in order_page
    # and the job's trace is its task's
    rows = page(operator_client, Root.JOB, str(scenario.job.pk)).context["rows"]
    assert url_of(about_job) in [r["url"] for r in rows]
