"""The fast filter path answers exactly as django-filter does, for every FilterSet it takes: the
same accept/reject decision, the same 400 body (messages and codes), the same queryset."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any
from urllib.parse import urlencode

import django_filters
import pytest
from django import forms
from django.http import QueryDict
from django.urls import URLPattern, URLResolver, get_resolver
from django_filters.constants import EMPTY_VALUES
from django_filters.utils import translate_validation
from hypothesis import given, settings
from hypothesis import strategies as st
from rest_framework.exceptions import ValidationError

from agents_audit.filters import (
    AgentExecutionFilter,
    RoundTableResultFilter,
    TaskFilter,
    ToolExecutionFilter,
)
from agents_audit.models import AgentExecution, ToolExecution
from commerce.filters import OrderFilter, ProductFilter, UserFilter
from devskyy.api.filters import apply_lookups, filter_plan, parse_lookups
from knowledge.filters import RAGDocumentFilter, SourceFilter
from tests.agents_audit.factories import AgentExecutionFactory, ToolExecutionFactory
from tests.conftest import error_codes

pytestmark = pytest.mark.django_db

FAST = [
    ToolExecutionFilter,
    AgentExecutionFilter,
    RoundTableResultFilter,
    OrderFilter,
    RAGDocumentFilter,
    TaskFilter,
]


def api_filtersets() -> set[type]:
    def views(patterns: list[Any]) -> list[Any]:
        found = []
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                found += views(pattern.url_patterns)
            elif isinstance(pattern, URLPattern):
                found.append(getattr(pattern.callback, "cls", None))
        return found

    return {
        view.filterset_class
        for view in views(get_resolver().url_patterns)
        if getattr(view, "filterset_class", None) is not None
    }


def test_every_api_filterset_is_either_on_the_fast_path_or_says_why_not():
    assert api_filtersets() == {*FAST, ProductFilter, UserFilter, SourceFilter}
    for filterset_class in FAST:
        assert filter_plan(filterset_class).steps is not None, filterset_class
    assert filter_plan(ProductFilter).steps is None
    assert filter_plan(ProductFilter).refusal == "ProductFilter overrides filter_queryset"
    assert filter_plan(UserFilter).steps is None
    assert filter_plan(UserFilter).refusal == "UserFilter.is_active is a StrictBooleanFilter"
    assert filter_plan(SourceFilter).steps is None
    assert filter_plan(SourceFilter).refusal == (
        "SourceFilter.source_path_prefix looks up 'startswith'"
    )


# --- the two paths ---------------------------------------------------------------------------


def django_filter_answer(filterset_class: Any, params: QueryDict) -> tuple[bool, Any]:
    """What DjangoFilterBackend does: the filtered queryset, or its 400 body's errors."""
    filterset = filterset_class(params, queryset=filterset_class._meta.model.objects.all())
    if not filterset.is_valid():
        return False, translate_validation(filterset.errors).detail
    return True, filterset


def assert_same_answer(filterset_class: Any, query: str) -> None:
    params = QueryDict(query)
    queryset = filterset_class._meta.model.objects.all()
    try:
        lookups = parse_lookups(filterset_class, params)
    except ValidationError as exc:
        fast_ok, fast_errors = False, exc.detail
    else:
        fast_ok = True
    plain_ok, plain = django_filter_answer(filterset_class, params)
    assert fast_ok == plain_ok, (query, plain)
    if not fast_ok:
        assert fast_errors == plain  # field by field: messages and codes
        return
    assert lookups is not None
    # The same values, of the same types (an aware datetime in the same zone, a UUID...)...
    cleaned = {
        f"{plain.filters[name].field_name}__{plain.filters[name].lookup_expr}": value
        for name, value in plain.form.cleaned_data.items()
        if value not in EMPTY_VALUES
    }
    assert {k: repr(v) for k, v in lookups.items()} == {k: repr(v) for k, v in cleaned.items()}
    # ... and the same SQL.
    assert str(apply_lookups(queryset, lookups).query) == str(plain.qs.query)


# --- query strings, derived from the FilterSets' form fields ---------------------------------

WHITESPACE = [" ", "\t", "\n", "\x0b", "\x0c", "\x1c", "\x85", "\xa0", "\u3000"]
padding = st.sampled_from(["", "", *WHITESPACE])
# Any character a URL can carry (lone surrogates cannot be UTF-8 encoded).
url_characters = st.characters(exclude_categories=["Cs"])


