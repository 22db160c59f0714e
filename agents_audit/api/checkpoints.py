"""LangGraph checkpoints over HTTP (issue 10): what ``devskyy_langgraph.DevskyyCheckpointSaver``
calls. Thin views over ``agents_audit.services.checkpoints`` (writes) and
``agents_audit.checkpoints`` (reads, rendered as JSON by PostgreSQL).

=====================================  =============  ==================================
endpoint                               agents         operators and admins
=====================================  =============  ==================================
threads: list, retrieve, get a tuple,  their own      all
search (one thread or all)
put, put writes, copy, delete          their own      their own (another's: 403)
prune, delete for runs                 their own      their own
=====================================  =============  ==================================

"Their own": the threads their requests created. Another agent's thread, and the thread of a
task someone else created, are a 404 like a missing one. Customers: 403 everywhere.

Bodies may be as large as ``CHECKPOINT_MAX_BODY_BYTES`` (a 413 beyond).
"""

from __future__ import annotations

from typing import Any

from django.http import HttpResponse
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response

from agents_audit import checkpoints as reads
from agents_audit.api import checkpoint_serializers as s
from agents_audit.errors import ThreadNotFound
from agents_audit.models import CheckpointThread
from agents_audit.services.checkpoints import (
    BlobInput,
    checkpoint_put,
    checkpoint_thread_copy,
    checkpoint_thread_delete,
    checkpoint_threads_prune,
    checkpoint_writes_put,
    checkpoints_delete_for_runs,
)
from commerce.api.authentication import caller
from commerce.models import User
from devskyy.api.idempotency import idempotent, without_idempotency_key
from devskyy.api.pagination import KeysetPagination
from devskyy.api.serializers import represent
from devskyy.api.viewsets import APIViewSet
from devskyy.api.writes import render_before_commit
from devskyy.errors import NotFound

THREAD_ID = OpenApiParameter(
    "thread_id",
    s.THREAD_ID_SCHEMA,
    OpenApiParameter.PATH,
    description=f"The LangGraph thread id, percent-encoded: {s.THREAD_ID_RULE}.",
)
SIZE = (
    "Bodies may be up to `CHECKPOINT_MAX_BODY_BYTES` (16 MiB by default) large; larger: 413 "
    "`request_too_large`."
)
NOT_YOURS = (
    "Another agent's thread, or the thread of another user's task: 404 `not_found`, as for a "
    "thread that does not exist; operators and admins writing to a thread they do not own: 403."
)


def _json(body: bytes | str, code: int = status.HTTP_200_OK) -> HttpResponse:
    """A body PostgreSQL rendered (``agents_audit.checkpoints``)."""
    return HttpResponse(body, status=code, content_type="application/json")


class ThreadPagination(KeysetPagination):
    """Threads are keyed by their text id."""

    max_cursor_length = 4 * (s.ID_MAX_LENGTH * 6 + 80) // 3 + 4

    def parse_key(self, raw: str) -> str:
        if not 1 <= len(raw) <= s.ID_MAX_LENGTH or "\x00" in raw:
            raise ValueError(raw)
        raw.encode("utf-8")  # a lone surrogate (JSON can spell one) is a UnicodeError
        return raw


