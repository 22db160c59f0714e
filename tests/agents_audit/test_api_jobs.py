"""The job queue over HTTP: agent workers enqueue, claim, heartbeat, complete and fail; operators
cancel, retry, pause and read the queue's depth."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from rest_framework.test import APIClient

from agents_audit.models import Event, Job, Task
from agents_audit.services import jobs as queue_services
from agents_audit.services.tasks import task_approve, task_create
from commerce.models import User
from tests.agents_audit.queue import expire_leases, job_row, make_due
from tests.conftest import error_codes

pytestmark = pytest.mark.django_db

CLAIM = "/api/v1/jobs/claim/"


@pytest.fixture
def task(agent_a: User, operator: User) -> Task:
    """agent_a's task, approved by an operator (which queued its first job, task.execute)."""
    created = task_create(request_text="Deploy v2 to staging", created_by=agent_a)
    return task_approve(task=created, by=operator)


def _enqueue(client: APIClient, task: Task, **body: Any) -> Any:
    return client.post(
        f"/api/v1/tasks/{task.pk}/jobs/", {"job_type": "deploy", **body}, format="json"
    )


def _claim(client: APIClient, *job_types: str, **body: Any) -> Any:
    return client.post(
        CLAIM,
        {"worker_id": "worker-1", "job_types": list(job_types or ["deploy"]), **body},
        format="json",
    )


# --- enqueue ---------------------------------------------------------------------------------


def test_the_tasks_creator_queues_a_job_for_its_approved_task(agent_client, task):
    response = _enqueue(agent_client, task, payload={"service": "web"}, priority=5)

    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["task"], body["job_type"], body["status"]) == (str(task.pk), "deploy", "queued")
    assert (body["payload"], body["priority"], body["attempts"]) == ({"service": "web"}, 5, 0)
    assert "lease_token" not in body


def test_a_live_dedupe_key_returns_the_existing_job(agent_client, task):
    first = _enqueue(agent_client, task, dedupe_key="deploy-v2")
    again = _enqueue(agent_client, task, dedupe_key="deploy-v2", payload={"other": 1})

    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["id"] == first.json()["id"]
    assert Job.objects.filter(dedupe_key="deploy-v2").count() == 1


def test_a_pending_task_takes_no_jobs(agent_client, agent_a):
    pending = task_create(request_text="Not yet approved", created_by=agent_a)

    response = _enqueue(agent_client, pending)

    assert response.status_code == 409
    assert response.json()["code"] == "task_not_runnable"
    assert not Job.objects.filter(task=pending).exists()


@pytest.mark.parametrize(
    ("body", "field", "code"),
    [
        ({"job_type": ""}, "job_type", "blank"),
        ({"job_type": "Deploy Now"}, "job_type", "invalid"),
        ({"priority": 40000}, "priority", "max_value"),
        ({"max_retries": -1}, "max_retries", "min_value"),
        ({"retry_backoff_seconds": 0}, "retry_backoff_seconds", "min_value"),
        ({"payload": [1, 2]}, "payload", "not_an_object"),
        ({"run_after": "tomorrow"}, "run_after", "invalid"),
        ({"lease_token": "x"}, "lease_token", "unknown_field"),
    ],
)
def test_bad_enqueue_input_is_a_400_by_field_and_queues_nothing(
    agent_client, task, body, field, code
):
    before = Job.objects.count()

    response = _enqueue(agent_client, task, **body)

    assert response.status_code == 400, response.json()
    assert code in error_codes(response.json())[field]
    assert Job.objects.count() == before


def test_another_agents_task_is_not_found(agent_b_client, task):
    assert _enqueue(agent_b_client, task).status_code == 404
    assert agent_b_client.get(f"/api/v1/tasks/{task.pk}/jobs/").status_code == 404


def test_a_tasks_jobs_are_listed_oldest_first(agent_client, task):
    _enqueue(agent_client, task, job_type="build")

    response = agent_client.get(f"/api/v1/tasks/{task.pk}/jobs/")

    assert response.status_code == 200
    assert [job["job_type"] for job in response.json()] == ["task.execute", "build"]


# --- claim and finish --------------------------------------------------------------------------


def test_a_worker_claims_the_highest_priority_job_and_completes_it(agent_client, task):
    low = _enqueue(agent_client, task, priority=1).json()
    high = _enqueue(agent_client, task, priority=9, payload={"n": 9}).json()

    claimed = _claim(agent_client, lease_seconds=120)

    assert claimed.status_code == 200
    job = claimed.json()
    assert (job["id"], job["payload"], job["attempts"]) == (high["id"], {"n": 9}, 1)
    uuid.UUID(job["lease_token"])
    done = agent_client.post(
        f"/api/v1/jobs/{job['id']}/complete/",
        {"lease_token": job["lease_token"], "result": {"url": "https://example.com"}},
        format="json",
    )
    assert done.status_code == 200, done.json()
    assert (done.json()["status"], done.json()["result"]) == (
        "succeeded",
        {"url": "https://example.com"},
    )
    assert Job.objects.get(pk=low["id"]).status == Job.Status.QUEUED


