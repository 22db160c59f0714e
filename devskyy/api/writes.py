"""Write handlers render their response before their transaction commits.

DRF renders a response after the view returns, which for a write is after its service committed:
a response that then fails to render is a 500 for a write that happened (an order placed, stock
taken), and a client that retries places it twice. So every write handler of the API runs in one
transaction together with the rendering of its response: if rendering fails, nothing was written.
(The renderer is total as well, see ``devskyy.api.renderers``; this holds whatever it meets.)

``@idempotent`` does this for every POST; other writes (PATCH) use ``@render_before_commit``. A
test walks the URLconf and checks every unsafe method of every API view carries the mark.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from django.db import transaction
from django.http import HttpResponseBase
from rest_framework.request import Request

RENDERS_BEFORE_COMMIT = "renders_before_commit"


def render_inside(
    view: Any, request: Request, response: HttpResponseBase, *args: Any, **kwargs: Any
) -> None:
    """Finalize and render ``response`` now, as DRF's dispatch would after the handler (DRF
    finalizes it again then, which changes nothing, and Django skips rendering it twice)."""
    response = view.finalize_response(request, response, *args, **kwargs)
    render = getattr(response, "render", None)
    if render is not None:
        render()


def mark_renders_before_commit(wrapper: Callable[..., Any]) -> Callable[..., Any]:
    setattr(wrapper, RENDERS_BEFORE_COMMIT, True)
    return wrapper


def render_before_commit(handler: Callable[..., Any]) -> Callable[..., Any]:
    """Run a DRF write handler and render its response in one transaction."""

    @functools.wraps(handler)
    def wrapper(self: Any, request: Request, *args: Any, **kwargs: Any) -> Any:
        with transaction.atomic():
            response = handler(self, request, *args, **kwargs)
            render_inside(self, request, response, *args, **kwargs)
        return response

    return mark_renders_before_commit(wrapper)
