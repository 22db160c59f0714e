"""The hot lane: a request that a view's hot handler answers skips the middlewares that do
nothing for it.

A LangGraph agent calls three checkpoint URLs at every step of its graph. Their views carry a
``hot_handler`` (``agents_audit.api.checkpoint_hot_path.hot_path``): a function of the request
and the URL's keyword arguments that answers exactly as the view would, or declines (None); it
answers a database outage itself, as the view does. For these requests Django's middleware chain
cost about a fifth of the server's time, mostly in middlewares that do nothing for an API-key
request. ``HotLaneMiddleware``, right after ``DatabaseUnavailableMiddleware``:

1. resolves the path with the URLconf, if it matches the full pattern of a view with a hot
   handler (``may_be_hot``: any other request costs the lane a regular expression, not a
   ``resolve()``). A view without a hot handler or not ``csrf_exempt``, a request with a cookie
   (sessions, CSRF and messages act on cookies), or ``CHECKPOINT_HOT_PATH=0``: the chain,
   untouched.
2. runs ``process_request`` of the middlewares it applies (``APPLIED``), in their order. A
   response or an exception (a redirect to https, a disallowed host or user agent): the chain,
   which answers as it always does.
3. calls the hot handler. None: the chain, with the same request (the view does not call the
   handler again: ``declined``). An exception: Django's answer to it
   (``response_for_exception``: the 500 handler, the log, ``got_request_exception``).
4. runs ``process_response`` of ``APPLIED`` in reverse order: the headers the chain adds.

It skips the middlewares of ``SKIPPED``, and the view, exception and template hooks that Django
calls around a view. It knows the project's middlewares. A middleware it does not know, one on
the wrong side of it, or a setting under which a skipped middleware would act on these requests
turns it off (``MiddlewareNotUsed``: the chain is as without it), and the system check
(``devskyy.checks``) says why. ``tests/test_hot_lane.py`` proves the answers equal with and
without the lane. The lane keeps what the WSGI handler does around the chain (the
``request_started`` and ``request_finished`` signals, closing the response).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Sequence

from django.conf import settings
from django.core import checks
from django.core.exceptions import MiddlewareNotUsed
from django.core.handlers.exception import response_for_exception
from django.http import HttpRequest, HttpResponse
from django.urls import Resolver404, URLResolver, get_resolver, get_urlconf, resolve
from django.utils.module_loading import import_string

LANE = f"{__name__}.HotLaneMiddleware"

# Before the lane, around it as around the chain; each with why the lane may bypass the hooks
# Django calls around a view (process_view, process_exception, process_template_response).
AROUND = {
    # Its process_exception answers a database outage, which a hot handler answers itself.
    "devskyy.middleware.DatabaseUnavailableMiddleware",
}
# After the lane: the lane runs their process_request and process_response.
APPLIED = (
    "django.middleware.security.SecurityMiddleware",  # https redirect; HSTS, nosniff, ...
    "django.middleware.common.CommonMiddleware",  # ALLOWED_HOSTS, user agents; Content-Length
    "django.middleware.clickjacking.XFrameOptionsMiddleware",  # X-Frame-Options
)
# After the lane: what each does for a request without a cookie to a view with a hot handler.
SKIPPED = {
    # Serves only the static files it knows (under STATIC_URL); the hot views are API views.
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # No session cookie: it loads no session and sets no cookie (no hot handler reads a session).
    "django.contrib.sessions.middleware.SessionMiddleware",
    # No CSRF cookie: it sets none; the hot views are csrf_exempt, which its process_view passes.
    "django.middleware.csrf.CsrfViewMiddleware",
    # A lazy request.user that a hot handler never reads: it authenticates the API key itself.
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # No cookie, no message added or read: it stores nothing.
    "django.contrib.messages.middleware.MessageMiddleware",
    # Acts on admin URLs only.
    "devskyy.admin.AdminNulQueryMiddleware",
    # Acts on a login locked out (django.contrib.auth.authenticate); no hot handler logs in.
    "axes.middleware.AxesMiddleware",
}
_BYPASSED_HOOKS = ("process_view", "process_exception", "process_template_response")

_DECLINED = "_hot_lane_declined"


def declined(request: HttpRequest) -> bool:
    """Whether the lane called the hot handler of this request's view, which declined it. The
    view does not call it again: it would authenticate twice and count the throttle twice."""
    return getattr(request, _DECLINED, False)


def problems(middleware: Sequence[str]) -> list[checks.CheckMessage]:
    """Why the lane may not run with this ``MIDDLEWARE`` (which holds it) and the settings;
    nothing if it may."""
    position = middleware.index(LANE)
    found: list[checks.CheckMessage] = []
    for path in middleware[:position]:
        if path in AROUND:
            continue
        if path in APPLIED or path in SKIPPED:
            found.append(
                checks.Warning(
                    f"{path} comes before {LANE}: the lane would not skip or apply it.",
                    hint=f"Put {LANE} right after DatabaseUnavailableMiddleware.",
                    id="devskyy.W002",
                )
            )
            continue
        hooks = [hook for hook in _BYPASSED_HOOKS if hasattr(import_string(path), hook)]
        if hooks:
            found.append(
                checks.Warning(
                    f"{path} comes before {LANE}, which would bypass its {', '.join(hooks)}.",
                    hint=f"Put {LANE} before it, or tell {__name__} why it may bypass them.",
                    id="devskyy.W001",
                )
            )
    for path in middleware[position + 1 :]:
        if path in APPLIED or path in SKIPPED:
            continue
        if path in AROUND or path == LANE:
            found.append(
                checks.Warning(
                    f"{path} comes after {LANE}.",
                    hint=f"Put {LANE} once, right after DatabaseUnavailableMiddleware.",
                    id="devskyy.W002",
                )
            )
        else:
            found.append(
                checks.Warning(
                    f"{LANE} does not know {path}: it would skip it for the hot handlers' "
                    "requests, so it is off.",
                    hint=f"Add it to {__name__}.APPLIED or SKIPPED (with the reason).",
                    id="devskyy.W001",
                )
            )
    if settings.CSRF_USE_SESSIONS and "django.middleware.csrf.CsrfViewMiddleware" in middleware:
        found.append(
            checks.Warning(
                f"CSRF_USE_SESSIONS is on: CsrfViewMiddleware reads the session of every "
                f"request (Vary: Cookie), so {LANE} may not skip it, and is off.",
                id="devskyy.W003",
            )
        )
    for alias, database in settings.DATABASES.items():
        if database.get("ATOMIC_REQUESTS"):
            found.append(
                checks.Warning(
                    f"ATOMIC_REQUESTS is on for the {alias!r} database: {LANE} would call the "
                    "hot handlers outside the request's transaction, so it is off.",
                    id="devskyy.W003",
                )
            )
    return found


def may_be_hot(path_info: str) -> bool:
    """Whether the path may resolve to a view with a hot handler: it matches the full pattern
    of one (as the URLconf spells it for ``reverse()``). Only a filter, so that every other
    request skips the lane's ``resolve()``; for a path it lets through, ``resolve()`` decides."""
    return any(route.match(path_info) for route in _hot_routes(get_resolver(get_urlconf())))


