"""The agent operations API: projects, tasks and their lifecycle, execution logs and timelines.
Thin views over ``agents_audit.services`` and ``agents_audit.selectors``.

Who may do what (roles of ``commerce.models.User``):

=====================================  =============  ==================================
endpoint                               agents         operators and admins
=====================================  =============  ==================================
projects: list, retrieve               yes            yes
projects: create, PATCH, DELETE        403            yes (``?cascade=true`` with tasks)
tasks: list, retrieve, timeline        their own      all
tasks: create                          yes            yes
tasks: PATCH, PUT                      their own      all
tasks: approve, reject                 403            all but the tasks they created
tasks: start, complete, fail, logs     their own      all
=====================================  =============  ==================================

"Their own" means the tasks they created; another agent's task is a 404, as for tool executions.

Optimistic locking: a task's or project's ``ETag`` is ``W/"<version>"``. PATCH and PUT require
``If-Match`` (``devskyy.api.preconditions``: 428 without, 400 malformed, 412 stale). The lifecycle
actions take an optional ``If-Match``: without it they act on the task as it is now (each
transition is checked under the row's lock anyway); with it, a task that has changed since is a
412 and nothing happens, so an agent can make "start the task I just read" exact.

Every write records its ``Event`` with a ``Trace``: the API key's prefix and the optional
``X-Correlation-ID`` header (``agents_audit.api.trace``).
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.exceptions import ErrorDetail, ValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from agents_audit import selectors
from agents_audit.api import task_serializers as s
from agents_audit.api.trace import CORRELATION_PARAMETER, trace_from
from agents_audit.filters import TaskFilter
from agents_audit.models import Project, Task
from agents_audit.selectors import TIMELINE_CHECKPOINTS
from agents_audit.services.logs import execution_log_append
from agents_audit.services.projects import project_create, project_delete, project_update
from agents_audit.services.tasks import (
    task_approve,
    task_complete,
    task_create,
    task_fail,
    task_reject,
    task_start,
    task_update,
)
from commerce.api.authentication import caller
from commerce.models import User
from devskyy.api.idempotency import idempotent
from devskyy.api.preconditions import IF_MATCH, IF_MATCH_SCHEMA, if_match_version, weak_etag
from devskyy.api.viewsets import APIViewSet
from devskyy.api.writes import render_before_commit
from devskyy.errors import VersionMismatch


def _etag_header(what: str) -> OpenApiParameter:
    return OpenApiParameter(
        name="ETag",
        location=OpenApiParameter.HEADER,
        response=[200, 201],
        type=str,
        description=f'The {what}\'s `version` as an entity tag, e.g. `W/"3"`: send it in '
        "`If-Match` to change it.",
    )


def _if_match(what: str, *, required: bool) -> OpenApiParameter:
    if required:
        description = (
            f'The ETag of the {what} as you read it, e.g. `W/"3"`. Missing: 428 '
            "`precondition_required`; another version: 412 `version_mismatch` (GET it again)."
        )
    else:
        description = (
            f'Optional: the ETag of the {what} as you read it, e.g. `W/"3"`; if the {what} has '
            "changed since, nothing happens and the answer is a 412 `version_mismatch`."
        )
    return OpenApiParameter(
        name=IF_MATCH,
        location=OpenApiParameter.HEADER,
        required=required,
        type=IF_MATCH_SCHEMA,
        description=description,
    )


TASK_ETAG, PROJECT_ETAG = _etag_header("task"), _etag_header("project")
TASK_IF_MATCH = _if_match("task", required=True)
TASK_IF_MATCH_OPTIONAL = _if_match("task", required=False)
PROJECT_IF_MATCH = _if_match("project", required=True)


def _optional_if_match(request: Request, task: Task) -> None:
    """If the request names a version (``If-Match``), the task must still be at it: checked
    under the row's lock, which the service that follows takes again in this transaction."""
    raw = request.headers.get(IF_MATCH)
    if raw is None or raw.strip() == "*":
        return
    expected = if_match_version(request)
    if not Task.objects.select_for_update().filter(pk=task.pk, version=expected).exists():
        raise VersionMismatch()


def _project_or_400(project_id: Any) -> Project | None:
    if project_id is None:
        return None
    project = Project.objects.filter(pk=project_id).first()
    if project is None:
        raise ValidationError({"project": [ErrorDetail("No such project.", code="does_not_exist")]})
    return project


