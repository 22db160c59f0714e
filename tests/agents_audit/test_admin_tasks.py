"""The task and project admins are clients of the services: decisions are actions that call
``task_approve`` / ``task_reject``, edits never overwrite a change made since the form opened,
and the lifecycle fields are read-only."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from agents_audit.models import Event, Project, Task
from agents_audit.services.tasks import task_approve, task_update
from commerce.models import User
from tests.agents_audit.factories import ProjectFactory, TaskFactory
from tests.commerce.factories import OperatorFactory

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:agents_audit_task_changelist")


def change_url(task: Task) -> str:
    return reverse("admin:agents_audit_task_change", args=[task.pk])


def event_types(task: Task) -> list[str]:
    return list(
        Event.objects.filter(subject_id=str(task.pk))
        .order_by("id")
        .values_list("event_type", flat=True)
    )


def messages_of(response: Any) -> list[str]:
    return [str(m) for m in response.context["messages"]]


def test_an_operator_approves_tasks_with_the_action(operator_client, operator):
    task = TaskFactory.create()

    response = operator_client.post(
        CHANGELIST, {"action": "approve", "_selected_action": [task.pk]}, follow=True
    )

    assert response.status_code == 200
    assert messages_of(response) == ["Approved: 1 task(s)."]
    task.refresh_from_db()
    assert (task.status, task.approved_by, task.version) == ("approved", operator, 2)


def test_the_approve_action_reports_what_the_service_refused(operator_client, operator):
    own = TaskFactory.create(created_by=operator)
    approved = task_approve(task=TaskFactory.create(), by=OperatorFactory.create())

    response = operator_client.post(
        CHANGELIST,
        {"action": "approve", "_selected_action": [own.pk, approved.pk]},
        follow=True,
    )

    assert sorted(messages_of(response)) == sorted(
        [
            f"{own}: Nobody approves a task they created.",
            f"{approved}: Cannot go from 'approved' to 'approved'.",
        ]
    )
    own.refresh_from_db()
    assert own.status == "pending"


def test_rejecting_asks_for_the_reason_then_rejects_with_it(operator_client):
    task = TaskFactory.create()
    selected = {"action": "reject", "_selected_action": [task.pk]}

    asked = operator_client.post(CHANGELIST, selected)
    assert asked.status_code == 200
    assert 'name="reason"' in asked.content.decode()
    task.refresh_from_db()
    assert task.status == "pending"

    blank = operator_client.post(CHANGELIST, {**selected, "apply": "Reject", "reason": ""})
    assert blank.status_code == 200  # the form again, with its error
    task.refresh_from_db()
    assert task.status == "pending"

    done = operator_client.post(
        CHANGELIST, {**selected, "apply": "Reject", "reason": "Not in the freeze"}, follow=True
    )
    assert messages_of(done) == ["Rejected: 1 task(s)."]
    task.refresh_from_db()
    assert (task.status, task.rejection_reason) == ("rejected", "Not in the freeze")
    assert event_types(task) == ["task_rejected"]


def form_data(task: Task, **changes: Any) -> dict[str, Any]:
    data = {
        "project": task.project_id or "",
        "request_text": task.request_text,
        "estimated_resources": "null",
        "version": task.version,
    }
    return {**data, **changes}


def test_the_change_form_edits_through_task_update(operator_client):
    task = TaskFactory.create()

    response = operator_client.post(change_url(task), form_data(task, request_text="Deploy v9"))

    assert response.status_code == 302
    task.refresh_from_db()
    assert (task.request_text, task.version) == ("Deploy v9", 2)
    assert event_types(task) == ["task_updated"]


def test_a_form_opened_before_someone_elses_change_saves_nothing(operator_client):
    task = TaskFactory.create()
    opened = form_data(task, request_text="my edit")
    task_update(task=task, expected_version=1, request_text="their edit")

    response = operator_client.post(change_url(task), opened)

    assert response.status_code == 200
    assert "changed by someone else" in response.content.decode()
    task.refresh_from_db()
    assert (task.request_text, task.version) == ("their edit", 2)


def test_the_status_cannot_be_set_from_the_form(operator_client):
    task = TaskFactory.create()
    response = operator_client.post(
        change_url(task), form_data(task, status="completed", request_text="edited")
    )
    assert response.status_code == 302
    task.refresh_from_db()
    assert (task.status, task.request_text) == ("pending", "edited")
    page = operator_client.get(change_url(task)).content.decode()
    assert 'name="status"' not in page


def test_the_add_form_creates_a_pending_task_by_the_operator(operator_client, operator):
    project = ProjectFactory.create()
    response = operator_client.post(
        reverse("admin:agents_audit_task_add"),
        {"project": project.pk, "request_text": "Back up the database", "estimated_resources": ""},
    )
    assert response.status_code == 302
    task = Task.objects.get()
    assert (task.status, task.created_by, task.project) == ("pending", operator, project)
    assert event_types(task) == ["task_created"]


def test_the_project_form_is_optimistic_too(operator_client: Client, operator: User):
    project = ProjectFactory.create()
    url = reverse("admin:agents_audit_project_change", args=[project.pk])
    opened = {"name": "Renamed", "description": "", "version": 1}
    Project.objects.filter(pk=project.pk).update(version=2)  # someone saved meanwhile

    response = operator_client.post(url, opened)

    assert response.status_code == 200
    project.refresh_from_db()
    assert project.name != "Renamed"
    assert operator_client.post(url, {**opened, "version": 2}).status_code == 302
    project.refresh_from_db()
    assert (project.name, project.version) == ("Renamed", 3)


def test_a_project_with_tasks_is_not_deleted_from_the_admin(admin_client):
    project = ProjectFactory.create()
    TaskFactory.create(project=project)
    url = reverse("admin:agents_audit_project_delete", args=[project.pk])
    response = admin_client.post(url, {"post": "yes"})
    assert response.status_code == 200  # the "cannot delete" page
    assert Project.objects.filter(pk=project.pk).exists()