def padded(values: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return st.builds(lambda left, text, right: left + text + right, padding, values, padding)


def sized(low: int, high: int) -> st.SearchStrategy[str]:
    return st.builds(
        lambda length, tail, filler: (filler * length + tail)[-length:] if length else "",
        st.integers(max(low, 0), high),
        st.text(url_characters, max_size=4),
        st.sampled_from(["x", "é", "\U0001f600", "a b"]),
    )


zones: st.SearchStrategy[Any] = st.sampled_from(
    [None, dt.UTC, dt.timezone(dt.timedelta(hours=2)), dt.timezone(dt.timedelta(hours=-5.5))]
)
datetimes = st.datetimes(
    min_value=dt.datetime(1, 1, 2), max_value=dt.datetime(9999, 12, 30), timezones=zones
)
datetime_texts = st.one_of(
    datetimes.map(lambda moment: moment.isoformat()),
    datetimes.map(lambda moment: moment.isoformat(sep=" ", timespec="seconds")),
    datetimes.map(lambda moment: moment.isoformat().replace("+00:00", "Z")),
    datetimes.map(lambda moment: moment.strftime("%Y-%m-%dT%H:%M:%S,%f%z")),
    datetimes.map(lambda moment: moment.date().isoformat()),
    st.sampled_from(
        [
            "yesterday",
            "2024-02-30T00:00:00Z",
            "2024-01-01T24:00:00Z",
            "2024-01-01T00:00:00+25:00",
            "2024-1-1T0:0Z",
            "0000-01-01T00:00:00Z",
            "2024-01-01T00:00:00Z\x00",
        ]
    ),
)
uuid_texts = st.one_of(
    st.uuids().map(str),
    st.uuids().map(lambda value: str(value).upper()),
    st.uuids().map(lambda value: value.hex),
    st.uuids().map(lambda value: f"{{{value}}}"),
    st.uuids().map(lambda value: value.urn),
    st.uuids().map(lambda value: str(value)[:-1]),
    st.uuids().map(lambda value: str(value) + "0"),
    st.uuids().map(lambda value: str(value).replace("-", "_", 1)),
    st.text(url_characters, max_size=36),
)


def raw_values(field: forms.Field) -> st.SearchStrategy[str]:
    """Values at and around what the form field accepts, padded with whitespace, blank, with
    NUL, or of another kind entirely."""
    if isinstance(field, forms.ChoiceField):
        keys = [str(key) for key, _ in list(field.choices)]  # type: ignore[arg-type]
        kind = st.one_of(
            st.sampled_from(keys),
            st.sampled_from(keys).map(str.upper),
            st.sampled_from(["null", "None", "\x00"]),
        )
    elif isinstance(field, forms.UUIDField):
        kind = uuid_texts
    elif isinstance(field, forms.DateTimeField):
        kind = datetime_texts
    else:
        limit = getattr(field, "max_length", None) or 40
        kind = st.one_of(
            st.text(url_characters, max_size=6),
            sized(limit - 2, limit + 1),
            st.text(url_characters, max_size=6).map(lambda text: text + "\x00"),
        )
    return st.one_of(padded(kind), st.sampled_from(["", *WHITESPACE]), st.text(max_size=3))


def query_strings(filterset_class: type) -> st.SearchStrategy[str]:
    """Each parameter at most once (repeated ones are a policy of their own); unknown ones too."""
    fields = filterset_class().form.fields
    optional = {name: raw_values(field) for name, field in fields.items()}
    optional |= {"page_size": st.just("5"), "unknown": st.text(url_characters, max_size=3)}
    return st.fixed_dictionaries({}, optional=optional).map(
        lambda params: urlencode(list(params.items()))
    )


@pytest.mark.parametrize("filterset_class", FAST, ids=lambda cls: cls.__name__)
def test_fast_path_and_django_filter_agree_on_random_query_strings(filterset_class):
    @settings(max_examples=150, deadline=None)
    @given(query=query_strings(filterset_class))
    def check(query: str) -> None:
        assert_same_answer(filterset_class, query)

    check()


@pytest.mark.parametrize(
    "query",
    [
        "",
        "tool_name=calc",
        "tool_name=+calc+",  # stripped, as forms.CharField does
        "tool_name=%20%20",  # blank once stripped: no filter
        "tool_name=%00",
        "tool_name=" + "x" * 128 + "+",  # at max_length once stripped
        "tool_name=" + "x" * 129,
        "status=failed&tool_name=calc",
        "status=bogus",
        "status=+failed",  # choices are not stripped
        "status=",
        "correlation_id=c-1&created_after=2000-01-01T00:00:00Z",
        "created_before=2999-01-01T00:00:00%2B02:00",
        "created_after=2000-01-01T00:00:00",  # naive: the current time zone
        "created_after=2000-01-01",
        "created_after=yesterday&status=bogus&agent_id=%00",
        "page_size=5&cursor=abc",
    ],
)
def test_tool_execution_filters_answer_as_django_filter(query):
    assert_same_answer(ToolExecutionFilter, query)


@pytest.mark.parametrize(
    "query",
    [
        "user=12345678123456781234567812345678",
        "user=%7B12345678-1234-5678-1234-567812345678%7D",
        "user=urn:uuid:12345678-1234-5678-1234-567812345678",
        "user=+12345678-1234-5678-1234-567812345678+",
        "user=not-a-uuid&status=nope",
        "status=pending&created_before=2000-01-01T00:00:00-05:30",
    ],
)
def test_order_filters_answer_as_django_filter(query):
    assert_same_answer(OrderFilter, query)


# --- through the API -------------------------------------------------------------------------


def test_a_bad_choice_is_refused_with_django_filters_code(agent_client):
    response = agent_client.get("/api/v1/agent-executions/?status=bogus")
    assert response.status_code == 400
    assert error_codes(response.json()) == {"status": ["invalid_choice"]}


def test_text_filters_ignore_whitespace_around_the_value_like_django_filter(agent_client, agent_a):
    wanted = ToolExecutionFactory.create(user=agent_a, tool_name="calc")
    ToolExecutionFactory.create(user=agent_a, tool_name="other")
    execution = AgentExecutionFactory.create(user=agent_a, agent_name="planner")
    tools = agent_client.get("/api/v1/tool-executions/?tool_name=%20calc%20").json()
    agents = agent_client.get("/api/v1/agent-executions/?agent_name=planner%0A").json()
    assert [row["id"] for row in tools["results"]] == [str(wanted.id)]
    assert [row["id"] for row in agents["results"]] == [str(execution.id)]
    assert ToolExecution.objects.count() == 2
    assert AgentExecution.objects.count() == 1


# --- what the fast path cannot enforce goes to django-filter ---------------------------------


class _Form(forms.Form):
    pass


def _filterset(**attrs: Any) -> type:
    meta = type("Meta", (), {"model": ToolExecution, "fields": [], **attrs.pop("meta", {})})
    return type(django_filters.FilterSet)(
        "Probe", (django_filters.FilterSet,), {"Meta": meta, **attrs}
    )


@pytest.mark.parametrize(
    ("attrs", "refusal"),
    [
        ({"a": django_filters.NumberFilter(field_name="duration_ms")}, "Probe.a is a NumberFilter"),
        (
            {"a": django_filters.CharFilter(method="filter_a"), "filter_a": lambda *args: None},
            "Probe.a has a method, exclude or distinct",
        ),
        (
            {"a": django_filters.CharFilter(exclude=True)},
            "Probe.a has a method, exclude or distinct",
        ),
        (
            {"a": django_filters.CharFilter(distinct=True)},
            "Probe.a has a method, exclude or distinct",
        ),
        ({"a": django_filters.CharFilter(lookup_expr="icontains")}, "Probe.a looks up 'icontains'"),
        (
            {"a": django_filters.CharFilter(required=True)},
            "Probe.a is required, disabled or multi-valued",
        ),
        (
            {"a": django_filters.CharFilter(widget=forms.SelectMultiple)},
            "Probe.a is required, disabled or multi-valued",
        ),
        (
            {"a": django_filters.ChoiceFilter(choices=[("x", "X")], null_label="None")},
            "Probe.a accepts its null value 'null'",
        ),
        (
            {
                "a": django_filters.CharFilter(field_name="tool_name"),
                "b": django_filters.CharFilter(field_name="tool_name"),
            },
            "Probe.b repeats the lookup tool_name__exact",
        ),
        ({"meta": {"form": _Form}}, "Probe uses its own form class"),
        ({"filter_queryset": lambda self, queryset: queryset}, "Probe overrides filter_queryset"),
    ],
)
def test_filtersets_the_fast_path_cannot_enforce_go_to_django_filter(attrs, refusal):
    filterset_class = _filterset(**attrs)
    assert filter_plan(filterset_class).refusal == refusal
    assert parse_lookups(filterset_class, QueryDict("a=1")) is None


def test_a_uuid_filter_gives_uuids_and_a_datetime_filter_aware_datetimes():
    lookups = parse_lookups(
        OrderFilter,
        QueryDict("user=12345678-1234-5678-1234-567812345678&created_after=2000-01-01T00:00:00"),
    )
    assert lookups == {
        "user_id__exact": uuid.UUID("12345678-1234-5678-1234-567812345678"),
        "created_at__gte": dt.datetime(2000, 1, 1, tzinfo=dt.UTC),
    }
