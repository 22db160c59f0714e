"""Every changelist page is served by an index (issue 11): its default order, each column it
offers to sort by (both ways), and each choice of each of its filters with the default order.

Django orders a changelist by the chosen column, then the admin's ordering, then ``-pk``; a
column no index serves in exactly that order sorts the whole table on every page (0.4-1.2 s at
a million rows). Admins are discovered from ``admin.site._registry``, their columns and filter
choices from the changelist itself, so a new admin, column or filter is covered without
touching this file.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl

import pytest

from tests.admin_plans import (
    changelist,
    first_page,
    registered_admins,
    sortable_columns,
    unserved,
)
from tests.agents_audit.factories import AgentExecutionFactory, JobFactory, ToolExecutionFactory

pytestmark = pytest.mark.django_db

ADMINS = registered_admins()


@pytest.mark.parametrize(("label", "model_admin"), ADMINS, ids=[label for label, _ in ADMINS])
def test_each_sortable_column_is_served_by_an_index_both_ways(label, model_admin, admin_user):
    orders = [""] + [
        f"{prefix}{index}"
        for index, _ in sortable_columns(model_admin, admin_user)
        for prefix in ("", "-")
    ]
    problems = {}
    for order in orders:
        cl = changelist(model_admin, admin_user, **({"o": order} if order else {}))
        found = unserved(first_page(cl), model_admin.model)
        if found:
            problems[f"o={order} ORDER BY {cl.queryset.query.order_by}"] = found

    assert not problems, "\n".join(f"{where}: {what}" for where, what in problems.items())


@pytest.mark.parametrize(("label", "model_admin"), ADMINS, ids=[label for label, _ in ADMINS])
def test_a_column_not_offered_for_sorting_is_not_sorted_by_when_asked(
    label, model_admin, admin_user
):
    def ordering(cl: Any) -> list[Any]:
        return list(dict.fromkeys(map(str, cl.queryset.query.order_by)))  # a repeat orders nothing

    default = ordering(changelist(model_admin, admin_user))
    offered = {index for index, _ in sortable_columns(model_admin, admin_user)}
    others = [i for i in range(len(model_admin.list_display)) if i not in offered]

    for index in others:
        for order in (str(index), f"-{index}"):
            assert ordering(changelist(model_admin, admin_user, o=order)) == default, order


@pytest.fixture
def rows_to_choose_from(db: None) -> None:
    """A few rows, so that filters whose choices are the column's values have some."""
    ToolExecutionFactory.create(tool_name="search_products", agent_id="agent-a")
    ToolExecutionFactory.create(tool_name="create_order", agent_id="agent-b")
    AgentExecutionFactory.create(agent_name="commerce_agent")
    JobFactory.create(job_type="deploy")


@pytest.mark.parametrize(("label", "model_admin"), ADMINS, ids=[label for label, _ in ADMINS])
@pytest.mark.usefixtures("rows_to_choose_from")
def test_each_filter_choice_with_the_default_order_is_served_by_an_index(
    label, model_admin, admin_user
):
    cl = changelist(model_admin, admin_user)
    queries = [
        choice["query_string"].lstrip("?")
        for spec in cl.filter_specs
        for choice in spec.choices(cl)
    ]
    problems = {}
    for query in filter(None, queries):  # the empty one is "All": the default page
        filtered = changelist(model_admin, admin_user, **dict(parse_qsl(query)))
        found = unserved(first_page(filtered), model_admin.model)
        if found:
            problems[f"{query} ORDER BY {filtered.queryset.query.order_by}"] = found

    assert not problems, "\n".join(f"{where}: {what}" for where, what in problems.items())