# --- projects --------------------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(
        summary="List projects",
        description="Every project, newest first, with cursor pagination. Everyone with API "
        "access sees all projects (to file tasks under them).",
    ),
)
class ProjectViewSet(APIViewSet):
    """Projects: everyone reads them; operators and admins manage them."""

    queryset = Project.objects.none()
    serializer_class = s.ProjectSerializer
    filter_backends: list[Any] = []
    roles = {
        "list": User.API_ROLES,
        "retrieve": User.API_ROLES,
        "create": User.STAFF_ROLES,
        "partial_update": User.STAFF_ROLES,
        "destroy": User.STAFF_ROLES,
    }
    extra_error_statuses = {"partial_update": (412, 428), "destroy": (409,)}

    def get_queryset(self) -> Any:
        return selectors.project_list()

    @extend_schema(
        summary="Get a project",
        description='One project by id. The `ETag` header (`W/"<version>"`) is its `version`: '
        "send it back in `If-Match` to change the project.",
        parameters=[PROJECT_ETAG],
    )
    def retrieve(self, request: Request, pk: str) -> Response:
        project: Project = self.get_object()
        return Response(
            s.ProjectSerializer(project).data, headers={"ETag": weak_etag(project.version)}
        )

    @extend_schema(
        summary="Create a project",
        description="Operators and admins. The project starts at `version` 1.",
        request=s.ProjectInputSerializer,
        responses={201: s.ProjectSerializer},
        parameters=[CORRELATION_PARAMETER, PROJECT_ETAG],
    )
    @idempotent
    def create(self, request: Request) -> Response:
        data = s.ProjectInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        project = project_create(
            **data.validated_data, by=caller(request), trace=trace_from(request)
        )
        return Response(
            s.ProjectSerializer(project).data,
            status=status.HTTP_201_CREATED,
            headers={"ETag": weak_etag(project.version)},
        )

    @extend_schema(
        summary="Change a project",
        description="Operators and admins: send only the fields to change, with the `ETag` you "
        "read in `If-Match` (missing: 428 `precondition_required`; stale: 412 "
        "`version_mismatch`: GET the project again and redo the change). A change adds one to "
        "`version`; the answer carries the new `ETag`.",
        request=s.ProjectUpdateSerializer,
        responses={200: s.ProjectSerializer},
        parameters=[PROJECT_IF_MATCH, CORRELATION_PARAMETER, PROJECT_ETAG],
    )
    @render_before_commit
    def partial_update(self, request: Request, pk: str) -> Response:
        project: Project = self.get_object()
        expected_version = if_match_version(request)
        data = s.ProjectUpdateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        project = project_update(
            project=project,
            expected_version=expected_version,
            by=caller(request),
            trace=trace_from(request),
            **data.validated_data,
        )
        return Response(
            s.ProjectSerializer(project).data, headers={"ETag": weak_etag(project.version)}
        )

    @extend_schema(
        summary="Delete a project",
        description="Operators and admins. A project that still has tasks is refused with a "
        "409 `project_has_tasks` (`tasks`: how many) unless you pass `?cascade=true`: then its "
        "tasks, their execution logs, jobs and artifacts are deleted with it, in one "
        "transaction. The event trail keeps everything (`project_deleted` records how many "
        "tasks went).",
        parameters=[
            OpenApiParameter(
                "cascade",
                bool,
                required=False,
                description="`true`: delete the project's tasks with it. Default `false`.",
            ),
            CORRELATION_PARAMETER,
        ],
        responses={204: OpenApiResponse(description="Deleted.")},
    )
    @render_before_commit
    def destroy(self, request: Request, pk: str) -> Response:
        project: Project = self.get_object()
        raw = request.query_params.get("cascade", "false")
        if raw not in ("true", "false"):
            raise ValidationError(
                {"cascade": [ErrorDetail("Send `true` or `false`.", code="invalid")]}
            )
        project_delete(
            project=project, by=caller(request), cascade=raw == "true", trace=trace_from(request)
        )
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- tasks -----------------------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(
        summary="List tasks",
        description="Newest first, with cursor pagination; filter by `status`, `project`, "
        "`created_by` and the creation time. Agents see the tasks they created; operators and "
        "admins see all.",
    ),
)
class TaskViewSet(APIViewSet):
    """Agent tasks and their lifecycle: pending until an operator decides, then executed."""

    queryset = Task.objects.none()
    serializer_class = s.TaskSerializer
    filterset_class = TaskFilter
    roles = {
        "list": User.API_ROLES,
        "retrieve": User.API_ROLES,
        "create": User.API_ROLES,
        "partial_update": User.API_ROLES,
        "update": User.API_ROLES,
        "approve": User.STAFF_ROLES,
        "reject": User.STAFF_ROLES,
        "start": User.API_ROLES,
        "complete": User.API_ROLES,
        "fail": User.API_ROLES,
        "logs": User.API_ROLES,
        "timeline": User.API_ROLES,
    }
    extra_error_statuses = {
        "partial_update": (409, 412, 428),
        "update": (409, 412, 428),
        "approve": (412,),
        "reject": (412,),
        "start": (412,),
        "complete": (412,),
        "fail": (412,),
    }

    def get_queryset(self) -> Any:
        return selectors.task_list(viewer=caller(self.request))

    def _answer(self, task: Task, code: int = status.HTTP_200_OK) -> Response:
        return Response(
            s.TaskSerializer(task).data, status=code, headers={"ETag": weak_etag(task.version)}
        )

    @extend_schema(
        summary="Get a task",
        description='One task by id (agents: the ones they created). The `ETag` header (`W/"'
        '<version>"`) is its `version`: send it back in `If-Match` to change the task.',
        parameters=[TASK_ETAG],
    )
    def retrieve(self, request: Request, pk: str) -> Response:
        return self._answer(self.get_object())

    @extend_schema(
        summary="Create a task",
        description="Agents, operators and admins. The task is `pending` until an operator "
        "approves or rejects it; you are its creator. An unknown `project` is a 400 "
        "`does_not_exist`; a `thread_id` already taken is a 400 `unique`.",
        request=s.TaskCreateSerializer,
        responses={201: s.TaskSerializer},
        parameters=[CORRELATION_PARAMETER, TASK_ETAG],
    )
    @idempotent
    def create(self, request: Request) -> Response:
        data = s.TaskCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        project = _project_or_400(fields.pop("project", None))
        task = task_create(
            **fields, project=project, created_by=caller(request), trace=trace_from(request)
        )
        return self._answer(task, status.HTTP_201_CREATED)

    def _update(self, request: Request, *, partial: bool) -> Response:
        task: Task = self.get_object()
        expected_version = if_match_version(request)
        data = s.TaskUpdateSerializer(data=request.data, partial=partial)
        data.is_valid(raise_exception=True)
        changes = dict(data.validated_data)
        if "project" in changes:
            changes["project"] = _project_or_400(changes["project"])
        task = task_update(
            task=task,
            expected_version=expected_version,
            by=caller(request),
            trace=trace_from(request),
            **changes,
        )
        return self._answer(task)

    _UPDATE_TEXT = (
        "with the `ETag` you read in `If-Match` (missing: 428 `precondition_required`; "
        "stale: 412 `version_mismatch`: GET the task again and redo the change). "
        "`request_text` and `estimated_resources` change only while the task is `pending` (409 "
        "`task_not_pending` after); `project` changes any time. A change adds one to `version` "
        "and the answer carries the new `ETag`; a body that changes nothing changes no version."
    )

    @extend_schema(
        summary="Change a task",
        description=f"Send only the fields to change, {_UPDATE_TEXT}",
        request=s.TaskUpdateSerializer,
        responses={200: s.TaskSerializer},
        parameters=[TASK_IF_MATCH, CORRELATION_PARAMETER, TASK_ETAG],
    )
    @render_before_commit
    def partial_update(self, request: Request, pk: str) -> Response:
        return self._update(request, partial=True)

    @extend_schema(
        summary="Replace a task's editable fields",
        description=f"Send all three editable fields, {_UPDATE_TEXT}",
        request=s.TaskUpdateSerializer,
        responses={200: s.TaskSerializer},
        parameters=[TASK_IF_MATCH, CORRELATION_PARAMETER, TASK_ETAG],
    )
    @render_before_commit
    def update(self, request: Request, pk: str) -> Response:
        return self._update(request, partial=False)

    def _transition(self, request: Request, service: Any, **fields: Any) -> Response:
        task: Task = self.get_object()
        trace = trace_from(request)
        _optional_if_match(request, task)
        task = service(task=task, by=caller(request), trace=trace, **fields)
        return self._answer(task)

    @extend_schema(
        summary="Approve a task",
        description="Operators and admins (agents: 403): a `pending` task becomes `approved`, "
        "so that agents may start it. Nobody approves a task they created (403). Any other "
        "status: 409 `invalid_transition`.",
        request=None,
        responses={200: s.TaskSerializer},
        parameters=[TASK_IF_MATCH_OPTIONAL, CORRELATION_PARAMETER, TASK_ETAG],
    )
    @action(detail=True, methods=["post"])
    @idempotent
    def approve(self, request: Request, pk: str) -> Response:
        return self._transition(request, task_approve)

    @extend_schema(
        summary="Reject a task",
        description="Operators and admins (agents: 403): a `pending` task becomes `rejected`, "
        "with the `reason` (kept on the task). Any other status: 409 `invalid_transition`.",
        request=s.TaskRejectSerializer,
        responses={200: s.TaskSerializer},
        parameters=[TASK_IF_MATCH_OPTIONAL, CORRELATION_PARAMETER, TASK_ETAG],
    )
    @action(detail=True, methods=["post"])
    @idempotent
    def reject(self, request: Request, pk: str) -> Response:
        data = s.TaskRejectSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        return self._transition(request, task_reject, **data.validated_data)

    @extend_schema(
        summary="Start a task",
        description="The task's creator, operators and admins: an `approved` task becomes "
        "`executing`. Any other status: 409 `invalid_transition`.",
        request=None,
        responses={200: s.TaskSerializer},
        parameters=[TASK_IF_MATCH_OPTIONAL, CORRELATION_PARAMETER, TASK_ETAG],
    )
    @action(detail=True, methods=["post"])
    @idempotent
    def start(self, request: Request, pk: str) -> Response:
        return self._transition(request, task_start)

    @extend_schema(
        summary="Complete a task",
        description="The task's creator, operators and admins: an `executing` task becomes "
        "`completed`, with what it used: `actual_resources`, and the external AI model it "
        'called with its tokens (an integer) and cost (a decimal string, e.g. `"0.036"`). '
        "Tokens or cost without a model: 400. Any other status: 409 `invalid_transition`.",
        request=s.TaskCompleteSerializer,
        responses={200: s.TaskSerializer},
        parameters=[TASK_IF_MATCH_OPTIONAL, CORRELATION_PARAMETER, TASK_ETAG],
    )
    @action(detail=True, methods=["post"])
    @idempotent
    def complete(self, request: Request, pk: str) -> Response:
        data = s.TaskCompleteSerializer(data=request.data or {})
        data.is_valid(raise_exception=True)
        return self._transition(request, task_complete, **data.validated_data)

    @extend_schema(
        summary="Fail a task",
        description="The task's creator, operators and admins: an `executing` task becomes "
        "`failed`, with the `error_message` (required: a post-mortem starts there). Any other "
        "status: 409 `invalid_transition`.",
        request=s.TaskFailSerializer,
        responses={200: s.TaskSerializer},
        parameters=[TASK_IF_MATCH_OPTIONAL, CORRELATION_PARAMETER, TASK_ETAG],
    )
    @action(detail=True, methods=["post"])
    @idempotent
    def fail(self, request: Request, pk: str) -> Response:
        data = s.TaskFailSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        return self._transition(request, task_fail, **data.validated_data)

    @extend_schema(
        summary="Log an execution step",
        description="The task's creator, operators and admins: append step `step_number` "
        "(from 1, unique per task) to an `approved` or `executing` task's log (else 409 "
        "`task_not_running`). Sending a step again with the same body is a 200 with the stored "
        "step (safe to retry); a different body under a logged number is a 409 `conflict`.",
        request=s.ExecutionLogInputSerializer,
        responses={
            201: s.ExecutionLogSerializer,
            200: OpenApiResponse(
                s.ExecutionLogSerializer, description="Already logged with this exact body."
            ),
        },
    )
    @action(detail=True, methods=["post"])
    @idempotent
    def logs(self, request: Request, pk: str) -> Response:
        task: Task = self.get_object()
        data = s.ExecutionLogInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        step, created = execution_log_append(task=task, by=caller(request), **data.validated_data)
        return Response(
            s.ExecutionLogSerializer(step).data,
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )

    @extend_schema(
        summary="A task's execution timeline",
        description="The task's steps in order, each with its duration and the time elapsed "
        "up to it (`elapsed_ms`, the sum of the durations so far), and the task's summary: "
        "status, first step's time (`started_at`), `completed_at` and `total_duration_ms`; "
        f"and the newest {TIMELINE_CHECKPOINTS} checkpoints of the task's LangGraph thread (the "
        "thread whose id is its `thread_id`), oldest first.",
        responses={200: s.TimelineSerializer},
    )
    @action(detail=True, methods=["get"], pagination_class=None, filter_backends=[])
    def timeline(self, request: Request, pk: str) -> Response:
        task: Task = self.get_object()
        steps = list(selectors.task_timeline(task=task))
        summary = {
            "id": task.pk,
            "status": task.status,
            "approved_at": task.approved_at,
            "started_at": steps[0].timestamp if steps else None,
            "completed_at": task.completed_at,
            "steps": len(steps),
            "total_duration_ms": steps[-1].elapsed_ms if steps else 0,  # type: ignore[attr-defined]
        }
        checkpoints = selectors.task_checkpoints(task=task)
        return Response(
            s.TimelineSerializer({"task": summary, "steps": steps, "checkpoints": checkpoints}).data
        )
