"""The two calls a running LangGraph graph makes at every step, put a checkpoint and get the
latest tuple, answered without DRF's request machinery when nothing about the request needs it.

Each is a plain Django function in front of the DRF view of the same URL (``hot_path()``). It
answers a request only when it can answer exactly as the DRF view would, and hands every other
request to the DRF view: no ``Api-Key`` header (a session), a key that does not check out, a role
that may not call it, an ``Accept`` other than JSON, an ``Idempotency-Key``, a body that is not
``application/json`` or is larger than Django reads into memory, a query string or body that
the fast validation does not accept (``FastPath``, which only ever accepts what DRF's
serializers accept), a caller the throttle refuses. The DRF view then decides, and explains, as
before: every error body of these endpoints is still DRF's, except the three the hot path meets
after it has let a request through, which it renders with the API's own exception handler
(a thread that is not the caller's, or no such checkpoint).

What is skipped on the hot path: DRF's request wrapping, content negotiation, per-request
serializer fields, and the view's transaction (a put to a thread the caller owns is one
statement, its own transaction; its response is rendered before it runs). What is not: the
middlewares that act on these requests (``devskyy.hot_lane`` skips only those that do nothing
for them), the API key check (``APIKeyAuthentication``, cached as on the DRF path), the roles
of ``ThreadViewSet.roles`` and its throttles (counted once per request: the hot path consults
them last, after everything that could send the request to the DRF view, which would count it
again).

``CHECKPOINT_HOT_PATH=0`` sends every request to the DRF views. The OpenAPI document describes
these URLs from the DRF views, whose attributes the hot-path functions carry.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import DatabaseError
from django.http import HttpRequest, HttpResponse
from rest_framework.exceptions import AuthenticationFailed, ParseError, ValidationError

from agents_audit import checkpoints as reads
from agents_audit.api import checkpoint_serializers as s
from agents_audit.api.checkpoints import ThreadViewSet
from agents_audit.errors import ThreadNotFound
from agents_audit.services.checkpoints import BlobInput, checkpoint_put, checkpoint_writes_put
from commerce.api.authentication import KEYWORD, APIKeyAuthentication
from commerce.models import User
from devskyy import hot_lane
from devskyy import middleware as outage
from devskyy.api.exceptions import exception_handler
from devskyy.api.parsers import loads
from devskyy.api.renderers import JSONRenderer
from devskyy.api.serializers import REFUSED, FastInputSerializer, FastPath
from devskyy.errors import DomainError, NotFound

HotHandler = Callable[..., HttpResponse | None]
JSON = "application/json"
# Accept headers for which DRF's negotiation picks the JSON renderer.
JSON_ACCEPTS = frozenset({"", "*/*", JSON})
AUTHORIZATION_PREFIX = f"{KEYWORD} "

_authenticator = APIKeyAuthentication()
_renderer = JSONRenderer()


def _fast_path(serializer_class: type[FastInputSerializer]) -> FastPath:
    fast_path = serializer_class.fast_path
    if fast_path is None:
        raise ImproperlyConfigured(f"{serializer_class.__name__} has no fast path")
    return fast_path


# A body is validated as the serializer's fast path does (its checkers, then its validate()).
PUT_FAST_PATH = _fast_path(s.CheckpointPutSerializer)
WRITES_FAST_PATH = _fast_path(s.WritesPutSerializer)
_TUPLE_FIELDS = s.TupleQuerySerializer._declared_fields
TUPLE_QUERY_CHECKERS = {
    name: _TUPLE_FIELDS[name].fast_checker()  # type: ignore[attr-defined]
    for name in ("checkpoint_ns", "checkpoint_id")
}


def hot_path(drf_view: Callable[..., Any], handler: HotHandler) -> Callable[..., Any]:
    """``drf_view``, with ``handler`` answering first the requests it can (None: it cannot).
    The function keeps the DRF view's attributes (``cls``, ``actions``, ``csrf_exempt``), so
    the schema generator and the URLconf checks see the DRF view. Its ``hot_handler`` is
    ``handler`` with the DRF view's answer to a database outage, for ``devskyy.hot_lane``,
    which calls it before the middlewares it skips; the view does not ask a handler again
    that the lane has asked already."""

    (action,) = drf_view.actions.values()  # type: ignore[attr-defined]

    def answer(request: HttpRequest, **kwargs: Any) -> HttpResponse | None:
        try:
            return handler(request, **kwargs)
        except DatabaseError as error:
            if outage.database_error_code(error) is None:
                raise
            return _error(request, error, action)  # the 503 the DRF view gives

    @functools.wraps(drf_view)
    def view(request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
        if settings.CHECKPOINT_HOT_PATH and not hot_lane.declined(request):
            response = answer(request, **kwargs)
            if response is not None:
                return response
        return drf_view(request, *args, **kwargs)

    view.hot_handler = answer  # type: ignore[attr-defined]
    return view


@functools.cache
def _headers(action: str) -> dict[str, str]:
    """The headers DRF's ``finalize_response`` adds to every answer of ``action``'s view
    (``Allow``, ``Vary: Accept``): its instance as ``as_view()`` sets it up."""
    view = ThreadViewSet(action=action)
    method = ACTIONS[action]
    setattr(view, method, getattr(view, action))
    if method == "get":
        view.head = view.get  # type: ignore[attr-defined]
    return dict(view.default_response_headers)


ACTIONS = {"put_checkpoint": "post", "put_writes": "post", "checkpoint": "get"}


def _response(body: bytes | str, status: int, action: str) -> HttpResponse:
    return HttpResponse(body, status=status, content_type=JSON, headers=_headers(action))


def _error(request: HttpRequest, error: Exception, action: str) -> HttpResponse:
    """The API's error answer (``devskyy.api.exceptions``) to a refusal or a database outage
    met on the hot path."""
    answer = exception_handler(error, {"request": request, "view": None})
    if answer is None:  # pragma: no cover - callers pass errors the handler answers
        raise error
    body = _renderer.render(answer.data)
    response = _response(body, answer.status_code, action)
    for name, value in answer.items():
        if name.lower() != "content-type":  # (the unrendered Response's default)
            response[name] = value
    if getattr(answer, "_has_been_logged", False):  # an outage, logged once already
        outage.mark_logged(response)
    return response


def _caller(request: HttpRequest, action: str) -> User | None:
    """The API key's owner, if the DRF view would let them call ``action``; else None."""
    meta = request.META
    if not meta.get("HTTP_AUTHORIZATION", "").startswith(AUTHORIZATION_PREFIX):
        return None
    if meta.get("HTTP_ACCEPT", "") not in JSON_ACCEPTS:
        return None
    try:
        found = _authenticator.authenticate(request)  # type: ignore[arg-type]
    except AuthenticationFailed:
        return None
    if found is None:
        return None
    user = found[0]
    if not user.is_active or user.role not in ThreadViewSet.roles[action]:
        return None
    return user