def test_nothing_to_do_is_a_204(agent_client, task):
    response = _claim(agent_client, "nothing.here")

    assert response.status_code == 204
    assert response.content == b""


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"job_types": []}, "job_types"),
        ({"job_types": ["deploy"] * 21}, "job_types"),
        ({"wait_seconds": 31}, "wait_seconds"),
        ({"lease_seconds": 0}, "lease_seconds"),
        ({"worker_id": ""}, "worker_id"),
        ({"job_types": [5]}, "job_types"),
        ({"job_types": "deploy"}, "job_types"),
    ],
)
def test_bad_claims_are_400s(agent_client, body, field):
    response = agent_client.post(
        CLAIM, {"worker_id": "w", "job_types": ["deploy"], **body}, format="json"
    )

    assert response.status_code == 400
    assert field in response.json()["errors"]


def test_a_heartbeat_extends_the_lease(agent_client, task):
    _enqueue(agent_client, task)
    job = _claim(agent_client, lease_seconds=30).json()

    response = agent_client.post(
        f"/api/v1/jobs/{job['id']}/heartbeat/",
        {"lease_token": job["lease_token"], "lease_seconds": 600},
        format="json",
    )

    assert response.status_code == 200
    assert response.json()["lease_expires_at"] > job["lease_expires_at"]


def test_a_stale_worker_changes_nothing_after_its_lease_was_taken_over(agent_client, task):
    _enqueue(agent_client, task)
    stale = _claim(agent_client).json()
    expire_leases(stale["id"])
    fresh = _claim(agent_client).json()  # recovers the expired lease and takes the job
    assert fresh["id"] == stale["id"]
    before = job_row(Job(pk=stale["id"]))

    attempts: list[tuple[str, dict[str, Any]]] = [
        ("complete", {"result": {"late": True}}),
        ("fail", {"error": "late"}),
        ("heartbeat", {}),
    ]
    for verb, body in attempts:
        response = agent_client.post(
            f"/api/v1/jobs/{stale['id']}/{verb}/",
            {"lease_token": stale["lease_token"], **body},
            format="json",
        )
        assert response.status_code == 409, verb
        assert response.json()["code"] == "lease_lost"

    assert job_row(Job(pk=stale["id"])) == before


def test_a_failed_job_is_retried_after_its_backoff_then_dead(agent_client, task):
    job_id = _enqueue(agent_client, task, max_retries=1).json()["id"]
    first = _claim(agent_client).json()
    retry = agent_client.post(
        f"/api/v1/jobs/{job_id}/fail/",
        {"lease_token": first["lease_token"], "error": "timeout"},
        format="json",
    )
    assert (retry.status_code, retry.json()["status"]) == (200, "failed")
    assert _claim(agent_client).status_code == 204  # backing off
    make_due(job_id)
    second = _claim(agent_client).json()

    dead = agent_client.post(
        f"/api/v1/jobs/{job_id}/fail/",
        {"lease_token": second["lease_token"], "error": "timeout again"},
        format="json",
    )

    assert (second["id"], second["attempts"]) == (job_id, 2)
    assert (dead.json()["status"], dead.json()["last_error"]) == ("dead", "timeout again")


def test_a_failure_that_is_not_retryable_is_dead_at_once(agent_client, task):
    _enqueue(agent_client, task)
    job = _claim(agent_client).json()

    response = agent_client.post(
        f"/api/v1/jobs/{job['id']}/fail/",
        {"lease_token": job["lease_token"], "error": "bad payload", "retryable": False},
        format="json",
    )

    assert response.json()["status"] == "dead"


def test_an_unknown_job_is_a_404(agent_client):
    response = agent_client.post(
        "/api/v1/jobs/999999/complete/", {"lease_token": str(uuid.uuid4())}, format="json"
    )
    assert response.status_code == 404


def test_claims_record_the_correlation_id_and_key_prefix(agent_client, task):
    _enqueue(agent_client, task)

    job = agent_client.post(
        CLAIM,
        {"worker_id": "w", "job_types": ["deploy"]},
        format="json",
        HTTP_X_CORRELATION_ID="trace-42",
    ).json()

    event = Event.objects.get(
        subject_type="job", subject_id=str(job["id"]), event_type="job_claimed"
    )
    assert event.correlation_id == "trace-42"
    assert len(event.api_key_prefix) == 8


def test_a_malformed_correlation_id_is_a_400(agent_client):
    response = agent_client.post(
        CLAIM,
        {"worker_id": "w", "job_types": ["deploy"]},
        format="json",
        HTTP_X_CORRELATION_ID="no spaces allowed",
    )
    assert response.status_code == 400
    assert "X-Correlation-ID" in response.json()["errors"]


# --- reading jobs ------------------------------------------------------------------------------


def test_jobs_are_visible_to_their_tasks_creator_and_operators_only(
    agent_client, agent_b_client, operator_api, task
):
    job_id = _enqueue(agent_client, task).json()["id"]

    assert agent_client.get(f"/api/v1/jobs/{job_id}/").status_code == 200
    assert operator_api.get(f"/api/v1/jobs/{job_id}/").status_code == 200
    assert agent_b_client.get(f"/api/v1/jobs/{job_id}/").status_code == 404


