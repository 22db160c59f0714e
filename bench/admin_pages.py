"""Server time of every admin page, against the current database (issue 11: "every page under
300 ms at a million rows"):

    .venv/bin/python bench/admin_pages.py [--runs 5] [--slow-ms 300] [--only tool] [--user NAME]
    make bench-admin                      # the same, on DEVSKYY_DB_NAME's database

Fill the database first (``manage.py seed_sample_data --scale 1``, a few minutes). The pages are
found in ``admin.site._registry``, so a new admin is measured without touching this file; for
each registered model:

- its changelist, unfiltered; each choice of each ``list_filter`` (at most ``--max-choices`` per
  filter); each sortable column, ascending and descending;
- a search for a real value (taken from the data) of every ``=field`` search field, and a word
  search when it has other search fields;
- the change page of a typical row (the changelist's first) and of the biggest one (the parent
  with the most rows in one of its inlines: the order with the most lines);
- its custom views (``get_urls`` beyond Django's own), and the pages they link to (each report);
  a view whose form asks for a ``task`` gets a real one; the knowledge search runs a query in
  each mode.

Plus the admin index and each app's index. Each page is requested in-process with Django's test
``Client`` (the whole request: middleware, view, queries, template) as an operator (the first
active one, or ``--user``; one is created, without a password, when there is none): one warm-up
request counts the queries, then ``--runs`` timed requests give the median and the p95 (nearest
rank) of the server time. A page over ``--slow-ms`` (median) is flagged. The report is a
markdown table on stdout, the slow pages and the pages that failed after it; the exit status is
0 (it is a report, not a test).
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

if __name__ == "__main__":  # as a script; the tests import it with Django already set up
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "devskyy.settings.local")
    import django

    django.setup()

from django.conf import settings
from django.contrib import admin
from django.contrib.admin.views.main import ORDER_VAR, SEARCH_VAR
from django.db import connection
from django.db.models import Count, Model
from django.forms.models import _get_foreign_key
from django.test import Client
from django.test.utils import (
    CaptureQueriesContext,
    setup_test_environment,
    teardown_test_environment,
)
from django.urls import NoReverseMatch, Resolver404, resolve, reverse

from commerce.models import User

DJANGOS_OWN_VIEWS = ("changelist", "add", "history", "delete", "change")
WORD = re.compile(r"[A-Za-z]{4,}")
HREF = re.compile(r'href="([^"#]+)"')


@dataclass
class Page:
    admin: str  # "app_label.ModelAdmin" ("site" for the indexes)
    kind: str  # changelist, filter, sort, search, change, custom, index
    label: str
    url: str


@dataclass
class Result:
    page: Page
    status: int
    queries: int
    times_ms: list[float] = field(default_factory=list)
    error: str = ""

    @property
    def median(self) -> float:
        return statistics.median(self.times_ms) if self.times_ms else 0.0

    @property
    def p95(self) -> float:
        if not self.times_ms:
            return 0.0
        ordered = sorted(self.times_ms)
        return ordered[max(0, -(-95 * len(ordered) // 100) - 1)]  # nearest rank


def operator_client(username: str | None = None) -> Client:
    """A test client logged in as an operator (``username``, or the first active one; one is
    created, with no password, when the database has none)."""
    users = User.objects.filter(is_active=True)
    found = (
        users.get(username=username)
        if username
        else users.filter(role=User.Role.OPERATOR).order_by("username").first()
    )
    if found is not None:
        user = found
    else:
        from commerce.services.users import user_create

        user = user_create(
            username="bench-operator",
            email="bench-operator@example.invalid",
            role=User.Role.OPERATOR,
            password=None,
        )
    client = Client(raise_request_exception=False, HTTP_HOST=_host())
    client.force_login(user)
    return client


def _host() -> str:
    hosts = [h for h in settings.ALLOWED_HOSTS if h and "*" not in h and not h.startswith(".")]
    return hosts[0] if hosts else "testserver"


def _changelist_of(client: Client, url: str) -> tuple[Any, Any]:
    """The changelist page's ``ChangeList`` and request (``None, None`` when it has none)."""
    response = client.get(url)
    context = getattr(response, "context", None)
    if response.status_code != 200 or context is None or "cl" not in context:
        return None, None
    return context["cl"], response.wsgi_request


def _exact_value(model: type[Model], path: str) -> Any:
    rows = model._default_manager.exclude(**{f"{path}__isnull": True})
    value = rows.values_list(path, flat=True).first()
    return None if value in (None, "") else value


def _word(model: type[Model], paths: list[str]) -> str | None:
    for path in paths:
        value = _exact_value(model, path)
        if value is not None:
            match = WORD.search(str(value))
            if match:
                return match.group(0)
    return None


