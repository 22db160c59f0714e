"""Projects: creation, optimistic-locking edits (seed 003: several people edit one project) and
deletion.

``project_update`` writes only over the version its caller read, and adds one. A project with
tasks is deleted only with an explicit cascade by an operator (``project_delete``); without one
the service refuses, and the database refuses too (``Task.project`` is PROTECT / NO ACTION).
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F

from agents_audit import events
from agents_audit.errors import ProjectHasTasks
from agents_audit.events import NO_TRACE, Trace
from agents_audit.models import Project, Task
from commerce.models import User
from devskyy.errors import NotPermitted, VersionMismatch

PROJECT_EDITABLE_FIELDS = frozenset({"name", "description"})


@transaction.atomic
def project_create(
    *, name: str, description: str = "", by: User | None, trace: Trace = NO_TRACE
) -> Project:
    project = Project(name=name, description=description)
    project.full_clean()
    project.save()
    project.refresh_from_db(fields=["version", "created_at", "updated_at"])
    events.project_created(project=project, actor=by, trace=trace)
    return project


@transaction.atomic
def project_update(
    *,
    project: Project,
    expected_version: int,
    by: User | None,
    trace: Trace = NO_TRACE,
    **changes: Any,
) -> Project:
    """Change a project's name or description, provided it is still at ``expected_version``;
    the version then goes up by one. Raises ``VersionMismatch`` (nothing written) when someone
    changed it since, ``ValidationError`` for bad values or other fields."""
    unknown = set(changes) - PROJECT_EDITABLE_FIELDS
    if unknown:
        raise ValidationError({name: ["This field cannot be changed here."] for name in unknown})
    current = Project.objects.get(pk=project.pk)
    if current.version != expected_version:
        raise VersionMismatch()
    changed = {name: value for name, value in changes.items() if getattr(current, name) != value}
    if not changed:
        return current
    old = {name: getattr(current, name) for name in changed}
    for name, value in changed.items():
        setattr(current, name, value)
    current.full_clean()
    written = Project.objects.filter(pk=project.pk, version=expected_version).update(
        **changed, version=F("version") + 1
    )
    if not written:
        raise VersionMismatch()
    current.refresh_from_db(fields=["version", "updated_at"])
    events.project_updated(
        project=current,
        actor=by,
        old={**old, "version": expected_version},
        new={**changed, "version": current.version},
        trace=trace,
    )
    return current


@transaction.atomic
def project_delete(
    *, project: Project, by: User | None, cascade: bool = False, trace: Trace = NO_TRACE
) -> int:
    """Delete a project; return how many tasks went with it.

    A project that still has tasks is refused (``ProjectHasTasks``, saying how many) unless
    ``cascade`` is set, which only operators may set (``NotPermitted``): then its tasks go too,
    and with them (ON DELETE CASCADE in the database) their execution logs, jobs and artifacts,
    all in this one transaction. The project row is locked first, so the count is exact: a
    task being created in the project concurrently waits for this transaction (its foreign key
    check needs the row), then fails because the project is gone. Events of the deleted tasks
    stay (the trail is append-only); ``project_deleted`` records ``deleted_tasks``.
    """
    if cascade and (by is None or by.role not in User.STAFF_ROLES):
        raise NotPermitted("Only operators delete a project together with its tasks.")
    project = Project.objects.select_for_update().get(pk=project.pk)
    tasks = Task.objects.filter(project_id=project.pk)
    count = tasks.count()
    if count and not cascade:
        raise ProjectHasTasks(tasks=count)
    if count:
        # One DELETE: the children are DO_NOTHING in the ORM, ON DELETE CASCADE in PostgreSQL.
        tasks.delete()
    events.project_deleted(project=project, actor=by, deleted_tasks=count, trace=trace)
    Project.objects.filter(pk=project.pk).delete()
    return count
