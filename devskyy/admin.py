"""Shared admin pieces: read-only audit admins, timestamps, bounded counts for big tables, and
query strings that cannot reach PostgreSQL with a NUL."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from axes import admin as axes_admin
from axes.models import AccessFailureLog, AccessLog
from django.contrib import admin, messages
from django.core.paginator import Paginator
from django.db.models import Model
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, HttpResponseRedirect
from django.urls import reverse
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


class AdminNulQueryMiddleware:
    """Drop query parameters holding a NUL character from admin URLs, and say so.

    The admin passes changelist filters (``?status=``, ``?category=``, any ``list_filter``) and
    the search box (``?q=``) into queries; PostgreSQL cannot take a NUL in text, so each was a
    ``DataError`` and a 500. This middleware covers every registered ModelAdmin at once: a GET
    with such a parameter (in its name or value) is redirected to the same page without it, with
    a warning naming what was ignored; any other method is a 400. Install after
    ``MessageMiddleware``.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    @cached_property
    def admin_prefix(self) -> str:
        return reverse("admin:index")

    def __call__(self, request: HttpRequest) -> HttpResponse:
        query = request.META.get("QUERY_STRING", "")
        if "%00" not in query and "\x00" not in query:
            return self.get_response(request)
        if not request.path_info.startswith(self.admin_prefix):
            return self.get_response(request)
        kept, dropped = [], []
        for name, values in request.GET.lists():
            for value in values:
                if "\x00" in name or "\x00" in value:
                    dropped.append(name.replace("\x00", "\\0"))
                else:
                    kept.append((name, value))
        if not dropped:
            return self.get_response(request)
        if request.method not in ("GET", "HEAD"):
            return HttpResponseBadRequest("Query parameters may not contain NUL characters.")
        messages.warning(
            request,
            "Ignored filter or search {}: null characters are not allowed.".format(
                ", ".join(sorted(set(dropped)))
            ),
        )
        return HttpResponseRedirect(request.path + (f"?{urlencode(kept)}" if kept else ""))