def _throttled(request: HttpRequest, user: User, action: str) -> bool:
    """Whether the view's throttles refuse the request (each allowing throttle counts it)."""
    request.user = user
    view = ThreadViewSet(action=action)
    allowed = [throttle.allow_request(request, view) for throttle in view.get_throttles()]  # type: ignore[arg-type]
    return not all(allowed)


def _body(request: HttpRequest) -> Any:
    """The JSON body, if it is one the DRF parser reads the same way; else REFUSED."""
    if request.META.get("CONTENT_TYPE") != JSON:
        return REFUSED
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return REFUSED
    limit = min(settings.CHECKPOINT_MAX_BODY_BYTES, settings.DATA_UPLOAD_MAX_MEMORY_SIZE or 0)
    if not 0 < length <= limit:
        return REFUSED
    try:
        # request.body keeps the bytes for the DRF view, should the request go there after all.
        return loads(request.body)
    except ParseError:
        return REFUSED


def _plain_post(request: HttpRequest) -> bool:
    """A POST without a query string or an ``Idempotency-Key`` (the DRF view's to honour)."""
    meta = request.META
    return (
        request.method == "POST"
        and not meta.get("QUERY_STRING")
        and "HTTP_IDEMPOTENCY_KEY" not in meta
    )


def put_checkpoint(request: HttpRequest, thread_id: str) -> HttpResponse | None:
    """``POST threads/<id>/checkpoints/``: ``ThreadViewSet.put_checkpoint``."""
    action = "put_checkpoint"
    if not _plain_post(request):
        return None
    user = _caller(request, action)
    if user is None:
        return None
    data = _body(request)
    fields = _validated(s.CheckpointPutSerializer, PUT_FAST_PATH, data)
    if fields is None or _throttled(request, user, action):
        return None
    checkpoint_ns, checkpoint = fields["checkpoint_ns"], fields["checkpoint"]
    body = _renderer.render(
        {"thread_id": thread_id, "checkpoint_ns": checkpoint_ns, "checkpoint_id": checkpoint["id"]}
    )
    try:
        created = checkpoint_put(
            thread_id=thread_id,
            by=user,
            checkpoint=checkpoint,
            metadata=fields["metadata"],
            checkpoint_ns=checkpoint_ns,
            parent_checkpoint_id=fields["parent_checkpoint_id"],
            blobs=[BlobInput(**blob) for blob in fields["blobs"]],
        )
    except DomainError as error:
        return _error(request, error, action)
    return _response(body, 201 if created else 200, action)


