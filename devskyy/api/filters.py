"""A django-filter backend with a fast path for simple FilterSets.

django-filter builds a Django form, and deep-copies every filter and form field, on every
request: about half a millisecond before any SQL. For a FilterSet made only of simple filters
(exact ``CharFilter``, ``ChoiceFilter``, ``UUIDFilter``, ``IsoDateTimeFilter`` with an
exact/gt/gte/lt/lte lookup; no ``method``, ``exclude`` or ``distinct``; a plain ``forms.Form``),
this backend cleans each query parameter with the very form field django-filter would use (built
once per FilterSet, cleaned by Django's own code), and applies the same lookups in the same order.
So the two paths give the same accept/reject decision, the same values, the same queryset and
the same 400 body, messages and codes included (``invalid_choice``, ``max_length``,
``null_characters_not_allowed``, ``invalid``...); a hypothesis test holds them equal on random
query strings. A FilterSet with anything else goes through django-filter unchanged, and
``filter_plan`` says why. The FilterSets stay the one declaration, for the API, the schema and
selectors.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import django_filters
from django import forms
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import QuerySet
from django_filters.constants import EMPTY_VALUES
from django_filters.fields import IsoDateTimeField
from django_filters.rest_framework import DjangoFilterBackend
from rest_framework.exceptions import ErrorDetail, ValidationError
from rest_framework.request import Request

_EARLIEST = dt.datetime.min.replace(tzinfo=dt.UTC)
_LATEST = dt.datetime.max.replace(tzinfo=dt.UTC)


class UTCIsoDateTimeField(IsoDateTimeField):
    """An ISO 8601 date-time, in UTC. RFC 3339 allows UTC offsets up to +-23:59 and Python reads
    them, but PostgreSQL refuses offsets beyond +-15:59: converted here, any valid offset works."""

    def to_python(self, value: Any) -> Any:
        moment = super().to_python(value)
        if moment is None:
            return None
        try:
            return moment.astimezone(dt.UTC)
        except OverflowError:
            # In UTC it falls before year 1 or after year 9999 (0001-01-01T00:00:00+01:00), which
            # Python cannot hold; the nearest moment it can gives the same rows.
            return _EARLIEST if moment.year == dt.MINYEAR else _LATEST


class UTCIsoDateTimeFilter(django_filters.IsoDateTimeFilter):
    """``IsoDateTimeFilter`` whose values reach the database in UTC (see UTCIsoDateTimeField)."""

    field_class = UTCIsoDateTimeField


# The lookups devskyy.api.sql_json.KeysetListSQL can write without the ORM.
SIMPLE_LOOKUPS = frozenset({"exact", "gte", "lte", "gt", "lt"})
SIMPLE_FILTERS = (
    django_filters.CharFilter,
    django_filters.ChoiceFilter,
    django_filters.UUIDFilter,
    django_filters.IsoDateTimeFilter,
    UTCIsoDateTimeFilter,
)
# FilterSet methods the fast path stands in for: a FilterSet overriding one filters differently.
REPLACED = ("filter_queryset", "get_form_class", "form", "qs", "is_valid", "errors")


@dataclass(frozen=True)
class FilterPlan:
    """How parse_lookups reads a FilterSet: ``steps`` (query parameter, ORM lookup, form field),
    in the FilterSet's order; or None and the ``refusal``: why django-filter must do it."""

    steps: tuple[tuple[str, str, forms.Field], ...] | None
    refusal: str | None = None


_plans: dict[type, FilterPlan] = {}


def _single_valued(widget: forms.Widget) -> bool:
    """The widget reads ``data.get(name)``, as single_value does."""
    reader = type(widget).value_from_datadict
    if reader is forms.Widget.value_from_datadict:
        return True
    return reader is forms.widgets.ChoiceWidget.value_from_datadict and not getattr(
        widget, "allow_multiple_selected", False
    )


