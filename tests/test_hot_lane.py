"""The hot lane (devskyy/hot_lane.py) answers every request as the full middleware chain does:
for each request of the checkpoint hot path's parity test and a few more (https, hosts, user
agents, sessions, cookies, errors), the same status, headers, cookies, body, stored rows and
queries with the lane in ``MIDDLEWARE`` as without it. The middlewares it skips do not run for
the requests it answers, and run for every other one. A middleware it does not know, or a
wrong place for it, turns it off and the system check says why."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.core import checks
from django.core.exceptions import MiddlewareNotUsed
from django.core.signals import got_request_exception
from django.db import OperationalError
from django.http import HttpRequest, HttpResponse
from django.test import Client
from django.urls import path as url
from django.utils.module_loading import import_string
from django.views.decorators.csrf import csrf_exempt
from rest_framework.throttling import UserRateThrottle

from devskyy import hot_lane
from devskyy.hot_lane import LANE, SKIPPED, HotLaneMiddleware
from tests.agents_audit.checkpoint_hot_cases import (
    CASES,
    GET_MINE,
    PUT_MINE,
    WRITES_MINE,
    Answer,
    Call,
    World,
    answer,
    body,
    make_world,
    writes,
)

pytestmark = pytest.mark.django_db

MIDDLEWARE = list(django_settings.MIDDLEWARE)
WITHOUT_LANE = [path for path in MIDDLEWARE if path != LANE]
# Headers the middlewares the lane applies, and DRF's view, add to these answers.
CHAIN_HEADERS = {
    "X-Frame-Options",
    "X-Content-Type-Options",
    "Referrer-Policy",
    "Cross-Origin-Opener-Policy",
    "Content-Length",
}


@pytest.fixture
def world() -> World:
    return make_world()


@pytest.fixture
def skipped_runs(monkeypatch: pytest.MonkeyPatch) -> dict[str, int]:
    """How many requests each middleware of ``SKIPPED`` has seen (its ``__call__``)."""
    runs = dict.fromkeys(SKIPPED, 0)
    for path in sorted(SKIPPED):
        middleware_class = import_string(path)

        def counted(
            self: Any,
            request: HttpRequest,
            _path: str = path,
            _call: Any = middleware_class.__call__,
        ) -> HttpResponse:
            runs[_path] += 1
            return _call(self, request)

        monkeypatch.setattr(middleware_class, "__call__", counted)
    return runs


Through = Callable[..., tuple[Answer, dict[str, int]]]


@pytest.fixture
def through(world: World, settings: Any, monkeypatch: Any, skipped_runs: dict[str, int]) -> Through:
    """``through(call, lane=...)``: the answer to ``call`` with or without the lane in
    ``MIDDLEWARE`` (or ``middleware``), and how many times each skipped middleware ran for it.
    """

    def run(
        call: Call,
        *,
        lane: bool,
        hot: bool = True,
        make_client: Callable[[], Client] = Client,
        middleware: list[str] = MIDDLEWARE,
    ) -> tuple[Answer, dict[str, int]]:
        settings.MIDDLEWARE = middleware if lane else [p for p in middleware if p != LANE]
        for path in skipped_runs:
            skipped_runs[path] = 0
        result = answer(
            world,
            call,
            hot=hot,
            settings=settings,
            monkeypatch=monkeypatch,
            make_client=make_client,
        )
        return result, dict(skipped_runs)

    return run


def assert_same(lane: Answer, plain: Answer) -> None:
    assert (lane.status, lane.body) == (plain.status, plain.body)
    assert lane.headers == plain.headers
    assert lane.cookies == plain.cookies
    assert lane.stored == plain.stored
    assert (lane.drf_calls, lane.queries) == (plain.drf_calls, plain.queries)


def runs(count: int) -> dict[str, int]:
    return dict.fromkeys(SKIPPED, count)


def test_the_lane_is_on_in_the_project_settings():
    assert MIDDLEWARE.index(LANE) == 1  # right after DatabaseUnavailableMiddleware
    assert hot_lane.problems(MIDDLEWARE) == []
    assert [m for m in checks.run_checks() if m.id and m.id.startswith("devskyy.")] == []


@pytest.mark.parametrize("name", list(CASES))
def test_the_lane_answers_as_the_full_chain_does(name, through):
    call, answered_hot = CASES[name]
    lane, lane_runs = through(call, lane=True)
    plain, plain_runs = through(call, lane=False)
    assert_same(lane, plain)
    assert set(lane.headers) >= CHAIN_HEADERS | {"Allow", "Vary"}
    # The skipped middlewares run for every request but those the hot handler answers.
    assert plain_runs == runs(call.times)
    assert lane_runs == runs(0 if answered_hot else call.times)


@pytest.mark.parametrize(
    "call",
    [Call("POST", PUT_MINE, body(3)), Call("POST", WRITES_MINE, writes(0)), Call("GET", GET_MINE)],
    ids=["put", "writes", "get"],
)
def test_a_throttled_caller_hears_the_same_429_counted_once(call, through, monkeypatch):
    monkeypatch.setattr(UserRateThrottle, "THROTTLE_RATES", {"user": "2/minute"})
    throttled = Call(call.method, call.path, call.body, times=3)
    lane, lane_runs = through(throttled, lane=True)
    plain, _ = through(throttled, lane=False)
    assert lane.status == 429
    assert_same(lane, plain)
    # The first two answered in the lane, the refused third by the DRF view through the chain,
    # its throttle not asked twice: two allowed requests still pass.
    assert lane_runs == runs(1)
    allowed, _ = through(Call(call.method, call.path, call.body, times=2), lane=True)
    assert allowed.status in (200, 201)


@pytest.mark.parametrize(
    ("call", "where"),
    [
        (Call("POST", PUT_MINE, body(3)), "agents_audit.api.checkpoint_hot_path.checkpoint_put"),
        (Call("GET", GET_MINE), "agents_audit.checkpoints.checkpoint_tuple_get"),
    ],
    ids=["put", "get"],
)
def test_a_database_outage_is_the_same_503(call, where, through, monkeypatch):
    def down(**kwargs: Any) -> Any:
        raise OperationalError("connection to server was lost")

    monkeypatch.setattr(where, down)
    lane, lane_runs = through(call, lane=True)
    plain, _ = through(call, lane=False)
    assert lane.status == 503
    assert_same(lane, plain)
    assert lane_runs == runs(0)


@pytest.mark.parametrize(
    ("call", "where"),
    [
        (Call("POST", PUT_MINE, body(3)), "agents_audit.api.checkpoint_hot_path.checkpoint_put"),
        (Call("GET", GET_MINE), "agents_audit.checkpoints.checkpoint_tuple_get"),
    ],
    ids=["put", "get"],
)
def test_an_error_in_the_hot_handler_is_the_same_500(call, where, through, monkeypatch, caplog):
    def broken(**kwargs: Any) -> Any:
        raise RuntimeError("a bug")

    monkeypatch.setattr(where, broken)
    signals: list[HttpRequest] = []

    def receiver(sender: Any, request: HttpRequest, **kwargs: Any) -> None:
        signals.append(request)

    got_request_exception.connect(receiver)
    try:
        answers = []
        for lane in (True, False):
            signals.clear()
            caplog.clear()
            with caplog.at_level(logging.ERROR, logger="django.request"):
                result, skipped = through(
                    call, lane=lane, make_client=lambda: Client(raise_request_exception=False)
                )
            logged = [r.getMessage() for r in caplog.records if r.name == "django.request"]
            answers.append((result, skipped, len(signals), logged))
    finally:
        got_request_exception.disconnect(receiver)
    (lane_answer, lane_runs, lane_signals, lane_log), (plain, _, plain_signals, plain_log) = answers
    assert lane_answer.status == 500
    assert lane_answer.body == {"code": "server_error", "detail": "Internal server error."}
    assert_same(lane_answer, plain)
    assert set(lane_answer.headers) >= CHAIN_HEADERS
    assert lane_signals == plain_signals == 1
    assert lane_log == plain_log == [f"Internal Server Error: {call.path}"]
    assert lane_runs == runs(0)


PRODUCTION_SECURITY = {
    "SECURE_SSL_REDIRECT": True,
    "SECURE_HSTS_SECONDS": 31_536_000,
    "SECURE_HSTS_INCLUDE_SUBDOMAINS": True,
    "SECURE_HSTS_PRELOAD": True,
    "SECURE_PROXY_SSL_HEADER": ("HTTP_X_FORWARDED_PROTO", "https"),
    "X_FRAME_OPTIONS": "DENY",
}
HTTPS = (("X-Forwarded-Proto", "https"),)


@pytest.mark.parametrize(
    ("call", "status"),
    [
        (Call("GET", GET_MINE), 301),
        (Call("GET", GET_MINE, headers=(("X-Forwarded-Proto", "http"),)), 301),
        (Call("POST", PUT_MINE, body(3)), 301),
        (Call("GET", GET_MINE, headers=HTTPS), 200),
        (Call("GET", GET_MINE, secure=True), 200),
        (Call("POST", PUT_MINE, body(3), headers=HTTPS), 201),
        (Call("POST", WRITES_MINE, writes(0), headers=HTTPS), 200),
    ],
    ids=[
        "get over http",
        "get over http via the proxy",
        "put over http",
        "get over https via the proxy",
        "get over https",
        "put over https",
        "writes over https",
    ],
)
def test_production_security_is_the_same(call, status, through, settings):
    for name, value in PRODUCTION_SECURITY.items():
        setattr(settings, name, value)
    lane, lane_runs = through(call, lane=True)
    plain, plain_runs = through(call, lane=False)
    assert lane.status == status
    assert_same(lane, plain)
    if status == 301:
        assert lane.headers["Location"] == f"https://testserver{call.path}"
        assert lane_runs == plain_runs == runs(0)  # SecurityMiddleware answered, first
    else:
        assert lane.headers["Strict-Transport-Security"] == (
            "max-age=31536000; includeSubDomains; preload"
        )
        assert lane_runs == runs(0)


@pytest.mark.parametrize(
    ("call", "status"),
    [
        (Call("GET", GET_MINE, headers=(("Host", "evil.example"),)), 400),
        (Call("POST", PUT_MINE, body(3), headers=(("Host", "evil.example"),)), 400),
        (Call("GET", GET_MINE, headers=(("User-Agent", "BadBot/1.0"),)), 403),
        (Call("POST", WRITES_MINE, writes(0), headers=(("User-Agent", "BadBot/1.0"),)), 403),
    ],
    ids=["get, bad host", "put, bad host", "get, bad agent", "writes, bad agent"],
)
def test_a_refused_host_or_user_agent_is_the_same(call, status, through, settings):
    settings.DISALLOWED_USER_AGENTS = [re.compile(r"^BadBot")]
    lane, lane_runs = through(call, lane=True)
    plain, plain_runs = through(call, lane=False)
    assert lane.status == status
    assert_same(lane, plain)
    if status == 400:
        assert lane.body == {"code": "bad_request", "detail": "Invalid Host header."}
    assert lane_runs == plain_runs  # the chain answered, CommonMiddleware refused


def test_a_session_caller_is_served_by_the_full_chain(through, world):
    def operator() -> Client:
        client = Client()
        client.force_login(world.operator)
        return client

    for call in (Call("GET", GET_MINE, key="none"), Call("POST", PUT_MINE, body(3), key="none")):
        lane, lane_runs = through(call, lane=True, make_client=operator)
        plain, _ = through(call, lane=False, make_client=operator)
        assert_same(lane, plain)
        assert lane.drf_calls == 1
        assert lane_runs == runs(1)
    assert lane.status == 403  # a session's put needs the CSRF token, as before
    assert lane.headers["Vary"] == "Accept, Cookie"


@pytest.mark.parametrize(
    ("cookie", "value"),
    [("sessionid", "a" * 32), ("sessionid", "x"), ("csrftoken", "!")],
    ids=["a session that is gone", "a session cookie too short", "a malformed CSRF cookie"],
)
def test_a_request_with_a_cookie_takes_the_full_chain(cookie, value, through):
    """Sessions and CSRF act on cookies: a junk session cookie is deleted, a malformed CSRF
    cookie replaced, even on an API-key request. The lane leaves such requests to the chain."""

    def with_cookie() -> Client:
        client = Client()
        client.cookies[cookie] = value
        return client

    call = Call("GET", GET_MINE)
    lane, lane_runs = through(call, lane=True, make_client=with_cookie)
    plain, _ = through(call, lane=False, make_client=with_cookie)
    assert lane.status == 200
    assert_same(lane, plain)
    assert lane_runs == runs(1)
    if value != "a" * 32:
        assert set(lane.cookies) == {cookie}  # deleted, or replaced


@pytest.mark.parametrize(
    ("call", "status"),
    [
        (Call("GET", "/healthz", key="none"), 200),
        (Call("GET", "/api/v1/threads/mine/checkpoint"), 301),  # APPEND_SLASH
        (Call("POST", "/api/v1/checkpoints/search/", b"{}"), 200),
        (Call("GET", "/api/v1/nowhere/"), 404),
    ],
    ids=["health", "no trailing slash", "search", "not found"],
)
def test_other_requests_take_the_full_chain(call, status, through):
    lane, lane_runs = through(call, lane=True)
    plain, plain_runs = through(call, lane=False)
    assert lane.status == status
    assert_same(lane, plain)
    assert lane_runs == plain_runs == runs(1)


@pytest.mark.parametrize(
    ("path", "hot"),
    [
        (GET_MINE, True),
        (PUT_MINE, True),
        (WRITES_MINE, True),
        ("/api/v1/threads/order-4711/checkpoint/", True),
        ("/api/v1/threads/mine/checkpoint", False),  # no trailing slash
        ("/api/v1/threads/mine/", False),
        ("/api/v1/threads/prune/checkpoint/", False),  # a thread id the URLconf refuses
        ("/api/v1/tool-executions/", False),
        ("/healthz", False),
        ("/admin/", False),
    ],
    ids=lambda value: str(value),
)
def test_the_lane_resolves_only_paths_that_may_be_hot(path, hot, monkeypatch):
    resolved: list[str] = []
    real_resolve = hot_lane.resolve

    def spy(path_info: str) -> Any:
        resolved.append(path_info)
        return real_resolve(path_info)

    monkeypatch.setattr(hot_lane, "resolve", spy)
    assert hot_lane.may_be_hot(path) is hot
    Client().get(path)
    assert resolved == ([path] if hot else [])


def test_with_the_hot_path_off_the_lane_steps_aside(through):
    for call in (Call("GET", GET_MINE), Call("POST", PUT_MINE, body(3))):
        lane, lane_runs = through(call, lane=True, hot=False)
        plain, _ = through(call, lane=False, hot=False)
        assert_same(lane, plain)
        assert lane.drf_calls == 1
        assert lane_runs == runs(1)


def _view(request: HttpRequest) -> HttpResponse:
    return HttpResponse(b"the view")


def _hot_handler(request: HttpRequest) -> HttpResponse:
    return HttpResponse(b"the hot handler")


_view.hot_handler = _hot_handler  # type: ignore[attr-defined]
urlpatterns = [url("exempt/", csrf_exempt(_view)), url("not-exempt/", _view)]


def test_a_view_that_is_not_csrf_exempt_takes_the_full_chain(settings):
    """The lane skips CsrfViewMiddleware: it takes only views that the middleware passes."""
    settings.ROOT_URLCONF = __name__
    client = Client(enforce_csrf_checks=True)
    assert client.post("/exempt/").content == b"the hot handler"
    refused = client.post("/not-exempt/")
    assert refused.status_code == 403
    assert b"CSRF" in refused.content


def lane_warnings() -> list[checks.CheckMessage]:
    return [m for m in checks.run_checks() if m.id and m.id.startswith("devskyy.")]


def _lane() -> HotLaneMiddleware:
    """The lane, as Django makes it from ``settings.MIDDLEWARE``."""
    return HotLaneMiddleware(lambda request: HttpResponse())


GZIP = "django.middleware.gzip.GZipMiddleware"


def test_a_middleware_the_lane_does_not_know_turns_it_off(settings, through):
    # given a middleware that changes these answers (it compresses them), after the lane
    with_gzip = [*MIDDLEWARE, GZIP]
    settings.MIDDLEWARE = with_gzip
    # then the check names it
    (warning,) = lane_warnings()
    assert warning.id == "devskyy.W001"
    assert isinstance(warning, checks.Warning)
    assert GZIP in warning.msg
    # and the lane is not used: the request takes the chain, which compresses the answer
    with pytest.raises(MiddlewareNotUsed, match=re.escape(GZIP)):
        _lane()
    call = Call("GET", GET_MINE, headers=(("Accept-Encoding", "gzip"),))
    lane, lane_runs = through(call, lane=True, middleware=with_gzip)
    assert lane.headers["Content-Encoding"] == "gzip"
    assert lane_runs == runs(1)


@pytest.mark.parametrize(
    ("middleware", "problem"),
    [
        (
            [
                MIDDLEWARE[0],
                "django.middleware.security.SecurityMiddleware",
                "django.contrib.sessions.middleware.SessionMiddleware",
                LANE,
                *MIDDLEWARE[2:],
            ],
            ("devskyy.W002", "django.contrib.sessions.middleware.SessionMiddleware comes before"),
        ),
        (
            [LANE, *WITHOUT_LANE],
            ("devskyy.W002", "devskyy.middleware.DatabaseUnavailableMiddleware comes after"),
        ),
        (
            [*MIDDLEWARE[:2], LANE, *MIDDLEWARE[2:]],
            ("devskyy.W002", f"{LANE} comes after"),
        ),
        (
            ["django.contrib.auth.middleware.LoginRequiredMiddleware", *MIDDLEWARE],
            ("devskyy.W001", "would bypass its process_view"),
        ),
    ],
    ids=[
        "after a middleware it skips",
        "before the outage middleware",
        "twice",
        "after a view hook",
    ],
)
def test_the_lane_in_the_wrong_place_is_off_and_the_check_says_so(middleware, problem, settings):
    settings.MIDDLEWARE = middleware
    found = [(w.id, w.msg) for w in lane_warnings()]
    assert any(id_ == problem[0] and problem[1] in msg for id_, msg in found), found
    with pytest.raises(MiddlewareNotUsed):
        _lane()


def test_a_middleware_before_the_lane_without_view_hooks_is_fine(settings):
    settings.MIDDLEWARE = [GZIP, *MIDDLEWARE]
    assert lane_warnings() == []
    _lane()


@pytest.mark.parametrize("setting", ["CSRF_USE_SESSIONS", "ATOMIC_REQUESTS"])
def test_a_setting_under_which_a_skipped_middleware_acts_turns_the_lane_off(
    setting, settings, monkeypatch
):
    if setting == "ATOMIC_REQUESTS":
        monkeypatch.setitem(settings.DATABASES["default"], "ATOMIC_REQUESTS", True)
    else:
        settings.CSRF_USE_SESSIONS = True
    (warning,) = lane_warnings()
    assert warning.id == "devskyy.W003"
    assert setting in warning.msg
    with pytest.raises(MiddlewareNotUsed):
        _lane()