def _validated(
    serializer_class: type[FastInputSerializer], fast_path: FastPath, data: Any
) -> dict[str, Any] | None:
    """The body as the serializer validates it, if its fast path accepts it; else None."""
    fields = fast_path.check(data) if type(data) is dict else None
    if fields is None:
        return None
    try:
        return serializer_class().validate(fields)
    except ValidationError:
        return None


def put_writes(request: HttpRequest, thread_id: str) -> HttpResponse | None:
    """``POST threads/<id>/writes/``: ``ThreadViewSet.put_writes``."""
    action = "put_writes"
    if not _plain_post(request):
        return None
    user = _caller(request, action)
    if user is None:
        return None
    fields = _validated(s.WritesPutSerializer, WRITES_FAST_PATH, _body(request))
    if fields is None or _throttled(request, user, action):
        return None
    body = _renderer.render({"writes": len(fields["writes"])})
    try:
        checkpoint_writes_put(thread_id=thread_id, by=user, **fields)
    except DomainError as error:
        return _error(request, error, action)
    return _response(body, 200, action)


def _tuple_query(request: HttpRequest) -> dict[str, str] | None:
    """The query string as ``TupleQuerySerializer`` validates it, if the DRF view would accept
    it as is: known parameters, each once, no NUL, only ``checkpoint_ns`` may be empty."""
    query: dict[str, str] = {"checkpoint_ns": ""}
    for name, values in request.GET.lists():
        check = TUPLE_QUERY_CHECKERS.get(name)
        if check is None or len(values) != 1:
            return None
        value = values[0]
        if value == "" and name != "checkpoint_ns":
            return None
        checked = check(value)
        if checked is REFUSED:
            return None
        query[name] = checked
    return query


def checkpoint_tuple(request: HttpRequest, thread_id: str) -> HttpResponse | None:
    """``GET threads/<id>/checkpoint/``: ``ThreadViewSet.checkpoint``."""
    action = "checkpoint"
    if request.method != "GET":
        return None
    query = _tuple_query(request)
    if query is None:
        return None
    user = _caller(request, action)
    if user is None or _throttled(request, user, action):
        return None
    found = reads.checkpoint_tuple_get(thread_id=thread_id, viewer=user, **query)
    if found is not None:
        return _response(found, 200, action)
    if not reads.thread_visible(thread_id=thread_id, viewer=user):
        return _error(request, ThreadNotFound(), action)
    return _error(request, NotFound("No such checkpoint."), action)
