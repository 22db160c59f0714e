"""Tasks over HTTP: ETag/If-Match, the lifecycle with its events and trace, logs and timeline.
(Who may call what: tests/api/test_auth_matrix.py.)"""

from __future__ import annotations

from typing import Any

import pytest

from agents_audit.models import Event, ExecutionLog, Task
from agents_audit.services.tasks import task_approve, task_create, task_start
from tests.agents_audit.factories import ProjectFactory
from tests.commerce.factories import OperatorFactory
from tests.conftest import error_codes

pytestmark = pytest.mark.django_db


def url(task: Task, action: str = "") -> str:
    return f"/api/v1/tasks/{task.pk}/" + (f"{action}/" if action else "")


@pytest.fixture
def task(agent_a) -> Task:
    return task_create(request_text="Deploy the shop", created_by=agent_a)


def approved(task: Task) -> Task:
    return task_approve(task=task, by=OperatorFactory.create())


def executing(task: Task) -> Task:
    return task_start(task=approved(task), by=None)


def key_prefix(client: Any) -> str:
    return client._credentials["HTTP_AUTHORIZATION"].split()[1].split(".")[0]


# --- ETag and If-Match -------------------------------------------------------------------------


def test_get_answers_the_version_as_a_weak_etag(agent_client, task):
    response = agent_client.get(url(task))

    assert response.status_code == 200
    assert response["ETag"] == 'W/"1"'
    assert response.json()["version"] == 1


@pytest.mark.parametrize("method", ["patch", "put"])
def test_a_change_without_if_match_is_a_428_and_changes_nothing(agent_client, task, method):
    body = {"request_text": "Something else", "project": None, "estimated_resources": None}

    response = getattr(agent_client, method)(url(task), body, format="json")

    assert response.status_code == 428
    assert response.json()["code"] == "precondition_required"
    task.refresh_from_db()
    assert (task.request_text, task.version) == ("Deploy the shop", 1)


@pytest.mark.parametrize("method", ["patch", "put"])
def test_a_stale_etag_is_a_412_and_changes_nothing_and_records_nothing(agent_client, task, method):
    body = {"request_text": "Something else", "project": None, "estimated_resources": None}
    events = Event.objects.count()

    response = getattr(agent_client, method)(
        url(task), body, format="json", headers={"If-Match": 'W/"7"'}
    )

    assert response.status_code == 412
    assert response.json()["code"] == "version_mismatch"
    task.refresh_from_db()
    assert (task.request_text, task.version) == ("Deploy the shop", 1)
    assert Event.objects.count() == events


@pytest.mark.parametrize("etag", ["1", '"1", "2"', '"abc"', 'W/"0"', '"99999999999"'])
def test_a_malformed_if_match_is_a_400(agent_client, task, etag):
    response = agent_client.patch(
        url(task), {"request_text": "x"}, format="json", headers={"If-Match": etag}
    )

    assert response.status_code == 400
    assert error_codes(response.json()) == {"If-Match": ["invalid"]}
    task.refresh_from_db()
    assert task.version == 1


def test_patch_with_the_current_etag_changes_the_task_and_answers_the_new_etag(agent_client, task):
    project = ProjectFactory.create()

    response = agent_client.patch(
        url(task),
        {"request_text": "Deploy the shop, carefully", "project": str(project.pk)},
        format="json",
        headers={"If-Match": 'W/"1"', "X-Correlation-ID": "run-42"},
    )

    assert response.status_code == 200, response.json()
    assert response["ETag"] == 'W/"2"'
    body = response.json()
    assert (body["request_text"], body["project"], body["version"]) == (
        "Deploy the shop, carefully",
        str(project.pk),
        2,
    )
    event = Event.objects.filter(event_type=Event.Type.TASK_UPDATED).get()
    assert event.payload["new"]["version"] == 2
    assert (event.correlation_id, event.api_key_prefix) == ("run-42", key_prefix(agent_client))


def test_put_replaces_every_editable_field(agent_client, task):
    response = agent_client.put(
        url(task),
        {"request_text": "Back up", "project": None, "estimated_resources": {"cpu": 1}},
        format="json",
        headers={"If-Match": '"1"'},
    )

    assert response.status_code == 200, response.json()
    assert response["ETag"] == 'W/"2"'
    task.refresh_from_db()
    assert (task.request_text, task.estimated_resources) == ("Back up", {"cpu": 1})