@functools.cache
def _hot_routes(resolver: URLResolver) -> tuple[re.Pattern[str], ...]:
    """The full patterns of the URLconf's views that carry a hot handler."""
    return tuple(
        re.compile(f"^/(?:{pattern})")
        for view in resolver.reverse_dict
        if callable(view) and hasattr(view, "hot_handler")
        for _, pattern, _, _ in resolver.reverse_dict.getlist(view)
    )


def _not_called(request: HttpRequest) -> HttpResponse:  # pragma: no cover
    raise AssertionError("the lane calls only the request and response hooks")


class HotLaneMiddleware:
    """Right after ``DatabaseUnavailableMiddleware`` in ``MIDDLEWARE`` (see above)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        middleware = list(settings.MIDDLEWARE)
        if LANE not in middleware:
            raise MiddlewareNotUsed(f"{LANE} is not in MIDDLEWARE")
        found = problems(middleware)
        if found:
            raise MiddlewareNotUsed(" ".join(str(problem.msg) for problem in found))
        self.get_response = get_response
        # Their own instances: they keep no state but the settings they read when made.
        applied = [
            import_string(path)(_not_called)
            for path in middleware[middleware.index(LANE) + 1 :]
            if path in APPLIED
        ]
        self.request_hooks = [m.process_request for m in applied if hasattr(m, "process_request")]
        self.response_hooks = [
            m.process_response for m in reversed(applied) if hasattr(m, "process_response")
        ]

    def __call__(self, request: HttpRequest) -> HttpResponse:
        # CHECKPOINT_HOT_PATH=0 turns the hot handlers off, and the lane with them.
        if (
            not settings.CHECKPOINT_HOT_PATH
            or request.META.get("HTTP_COOKIE")
            or not may_be_hot(request.path_info)
        ):
            return self.get_response(request)
        try:
            match = resolve(request.path_info)
        except Resolver404:
            return self.get_response(request)
        hot_handler = getattr(match.func, "hot_handler", None)
        # (CsrfViewMiddleware, skipped, would check an unsafe request to a view not exempt.)
        if hot_handler is None or not getattr(match.func, "csrf_exempt", False):
            return self.get_response(request)
        if self._refused(request):
            return self.get_response(request)
        request.resolver_match = match
        response: HttpResponse | None
        try:
            response = hot_handler(request, **match.kwargs)
        except Exception as exc:  # as the chain does around a view
            response = response_for_exception(request, exc)
        if response is None:
            setattr(request, _DECLINED, True)
            return self.get_response(request)
        for process_response in self.response_hooks:
            response = process_response(request, response)
        return response

    def _refused(self, request: HttpRequest) -> bool:
        """Whether a request hook answered or raised: the chain then answers, as it would."""
        try:
            return any(
                process_request(request) is not None for process_request in self.request_hooks
            )
        except Exception:  # the chain raises it again, and answers it
            return True
