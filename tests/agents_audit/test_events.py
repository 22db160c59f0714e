"""The event trail: one writer per event type, one row per call; the database keeps the rows as
written, whoever connects."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import IntegrityError, connection, transaction

from agents_audit import events
from agents_audit.events import Trace
from agents_audit.models import Event
from tests import catalog
from tests.agents_audit.factories import ProjectFactory, TaskFactory
from tests.commerce.factories import OperatorFactory

pytestmark = pytest.mark.django_db


def test_a_writer_records_its_subject_type_actor_trace_and_payload():
    task = TaskFactory.create()
    operator = OperatorFactory.create()

    event = events.task_rejected(
        task=task,
        actor=operator,
        old_status="pending",
        reason="Too risky on a Friday",
        trace=Trace(api_key_prefix="AbCd1234", correlation_id="corr-1"),
    )

    stored = Event.objects.get()
    assert stored == event
    assert (stored.subject_type, stored.subject_id, stored.event_type) == (
        "task",
        str(task.pk),
        "task_rejected",
    )
    assert (stored.actor, stored.api_key_prefix, stored.correlation_id) == (
        operator,
        "AbCd1234",
        "corr-1",
    )
    assert stored.payload == {
        "old": {"status": "pending"},
        "new": {"status": task.status, "version": task.version},
        "reason": "Too risky on a Friday",
    }
    assert stored.created_at is not None


def test_every_event_type_has_its_writer():
    writers = {name for name in dir(events) if not name.startswith("_")}
    assert set(Event.Type.values) <= writers


def test_project_events_name_the_project():
    project = ProjectFactory.create()
    event = events.project_created(project=project, actor=None)
    assert (event.subject_type, event.subject_id) == ("project", str(project.pk))
    assert event.payload == {"old": {}, "new": {"name": project.name, "version": 1}}


@pytest.fixture
def recorded() -> Event:
    return events.task_created(task=TaskFactory.create(), actor=OperatorFactory.create())


def raw(sql: str, params: list[Any] | None = None) -> None:
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, params)


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE events SET event_type = 'task_approved'",
        "UPDATE events SET payload = '{}'",
        "UPDATE events SET actor_id = NULL, correlation_id = 'forged'",
        "DELETE FROM events",
    ],
)
def test_raw_sql_cannot_change_or_delete_an_event(recorded, sql):
    with pytest.raises(IntegrityError, match="append-only"):
        raw(sql)
    assert Event.objects.get() == recorded
    recorded_again = Event.objects.get()
    assert (recorded_again.event_type, recorded_again.payload) == (
        recorded.event_type,
        recorded.payload,
    )


def test_the_orm_cannot_change_or_delete_an_event_either(recorded):
    with pytest.raises(IntegrityError), transaction.atomic():
        Event.objects.filter(pk=recorded.pk).update(correlation_id="x")
    with pytest.raises(IntegrityError), transaction.atomic():
        recorded.delete()
    assert Event.objects.get().correlation_id == ""


def test_deleting_the_actor_keeps_the_event_without_its_actor(recorded):
    actor_id = recorded.actor_id
    raw("DELETE FROM users WHERE id = %s", [actor_id])
    recorded.refresh_from_db()
    assert (recorded.actor_id, recorded.event_type) == (None, "task_created")


def test_the_trail_outlives_its_subject(recorded):
    raw("DELETE FROM tasks")
    recorded.refresh_from_db()
    assert recorded.subject_id  # the deleted task is still named


def test_events_of_a_subject_newest_first_are_served_by_one_index():
    assert catalog.foreign_keys("events") == {"actor_id": ("users", "id", "n")}
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexdef FROM pg_indexes WHERE tablename = 'events' "
            "AND indexname = 'events_subject_idx'"
        )
        (definition,) = cursor.fetchone()
    assert definition.endswith("USING btree (subject_type, subject_id, id DESC)")