def _biggest(model: type[Model], model_admin: admin.ModelAdmin) -> tuple[str, Any] | None:
    """The parent with the most rows in one of its inlines: ``(inline model, pk)``."""
    for inline in model_admin.inlines:
        try:
            fk = _get_foreign_key(model, inline.model, fk_name=inline.fk_name)
        except ValueError:
            continue
        if fk is None:
            continue
        top = (
            inline.model._default_manager.order_by()
            .values(fk.name)
            .annotate(n=Count("pk"))
            .order_by("-n")
            .first()
        )
        if top:
            return inline.model._meta.verbose_name_plural, top[fk.name]
    return None


def _changelist_pages(
    client: Client, model: type[Model], model_admin: admin.ModelAdmin, max_choices: int
) -> Iterator[Page]:
    opts = model._meta
    name = f"{opts.app_label}.{type(model_admin).__name__}"
    base = reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")
    yield Page(name, "changelist", "unfiltered", base)
    cl, request = _changelist_of(client, base)
    if cl is None:
        return
    for spec in getattr(cl, "filter_specs", []):
        title = str(getattr(spec, "title", type(spec).__name__))
        choices = [c for c in spec.choices(cl) if not c.get("selected")]
        for choice in choices[:max_choices]:
            query = choice.get("query_string") or ""
            if query and query != "?":
                yield Page(name, "filter", f"{title}: {choice.get('display')}", base + query)
    sortable_by = model_admin.get_sortable_by(request)
    for index, field_name in enumerate(cl.list_display):
        if field_name == "action_checkbox" or cl.get_ordering_field(field_name) is None:
            continue
        if sortable_by is not None and field_name not in sortable_by:
            continue
        for sign, direction in (("", "asc"), ("-", "desc")):
            url = f"{base}?{urlencode({ORDER_VAR: f'{sign}{index}'})}"
            yield Page(name, "sort", f"{field_name} {direction}", url)
    fields = list(model_admin.get_search_fields(request))
    words = [f.lstrip("^@") for f in fields if not f.startswith("=")]
    for search_field in fields:
        if search_field.startswith("="):
            value = _exact_value(model, search_field[1:])
            if value is not None:
                url = f"{base}?{urlencode({SEARCH_VAR: str(value)})}"
                yield Page(name, "search", f"={search_field[1:]}", url)
    word = _word(model, words) if words else None
    if word:
        yield Page(name, "search", f"word '{word}'", f"{base}?{urlencode({SEARCH_VAR: word})}")
    biggest = _biggest(model, model_admin)
    # typical: the changelist's first row, unless that is the biggest (then the next one)
    rows = [row for row in cl.result_list[:2] if biggest is None or row.pk != biggest[1]]
    if rows:
        url = reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[rows[0].pk])
        yield Page(name, "change", "typical row", url)
    if biggest:
        children, pk = biggest
        url = reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[pk])
        yield Page(name, "change", f"most {children}", url)


def _custom_pages(client: Client, model: type[Model], model_admin: admin.ModelAdmin) -> list[Page]:
    opts = model._meta
    name = f"{opts.app_label}.{type(model_admin).__name__}"
    own = {f"{opts.app_label}_{opts.model_name}_{view}" for view in DJANGOS_OWN_VIEWS}
    custom = [p for p in model_admin.get_urls() if getattr(p, "name", None) not in own]
    names = {p.name for p in custom if p.name}
    pages: list[Page] = []
    typical = model._default_manager.values_list("pk", flat=True).first()
    for pattern in custom:
        if not pattern.name:
            continue
        arguments = list(pattern.pattern.converters)
        if not arguments:
            url = reverse(f"admin:{pattern.name}")
        elif arguments == ["object_id"] and typical is not None:
            url = reverse(f"admin:{pattern.name}", args=[typical])
        else:
            continue  # found through the links of the pages without arguments, below
        pages.append(Page(name, "custom", pattern.name, url))
    # the pages those link to (each report of the report list)
    seen = {page.url for page in pages}
    for page in list(pages):
        response = client.get(page.url)
        for href in HREF.findall(response.content.decode(errors="replace")):
            href = href.replace("&amp;", "&")
            try:
                match = resolve(href.split("?")[0])
            except Resolver404:
                continue
            if match.url_name in names and href not in seen:
                seen.add(href)
                pages.append(
                    Page(
                        name, "custom", f"{match.url_name} {href.rstrip('/').split('/')[-1]}", href
                    )
                )
    extra: list[Page] = []
    for page in pages:
        extra.extend(_with_inputs(client, page))
    return pages + extra