def test_put_needs_every_editable_field(agent_client, task):
    response = agent_client.put(
        url(task), {"request_text": "Back up"}, format="json", headers={"If-Match": '"1"'}
    )

    assert response.status_code == 400
    assert error_codes(response.json()) == {
        "project": ["required"],
        "estimated_resources": ["required"],
    }


def test_the_request_of_a_decided_task_is_frozen(operator_api, task):
    task = approved(task)

    response = operator_api.patch(
        url(task), {"request_text": "Changed"}, format="json", headers={"If-Match": 'W/"2"'}
    )

    assert response.status_code == 409
    assert response.json()["code"] == "task_not_pending"


def test_an_unknown_project_is_a_400(agent_client, task):
    response = agent_client.patch(
        url(task),
        {"project": "00000000-0000-0000-0000-000000000000"},
        format="json",
        headers={"If-Match": '"1"'},
    )

    assert response.status_code == 400
    assert error_codes(response.json()) == {"project": ["does_not_exist"]}


# --- creating ------------------------------------------------------------------------------------


def test_an_agent_creates_a_pending_task_of_its_own(agent_client, agent_a):
    project = ProjectFactory.create()

    response = agent_client.post(
        "/api/v1/tasks/",
        {
            "request_text": "Deploy the shop",
            "project": str(project.pk),
            "thread_id": "thread-1",
            "estimated_resources": {"cpu": 2},
        },
        format="json",
        headers={"X-Correlation-ID": "c-1"},
    )

    assert response.status_code == 201, response.json()
    assert response["ETag"] == 'W/"1"'
    body = response.json()
    assert {k: body[k] for k in ("status", "created_by", "thread_id", "version")} == {
        "status": "pending",
        "created_by": str(agent_a.pk),
        "thread_id": "thread-1",
        "version": 1,
    }
    event = Event.objects.get(event_type=Event.Type.TASK_CREATED, subject_id=body["id"])
    assert (event.actor, event.correlation_id) == (agent_a, "c-1")
    assert event.api_key_prefix == key_prefix(agent_client)


def test_a_taken_thread_id_is_a_400(agent_client, task):
    response = agent_client.post(
        "/api/v1/tasks/", {"request_text": "Again", "thread_id": task.thread_id}, format="json"
    )

    assert response.status_code == 400
    assert error_codes(response.json()) == {"thread_id": ["unique"]}


@pytest.mark.parametrize("value", ["", "a" * 65, "has space", "ünï"])
def test_a_bad_correlation_id_is_a_400_and_writes_nothing(agent_client, value):
    response = agent_client.post(
        "/api/v1/tasks/",
        {"request_text": "Deploy"},
        format="json",
        headers={"X-Correlation-ID": value},
    )

    assert response.status_code == 400
    assert error_codes(response.json()) == {"X-Correlation-ID": ["invalid"]}
    assert not Task.objects.exists()


# --- the lifecycle -------------------------------------------------------------------------------


def test_the_lifecycle_over_http_records_each_step_with_its_trace(
    agent_client, operator_api, agent_a, operator
):
    headers = {"X-Correlation-ID": "deploy-7"}
    created = agent_client.post(
        "/api/v1/tasks/", {"request_text": "Deploy"}, format="json", headers=headers
    )
    task = Task.objects.get(pk=created.json()["id"])

    approve = operator_api.post(url(task, "approve"), headers=headers)
    start = agent_client.post(url(task, "start"), headers={**headers, "If-Match": 'W/"2"'})
    step = agent_client.post(
        url(task, "logs"),
        {
            "step_number": 1,
            "agent_type": "infra",
            "action": "docker compose up",
            "duration_ms": 900,
        },
        format="json",
    )
    complete = agent_client.post(
        url(task, "complete"),
        {
            "actual_resources": {"cpu": 1.5},
            "external_ai_model": "gpt-4o",
            "external_ai_tokens": 1200,
            "external_ai_cost": "0.036",
        },
        format="json",
        headers=headers,
    )

    assert [r.status_code for r in (approve, start, step, complete)] == [200, 200, 201, 200]
    assert (approve.json()["status"], approve["ETag"]) == ("approved", 'W/"2"')
    assert (start.json()["status"], start["ETag"]) == ("executing", 'W/"3"')
    body = complete.json()
    assert (body["status"], body["version"]) == ("completed", 4)
    assert (body["external_ai_tokens"], body["external_ai_cost"]) == (1200, "0.036000")
    events = list(Event.objects.filter(subject_id=str(task.pk)).order_by("id"))
    assert [(e.event_type, e.actor, e.correlation_id) for e in events] == [
        (Event.Type.TASK_CREATED, agent_a, "deploy-7"),
        (Event.Type.TASK_APPROVED, operator, "deploy-7"),
        (Event.Type.TASK_STARTED, agent_a, "deploy-7"),
        (Event.Type.TASK_COMPLETED, agent_a, "deploy-7"),
    ]
    prefixes = [e.api_key_prefix for e in events]
    assert (
        prefixes
        == [key_prefix(c) for c in (agent_client, operator_api)] + [key_prefix(agent_client)] * 2
    )


