"""The job queue over HTTP: agent workers enqueue, claim (optionally waiting for work), heartbeat,
complete and fail jobs; operators cancel, retry and pause. Thin views over
``agents_audit.services.jobs``; the waiting claim is ``agents_audit.job_wakeups``."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.core.exceptions import ObjectDoesNotExist
from django.db import transaction
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.generics import GenericAPIView
from rest_framework.request import Request
from rest_framework.response import Response

from agents_audit import job_wakeups, selectors
from agents_audit.api import job_serializers as s
from agents_audit.api.trace import CORRELATION_PARAMETER, trace_from
from agents_audit.models import Job, Task
from agents_audit.services import jobs as queue
from commerce.api.authentication import caller
from commerce.models import User
from devskyy.api.idempotency import idempotent, without_idempotency_key
from devskyy.api.permissions import RolePermission
from devskyy.api.serializers import represent
from devskyy.api.viewsets import APIViewSetMixin
from devskyy.api.writes import mark_renders_before_commit, render_before_commit, render_inside

TASK_JOBS_LIMIT = 500
JOB_TYPE_PATTERN = r"[a-z0-9_.:-]{1,100}"


class TaskJobsView(APIViewSetMixin, GenericAPIView):
    """A task's jobs: list them, or queue one."""

    permission_classes = [RolePermission]
    pagination_class = None
    queryset = Task.objects.none()  # for the schema: the path's task_id
    serializer_class = s.JobSerializer
    roles = {"get": User.API_ROLES, "post": User.API_ROLES}
    extra_error_statuses = {"post": (409,)}

    def _task(self, request: Request, task_id: Any) -> Any:
        return get_object_or_404(selectors.task_list(viewer=caller(request)), pk=task_id)

    @extend_schema(
        summary="List a task's jobs",
        description=f"Oldest first, at most {TASK_JOBS_LIMIT}. Agents: tasks they created.",
        responses={200: s.JobSerializer(many=True)},
    )
    def get(self, request: Request, task_id: Any) -> Response:
        task = self._task(request, task_id)
        jobs = selectors.task_jobs(task=task)[:TASK_JOBS_LIMIT]
        return Response([represent(s.JobSerializer, job) for job in jobs])

    @extend_schema(
        summary="Queue a job for a task",
        parameters=[CORRELATION_PARAMETER],
        description="Queue work for an approved or executing task (else a 409 "
        "`task_not_runnable`); the task's creator or an operator. A worker claims it with "
        "`POST /api/v1/jobs/claim/`. With a `dedupe_key` already held by a queued, running "
        "or retrying job of the same type: a 200 with that job, nothing queued.",
        request=s.JobEnqueueSerializer,
        responses={
            201: s.JobSerializer,
            200: OpenApiResponse(s.JobSerializer, description="The live job with that key."),
        },
    )
    @idempotent
    def post(self, request: Request, task_id: Any) -> Response:
        task = self._task(request, task_id)
        data = s.JobEnqueueSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        with _not_found():
            job, created = queue.job_enqueue(
                task=task, by=caller(request), trace=trace_from(request), **data.validated_data
            )
        return Response(
            represent(s.JobSerializer, job),
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )


@contextmanager
def _not_found() -> Iterator[None]:
    """A call names its job (or task) by id: an unknown id, or a row deleted between the view's
    read and the service's locked re-read (a cascade, a prune), is a 404."""
    try:
        yield
    except ObjectDoesNotExist:
        raise NotFound() from None


