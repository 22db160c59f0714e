"""The event and job lists at a million rows: one event type's events (a rare type too), one job
type's jobs, and the exact searches by event type, subject id, job type and thread id are each
answered through an index condition, never by walking the table or its primary key.

The plans are taken on statistics of tables with many rows of other types (``ANALYZE`` inside the
test's transaction): on a near-empty table's statistics walking any index is as cheap as anything.
"""

from __future__ import annotations

import uuid

import pytest
from django.contrib import admin
from django.db import connection

from agents_audit.models import Event, Job
from tests.admin_plans import changelist, explain, first_page, nodes
from tests.agents_audit.factories import JobFactory, TaskFactory
from tests.agents_audit.queue import db_now

pytestmark = pytest.mark.django_db


@pytest.fixture
def many_events_and_jobs() -> None:
    Event.objects.bulk_create(
        Event(
            subject_type=Event.Subject.TASK,
            subject_id=str(uuid.uuid4()),
            event_type=Event.Type.TASK_UPDATED if n % 10 else Event.Type.TASK_CREATED,
        )
        for n in range(2000)
    )
    for n in range(60):
        JobFactory.create(job_type=f"type-{n % 3}", status="succeeded", finished_at=db_now())
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE events")  # in the test's transaction: rolled back
        cursor.execute("ANALYZE jobs")


def index_conditions(plan: dict) -> dict[str, bool]:
    """Each index the plan reads, and whether it is read through a condition."""
    return {
        n["Index Name"]: "Index Cond" in n
        for n in nodes(plan)
        if n["Node Type"] in {"Index Scan", "Index Only Scan", "Bitmap Index Scan"}
    }


def page_plan(model: type, operator, *, search: bool = False, **params: str) -> dict:
    cl = changelist(admin.site._registry[model], operator, **params)
    return explain(first_page(cl), search=search)


def test_a_rare_event_types_events_are_read_through_their_own_index(many_events_and_jobs, operator):
    plan = page_plan(Event, operator, event_type__exact=Event.Type.JOB_TYPE_PAUSED)

    assert index_conditions(plan)["events_type_idx"] is True, plan
    assert "events_pkey" not in index_conditions(plan), plan


@pytest.mark.parametrize(
    "term", ["6f1c2b9e-5d4a-4c3b-9a8f-0e1d2c3b4a59", "task_created", "corr-42"]
)
def test_an_event_search_reads_every_field_through_an_index(many_events_and_jobs, operator, term):
    plan = page_plan(Event, operator, search=True, q=term)

    used = index_conditions(plan)
    assert {"events_subject_id_idx", "events_type_idx", "events_correlation_idx"} <= set(used)
    assert all(used.values()), plan
    assert not [n for n in nodes(plan) if n["Node Type"] == "Seq Scan"], plan


def test_a_rare_job_types_jobs_are_read_through_their_own_index(many_events_and_jobs, operator):
    plan = page_plan(Job, operator, job_type="report.render")

    assert index_conditions(plan)["jobs_type_idx"] is True, plan
    assert "jobs_pkey" not in index_conditions(plan), plan


def test_a_job_search_by_type_or_thread_reads_through_indexes(many_events_and_jobs, operator):
    JobFactory.create(task=TaskFactory.create(thread_id="thread-7"))

    plan = page_plan(Job, operator, search=True, q="thread-7")

    used = index_conditions(plan)
    assert "jobs_type_idx" in used
    assert "jobs_task_idx" in used
    assert all(used.values()), plan
    assert not [n for n in nodes(plan) if n["Node Type"] == "Seq Scan"], plan
