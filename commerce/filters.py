"""FilterSets for commerce. Each filter is backed by an index (see the models' Meta.indexes)."""

from __future__ import annotations

from typing import Any

import django_filters
from django.db.models import Q, QuerySet

from commerce.models import Order, Product


class CommaSeparatedTags(django_filters.BaseCSVFilter, django_filters.CharFilter):
    pass


class ProductFilter(django_filters.FilterSet):
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
        fields = ["status", "category"]

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
    created_after = django_filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="gte")
    created_before = django_filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="lt")

    class Meta:
        model = Order
        fields = ["status", "user"]
