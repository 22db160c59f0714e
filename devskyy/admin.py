"""Shared admin pieces: read-only audit admins, timestamps, bounded counts for big tables."""

from __future__ import annotations

from typing import Any

from axes import admin as axes_admin
from axes.models import AccessFailureLog, AccessLog
from django.contrib import admin
from django.core.paginator import Paginator
from django.db.models import Model
from django.http import HttpRequest
from django.utils.functional import cached_property

from devskyy.models import IdempotencyRecord


class BoundedCountPaginator(Paginator):
    """Counts at most ``COUNT_LIMIT`` rows, so a changelist over millions of rows never pays for a
    full ``COUNT(*)``. Past the limit the admin shows "10000+" pages' worth and stays fast."""

    COUNT_LIMIT = 10_000

    @cached_property
    def count(self) -> int:
        object_list = self.object_list
        if hasattr(object_list, "values"):
            return object_list.values("pk")[: self.COUNT_LIMIT].count()
        return len(object_list)


class TimestampsReadOnlyMixin:
    """Timestamps are the database's: shown read-only on the change page, absent on the add page."""

    timestamp_fields: tuple[str, ...] = ("created_at", "updated_at")

    def get_readonly_fields(self, request: HttpRequest, obj: Model | None = None) -> Any:
        readonly = tuple(super().get_readonly_fields(request, obj))  # type: ignore[misc]
        if obj is None:
            return readonly
        present = {f.name for f in obj._meta.get_fields()}
        return readonly + tuple(
            f for f in self.timestamp_fields if f in present and f not in readonly
        )

    def get_exclude(self, request: HttpRequest, obj: Model | None = None) -> Any:
        exclude = tuple(super().get_exclude(request, obj) or ())  # type: ignore[misc]
        return exclude + self.timestamp_fields if obj is None else exclude or None


class ReadOnlyAuditAdmin(admin.ModelAdmin):
    """Audit tables are written by services only: nobody adds, edits or deletes them here."""

    paginator = BoundedCountPaginator
    show_full_result_count = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(IdempotencyRecord)
class IdempotencyRecordAdmin(ReadOnlyAuditAdmin):
    """Idempotency-Key bookkeeping of the API, for debugging an agent's retries."""

    list_display = ("key", "user", "state", "response_status", "created_at")
    list_filter = ("state",)
    list_select_related = ("user",)
    search_fields = ("=key", "user__username")
    ordering = ("-created_at",)
    exclude = ("response_body",)


# django-axes' login logs are audit tables too: read-only like ours. Its access attempts stay
# deletable by staff, as deleting one is how a locked-out login is unlocked.
class AccessLogAdmin(ReadOnlyAuditAdmin, axes_admin.AccessLogAdmin):
    """Successful admin logins and logouts, as django-axes records them."""


class AccessFailureLogAdmin(ReadOnlyAuditAdmin, axes_admin.AccessFailureLogAdmin):
    """Failed admin logins, when AXES_ENABLE_ACCESS_FAILURE_LOG keeps them."""


for _model, _model_admin in (
    (AccessLog, AccessLogAdmin),
    (AccessFailureLog, AccessFailureLogAdmin),
):
    admin.site.unregister(_model)
    admin.site.register(_model, _model_admin)
