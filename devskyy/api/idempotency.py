"""``Idempotency-Key`` for every POST: a retried request never writes twice.

- The first request with a key claims it: a row ``(user, key, fingerprint, in_progress)`` is
  committed at once, so that a concurrent duplicate sees it and gets a 409
  ``idempotency_in_progress`` instead of running the write a second time.
- The view then runs inside one transaction together with the completion of that row (response
  status and body) and the rendering of its response: all of it commits or none of it does.
  Without a key, the view and its rendering still share one transaction (see
  ``devskyy.api.writes``).
- A retry with the same key and the same request replays the stored response (header
  ``Idempotent-Replayed: true``); the same key with a different request is a 422
  ``idempotency_key_reused``.
- If the view raises (a 4xx validation error, or a crash) the claim is released, so the caller
  may correct the request and retry with the same key. A claim whose process died is taken over
  after ``API_IDEMPOTENCY_STALE_SECONDS``.
- ``@idempotent_prepared(prepare, again_on=...)`` runs slow work (embeddings) before that
  transaction, outside any, and runs both again when the handler finds it outdated.
- Keys are kept ``API_IDEMPOTENCY_TTL_HOURS`` (24 h by default); ``manage.py
  purge_idempotency_records`` deletes older ones.
"""

from __future__ import annotations

import functools
import hashlib
import json
import re
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.utils.encoders import JSONEncoder

from devskyy.api.exceptions import IdempotencyInProgress, IdempotencyKeyReused
from devskyy.api.renderers import render_json
from devskyy.api.writes import mark_renders_before_commit, render_inside
from devskyy.json_codec import loads
from devskyy.models import IdempotencyRecord

HEADER = "Idempotency-Key"
MAX_KEY_LENGTH = 255
# Printable ASCII, not starting or ending with a space (HTTP would strip it): a UUID fits.
KEY_PATTERN = re.compile(rf"^[!-~](?:[ -~]{{0,{MAX_KEY_LENGTH - 2}}}[!-~])?$")


def request_fingerprint(request: Request) -> str:
    body = json.dumps(request.data, sort_keys=True, separators=(",", ":"), cls=JSONEncoder)
    digest = hashlib.sha256()
    for part in (request.method or "", request.path, body):
        digest.update(part.encode("utf-8", "surrogatepass"))
        digest.update(b"\x00")
    return digest.hexdigest()


