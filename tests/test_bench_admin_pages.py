"""bench/admin_pages.py (``make bench-admin``) over a tiny scale database: it finds every admin
registered on the site, with its filters, sorts, id searches, change pages and custom views,
and every page answers. The timings themselves depend on the machine: not asserted."""

from __future__ import annotations

import importlib.util
import io
import sys
from types import ModuleType

import pytest
from django.contrib import admin
from django.core.management import call_command

from tests.processes import ROOT

# Every admin page of the site, requested once (about 450 pages: a minute or two).
pytestmark = [pytest.mark.django_db, pytest.mark.slow]


def bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location("admin_pages", ROOT / "bench" / "admin_pages.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def test_every_admin_page_is_found_measured_and_answers(settings):
    # the knowledge search's vector modes without loading the embedding model (a form error)
    settings.KNOWLEDGE_SERVER_EMBEDDINGS = False
    call_command("seed_sample_data", "--scale", "0.0002", stdout=io.StringIO())
    admin_pages = bench()
    client = admin_pages.operator_client()

    pages = admin_pages.discover(client, max_choices=3)
    measured = admin_pages.measure(client, pages, runs=0)  # the warm-up: status and queries
    timed = admin_pages.measure(client, pages[:3], runs=2)

    # every registered admin, and each kind of page
    names = {r.page.admin for r in measured}
    for model, model_admin in admin.site._registry.items():
        assert f"{model._meta.app_label}.{type(model_admin).__name__}" in names
    kinds = {(r.page.admin, r.page.kind) for r in measured}
    tools = "agents_audit.ToolExecutionAdmin"
    for kind in ("changelist", "filter", "sort", "search", "change"):
        assert (tools, kind) in kinds
    labels = {(r.page.admin, r.page.label) for r in measured}
    assert ("site", "admin index") in labels
    assert ("commerce.OrderAdmin", "most order lines") in labels
    order_pages = {
        r.page.label: r.page.url for r in measured if r.page.admin == "commerce.OrderAdmin"
    }
    assert order_pages["typical row"] != order_pages["most order lines"]
    assert any(a == tools and label == "=correlation_id" for a, label in labels)
    custom = {r.page.label for r in measured if r.page.kind == "custom"}
    assert "knowledge_source_search" in custom
    assert "knowledge_source_search (hybrid)" in custom
    searches = {r.page.label: r for r in measured if r.page.admin == "knowledge.SourceAdmin"}
    form_only = searches["knowledge_source_search"].queries
    assert searches["knowledge_source_search (fulltext)"].queries > form_only  # it searched
    assert "agents_audit_task_report failed-tasks" in custom
    assert "agents_audit_task_report task-timeline (a task)" in custom
    # no page fails; each id search finds its row
    assert [(r.page.url, r.status) for r in measured if r.error or r.status != 200] == []
    for result in measured:
        if result.page.kind == "search" and result.page.label.startswith("="):
            page = client.get(result.page.url)
            assert page.context["cl"].result_count >= 1, result.page.url
    assert [len(r.times_ms) for r in timed] == [2, 2, 2]

    report = admin_pages.render(measured + timed, slow_ms=0.0, runs=2)

    lines = report.splitlines()
    assert lines[2] == "| admin | page | kind | median ms | p95 ms | queries | status | |"
    assert len([line for line in lines if line.startswith("| ")]) == 1 + len(measured) + 3
    assert "3 over 0 ms." in report
    assert "Slow pages, slowest first:" in report