def _with_inputs(client: Client, page: Page) -> list[Page]:
    """A form page measured with real input too: a task for a form asking for one, a query in
    each mode for the knowledge search."""
    response = client.get(page.url)
    context = getattr(response, "context", None)
    form = context.get("form") if context is not None else None
    if form is None or form.is_bound:
        return []
    fields = form.fields
    if "task" in fields:
        from agents_audit.models import Task

        task = Task.objects.order_by("-created_at").values_list("pk", flat=True).first()
        if task is not None:
            return [Page(page.admin, "custom", f"{page.label} (a task)", f"{page.url}?task={task}")]
    if "query" in fields and "mode" in fields:
        # the form's initial values (k...), a query, and each mode
        initial = {name: f.initial for name, f in fields.items() if f.initial is not None}
        modes = [value for value, _ in fields["mode"].choices]
        return [
            Page(
                page.admin,
                "custom",
                f"{page.label} ({mode})",
                f"{page.url}?{urlencode({**initial, 'query': 'refund policy', 'mode': mode})}",
            )
            for mode in modes
        ]
    return []


def discover(client: Client, *, max_choices: int = 25, only: str = "") -> list[Page]:
    """Every page to measure, from ``admin.site._registry``."""
    pages = [Page("site", "index", "admin index", reverse("admin:index"))]
    apps = sorted({model._meta.app_label for model in admin.site._registry})
    for app in apps:
        try:
            pages.append(
                Page("site", "index", f"{app} app index", reverse("admin:app_list", args=[app]))
            )
        except NoReverseMatch:
            continue
    registry = sorted(admin.site._registry.items(), key=lambda item: item[0]._meta.label)
    for model, model_admin in registry:
        if only and only.lower() not in model._meta.label_lower:
            continue
        pages.extend(_changelist_pages(client, model, model_admin, max_choices))
        pages.extend(_custom_pages(client, model, model_admin))
    return pages


def measure(
    client: Client, pages: list[Page], *, runs: int = 5, log: Callable[[str], None] | None = None
) -> list[Result]:
    results = []
    for number, page in enumerate(pages, 1):
        with CaptureQueriesContext(connection) as queries:
            response = client.get(page.url)  # warm-up, and the query count
        result = Result(page, response.status_code, len(queries.captured_queries))
        if response.status_code >= 400:
            result.error = f"HTTP {response.status_code}"
        else:
            for _ in range(runs):
                started = time.perf_counter()
                client.get(page.url)
                result.times_ms.append((time.perf_counter() - started) * 1000)
        results.append(result)
        if log:
            log(f"[{number}/{len(pages)}] {page.url} {result.median:.0f} ms")
    return results


def render(results: list[Result], *, slow_ms: float, runs: int) -> str:
    lines = [
        f"Server time of each admin page, median and p95 of {runs} runs (ms), queries per page; "
        f"**SLOW**: median over {slow_ms:g} ms.",
        "",
        "| admin | page | kind | median ms | p95 ms | queries | status | |",
        "|---|---|---|---:|---:|---:|---:|---|",
    ]
    for r in results:
        flag = "**SLOW**" if r.median > slow_ms else ("**ERROR**" if r.error else "")
        label = r.page.label.replace("|", "\\|")
        lines.append(
            f"| {r.page.admin} | {label} | {r.page.kind} | {r.median:.0f} | {r.p95:.0f} | "
            f"{r.queries} | {r.status} | {flag} |"
        )
    slow = sorted((r for r in results if r.median > slow_ms), key=lambda r: -r.median)
    lines += ["", f"{len(results)} pages, {len(slow)} over {slow_ms:g} ms."]
    if slow:
        lines += ["", "Slow pages, slowest first:", ""]
        lines += [
            f"- {r.median:.0f} ms ({r.queries} queries): "
            f"{r.page.admin} {r.page.label} `{r.page.url}`"
            for r in slow
        ]
    failed = [r for r in results if r.error]
    if failed:
        lines += ["", "Pages that failed:", ""]
        lines += [f"- {r.error}: {r.page.admin} {r.page.label} `{r.page.url}`" for r in failed]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--runs",
        type=int,
        default=5,
        help="Timed requests per page (5; 0: "
        "only the warm-up, for the status and the query count).",
    )
    parser.add_argument("--slow-ms", type=float, default=300.0, help="Flag pages slower (300).")
    parser.add_argument("--max-choices", type=int, default=25, help="Choices per filter (25).")
    parser.add_argument("--only", default="", help="Only the models whose label contains this.")
    parser.add_argument("--user", default=None, help="Log in as this user (an operator).")
    args = parser.parse_args(argv)
    client = operator_client(args.user)
    # The test client sees the changelist's context (its filters, columns) only with Django's
    # test instrumentation of template rendering; measured without it (it copies every context).
    setup_test_environment()
    try:
        pages = discover(client, max_choices=args.max_choices, only=args.only)
    finally:
        teardown_test_environment()
    print(
        f"Measuring {len(pages)} admin pages on database {connection.settings_dict['NAME']}...",
        file=sys.stderr,
    )
    results = measure(client, pages, runs=args.runs, log=lambda line: print(line, file=sys.stderr))
    print(render(results, slow_ms=args.slow_ms, runs=args.runs))
    return 0


if __name__ == "__main__":
    sys.exit(main())
