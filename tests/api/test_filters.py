"""The fast filter backend answers exactly as django-filter would, for the FilterSets it takes."""

from __future__ import annotations

import pytest
from django.http import QueryDict
from rest_framework.exceptions import ValidationError

from agents_audit.filters import AgentExecutionFilter, ToolExecutionFilter
from agents_audit.models import ToolExecution
from commerce.filters import OrderFilter, ProductFilter
from devskyy.api.filters import parse_lookups
from tests.agents_audit.factories import ToolExecutionFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "query",
    [
        "",
        "tool_name=calc",
        "status=failed&tool_name=calc",
        "correlation_id=c-1",
        "agent_id=a&created_after=2000-01-01T00:00:00Z",
        "created_before=2999-01-01T00:00:00%2B02:00",
        "tool_name=",
    ],
)
def test_fast_path_selects_the_same_rows_as_django_filter(query):
    ToolExecutionFactory.create(
        tool_name="calc", status="failed", correlation_id="c-1", agent_id="a"
    )
    ToolExecutionFactory.create(tool_name="calc", status="success")
    ToolExecutionFactory.create(tool_name="other", status="failed")
    params = QueryDict(query)
    lookups = parse_lookups(ToolExecutionFilter, params)
    assert lookups is not None
    fast = set(ToolExecution.objects.filter(**lookups).values_list("id", flat=True))
    slow_filterset = ToolExecutionFilter(params, queryset=ToolExecution.objects.all())
    assert slow_filterset.is_valid()
    assert fast == set(slow_filterset.qs.values_list("id", flat=True))


@pytest.mark.parametrize(
    "query",
    [
        "status=bogus",
        "created_after=yesterday",
        "tool_name=" + "x" * 129,
        "correlation_id=" + "y" * 65,
    ],
)
def test_fast_path_rejects_what_django_filter_rejects(query):
    params = QueryDict(query)
    with pytest.raises(ValidationError) as excinfo:
        parse_lookups(ToolExecutionFilter, params)
    slow = ToolExecutionFilter(params, queryset=ToolExecution.objects.all())
    assert not slow.is_valid()
    assert set(excinfo.value.detail) == set(slow.errors)


def test_filtersets_with_methods_or_other_filters_use_django_filter():
    assert parse_lookups(ProductFilter, QueryDict("")) is None
    assert parse_lookups(OrderFilter, QueryDict("")) is not None
    assert parse_lookups(AgentExecutionFilter, QueryDict("")) is not None
