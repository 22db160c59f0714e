"""The agent audit API: thin views over agents_audit.services and agents_audit.selectors."""

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
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from agents_audit import selectors, services
from agents_audit.api import serializers as s
from agents_audit.filters import AgentExecutionFilter, RoundTableResultFilter, ToolExecutionFilter
from agents_audit.models import AgentExecution, LLMRoundTableResult, ToolExecution
from commerce.api.authentication import caller
from commerce.models import User
from devskyy.api import natural_keys
from devskyy.api.filters import parse_lookups
from devskyy.api.idempotency import idempotent
from devskyy.api.pagination import KeysetPagination
from devskyy.api.serializers import represent
from devskyy.api.viewsets import APIViewSet

BULK_MAX_ITEMS = 1000
# Agents and staff write the audit trail; customers have no API access at all.
WRITERS = User.API_ROLES
READERS = User.API_ROLES


def _record_once(
    request: Request, input_serializer: type, service: Any, output_serializer: type
) -> Response:
    """A create that is idempotent on a natural key: 201 when this request created the record,
    200 with the existing one when the same body came before (the service raises 409 else)."""
    data = input_serializer(data=request.data)
    data.is_valid(raise_exception=True)
    record, created = service(user=caller(request), **data.validated_data)
    return Response(
        output_serializer(record).data,
        status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
    )


@extend_schema_view(
    list=extend_schema(
        summary="List tool executions",
        description="Newest first, with cursor pagination: follow `next` to page through a "
        "trace (`?correlation_id=...`). Agents see the executions they recorded; operators "
        "and admins see all.",
    ),
    retrieve=extend_schema(
        summary="Get a tool execution",
        description="One recorded tool call by id (agents: their own).",
    ),
)
class ToolExecutionViewSet(APIViewSet):
    """Tool calls, traced by ``correlation_id``. Agents see the ones they recorded."""

    queryset = ToolExecution.objects.none()  # the model, for the schema; rows: get_queryset
    serializer_class = s.ToolExecutionSerializer
    filterset_class = ToolExecutionFilter
    roles = {"list": READERS, "retrieve": READERS, "create": WRITERS, "bulk": WRITERS}

    def get_queryset(self) -> Any:
        return selectors.tool_execution_list(viewer=caller(self.request))

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Any:
        """The hot read path of every agent's tracing: one SQL statement, rendered to JSON by
        PostgreSQL in ToolExecutionSerializer's shape (a test holds the two paths equal)."""
        lookups = parse_lookups(self.filterset_class, request.query_params)
        if request.accepted_renderer.format != "json" or lookups is None:
            return super().list(request, *args, **kwargs)  # the browsable API
        paginator: KeysetPagination = self.paginator  # type: ignore[assignment]
        fetch = selectors.tool_execution_page(viewer=caller(request), lookups=lookups)
        return paginator.get_paginated_json_response(paginator.paginate_sql(fetch, request))

    @extend_schema(
        summary="Record a tool execution",
        description="Record one tool call in the audit trail. Group the calls of one task under "
        "one `correlation_id`. With an `Idempotency-Key`, a retry records nothing twice.",
        request=s.ToolExecutionInputSerializer,
        responses={201: s.ToolExecutionSerializer},
    )
    @idempotent
    def create(self, request: Request) -> Response:
        data = s.ToolExecutionInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        execution = services.tool_execution_record(user=caller(request), **data.validated_data)
        return Response(
            represent(s.ToolExecutionSerializer, execution), status=status.HTTP_201_CREATED
        )

    @extend_schema(
        summary="Record tool executions in bulk",
        request=s.ToolExecutionInputSerializer(  # type: ignore[call-arg]
            many=True, min_length=1, max_length=BULK_MAX_ITEMS
        ),
        responses={201: s.BulkCreatedSerializer},
        description=f"Record 1 to {BULK_MAX_ITEMS} tool executions in one transaction: all or "
        "nothing. The body is a JSON array; a 400 lists the errors of each failing "
        "item under its index.",
    )
    @action(detail=False, methods=["post"])
    @idempotent
    def bulk(self, request: Request) -> Response:
        items = request.data
        if not isinstance(items, list):
            raise ValidationError({"non_field_errors": ["Expected a JSON array of executions."]})
        if not 1 <= len(items) <= BULK_MAX_ITEMS:
            raise ValidationError(
                {
                    "non_field_errors": [
                        f"Send between 1 and {BULK_MAX_ITEMS} executions; got {len(items)}."
                    ]
                }
            )
        validator = s.ToolExecutionInputSerializer()
        valid, errors = [], {}
        for index, item in enumerate(items):
            try:
                valid.append(validator.to_internal_value(item))
            except ValidationError as exc:
                errors[str(index)] = exc.detail
        if errors:
            raise ValidationError(errors)
        created = services.tool_executions_record_bulk(user=caller(request), items=valid)
        return Response({"created": created}, status=status.HTTP_201_CREATED)


