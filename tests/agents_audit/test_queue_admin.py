"""The job admin is a client of the queue's services: jobs are read-only (never added, edited or
deleted by hand), Cancel and Retry are actions that call ``job_cancel`` / ``job_retry`` and
report refusals per job, and job types are paused and resumed on their own page."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.db import connection, transaction
from django.urls import reverse

from agents_audit.admin import JobTypeFilter
from agents_audit.models import Event, Job, JobTypePause
from agents_audit.selectors import LIVE_JOB_TYPES_SQL, live_job_types
from agents_audit.services.jobs import job_claim, job_fail, job_type_pause
from tests.agents_audit.factories import JobFactory
from tests.agents_audit.queue import db_now, job_events, job_row

pytestmark = pytest.mark.django_db

JOBS = reverse("admin:agents_audit_job_changelist")
PAUSES = reverse("admin:agents_audit_jobtypepause_changelist")
ADD_PAUSE = reverse("admin:agents_audit_jobtypepause_add")


def messages_of(response: Any) -> list[str]:
    return [str(m) for m in response.context["messages"]]


def dead_job() -> Job:
    job = JobFactory.create(job_type="flaky", max_retries=0)
    claimed = job_claim(worker_id="w1", job_types=["flaky"])
    assert claimed is not None
    job_fail(job_id=job.pk, lease_token=claimed.lease_token, error="boom")
    return job


def test_the_changelist_shows_the_queue_and_filters_by_status_and_type(operator_client, operator):
    queued = JobFactory.create(job_type="deploy", priority=3)
    dead = dead_job()
    JobFactory.create(job_type="archive", status="succeeded", finished_at=db_now())
    job_type_pause(job_type="paused.type", by=operator)

    page = operator_client.get(JOBS)
    assert page.status_code == 200
    html = page.content.decode()
    assert reverse("admin:agents_audit_task_change", args=[queued.task_id]) in html
    assert "1 / 0" in html  # the dead job's attempts / max retries

    by_status = operator_client.get(JOBS, {"status": "dead"})
    assert list(by_status.context["cl"].result_list) == [dead]
    by_type = operator_client.get(JOBS, {"job_type": "archive"})
    assert [j.job_type for j in by_type.context["cl"].result_list] == ["archive"]

    type_filter = next(f for f in page.context["cl"].filter_specs if isinstance(f, JobTypeFilter))
    # live jobs' types and paused types; a type with only finished jobs is searched instead
    assert [value for value, _ in type_filter.lookup_choices] == ["deploy", "paused.type"]


def test_the_type_filter_offers_the_types_of_queued_running_and_retrying_jobs():
    JobFactory.create(job_type="deploy")
    JobFactory.create(job_type="render")
    assert job_claim(worker_id="w1", job_types=["render"]) is not None  # running
    JobFactory.create(job_type="flaky", status="failed", attempts=1)
    JobFactory.create(job_type="archive", status="succeeded", finished_at=db_now())
    JobFactory.create(job_type="deploy", status="cancelled", finished_at=db_now())

    assert live_job_types() == ["deploy", "flaky", "render"]


def plan_nodes(node: dict[str, Any]) -> list[dict[str, Any]]:
    return [node, *(n for child in node.get("Plans", ()) for n in plan_nodes(child))]


def test_the_type_filters_choices_are_index_probes_not_a_pass_over_every_job():
    # Statistics of a table of many finished jobs and a few live ones, as in production.
    for n in range(100):
        JobFactory.create(job_type=f"type-{n % 7}", status="succeeded", finished_at=db_now())
    JobFactory.create(job_type="render")
    assert job_claim(worker_id="w1", job_types=["render"]) is not None  # running
    JobFactory.create_batch(3, job_type="deploy")
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE jobs")  # in the test's transaction: rolled back

    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("EXPLAIN (FORMAT JSON) " + LIVE_JOB_TYPES_SQL, {"limit": 200})
        plan = cursor.fetchone()[0]
    plan = json.loads(plan) if isinstance(plan, str) else plan

    nodes = plan_nodes(plan[0]["Plan"])
    assert not [n for n in nodes if n["Node Type"] == "Seq Scan"], plan
    assert {n.get("Index Name") for n in nodes} >= {"jobs_runnable_idx", "jobs_running_lease_idx"}


def test_cancel_acts_through_the_service_and_reports_refusals(operator_client, operator):
    queued = JobFactory.create()
    finished = JobFactory.create(status="succeeded", finished_at=db_now())

    response = operator_client.post(
        JOBS, {"action": "cancel", "_selected_action": [queued.pk, finished.pk]}, follow=True
    )

    assert response.status_code == 200
    assert messages_of(response) == [
        f"{finished}: Cannot go from 'succeeded' to 'cancelled'.",
        "Cancelled: 1 job(s).",
    ]
    assert job_row(queued)["status"] == "cancelled"
    assert job_row(finished)["status"] == "succeeded"
    assert Event.objects.get(event_type="job_cancelled").actor == operator


def test_retry_sends_dead_jobs_back_and_reports_refusals(operator_client, operator):
    dead = dead_job()
    queued = JobFactory.create()

    response = operator_client.post(
        JOBS, {"action": "retry", "_selected_action": [dead.pk, queued.pk]}, follow=True
    )

    assert messages_of(response) == [
        f"{queued}: Cannot go from 'queued' to 'queued'.",
        "Sent back to the queue: 1 job(s).",
    ]
    assert (job_row(dead)["status"], job_row(dead)["attempts"]) == ("queued", 0)
    assert job_events(dead)[-1] == "job_retried"
    assert job_events(queued) == []


def test_nobody_adds_changes_or_deletes_a_job_here(admin_client):
    job = JobFactory.create()
    before = job_row(job)

    assert admin_client.get(reverse("admin:agents_audit_job_add")).status_code == 403
    assert (
        admin_client.get(reverse("admin:agents_audit_job_delete", args=[job.pk])).status_code == 403
    )
    change = reverse("admin:agents_audit_job_change", args=[job.pk])
    assert admin_client.post(change, {"status": "succeeded", "priority": 9}).status_code == 403
    page = admin_client.get(change).content.decode()
    assert 'name="_save"' not in page
    actions = admin_client.get(JOBS).context["action_form"].fields["action"].choices
    assert [name for name, _ in actions if name] == ["cancel", "retry"]
    assert job_row(job) == before


def test_an_operator_pauses_a_job_type_with_the_add_form(operator_client, operator):
    response = operator_client.post(ADD_PAUSE, {"job_type": "deploy"}, follow=True)

    assert response.status_code == 200
    pause = JobTypePause.objects.get()
    assert (pause.job_type, pause.paused_by) == ("deploy", operator)
    event = Event.objects.get(event_type="job_type_paused")
    assert (event.subject_id, event.actor) == ("deploy", operator)
    JobFactory.create(job_type="deploy")
    assert job_claim(worker_id="w", job_types=["deploy"]) is None


def test_a_bad_job_type_is_shown_on_the_form_and_nothing_is_paused(operator_client):
    response = operator_client.post(ADD_PAUSE, {"job_type": "Deploy Now"})

    assert response.status_code == 200
    assert response.context["adminform"].form.errors == {
        "__all__": ["job_type: Use lowercase letters, digits and _ . : - only."]
    }
    assert not JobTypePause.objects.exists()
    assert not Event.objects.exists()


def test_resume_is_an_action_and_pauses_are_not_edited_or_deleted(operator_client, operator):
    job_type_pause(job_type="deploy", by=operator)
    job_type_pause(job_type="build", by=operator)

    response = operator_client.post(
        PAUSES, {"action": "resume", "_selected_action": ["deploy"]}, follow=True
    )

    assert messages_of(response) == ["Resumed: deploy."]
    assert list(JobTypePause.objects.values_list("job_type", flat=True)) == ["build"]
    assert Event.objects.filter(event_type="job_type_resumed").get().subject_id == "deploy"
    delete = reverse("admin:agents_audit_jobtypepause_delete", args=["build"])
    assert operator_client.get(delete).status_code == 403
    change = reverse("admin:agents_audit_jobtypepause_change", args=["build"])
    assert operator_client.post(change, {"job_type": "other"}).status_code == 403
    assert list(JobTypePause.objects.values_list("job_type", flat=True)) == ["build"]
