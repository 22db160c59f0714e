"""What the saver raises when devskyy says no.

The server answers every error in one JSON format (``{"code", "detail", "errors"?}``); the
exception keeps that body whole so a caller can branch on ``code``, never on prose.
"""

from __future__ import annotations

from typing import Any

import httpx


class DevskyyAPIError(Exception):
    """devskyy answered an error (a 4xx, or a 5xx the retries could not get past)."""

    def __init__(
        self,
        *,
        method: str,
        url: str,
        status_code: int,
        body: Any,
        retry_after: float | None = None,
    ) -> None:
        self.method = method
        self.url = url
        self.status_code = status_code
        self.body = body  # the server's JSON error body; the text when it was not JSON
        self.retry_after = retry_after  # seconds, when the server said when to come back
        fields = body if isinstance(body, dict) else {}
        self.code: str | None = fields.get("code")
        self.detail: str | None = fields.get("detail")
        self.errors: Any = fields.get("errors")
        reason = f"{self.code}: {self.detail}" if self.code else str(body)[:300]
        super().__init__(f"{method} {url} answered {status_code} ({reason})")


class CheckpointTooLarge(DevskyyAPIError, ValueError):
    """413: the checkpoint (or the writes) exceed the server's body limit; retrying cannot help."""


class PruneUnsupported(DevskyyAPIError, NotImplementedError):
    """409 ``prune_unsupported``: keep_latest refused a thread that uses a DeltaChannel.

    A ``NotImplementedError``, as the official Postgres saver raises in this case.
    """


def api_error(response: httpx.Response, *, retry_after: float | None = None) -> DevskyyAPIError:
    """The exception for an error response, keeping its JSON body."""
    try:
        body: Any = response.json()
    except ValueError:
        body = response.text
    kind = DevskyyAPIError
    if response.status_code == httpx.codes.REQUEST_ENTITY_TOO_LARGE:
        kind = CheckpointTooLarge
    elif isinstance(body, dict) and body.get("code") == "prune_unsupported":
        kind = PruneUnsupported
    return kind(
        method=response.request.method,
        url=str(response.request.url),
        status_code=response.status_code,
        body=body,
        retry_after=retry_after,
    )