def _build_plan(filterset_class: type) -> FilterPlan:
    name = filterset_class.__name__
    for method in REPLACED:
        if getattr(filterset_class, method) is not getattr(django_filters.FilterSet, method):
            return FilterPlan(None, f"{name} overrides {method}")
    if filterset_class._meta.form is not forms.Form:  # type: ignore[attr-defined]
        return FilterPlan(None, f"{name} uses its own form class")
    # What one request's FilterSet builds: its filters and its form's fields.
    filterset = filterset_class()
    form_fields = filterset.form.fields
    steps, lookups = [], set()
    for param, flt in filterset.filters.items():
        where = f"{name}.{param}"
        if type(flt) not in SIMPLE_FILTERS:
            return FilterPlan(None, f"{where} is a {type(flt).__name__}")
        if flt.method is not None or flt.exclude or flt.distinct:
            return FilterPlan(None, f"{where} has a method, exclude or distinct")
        if flt.lookup_expr not in SIMPLE_LOOKUPS:
            return FilterPlan(None, f"{where} looks up {flt.lookup_expr!r}")
        field = form_fields[param]
        if field.required or field.disabled or not _single_valued(field.widget):
            return FilterPlan(None, f"{where} is required, disabled or multi-valued")
        if isinstance(flt, django_filters.ChoiceFilter) and field.valid_value(flt.null_value):
            # ChoiceFilter.filter would look up None (IS NULL) for this value.
            return FilterPlan(None, f"{where} accepts its null value {flt.null_value!r}")
        lookup = f"{flt.field_name}__{flt.lookup_expr}"
        if lookup in lookups:
            return FilterPlan(None, f"{where} repeats the lookup {lookup}")
        lookups.add(lookup)
        steps.append((param, lookup, field))
    return FilterPlan(tuple(steps))


def filter_plan(filterset_class: type) -> FilterPlan:
    """The FilterSet's plan, built on first use and kept (FilterSets are declared once)."""
    plan = _plans.get(filterset_class)
    if plan is None:
        plan = _plans[filterset_class] = _build_plan(filterset_class)
    return plan


def single_value(params: Any, name: str) -> str | None:
    """A query parameter's value as django-filter's widgets read it: ``QueryDict.get``, i.e. the
    last one when the parameter is repeated. The one place this module reads a parameter, so a
    policy for repeated parameters belongs here."""
    value: str | None = params.get(name)
    return value


def parse_lookups(filterset_class: type | None, params: Any) -> dict[str, Any] | None:
    """``{"field__lookup": value}`` for a simple FilterSet's query parameters, in the FilterSet's
    order (ValidationError with django-filter's body for bad ones), or None if the FilterSet
    needs django-filter itself."""
    if filterset_class is None:
        return None
    steps = filter_plan(filterset_class).steps
    if steps is None:
        return None
    lookups: dict[str, Any] = {}
    errors: dict[str, list[ErrorDetail]] = {}
    for name, lookup, field in steps:
        raw = single_value(params, name)
        if raw is None or raw == "":
            continue  # the form cleans both to an empty value, and the filter skips it
        try:
            value = field.clean(raw)
        except DjangoValidationError as exc:
            # As django_filters.utils.translate_validation words the form's errors.
            errors[name] = [
                ErrorDetail(error.message % (error.params or ()), code=error.code)
                for error in exc.error_list
            ]
            continue
        if value not in EMPTY_VALUES:
            lookups[lookup] = value
    if errors:
        raise ValidationError(errors)
    return lookups


def apply_lookups(queryset: QuerySet[Any], lookups: dict[str, Any]) -> QuerySet[Any]:
    """One ``filter()`` per lookup, in order, as FilterSet.filter_queryset chains them: the
    same SQL."""
    queryset = queryset.all()
    for lookup, value in lookups.items():
        queryset = queryset.filter(**{lookup: value})
    return queryset


class FastFilterBackend(DjangoFilterBackend):
    def filter_queryset(self, request: Request, queryset: QuerySet[Any], view: Any) -> Any:
        lookups = parse_lookups(self.get_filterset_class(view, queryset), request.query_params)
        if lookups is None:
            return super().filter_queryset(request, queryset, view)
        return apply_lookups(queryset, lookups)