@pytest.mark.parametrize(
    ("action", "prepare", "body", "event_type"),
    [
        ("approve", None, {}, Event.Type.TASK_APPROVED),
        ("reject", None, {"reason": "No"}, Event.Type.TASK_REJECTED),
        ("start", approved, {}, Event.Type.TASK_STARTED),
        ("complete", executing, {}, Event.Type.TASK_COMPLETED),
        ("fail", executing, {"error_message": "x"}, Event.Type.TASK_FAILED),
    ],
)
def test_every_action_records_its_event_with_the_key_prefix_and_correlation_id(
    operator_api, operator, task, action, prepare, body, event_type
):
    task = prepare(task) if prepare else task

    response = operator_api.post(
        url(task, action), body, format="json", headers={"X-Correlation-ID": f"corr-{action}"}
    )

    assert response.status_code == 200, response.json()
    event = Event.objects.get(event_type=event_type, subject_id=str(task.pk))
    assert (event.actor, event.api_key_prefix, event.correlation_id) == (
        operator,
        key_prefix(operator_api),
        f"corr-{action}",
    )


def test_a_session_write_records_no_key_prefix(operator, task):
    from rest_framework.test import APIClient

    client = APIClient()
    client.force_login(operator)

    response = client.post(url(task, "approve"))

    assert response.status_code == 200
    event = Event.objects.get(event_type=Event.Type.TASK_APPROVED)
    assert (event.api_key_prefix, event.correlation_id) == ("", "")


def test_reject_needs_a_reason_and_keeps_it(operator_api, task):
    missing = operator_api.post(url(task, "reject"), {}, format="json")
    response = operator_api.post(url(task, "reject"), {"reason": "Too risky"}, format="json")

    assert missing.status_code == 400
    assert error_codes(missing.json()) == {"reason": ["required"]}
    assert response.status_code == 200
    assert (response.json()["status"], response.json()["rejection_reason"]) == (
        "rejected",
        "Too risky",
    )
    event = Event.objects.get(event_type=Event.Type.TASK_REJECTED)
    assert event.payload["reason"] == "Too risky"


def test_an_agent_cannot_approve_even_its_own_task(agent_client, task):
    response = agent_client.post(url(task, "approve"))

    assert response.status_code == 403
    task.refresh_from_db()
    assert task.status == "pending"


def test_nobody_approves_a_task_they_created(operator_api, operator):
    task = task_create(request_text="Deploy", created_by=operator)

    response = operator_api.post(url(task, "approve"))

    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"
    task.refresh_from_db()
    assert task.status == "pending"


@pytest.mark.parametrize(
    ("action", "body"),
    [("start", {}), ("complete", {}), ("fail", {"error_message": "x"})],
)
def test_a_move_the_status_does_not_allow_is_a_409(agent_client, task, action, body):
    response = agent_client.post(url(task, action), body, format="json")

    assert response.status_code == 409
    assert response.json()["code"] == "invalid_transition"
    assert response.json()["current"] == "pending"
    task.refresh_from_db()
    assert (task.status, task.version) == ("pending", 1)


def test_an_action_with_a_stale_if_match_is_a_412_and_changes_nothing(operator_api, task):
    response = operator_api.post(url(task, "approve"), headers={"If-Match": 'W/"5"'})

    assert response.status_code == 412
    task.refresh_from_db()
    assert task.status == "pending"
    assert not Event.objects.filter(event_type=Event.Type.TASK_APPROVED).exists()


def test_fail_records_the_error(agent_client, task):
    task = executing(task)

    response = agent_client.post(
        url(task, "fail"), {"error_message": "container crashed"}, format="json"
    )

    assert response.status_code == 200
    assert (response.json()["status"], response.json()["error_message"]) == (
        "failed",
        "container crashed",
    )
    assert Event.objects.filter(event_type=Event.Type.TASK_FAILED).count() == 1