def _claim(user_id: Any, key: str, fingerprint: str) -> int | None:
    """Insert the claim in its own committed transaction; return its id, or None if taken."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO api_idempotency_records (user_id, key, fingerprint, state) "
            "VALUES (%s, %s, %s, 'in_progress') ON CONFLICT (user_id, key) DO NOTHING "
            "RETURNING id",
            [user_id, key, fingerprint],
        )
        row = cursor.fetchone()
    return row[0] if row else None


def _take_over_expired_or_stale(record: IdempotencyRecord, fingerprint: str) -> int | None:
    now = timezone.now()
    ttl = timedelta(hours=settings.API_IDEMPOTENCY_TTL_HOURS)
    stale = timedelta(seconds=settings.API_IDEMPOTENCY_STALE_SECONDS)
    expired = record.created_at < now - ttl
    abandoned = (
        record.state == IdempotencyRecord.State.IN_PROGRESS and record.created_at < now - stale
    )
    if not (expired or abandoned):
        return None
    with transaction.atomic():
        taken = IdempotencyRecord.objects.filter(
            pk=record.pk, state=record.state, created_at=record.created_at
        ).update(
            fingerprint=fingerprint,
            state=IdempotencyRecord.State.IN_PROGRESS,
            response_status=None,
            response_body=None,
            created_at=now,
        )
    return record.pk if taken else None


def _replay_or_refuse(user_id: Any, key: str, fingerprint: str) -> Response | int:
    record = IdempotencyRecord.objects.filter(user_id=user_id, key=key).first()
    if record is None:  # released between our INSERT and our SELECT: try once more
        claimed = _claim(user_id, key, fingerprint)
        if claimed is None:
            raise IdempotencyInProgress()
        return claimed
    taken = _take_over_expired_or_stale(record, fingerprint)
    if taken is not None:
        return taken
    if record.fingerprint != fingerprint:
        raise IdempotencyKeyReused()
    if record.state != IdempotencyRecord.State.COMPLETED:
        raise IdempotencyInProgress()
    assert record.response_status is not None
    return Response(
        record.response_body, status=record.response_status, headers={"Idempotent-Replayed": "true"}
    )


IDEMPOTENCY_KEY_IGNORED = "idempotency_key_ignored"


def without_idempotency_key(handler: Callable[..., Any]) -> Callable[..., Any]:
    """Mark a POST handler that does not take an ``Idempotency-Key`` (the OpenAPI document then
    does not offer the header): one whose retry has its own answer (a job claim: the job of a
    claim whose response was lost comes back to the queue when its lease expires)."""
    setattr(handler, IDEMPOTENCY_KEY_IGNORED, True)
    return handler


def idempotent(handler: Callable[..., Response]) -> Callable[..., Response]:
    """Decorate a POST handler of a DRF view to honour the ``Idempotency-Key`` header."""
    return _idempotent(handler, prepare=None, again_on=(), attempts=1)


def idempotent_prepared(
    prepare: Callable[..., Any], *, again_on: type[Exception], attempts: int = 3
) -> Callable[[Callable[..., Response]], Callable[..., Response]]:
    """``@idempotent`` for a handler with slow work that must not hold a transaction open (the
    knowledge base computes embeddings): ``prepare(view, request, *args, **kwargs)`` runs first,
    after the key is claimed and outside any transaction, and the handler gets its result as
    ``prepared``. A handler that finds, under its locks, that the rows changed since and what
    was prepared no longer fits raises ``again_on``: its transaction rolls back and both run
    again, ``attempts`` times at most (then the error stands)."""
    return lambda handler: _idempotent(
        handler, prepare=prepare, again_on=(again_on,), attempts=attempts
    )


def _idempotent(
    handler: Callable[..., Response],
    *,
    prepare: Callable[..., Any] | None,
    again_on: tuple[type[Exception], ...],
    attempts: int,
) -> Callable[..., Response]:
    def run(
        view: Any, request: Request, args: Any, kwargs: Any, complete: Callable[[Response], None]
    ) -> Response:
        """Prepare, then the handler, ``complete`` and the rendering in one transaction."""
        for attempt in range(1, attempts + 1):
            extra = {} if prepare is None else {"prepared": prepare(view, request, *args, **kwargs)}
            try:
                with transaction.atomic():
                    response = handler(view, request, *args, **kwargs, **extra)
                    complete(response)
                    render_inside(view, request, response, *args, **kwargs)
            except again_on:
                if attempt == attempts:
                    raise
                continue
            return response
        raise AssertionError("unreachable")  # pragma: no cover

    @functools.wraps(handler)
    def wrapper(self: Any, request: Request, *args: Any, **kwargs: Any) -> Response:
        key = request.headers.get(HEADER)
        if key is None:
            return run(self, request, args, kwargs, lambda response: None)
        if not KEY_PATTERN.fullmatch(key):
            raise ValidationError(
                {
                    HEADER: [
                        f"Must be 1 to {MAX_KEY_LENGTH} printable ASCII characters, not "
                        "starting or ending with a space."
                    ]
                }
            )
        fingerprint = request_fingerprint(request)
        user_id = request.user.pk
        record_id = _claim(user_id, key, fingerprint)
        if record_id is None:
            outcome = _replay_or_refuse(user_id, key, fingerprint)
            if isinstance(outcome, Response):
                return outcome
            record_id = outcome

        def complete(response: Response) -> None:
            IdempotencyRecord.objects.filter(pk=record_id).update(
                state=IdempotencyRecord.State.COMPLETED,
                response_status=response.status_code,
                response_body=loads(render_json(response.data).decode()),
            )

        try:
            return run(self, request, args, kwargs, complete)
        except BaseException:
            IdempotencyRecord.objects.filter(
                pk=record_id, state=IdempotencyRecord.State.IN_PROGRESS
            ).delete()
            raise

    return mark_renders_before_commit(wrapper)
