"""Issue 8's finish line, end to end through the interfaces people and agents use: an operator
approves a task in the admin, an agent worker claims its job over the API, the worker dies
mid-job, another worker takes the job over and completes it exactly once, and the post-mortem
reports and the event trail show it all."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from agents_audit.models import Event, Job, Task
from commerce.models import User
from tests.agents_audit.queue import expire_leases
from tests.conftest import key_client

pytestmark = pytest.mark.django_db


def test_an_approved_task_runs_to_completion_through_a_dying_worker(agent_a: User, operator: User):
    agent = key_client(agent_a)
    operator_api = key_client(operator)
    admin = Client()
    admin.force_login(operator)

    # An agent files a task; nothing runs before an operator approves it.
    created = agent.post(
        "/api/v1/tasks/",
        {"request_text": "Rotate the shop's TLS certificates"},
        format="json",
        HTTP_X_CORRELATION_ID="tls-rotation",
    )
    task_id = created.json()["id"]
    claim = {"worker_id": "worker-1/pid-100", "job_types": ["task.execute"]}
    assert agent.post("/api/v1/jobs/claim/", claim, format="json").status_code == 204

    # The operator approves it in the admin: its first job is queued.
    approved = admin.post(
        reverse("admin:agents_audit_task_changelist"),
        {"action": "approve", "_selected_action": [task_id]},
        follow=True,
    )
    assert approved.status_code == 200
    assert Task.objects.get(pk=task_id).status == Task.Status.APPROVED

    # Worker 1 claims the job, starts the task, logs a step, and dies (no heartbeat, no result).
    first = agent.post("/api/v1/jobs/claim/", claim, format="json").json()
    assert first["payload"]["task_id"] == task_id
    agent.post(f"/api/v1/tasks/{task_id}/start/", format="json")
    agent.post(
        f"/api/v1/tasks/{task_id}/logs/",
        {
            "step_number": 1,
            "agent_type": "infra",
            "action": "request certificates",
            "status": "completed",
            "duration_ms": 1200,
        },
        format="json",
    )
    expire_leases(first["id"])  # its lease runs out (time faked in SQL)

    # Worker 2's claim takes the job over (attempt 2) and finishes it.
    second = agent.post(
        "/api/v1/jobs/claim/",
        {"worker_id": "worker-2/pid-200", "job_types": ["task.execute"]},
        format="json",
    ).json()
    assert (second["id"], second["attempts"]) == (first["id"], 2)
    agent.post(
        f"/api/v1/tasks/{task_id}/logs/",
        {
            "step_number": 2,
            "agent_type": "infra",
            "action": "install certificates",
            "status": "completed",
            "duration_ms": 800,
        },
        format="json",
    )
    done = agent.post(
        f"/api/v1/jobs/{second['id']}/complete/",
        {"lease_token": second["lease_token"], "result": {"rotated": 3}},
        format="json",
    )
    assert done.json()["status"] == "succeeded"
    completed = agent.post(
        f"/api/v1/tasks/{task_id}/complete/",
        {"external_ai_model": "gpt-4o", "external_ai_tokens": 1500, "external_ai_cost": "0.045"},
        format="json",
    )
    assert completed.json()["status"] == "completed"

    # The dead worker comes back and reports late: it changes nothing.
    late = agent.post(
        f"/api/v1/jobs/{first['id']}/complete/",
        {"lease_token": first["lease_token"], "result": {"rotated": 0}},
        format="json",
    )
    assert (late.status_code, late.json()["code"]) == (409, "lease_lost")
    job = Job.objects.get(pk=first["id"])
    assert (job.status, job.result, job.worker_id) == (
        "succeeded",
        {"rotated": 3},
        "worker-2/pid-200",
    )

    # Exactly once, and the trail says how.
    assert list(
        Event.objects.filter(subject_type="job", subject_id=str(job.pk))
        .order_by("id")
        .values_list("event_type", flat=True)
    ) == ["job_enqueued", "job_claimed", "job_lease_expired", "job_claimed", "job_succeeded"]

    # The post-mortem reports show it.
    by_status = operator_api.get("/api/v1/reports/tasks-by-status/").json()
    assert {"status": "completed", "tasks": 1} in by_status["rows"]
    timeline = operator_api.get(f"/api/v1/reports/task-timeline/?task={task_id}").json()
    assert [row["action"] for row in timeline["rows"]] == [
        "request certificates",
        "install certificates",
    ]
    cost = operator_api.get("/api/v1/reports/ai-cost-by-model/").json()
    assert [(row["model"], row["tokens"], row["cost"]) for row in cost["rows"]] == [
        ("gpt-4o", 1500, "0.045000")
    ]
