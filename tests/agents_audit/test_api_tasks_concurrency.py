"""One ETag wins once: twenty PATCHes of a task with the same If-Match, each in its own thread
and PostgreSQL connection, through the API as agents use it."""

from __future__ import annotations

from typing import Any

import pytest

from agents_audit.models import Event, Task
from agents_audit.services.tasks import task_create
from tests.commerce.factories import AgentUserFactory
from tests.concurrency import run_concurrently
from tests.conftest import key_client

pytestmark = pytest.mark.django_db(transaction=True)


def test_twenty_concurrent_patches_with_one_etag_give_one_200_and_nineteen_412():
    agent = AgentUserFactory.create()
    task = task_create(request_text="Deploy", created_by=agent)
    url = f"/api/v1/tasks/{task.pk}/"
    etag = key_client(agent).get(url)["ETag"]
    clients = [key_client(agent) for _ in range(20)]

    def patch(n: int) -> Any:
        return lambda: clients[n].patch(
            url, {"request_text": f"Deploy {n}"}, format="json", headers={"If-Match": etag}
        )

    responses = run_concurrently(*[patch(n) for n in range(20)])

    codes = sorted(r.status_code for r in responses)
    assert codes == [200] + [412] * 19, [getattr(r, "content", r) for r in responses]
    (winner,) = (r for r in responses if r.status_code == 200)
    assert {r.json()["code"] for r in responses if r.status_code == 412} == {"version_mismatch"}
    task.refresh_from_db()
    assert (task.request_text, task.version) == (winner.json()["request_text"], 2)
    assert winner["ETag"] == 'W/"2"'
    assert Event.objects.filter(event_type=Event.Type.TASK_UPDATED).count() == 1
    assert Task.objects.count() == 1