class ThreadViewSet(APIViewSet):
    """LangGraph threads and their checkpoints."""

    queryset = CheckpointThread.objects.none()
    serializer_class = s.ThreadSerializer
    pagination_class = ThreadPagination
    filter_backends: list[Any] = []
    lookup_url_kwarg = "thread_id"
    max_body_bytes_setting = "CHECKPOINT_MAX_BODY_BYTES"
    blank_query_parameters = frozenset({"checkpoint_ns"})
    roles = {
        "list": User.API_ROLES,
        "retrieve": User.API_ROLES,
        "destroy": User.API_ROLES,
        "put_checkpoint": User.API_ROLES,
        "put_writes": User.API_ROLES,
        "checkpoint": User.API_ROLES,
        "search": User.API_ROLES,
        "search_all": User.API_ROLES,
        "copy": User.API_ROLES,
        "delete_for_runs": User.API_ROLES,
        "prune": User.API_ROLES,
    }

    def get_queryset(self) -> Any:
        return reads.thread_list(viewer=caller(self.request))

    @extend_schema(
        summary="List threads",
        description="LangGraph threads, newest first, with cursor pagination: agents see "
        "their own, operators and admins all. `task` is the task whose `thread_id` the thread "
        "is, if any.",
    )
    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().list(request, *args, **kwargs)

    @extend_schema(
        summary="Get a thread",
        description="One thread (agents: their own; another's is a 404).",
        parameters=[THREAD_ID],
    )
    def retrieve(self, request: Request, thread_id: str) -> Response:
        thread = self.get_queryset().filter(pk=thread_id).first()
        if thread is None:
            raise ThreadNotFound()
        return Response(represent(s.ThreadSerializer, thread))

    @extend_schema(
        summary="Delete a thread",
        description="Deletes the thread with all its checkpoints, channel values and writes, "
        f"in one transaction (LangGraph's `delete_thread`). {NOT_YOURS}",
        parameters=[THREAD_ID],
        responses={204: OpenApiResponse(description="Deleted.")},
    )
    @render_before_commit
    def destroy(self, request: Request, thread_id: str) -> Response:
        checkpoint_thread_delete(thread_id=thread_id, by=caller(request))
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        summary="Put a checkpoint",
        description="LangGraph's `put`: the checkpoint (without `channel_values`), its "
        "metadata and the channel values it adds as `blobs`. A thread id nobody has yet "
        "creates the thread, yours. Blobs are stored once per (channel, version); the "
        "checkpoint is stored once per (namespace, id): put again, its `checkpoint` and "
        "`metadata` are replaced (201 when new, 200 when it existed), so retrying is safe. "
        f"{NOT_YOURS} {SIZE}",
        parameters=[THREAD_ID],
        request=s.CheckpointPutSerializer,
        responses={
            201: s.CheckpointKeySerializer,
            200: OpenApiResponse(s.CheckpointKeySerializer, description="Stored again."),
        },
    )
    @idempotent
    def put_checkpoint(self, request: Request, thread_id: str) -> Response:
        data = s.CheckpointPutSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        fields = data.validated_data
        created = checkpoint_put(
            thread_id=thread_id,
            by=caller(request),
            checkpoint=fields["checkpoint"],
            metadata=fields["metadata"],
            checkpoint_ns=fields["checkpoint_ns"],
            parent_checkpoint_id=fields["parent_checkpoint_id"],
            blobs=[BlobInput(**blob) for blob in fields["blobs"]],
        )
        body = {
            "thread_id": thread_id,
            "checkpoint_ns": fields["checkpoint_ns"],
            "checkpoint_id": fields["checkpoint"]["id"],
        }
        return Response(body, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)

    @extend_schema(
        summary="Put a task's writes",
        description="LangGraph's `put_writes`: a task's pending writes for a checkpoint (which "
        "need not be stored yet). `idx` is unique in a call (400 `duplicate`). When every "
        "`idx` is negative (special channels) the writes replace those stored under the same "
        "(task, idx); otherwise a write already stored is kept. A thread id nobody has yet "
        f"creates the thread, yours. {NOT_YOURS} {SIZE}",
        parameters=[THREAD_ID],
        request=s.WritesPutSerializer,
        responses={200: s.WritesResultSerializer},
    )
    @idempotent
    def put_writes(self, request: Request, thread_id: str) -> Response:
        data = s.WritesPutSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        count = checkpoint_writes_put(
            thread_id=thread_id, by=caller(request), **data.validated_data
        )
        return Response({"writes": count})

    @extend_schema(
        summary="Get a checkpoint tuple",
        description="LangGraph's `get_tuple`: the checkpoint named by `checkpoint_id`, or the "
        "namespace's latest without it, with its channel values (base64) and pending writes "
        "(ordered by `task_path`, `task_id`, `idx`). None there, or a thread you may not "
        "read: 404 `not_found`.",
        parameters=[THREAD_ID, s.TupleQuerySerializer],
        responses={200: s.CheckpointTupleSerializer},
    )
    def checkpoint(self, request: Request, thread_id: str) -> HttpResponse:
        query = s.TupleQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        viewer = caller(request)
        found = reads.checkpoint_tuple_get(
            thread_id=thread_id, viewer=viewer, **query.validated_data
        )
        if found is None:
            if not reads.thread_visible(thread_id=thread_id, viewer=viewer):
                raise ThreadNotFound()
            raise NotFound("No such checkpoint.")
        return _json(found)

    def _search(self, request: Request, thread_id: str | None) -> HttpResponse:
        data = s.SearchSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        viewer = caller(request)
        page = reads.checkpoint_search(viewer=viewer, thread_id=thread_id, **data.validated_data)
        if (
            not page.tuples
            and thread_id is not None
            and not reads.thread_visible(thread_id=thread_id, viewer=viewer)
        ):
            raise ThreadNotFound()
        return _json(page.json())

    _SEARCH = (
        "Newest first (`checkpoint_id` descending, then `thread_id` and `checkpoint_ns`): of "
        "one namespace (`checkpoint_ns`; null: every one), one id, metadata containing "
        "`filter`, ids below `before`; `limit` tuples a page, then `next_cursor` (null: no "
        "more). A read: retrying is safe and needs no `Idempotency-Key`."
    )

    @extend_schema(
        summary="Search a thread's checkpoints",
        description=f"LangGraph's `list` for one thread. {_SEARCH} A thread you may not read: "
        "404 `not_found`.",
        parameters=[THREAD_ID],
        request=s.SearchSerializer,
        responses={200: s.TuplePageSerializer},
    )
    @without_idempotency_key  # a read
    @render_before_commit
    def search(self, request: Request, thread_id: str) -> HttpResponse:
        return self._search(request, thread_id)

    @extend_schema(
        summary="Search checkpoints",
        description="LangGraph's `list` without a thread: the checkpoints of every thread you "
        f"may read (agents: their own; operators and admins: all). {_SEARCH}",
        request=s.SearchSerializer,
        responses={200: s.TuplePageSerializer},
    )
    @without_idempotency_key  # a read
    @render_before_commit
    def search_all(self, request: Request) -> HttpResponse:
        return self._search(request, None)

    @extend_schema(
        summary="Copy a thread",
        description="LangGraph's `copy_thread`: every checkpoint, channel value and write of "
        "the thread (every namespace) is copied into `target_thread_id`, in one transaction; "
        "rows the target already has are kept. The target is created, yours, if nobody has "
        "it. A source you may not read, or a target that is not yours: 404 `not_found` "
        "(operators: 403 for a target that is not theirs); the source itself as target: 400.",
        parameters=[THREAD_ID],
        request=s.CopySerializer,
        responses={200: s.CopyResultSerializer},
    )
    @idempotent
    def copy(self, request: Request, thread_id: str) -> Response:
        data = s.CopySerializer(data=request.data)
        data.is_valid(raise_exception=True)
        target = data.validated_data["target_thread_id"]
        copied = checkpoint_thread_copy(
            source_thread_id=thread_id, target_thread_id=target, by=caller(request)
        )
        return Response({"thread_id": target, "checkpoints": copied})

    @extend_schema(
        summary="Delete the checkpoints of runs",
        description="LangGraph's `delete_for_runs`: your checkpoints whose `metadata.run_id` "
        "is one of `run_ids` go, with their writes and the channel values no remaining "
        "checkpoint of their namespace uses. Other users' threads are never touched.",
        request=s.DeleteForRunsSerializer,
        responses={200: s.DeleteForRunsResultSerializer},
    )
    @idempotent
    def delete_for_runs(self, request: Request) -> Response:
        data = s.DeleteForRunsSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        deleted = checkpoints_delete_for_runs(
            run_ids=data.validated_data["run_ids"], by=caller(request)
        )
        return Response({"checkpoints": deleted})

    @extend_schema(
        summary="Prune threads",
        description="LangGraph's `prune`, for the threads among `thread_ids` that are yours "
        "(the others are skipped, as missing threads are). `keep_latest` (default): per "
        "namespace the newest checkpoint stays; the others go with their writes and the "
        "channel values no kept checkpoint uses. A thread whose graph uses a DeltaChannel "
        "cannot be pruned so: 409 `prune_unsupported` (`thread_ids` names them) and nothing "
        "is pruned. `delete`: the threads are deleted whole.",
        request=s.PruneSerializer,
        responses={200: s.PruneResultSerializer},
    )
    @idempotent
    def prune(self, request: Request) -> Response:
        data = s.PruneSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        threads, deleted = checkpoint_threads_prune(by=caller(request), **data.validated_data)
        return Response({"threads": threads, "checkpoints": deleted})