@pytest.mark.parametrize(
    ("body", "errors"),
    [
        ({"external_ai_tokens": 5}, {"external_ai_model": ["required"]}),
        ({"external_ai_model": "m", "external_ai_cost": 0.5}, {"external_ai_cost": ["invalid"]}),
        ({"external_ai_model": "m", "external_ai_cost": "-1"}, {"external_ai_cost": ["invalid"]}),
        (
            {"external_ai_model": "m", "external_ai_tokens": "5"},
            {"external_ai_tokens": ["invalid"]},
        ),
    ],
)
def test_complete_checks_the_usage(agent_client, task, body, errors):
    task = executing(task)

    response = agent_client.post(url(task, "complete"), body, format="json")

    assert response.status_code == 400
    assert error_codes(response.json()) == errors
    task.refresh_from_db()
    assert task.status == "executing"


# --- execution logs and the timeline -------------------------------------------------------------

STEP = {"step_number": 1, "agent_type": "infra", "action": "docker compose up", "duration_ms": 900}


def test_a_step_is_appended_once_and_a_retry_with_the_same_body_is_a_200(agent_client, task):
    task = approved(task)

    first = agent_client.post(url(task, "logs"), STEP, format="json")
    again = agent_client.post(url(task, "logs"), STEP, format="json")
    other = agent_client.post(url(task, "logs"), {**STEP, "action": "rm -rf"}, format="json")

    assert (first.status_code, again.status_code, other.status_code) == (201, 200, 409)
    assert again.json() == first.json()
    assert other.json()["code"] == "conflict"
    assert ExecutionLog.objects.filter(task=task).count() == 1


def test_no_step_is_logged_for_a_pending_task(agent_client, task):
    response = agent_client.post(url(task, "logs"), STEP, format="json")

    assert response.status_code == 409
    assert response.json()["code"] == "task_not_running"


def test_the_timeline_lists_the_steps_in_order_with_the_summary(agent_client, task):
    task = executing(task)
    for number, ms in ((2, 300), (1, 200), (3, None)):
        agent_client.post(
            url(task, "logs"), {**STEP, "step_number": number, "duration_ms": ms}, format="json"
        )

    response = agent_client.get(url(task, "timeline"))

    assert response.status_code == 200
    body = response.json()
    assert [(s["step_number"], s["duration_ms"], s["elapsed_ms"]) for s in body["steps"]] == [
        (1, 200, 200),
        (2, 300, 500),
        (3, None, 500),
    ]
    summary = body["task"]
    assert (summary["status"], summary["steps"], summary["total_duration_ms"]) == (
        "executing",
        3,
        500,
    )
    assert summary["started_at"] == body["steps"][0]["timestamp"]
    assert summary["completed_at"] is None


def test_a_task_with_no_steps_has_an_empty_timeline(agent_client, task):
    body = agent_client.get(url(task, "timeline")).json()

    assert body["steps"] == []
    assert (body["task"]["started_at"], body["task"]["total_duration_ms"]) == (None, 0)


# --- the list ------------------------------------------------------------------------------------


def test_the_list_shows_an_agent_its_own_tasks_and_operators_all(
    agent_client, agent_b_client, operator_api, task
):
    other = task_create(request_text="Other", created_by=OperatorFactory.create())

    def ids(client: Any, query: str = "") -> set[str]:
        return {t["id"] for t in client.get(f"/api/v1/tasks/{query}").json()["results"]}

    assert ids(agent_client) == {str(task.pk)}
    assert ids(agent_b_client) == set()
    assert ids(operator_api) == {str(task.pk), str(other.pk)}
    assert ids(operator_api, f"?created_by={task.created_by_id}") == {str(task.pk)}
    assert ids(operator_api, "?status=approved") == set()
    assert ids(operator_api, "?status=pending") == {str(task.pk), str(other.pk)}


def test_the_list_filters_by_project(operator_api, agent_a):
    project = ProjectFactory.create()
    inside = task_create(request_text="In", created_by=agent_a, project=project)
    task_create(request_text="Out", created_by=agent_a)

    results = operator_api.get(f"/api/v1/tasks/?project={project.pk}").json()["results"]

    assert [t["id"] for t in results] == [str(inside.pk)]
