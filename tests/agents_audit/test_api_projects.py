"""Projects over HTTP: optimistic edits, and deletion (refused while the project has tasks,
unless an operator asks for the cascade). Roles: tests/api/test_auth_matrix.py."""

from __future__ import annotations

import pytest

from agents_audit.errors import ProjectHasTasks
from agents_audit.models import Artifact, Event, ExecutionLog, Job, Project, Task
from agents_audit.services.projects import project_delete
from agents_audit.services.tasks import task_create
from devskyy.errors import NotPermitted
from tests.agents_audit.factories import (
    ArtifactFactory,
    ExecutionLogFactory,
    JobFactory,
    ProjectFactory,
)
from tests.conftest import error_codes

pytestmark = pytest.mark.django_db


def url(project: Project) -> str:
    return f"/api/v1/projects/{project.pk}/"


@pytest.fixture
def project() -> Project:
    return ProjectFactory.create(name="Shop")


@pytest.fixture
def busy(project, agent_a) -> Project:
    """The project with two tasks, one of them with a step, a job and an artifact."""
    first = task_create(request_text="Deploy", created_by=agent_a, project=project)
    task_create(request_text="Back up", created_by=agent_a, project=project)
    ExecutionLogFactory.create(task=first, step_number=1)
    JobFactory.create(task=first)
    ArtifactFactory.create(task=first)
    return project


def test_an_operator_creates_a_project_at_version_1(operator_api, operator):
    response = operator_api.post("/api/v1/projects/", {"name": "Launch"}, format="json")

    assert response.status_code == 201
    assert response["ETag"] == 'W/"1"'
    assert (response.json()["name"], response.json()["version"]) == ("Launch", 1)
    assert Event.objects.get(event_type=Event.Type.PROJECT_CREATED).actor == operator


def test_get_answers_the_etag_and_patch_needs_it(operator_api, project):
    assert operator_api.get(url(project))["ETag"] == 'W/"1"'

    missing = operator_api.patch(url(project), {"name": "Store"}, format="json")
    stale = operator_api.patch(
        url(project), {"name": "Store"}, format="json", headers={"If-Match": 'W/"2"'}
    )
    malformed = operator_api.patch(
        url(project), {"name": "Store"}, format="json", headers={"If-Match": "2"}
    )
    project.refresh_from_db()
    unchanged = (project.name, project.version)
    done = operator_api.patch(
        url(project), {"name": "Store"}, format="json", headers={"If-Match": 'W/"1"'}
    )

    assert (missing.status_code, stale.status_code, malformed.status_code) == (428, 412, 400)
    assert stale.json()["code"] == "version_mismatch"
    assert error_codes(malformed.json()) == {"If-Match": ["invalid"]}
    assert unchanged == ("Shop", 1)
    assert done.status_code == 200
    assert (done.json()["name"], done["ETag"]) == ("Store", 'W/"2"')


def test_deleting_a_project_without_tasks(operator_api, project):
    response = operator_api.delete(url(project), headers={"X-Correlation-ID": "cleanup"})

    assert response.status_code == 204
    assert not Project.objects.exists()
    event = Event.objects.get(event_type=Event.Type.PROJECT_DELETED)
    assert (event.payload["deleted_tasks"], event.correlation_id) == (0, "cleanup")


def test_a_project_with_tasks_is_not_deleted_without_the_cascade(operator_api, busy):
    response = operator_api.delete(url(busy))

    assert response.status_code == 409
    assert response.json()["code"] == "project_has_tasks"
    assert response.json()["tasks"] == 2
    assert Project.objects.filter(pk=busy.pk).exists()
    assert Task.objects.count() == 2
    assert not Event.objects.filter(event_type=Event.Type.PROJECT_DELETED).exists()


def test_an_operator_deletes_a_project_with_everything_in_it(operator_api, busy, agent_a):
    other = task_create(request_text="Elsewhere", created_by=agent_a)

    response = operator_api.delete(f"{url(busy)}?cascade=true")

    assert response.status_code == 204
    assert not Project.objects.exists()
    assert list(Task.objects.all()) == [other]
    assert not ExecutionLog.objects.exists()
    assert not Job.objects.exists()
    assert not Artifact.objects.exists()
    event = Event.objects.get(event_type=Event.Type.PROJECT_DELETED)
    assert event.payload["deleted_tasks"] == 2


def test_a_failed_cascade_deletes_nothing(busy, operator, monkeypatch):
    """One transaction: if the event cannot be written, the tasks are still there."""
    from agents_audit import events

    def broken(**kwargs):
        raise RuntimeError("event store down")

    monkeypatch.setattr(events, "project_deleted", broken)

    with pytest.raises(RuntimeError):
        project_delete(project=busy, by=operator, cascade=True)

    assert Task.objects.count() == 2
    assert ExecutionLog.objects.count() == 1


def test_only_operators_cascade(busy, agent_a):
    with pytest.raises(NotPermitted):
        project_delete(project=busy, by=agent_a, cascade=True)
    with pytest.raises(ProjectHasTasks):
        project_delete(project=busy, by=agent_a)

    assert Task.objects.count() == 2


def test_agents_cannot_delete_a_project_even_with_the_cascade(agent_client, busy):
    response = agent_client.delete(f"{url(busy)}?cascade=true")

    assert response.status_code == 403
    assert Task.objects.count() == 2


@pytest.mark.parametrize("value", ["yes", "1", "True"])
def test_cascade_is_true_or_false(operator_api, busy, value):
    response = operator_api.delete(f"{url(busy)}?cascade={value}")

    assert response.status_code == 400
    assert error_codes(response.json()) == {"cascade": ["invalid"]}