@extend_schema_view(
    retrieve=extend_schema(
        summary="Get a job",
        description="Operators: any job; agents: the jobs of tasks they created.",
    )
)
class JobViewSet(APIViewSetMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Jobs: read them; as a worker, claim and finish them; as an operator, cancel and retry."""

    queryset = Job.objects.none()
    serializer_class = s.JobSerializer
    pagination_class = None
    lookup_value_regex = r"[0-9]{1,18}"
    roles = {
        "retrieve": User.API_ROLES,
        "claim": User.API_ROLES,
        "heartbeat": User.API_ROLES,
        "complete": User.API_ROLES,
        "fail": User.API_ROLES,
        "cancel": User.STAFF_ROLES,
        "retry": User.STAFF_ROLES,
        "stats": User.STAFF_ROLES,
    }
    extra_error_statuses = {
        "heartbeat": (409,),
        "complete": (409,),
        "fail": (409,),
        "cancel": (409,),
        "retry": (409,),
    }

    def get_queryset(self) -> Any:
        return selectors.job_list(viewer=caller(self.request))

    @extend_schema(
        summary="Claim the next job",
        parameters=[CORRELATION_PARAMETER],
        description="Take the highest-priority, oldest runnable job of your `job_types` (a job "
        "type an operator paused is skipped): 200 with the job and a `lease_token`, yours "
        "until `lease_expires_at` (send heartbeats to keep it), or 204 when there is nothing "
        "to do. With `wait_seconds` (at most 30), a claim that finds nothing waits for a job "
        "to be queued and takes it as soon as it is (long-poll); a server with many claims "
        "waiting already answers 204 at once. Jobs whose worker stopped sending heartbeats "
        "are taken back and offered again, counting the attempt.",
        request=s.JobClaimSerializer,
        responses={
            200: s.ClaimedJobSerializer,
            204: OpenApiResponse(description="Nothing to do (after waiting, if asked)."),
        },
    )
    @action(detail=False, methods=["post"])
    @without_idempotency_key  # a lost claim's job comes back when its lease expires
    @mark_renders_before_commit  # each attempt renders inside its own transaction (below)
    def claim(self, request: Request) -> Response:
        data = s.JobClaimSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        params = data.validated_data
        trace = trace_from(request)
        worker = caller(request)
        for _ in job_wakeups.claim_attempts(
            job_types=params["job_types"],
            wait_seconds=params["wait_seconds"],
            next_due=lambda: queue.job_next_run_after(job_types=params["job_types"]),
        ):
            # Each attempt is its own short transaction; the claimed job's response is rendered
            # inside it (a response that cannot be sent leaves the job unclaimed).
            with transaction.atomic():
                job = queue.job_claim(
                    worker_id=params["worker_id"],
                    job_types=params["job_types"],
                    lease_seconds=params["lease_seconds"],
                    by=worker,
                    trace=trace,
                )
                if job is not None:
                    response = Response(represent(s.ClaimedJobSerializer, job))
                    render_inside(self, request, response)
                    return response
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        summary="Extend a job's lease",
        description="Keep a claimed job: its lease runs `lease_seconds` from now. A job that "
        "is no longer yours (its lease expired and another worker took it, or an operator "
        "cancelled it): a 409 `lease_lost`; stop working on it.",
        request=s.JobHeartbeatSerializer,
        responses={200: s.LeaseStateSerializer},
    )
    @action(detail=True, methods=["post"])
    @idempotent
    def heartbeat(self, request: Request, pk: str) -> Response:
        data = s.JobHeartbeatSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        with _not_found():
            job = queue.job_heartbeat(job_id=int(pk), **data.validated_data)
        return Response(represent(s.LeaseStateSerializer, job))

    @extend_schema(
        summary="Complete a job",
        parameters=[CORRELATION_PARAMETER],
        description="The job succeeded, with its `result`. Fenced by the lease: a job that is "
        "no longer yours changes nothing (409 `lease_lost`).",
        request=s.JobCompleteSerializer,
        responses={200: s.JobSerializer},
    )
    @action(detail=True, methods=["post"])
    @idempotent
    def complete(self, request: Request, pk: str) -> Response:
        data = s.JobCompleteSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        with _not_found():
            job = queue.job_complete(
                job_id=int(pk),
                by=caller(request),
                trace=trace_from(request),
                **data.validated_data,
            )
        return Response(represent(s.JobSerializer, job))

    @extend_schema(
        summary="Fail a job",
        parameters=[CORRELATION_PARAMETER],
        description="The job failed with `error`. A retryable failure is retried after an "
        "exponential backoff with jitter (`status` `failed`, `run_after` says when) until its "
        "retries are used up; then, or when `retryable` is false, it is `dead`. Fenced by the "
        "lease like complete (409 `lease_lost`).",
        request=s.JobFailSerializer,
        responses={200: s.JobSerializer},
    )
    @action(detail=True, methods=["post"])
    @idempotent
    def fail(self, request: Request, pk: str) -> Response:
        data = s.JobFailSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        with _not_found():
            job = queue.job_fail(
                job_id=int(pk),
                by=caller(request),
                trace=trace_from(request),
                **data.validated_data,
            )
        return Response(represent(s.JobSerializer, job))

    @extend_schema(
        summary="Cancel a job",
        parameters=[CORRELATION_PARAMETER],
        description="Operators: a queued, retrying or running job will not run (again); a "
        "worker holding it gets 409 `lease_lost` on its next call. A finished job: 409 "
        "`invalid_transition`.",
        request=None,
        responses={200: s.JobSerializer},
    )
    @action(detail=True, methods=["post"])
    @idempotent
    def cancel(self, request: Request, pk: str) -> Response:
        with _not_found():
            job = queue.job_cancel(
                job=self.get_object(), by=caller(request), trace=trace_from(request)
            )
        return Response(represent(s.JobSerializer, job))

    @extend_schema(
        summary="Retry a job",
        parameters=[CORRELATION_PARAMETER],
        description="Operators: a dead, cancelled or retrying job is queued to run now. A "
        "job that is queued or running: 409 `invalid_transition`; another live job holding "
        "its `dedupe_key`: 409 `duplicate_job`.",
        request=None,
        responses={200: s.JobSerializer},
    )
    @action(detail=True, methods=["post"])
    @idempotent
    def retry(self, request: Request, pk: str) -> Response:
        with _not_found():
            job = queue.job_retry(
                job=self.get_object(), by=caller(request), trace=trace_from(request)
            )
        return Response(represent(s.JobSerializer, job))

    @extend_schema(
        summary="Queue statistics",
        description="Operators: per job type, how many jobs are queued, running and waiting "
        "for a retry, and whether the type is paused; how many claims wait for work in the "
        "server process that answered.",
        responses={200: s.QueueStatsSerializer},
    )
    @action(detail=False, methods=["get"])
    def stats(self, request: Request) -> Response:
        return Response(
            s.QueueStatsSerializer(
                {
                    "job_types": selectors.queue_depth_by_type(),
                    "waiting_claims": job_wakeups.wakeups.waiting,
                    "listening": job_wakeups.wakeups.listening.is_set(),
                }
            ).data
        )


class JobTypePauseView(APIViewSetMixin, GenericAPIView):
    """Operators pause a job type (its jobs stay queued, no worker gets one) or resume it."""

    permission_classes = [RolePermission]
    pagination_class = None
    serializer_class = s.JobTypePauseSerializer
    roles = {"post": User.STAFF_ROLES, "delete": User.STAFF_ROLES}

    @extend_schema(
        summary="Pause a job type",
        description="Operators: claims skip jobs of this type until it is resumed. Pausing a "
        "paused type changes nothing.",
        parameters=[
            OpenApiParameter("job_type", str, OpenApiParameter.PATH, pattern=JOB_TYPE_PATTERN),
            CORRELATION_PARAMETER,
        ],
        request=None,
        responses={200: s.JobTypePauseSerializer},
    )
    @idempotent
    def post(self, request: Request, job_type: str) -> Response:
        queue.job_type_pause(job_type=job_type, by=caller(request), trace=trace_from(request))
        return Response({"job_type": job_type, "paused": True})

    @extend_schema(
        summary="Resume a job type",
        description="Operators: its jobs are claimed again (waiting workers are woken).",
        parameters=[
            OpenApiParameter("job_type", str, OpenApiParameter.PATH, pattern=JOB_TYPE_PATTERN),
            CORRELATION_PARAMETER,
        ],
        responses={200: s.JobTypePauseSerializer},
    )
    @render_before_commit
    def delete(self, request: Request, job_type: str) -> Response:
        queue.job_type_resume(job_type=job_type, by=caller(request), trace=trace_from(request))
        return Response({"job_type": job_type, "paused": False})