# --- operators ---------------------------------------------------------------------------------


def test_operators_cancel_and_retry_jobs_and_agents_may_not(agent_client, operator_api, task):
    job_id = _enqueue(agent_client, task).json()["id"]

    assert agent_client.post(f"/api/v1/jobs/{job_id}/cancel/").status_code == 403
    cancelled = operator_api.post(f"/api/v1/jobs/{job_id}/cancel/")
    again = operator_api.post(f"/api/v1/jobs/{job_id}/cancel/")
    assert agent_client.post(f"/api/v1/jobs/{job_id}/retry/").status_code == 403
    retried = operator_api.post(f"/api/v1/jobs/{job_id}/retry/")

    assert (cancelled.status_code, cancelled.json()["status"]) == (200, "cancelled")
    assert (again.status_code, again.json()["code"]) == (409, "invalid_transition")
    assert (retried.status_code, retried.json()["status"]) == (200, "queued")


def test_a_running_jobs_worker_loses_its_lease_when_an_operator_cancels_it(
    agent_client, operator_api, task
):
    _enqueue(agent_client, task)
    job = _claim(agent_client).json()

    operator_api.post(f"/api/v1/jobs/{job['id']}/cancel/")
    response = agent_client.post(
        f"/api/v1/jobs/{job['id']}/complete/", {"lease_token": job["lease_token"]}, format="json"
    )

    assert (response.status_code, response.json()["code"]) == (409, "lease_lost")
    assert Job.objects.get(pk=job["id"]).status == Job.Status.CANCELLED


def test_a_paused_job_type_is_not_claimed_until_resumed(agent_client, operator_api, task):
    job_id = _enqueue(agent_client, task).json()["id"]

    assert agent_client.post("/api/v1/job-types/deploy/pause/").status_code == 403
    paused = operator_api.post("/api/v1/job-types/deploy/pause/")
    while_paused = _claim(agent_client)
    resumed = operator_api.delete("/api/v1/job-types/deploy/pause/")
    after = _claim(agent_client)

    assert (paused.status_code, paused.json()) == (200, {"job_type": "deploy", "paused": True})
    assert while_paused.status_code == 204
    assert resumed.json() == {"job_type": "deploy", "paused": False}
    assert after.json()["id"] == job_id


def test_an_invalid_job_type_in_the_path_is_not_found(operator_api):
    assert operator_api.post("/api/v1/job-types/Not%20A%20Type/pause/").status_code == 404


def test_operators_read_the_queues_depth(agent_client, operator_api, task):
    _enqueue(agent_client, task)
    _enqueue(agent_client, task, job_type="build")
    _claim(agent_client, "build")
    operator_api.post("/api/v1/job-types/build/pause/")

    response = operator_api.get("/api/v1/jobs/stats/")

    assert response.status_code == 200
    assert response.json()["job_types"] == [
        {"job_type": "build", "queued": 0, "running": 1, "failed": 0, "paused": True},
        {"job_type": "deploy", "queued": 1, "running": 0, "failed": 0, "paused": False},
        {"job_type": "task.execute", "queued": 1, "running": 0, "failed": 0, "paused": False},
    ]
    assert response.json()["waiting_claims"] == 0
    assert agent_client.get("/api/v1/jobs/stats/").status_code == 403


def test_dedupe_keys_are_per_task_another_agents_job_neither_answers_nor_blocks(
    agent_client, agent_b_client, agent_b, operator, task
):
    mine = _enqueue(agent_client, task, dedupe_key="nightly", payload={"secret": "A"}).json()
    theirs_task = task_approve(
        task=task_create(request_text="B's nightly run", created_by=agent_b), by=operator
    )

    response = _enqueue(agent_b_client, theirs_task, dedupe_key="nightly", payload={"b": 1})

    assert response.status_code == 201
    body = response.json()
    assert (body["task"], body["payload"]) == (str(theirs_task.pk), {"b": 1})
    assert body["id"] != mine["id"]


def test_a_heartbeat_never_shortens_the_lease(agent_client, task):
    _enqueue(agent_client, task)
    job = _claim(agent_client, lease_seconds=600).json()

    beat = agent_client.post(
        f"/api/v1/jobs/{job['id']}/heartbeat/",
        {"lease_token": job["lease_token"]},  # the default 60 s
        format="json",
    )

    assert beat.json()["lease_expires_at"] == job["lease_expires_at"]


def test_a_job_deleted_while_an_operator_cancels_it_is_a_404(
    operator_api, agent_client, task, monkeypatch
):
    job_id = _enqueue(agent_client, task).json()["id"]
    real = queue_services.job_cancel

    def deleted_meanwhile(**kwargs: Any) -> Any:
        Job.objects.filter(pk=job_id).delete()  # a cascade or a prune between read and lock
        return real(**kwargs)

    monkeypatch.setattr(queue_services, "job_cancel", deleted_meanwhile)

    assert operator_api.post(f"/api/v1/jobs/{job_id}/cancel/").status_code == 404
