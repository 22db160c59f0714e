"""Micro-benchmark: each fast path against the plain path it stands for, per call.

    .venv/bin/python bench/fast_paths.py [--number N]

- input validation: ToolExecutionInputSerializer (FastInputSerializer) against its plain twin
  (the same declaration validated by DRF's machinery, StrictInputSerializer), as the create view
  uses it (``Serializer(data=body).is_valid()``) and as the bulk view does
  (``to_internal_value`` on one instance, per item);
- filters: devskyy.api.filters.parse_lookups + apply_lookups against django-filter's FilterSet
  (form, validation, queryset), from a query string to an unevaluated queryset.

No database query runs (the settings module still connects to set up Django). Each figure is the
best of five runs of ``--number`` calls, in microseconds of this process's CPU time per call
(process time, not wall time: steadier on a shared machine); the README quotes them.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import timeit
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "devskyy.settings.local")

import django

django.setup()

from django.http import QueryDict  # noqa: E402
from rest_framework.exceptions import ValidationError  # noqa: E402

from agents_audit.api.serializers import ToolExecutionInputSerializer  # noqa: E402
from agents_audit.filters import ToolExecutionFilter  # noqa: E402
from agents_audit.models import ToolExecution  # noqa: E402
from devskyy.api.filters import apply_lookups, parse_lookups  # noqa: E402

BODIES = {
    "typical body": {
        "correlation_id": "corr-0001",
        "tool_name": "search_web",
        "agent_id": "agent-7",
        "inputs": {"query": "rings", "options": {"limit": 5}},
        "output": {"rows": 3},
        "status": "success",
        "duration_ms": 12,
        "error_message": None,
        "metadata": {"k": "v"},
    },
    "required fields only": {
        "correlation_id": "corr-0001",
        "tool_name": "search_web",
        "inputs": {},
        "status": "success",
    },
    "invalid (bad status)": {
        "correlation_id": "corr-0001",
        "tool_name": "search_web",
        "inputs": {},
        "status": "done",
    },
}
QUERIES = ["", "correlation_id=corr-0001", "tool_name=calc&status=failed", "status=bogus"]


def best_microseconds(call: Callable[[], Any], number: int) -> float:
    runs = timeit.repeat(call, number=number, repeat=5, timer=time.process_time)
    return min(runs) / number * 1e6


def create_view(serializer_class: type, body: Any) -> Callable[[], Any]:
    def call() -> Any:
        serializer = serializer_class(data=body)
        return serializer.validated_data if serializer.is_valid() else serializer.errors

    return call


def bulk_item(serializer_class: type, body: Any) -> Callable[[], Any]:
    validator = serializer_class()

    def call() -> Any:
        try:
            return validator.to_internal_value(body)
        except ValidationError as exc:  # a refused item is part of the measure
            return exc

    return call


def filter_fast(query: str) -> Callable[[], Any]:
    def call() -> Any:
        params = QueryDict(query)
        try:
            lookups = parse_lookups(ToolExecutionFilter, params)
        except ValidationError as exc:
            return exc
        assert lookups is not None
        return apply_lookups(ToolExecution.objects.all(), lookups)

    return call


def filter_plain(query: str) -> Callable[[], Any]:
    def call() -> Any:
        filterset = ToolExecutionFilter(QueryDict(query), queryset=ToolExecution.objects.all())
        return filterset.qs if filterset.is_valid() else filterset.errors

    return call


def row(label: str, fast: float, plain: float) -> str:
    return f"| {label} | {fast:,.1f} µs | {plain:,.1f} µs | {plain / fast:.1f}x |"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--number", type=int, default=2000, help="calls per run (default 2000)")
    number = parser.parse_args().number
    plain = ToolExecutionInputSerializer.plain_twin()
    print("| per call | fast path | plain path | plain ÷ fast |")
    print("| --- | --- | --- | --- |")
    for name, body in BODIES.items():
        for usage, make in (("create", create_view), ("bulk item", bulk_item)):
            fast_us = best_microseconds(make(ToolExecutionInputSerializer, body), number)
            plain_us = best_microseconds(make(plain, body), number)
            print(row(f"validate, {usage}: {name}", fast_us, plain_us))
    for query in QUERIES:
        fast_us = best_microseconds(filter_fast(query), number)
        plain_us = best_microseconds(filter_plain(query), number)
        print(row(f"filter `?{query}`", fast_us, plain_us))


if __name__ == "__main__":
    main()
