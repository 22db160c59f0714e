"""FilterSets for commerce. Each filter is backed by an index (see the models' Meta.indexes)."""

from __future__ import annotations

from typing import Any

import django_filters
from django import forms
from django.db.models import Q, QuerySet

from commerce.models import Order, Product, User
from devskyy.api.filters import UTCIsoDateTimeFilter


class CommaSeparatedTags(django_filters.BaseCSVFilter, django_filters.CharFilter):
    pass


class StrictBooleanField(forms.Field):
    """``true`` or ``false`` (any case); anything else is an error, not silently "no filter"
    as django-filter's own boolean widgets make it."""

    default_error_messages = {"invalid": "Enter true or false."}

    def to_python(self, value: Any) -> bool | None:
        if value in self.empty_values:
            return None
        lowered = str(value).lower()
        if lowered not in {"true", "false"}:
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
        return lowered == "true"


class StrictBooleanFilter(django_filters.BooleanFilter):
    field_class = StrictBooleanField


class ProductFilter(django_filters.FilterSet):
    sku = django_filters.CharFilter(max_length=100, label="Exact SKU.")
    status = django_filters.ChoiceFilter(choices=Product.Status.choices)
    category = django_filters.CharFilter(max_length=100)
    tags = CommaSeparatedTags(
        field_name="tags",
        lookup_expr="contains",
        label="Comma-separated tags; products having all of them.",
    )
    tags_any = CommaSeparatedTags(
        field_name="tags",
        lookup_expr="overlap",
        label="Comma-separated tags; products having any of them.",
    )
    price_min = django_filters.NumberFilter(field_name="price", lookup_expr="gte")
    price_max = django_filters.NumberFilter(field_name="price", lookup_expr="lte")
    search = django_filters.CharFilter(
        method="filter_search", max_length=200, label="Text in the SKU, name or description."
    )
    ordering = django_filters.OrderingFilter(
        fields=("sku", "name", "price", "created_at", "updated_at", "inventory_quantity")
    )

    class Meta:
        model = Product
        fields = ["sku", "status", "category"]

    def filter_search(self, queryset: QuerySet[Product], name: str, value: str) -> Any:
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(
            Q(sku__icontains=value) | Q(name__icontains=value) | Q(description__icontains=value)
        )

    def filter_queryset(self, queryset: QuerySet[Product]) -> Any:
        for key in ("tags", "tags_any"):
            if self.form.cleaned_data.get(key):
                self.form.cleaned_data[key] = [
                    t.strip().lower() for t in self.form.cleaned_data[key] if t.strip()
                ]
        return super().filter_queryset(queryset)


class OrderFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=Order.Status.choices)
    user = django_filters.UUIDFilter(field_name="user_id")
    created_after = UTCIsoDateTimeFilter(field_name="created_at", lookup_expr="gte")
    created_before = UTCIsoDateTimeFilter(field_name="created_at", lookup_expr="lt")

    class Meta:
        model = Order
        fields = ["status", "user"]


class UserFilter(django_filters.FilterSet):
    """The seeds' user lookups. ``email`` and ``username`` are exact, case included, so that the
    unique indexes (users_email_key, users_username_key) answer them; emails are stored with
    their domain lowercased."""

    email = django_filters.CharFilter(max_length=255, label="Exact email, as stored.")
    username = django_filters.CharFilter(max_length=100, label="Exact username.")
    is_active = StrictBooleanFilter(label="`true` or `false`.")

    class Meta:
        model = User
        fields = ["email", "username", "is_active"]