@extend_schema_view(
    list=extend_schema(
        summary="List agent executions",
        description="Newest first, with cursor pagination. Agents see the executions they "
        "started; operators and admins see all.",
    ),
    retrieve=extend_schema(
        summary="Get an agent execution",
        description="One execution by its `execution_id` (agents: their own).",
    ),
)
class AgentExecutionViewSet(APIViewSet):
    """SuperAgent runs: started ``running``, ended once by ``complete`` or ``fail``."""

    queryset = AgentExecution.objects.none()
    serializer_class = s.AgentExecutionSerializer
    filterset_class = AgentExecutionFilter
    lookup_field = "execution_id"
    lookup_value_regex = natural_keys.URL_REGEX
    roles = {
        "list": READERS,
        "retrieve": READERS,
        "create": WRITERS,
        "complete": WRITERS,
        "fail": WRITERS,
    }
    extra_error_statuses = {"complete": (409,), "fail": (409,)}

    def get_queryset(self) -> Any:
        return selectors.agent_execution_list(viewer=caller(self.request))

    @extend_schema(
        summary="Start an agent execution",
        description="Start an execution (`running`) under an `execution_id` you choose. "
        "Sending the same body again is a 200 with the execution; a different body under a "
        "taken `execution_id` is a 409 `conflict`.",
        request=s.AgentExecutionStartSerializer,
        responses={
            201: s.AgentExecutionSerializer,
            200: OpenApiResponse(
                s.AgentExecutionSerializer, description="Already started with this exact body."
            ),
        },
    )
    @idempotent
    def create(self, request: Request) -> Response:
        return _record_once(
            request,
            s.AgentExecutionStartSerializer,
            services.agent_execution_start,
            s.AgentExecutionSerializer,
        )

    def _end(self, request: Request, serializer_class: type, service: Any) -> Response:
        execution: AgentExecution = self.get_object()
        data = serializer_class(data=request.data)
        data.is_valid(raise_exception=True)
        execution = service(execution=execution, **data.validated_data)
        return Response(s.AgentExecutionSerializer(execution).data)

    @extend_schema(
        summary="Complete an agent execution",
        description="A running execution becomes `completed`, with its result, tokens and "
        "duration. An execution that has already ended: a 409 `invalid_transition`.",
        request=s.AgentExecutionEndSerializer,
        responses={200: s.AgentExecutionSerializer},
    )
    @action(detail=True, methods=["post"])
    @idempotent
    def complete(self, request: Request, execution_id: str) -> Response:
        return self._end(request, s.AgentExecutionEndSerializer, services.agent_execution_complete)

    @extend_schema(
        summary="Fail an agent execution",
        description="A running execution becomes `failed`; `result` holds the error. An "
        "execution that has already ended: a 409 `invalid_transition`.",
        request=s.AgentExecutionFailSerializer,
        responses={200: s.AgentExecutionSerializer},
    )
    @action(detail=True, methods=["post"])
    @idempotent
    def fail(self, request: Request, execution_id: str) -> Response:
        return self._end(request, s.AgentExecutionFailSerializer, services.agent_execution_fail)


@extend_schema_view(
    list=extend_schema(
        summary="List round-table results",
        description="Newest first, with cursor pagination. Agents see the results they "
        "recorded; operators and admins see all.",
    ),
    retrieve=extend_schema(
        summary="Get a round-table result",
        description="One competition by its `result_id` (agents: their own).",
    ),
)
class RoundTableResultViewSet(APIViewSet):
    """Multi-LLM competitions and their winners."""

    queryset = LLMRoundTableResult.objects.none()
    serializer_class = s.RoundTableResultSerializer
    filterset_class = RoundTableResultFilter
    lookup_field = "result_id"
    lookup_value_regex = natural_keys.URL_REGEX
    roles = {"list": READERS, "retrieve": READERS, "leaderboard": READERS, "create": WRITERS}

    def get_queryset(self) -> Any:
        return selectors.round_table_result_list(viewer=caller(self.request))

    @extend_schema(
        summary="Record a round-table result",
        description="Record a competition between LLM providers under a `result_id` you "
        "choose: every participant's entry and, optionally, the winner (one of the "
        "participants; each provider takes part once). Sending the same body again is a 200; "
        "a different body under a taken `result_id` is a 409 `conflict`.",
        request=s.RoundTableResultInputSerializer,
        responses={
            201: s.RoundTableResultSerializer,
            200: OpenApiResponse(
                s.RoundTableResultSerializer, description="Already recorded with this exact body."
            ),
        },
    )
    @idempotent
    def create(self, request: Request) -> Response:
        return _record_once(
            request,
            s.RoundTableResultInputSerializer,
            services.round_table_result_record,
            s.RoundTableResultSerializer,
        )

    @extend_schema(
        summary="Provider leaderboard",
        parameters=[
            OpenApiParameter(
                "task_category",
                {"type": "string", "minLength": 1, "maxLength": 100},
                required=False,
                description=f"Only competitions of this category. {s.TASK_CATEGORY_HELP}",
            )
        ],
        responses={200: s.LeaderboardEntrySerializer(many=True)},
        description="Per provider: competitions entered, wins, win rate and mean score, over "
        "the results you may see.",
    )
    @action(detail=False, methods=["get"], pagination_class=None, filter_backends=[])
    def leaderboard(self, request: Request) -> Response:
        category = request.query_params.get("task_category")
        if category is not None and (len(category) > 100 or "\x00" in category):
            raise ValidationError({"task_category": ["Invalid category."]})
        rows = selectors.round_table_leaderboard(viewer=caller(request), task_category=category)
        return Response(s.LeaderboardEntrySerializer(rows, many=True).data)
