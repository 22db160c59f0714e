"""Shared admin pieces: read-only audit admins, timestamps, bounded counts for big tables, and
query strings that cannot reach PostgreSQL with a NUL."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar
from urllib.parse import urlencode

from axes import admin as axes_admin
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django import forms
from django.contrib import admin, messages
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.utils import (
    get_fields_from_path,
    lookup_spawns_duplicates,
    quote,
    unquote,
)
from django.contrib.admin.views.main import ChangeList
from django.contrib.auth import get_permission_codename
from django.contrib.auth.models import Group
from django.core.exceptions import (
    FieldDoesNotExist,
    ObjectDoesNotExist,
    PermissionDenied,
    ValidationError,
)
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import (
    CharField,
    JSONField,
    Model,
    Q,
    QuerySet,
)
from django.db.models.constants import LOOKUP_SEP
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseBadRequest,
    HttpResponseNotAllowed,
    HttpResponseRedirect,
)
from django.template.response import TemplateResponse
from django.urls import path as url_path
from django.urls import reverse
from django.utils.functional import cached_property
from django.utils.html import format_html
from django.utils.text import smart_split, unescape_string_literal

from devskyy import json_codec
from devskyy.errors import DomainError
from devskyy.models import IdempotencyRecord


class AtLeast(int):
    """A count that stopped at a limit: a number for the paginator's arithmetic, "10,000+" on
    the page."""

    def __str__(self) -> str:
        return f"{int(self):,}+"


class BoundedCountPaginator(Paginator):
    """Counts at most ``COUNT_LIMIT`` rows, so a changelist over millions of rows never pays for a
    full ``COUNT(*)``. Past the limit the page says "10,000+" (results, rows) and offers that
    many pages' worth, and stays fast."""

    COUNT_LIMIT = 10_000

    @cached_property
    def count(self) -> int:
        object_list = self.object_list
        if isinstance(object_list, QuerySet):
            # No ORDER BY: counting needs no sort (the changelist's would sort every match).
            found = object_list.order_by().values("pk")[: self.COUNT_LIMIT].count()
            return AtLeast(found) if found >= self.COUNT_LIMIT else found
        return len(object_list)


class BigTableMixin:
    """A changelist over a table that may hold millions of rows: a bounded count (above), no
    count of the whole table beside it, and no per-filter counts ("Show counts": a full count
    per choice)."""

    paginator: ClassVar[type] = BoundedCountPaginator
    show_full_result_count: ClassVar[bool] = False
    show_facets: ClassVar[admin.ShowFacets] = admin.ShowFacets.NEVER


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


# What a declared filter or a link to a related object's rows may append to the field it names:
# comparisons, never text patterns or regular expressions. Date parts only for the date hierarchy,
# which turns them into a range (a plain ``__year=-1`` is a 500).
FILTER_LOOKUP_SUFFIXES = frozenset(
    {"exact", "iexact", "isnull", "in", "gt", "gte", "lt", "lte", "id"}
)
DATE_HIERARCHY_SUFFIXES = frozenset({"year", "month", "day"})


class _ChangeList(ChangeList):
    def get_ordering_field(self, field_name: Any) -> Any:
        # Django honours ``?o=`` for any column, ``sortable_by`` only hides the header's link: a
        # bookmarked or typed URL still sorted a million rows by a column no index serves.
        if self.sortable_by is not None and field_name not in self.sortable_by:
            return None
        return super().get_ordering_field(field_name)

    def get_filters(self, request: HttpRequest) -> Any:
        try:
            return super().get_filters(request)
        except OverflowError as exc:
            # ?attempt_time__year=99999999999999999999: Django's date hierarchy catches only
            # the ValueError of an impossible date, not a year no C long holds.
            raise IncorrectLookupParameters(exc) from exc


def _exact_value(model: type[Model], path: str, term: str) -> Any:
    """``term`` as the value of the field ``path`` names (``"correlation_id"``,
    ``"task__thread_id"``), or ``_NO_MATCH`` when no value of that field can equal it (not a
    UUID for a UUID field, too long for a ``max_length``, a NUL)."""
    field = get_fields_from_path(model, path)[-1]
    limit = field.max_length if isinstance(field, CharField) else None
    if "\x00" in term or (limit is not None and len(term) > limit):
        return _NO_MATCH
    try:
        value = field.to_python(term)
        field.run_validators(value)  # e.g. an IP address field's, which to_python leaves
    except ValidationError:
        return _NO_MATCH
    return value


_NO_MATCH = object()


def _words_match(model: type[Model], fields: list[str], word: str) -> Q:
    """``word`` in one of ``fields`` (``icontains``; trigram indexes on ``UPPER(column)`` answer
    it). A field across a relation (``user__email``) is read by a subquery on the related table,
    where its trigram index is, one per relation: a join would OR two tables' columns, which no
    index serves."""
    local = Q()
    related: dict[str, Q] = {}
    for path in fields:
        relation, _, rest = path.partition(LOOKUP_SEP)
        if rest and model._meta.get_field(relation).many_to_one:
            related[relation] = related.get(relation, Q()) | Q(**{f"{rest}__icontains": word})
        else:
            local |= Q(**{f"{path}__icontains": word})
    for relation, match in related.items():
        local |= _related_match(model, relation, match)
    return local


# A word matching more related rows than this (``scale`` in every customer's name) is not
# worth an index: its rows are most of the table, found fastest in the list's own order.
RELATED_MATCHES_LISTED = 1000


def _related_match(model: type[Model], relation: str, match: Q) -> Q:
    """Rows whose ``relation`` (a foreign key) is a related row matching ``match``.

    The related rows are looked up first, on their own table's (trigram) index. A few: their ids
    go in the query as a list, which the foreign key's index answers (the planner knows how many
    there are; behind ``ANY(ARRAY(subquery))`` it cannot, and read every matching row of a word
    that every customer has before taking the newest 100: 700 ms at 100,000 orders). Many (over
    ``RELATED_MATCHES_LISTED``): a hashed subquery tested on each row as the list walks its own
    order, which finds a page of such common matches within its first rows."""
    target = model._meta.get_field(relation).related_model
    related = target._default_manager.filter(match).order_by()  # type: ignore[union-attr]
    ids = list(related.values_list("pk", flat=True)[: RELATED_MATCHES_LISTED + 1])
    if len(ids) <= RELATED_MATCHES_LISTED:
        return Q(**{f"{relation}__in": ids})  # none: matches nothing
    return Q(**{f"{relation}__in": related.values("pk")})


class IndexedSearchMixin:
    """The changelist search, on indexes: a ``=field`` search field matches the whole term
    exactly, as the column's own (b-tree) index answers it.

    Django's ``=field`` compares ``UPPER(column) = UPPER(term)``, which no index serves: on a
    million rows a search by correlation id walked the whole table (1.2 s). Ids are compared
    as they are written. A term that is no value of the field (``abc`` for a UUID, too long)
    matches nothing there. Other search fields keep Django's search (every word, ``icontains``
    on one of them): only give those where a trigram index backs them. One across a relation
    (``user__username``) is a subquery on the related table, whose trigram index answers it."""

    def get_search_results(self, request: HttpRequest, queryset: Any, search_term: str) -> Any:
        fields = list(self.get_search_fields(request))  # type: ignore[attr-defined]
        exact = [name[1:] for name in fields if name.startswith("=")]
        term = search_term.strip()
        words = [name for name in fields if not name.startswith("=")]
        across = any(LOOKUP_SEP in name for name in words)
        if not (exact or across) or not term:
            return super().get_search_results(request, queryset, search_term)  # type: ignore[misc]
        match = Q()
        for path in exact:
            value = _exact_value(queryset.model, path, term)
            relation, _, rest = path.partition(LOOKUP_SEP)
            if value is _NO_MATCH:
                continue
            if rest and queryset.model._meta.get_field(relation).many_to_one:
                # ``task__thread_id``: the task by its index, then its rows by theirs
                match |= _related_match(queryset.model, relation, Q(**{rest: value}))
            else:
                match |= Q(**{path: value})
        duplicates = any(lookup_spawns_duplicates(queryset.model._meta, path) for path in exact)
        if words and "\x00" not in term:
            # Django's own rule: every word of the term in one of the fields.
            every_word = Q()
            for bit in smart_split(term):
                if bit.startswith(('"', "'")) and bit[0] == bit[-1]:
                    bit = unescape_string_literal(bit)
                every_word &= _words_match(queryset.model, words, bit)
            match |= every_word
            duplicates = duplicates or any(
                lookup_spawns_duplicates(queryset.model._meta, name) for name in words
            )
        if not match:
            return queryset.none(), False
        return queryset.filter(match), duplicates


class DeclaredFiltersOnlyAdmin(IndexedSearchMixin, admin.ModelAdmin):
    """A changelist filters only by what the admin declares: its ``list_filter`` entries, its
    ``date_hierarchy`` and ``extra_filter_lookups`` (e.g. a link from another page).

    Django's default lets a query string filter by any column with any lookup (only its own
    UserAdmin guards ``password``). That reads columns the page does not show
    (``/admin/commerce/userapikey/?hashed_key__startswith=...``, character by character), runs
    any regular expression (``?email__regex=``), and a value the column's type cannot hold is a
    500 (``?tags=x`` on products, ``?ip_address=x`` on axes' pages). An undeclared lookup is
    refused with a 400 (``DisallowedModelAdminLookup``); names that are no field at all are left
    to Django, which ignores them with its "?e=1" page.
    """

    extra_filter_lookups: tuple[str, ...] = ()

    def get_changelist(self, request: HttpRequest, **kwargs: Any) -> type[ChangeList]:
        return _ChangeList

    def lookup_allowed(  # type: ignore[override]  # Django 5.2 always passes the request
        self, lookup: str, value: str, request: HttpRequest
    ) -> bool:
        parts = lookup.split(LOOKUP_SEP)
        try:
            self.model._meta.get_field(parts[0])
        except FieldDoesNotExist:
            return super().lookup_allowed(lookup, value, request)
        declared = dict.fromkeys(self.extra_filter_lookups, FILTER_LOOKUP_SUFFIXES)
        for item in self.get_list_filter(request):
            name = item[0] if isinstance(item, list | tuple) else item
            if isinstance(name, str):
                declared[name] = FILTER_LOOKUP_SUFFIXES
            elif isinstance(name, type) and issubclass(name, admin.SimpleListFilter):
                # its own parameter (``?tool_name=``), exactly: the filter applies it
                declared.setdefault(str(name.parameter_name), frozenset())
        if self.date_hierarchy:
            declared[self.date_hierarchy] = FILTER_LOOKUP_SUFFIXES | DATE_HIERARCHY_SUFFIXES
        for path, suffixes in declared.items():
            prefix = path.split(LOOKUP_SEP)
            if parts[: len(prefix)] == prefix and suffixes.issuperset(parts[len(prefix) :]):
                return super().lookup_allowed(lookup, value, request)
        return False


def pretty_json(value: Any) -> str:
    """``value`` indented and HTML-escaped in a ``<pre>``; compact (``json_codec``) where
    ``json`` cannot write it (nested deeper than the recursion limit, numbers no float holds:
    values a raw SQL writer can store)."""
    try:
        text = json.dumps(value, indent=2, ensure_ascii=False, default=str)
    except (RecursionError, ValueError, TypeError):
        text = json_codec.dumps(value, default=str).decode()
    return format_html('<pre style="white-space: pre-wrap; margin: 0">{}</pre>', text)


# Statuses by how an operator should read them: a failure stands out, a success recedes.
BAD_STATUSES = frozenset({"failed", "timeout", "dead", "rejected", "cancelled"})
GOOD_STATUSES = frozenset({"success", "succeeded", "completed"})
_TONES = {
    "bad": ("#fde8e8", "#9b1c1c"),
    "good": ("#e6f4ea", "#1e6b34"),
    "other": ("#eef1f5", "#344054"),
}


def status_badge(value: str, label: str) -> str:
    """A status as a coloured badge (``status-bad``, ``status-good`` or ``status-other``)."""
    tone = "bad" if value in BAD_STATUSES else "good" if value in GOOD_STATUSES else "other"
    background, colour = _TONES[tone]
    return format_html(
        '<span class="status status-{}" style="background: {}; color: {}; padding: 1px 7px; '
        'border-radius: 8px; font-weight: 600; white-space: nowrap">{}</span>',
        tone,
        background,
        colour,
        label,
    )


def human_duration(milliseconds: int | None) -> str:
    """``350 ms``, ``1.2 s``, ``2 min 5 s``, ``3 h 4 min``; ``-`` for none."""
    if milliseconds is None:
        return "-"
    if milliseconds < 1000:
        return f"{milliseconds} ms"
    if milliseconds < 60_000:
        return f"{milliseconds / 1000:.1f} s"
    minutes, seconds = divmod(round(milliseconds / 1000), 60)
    if minutes < 60:
        return f"{minutes} min {seconds} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min"


class StatusAndDurationColumns:
    """``status_column`` and ``duration_column`` for ``list_display``: the model's ``status`` as a
    badge and its ``duration_ms`` in human units, sortable as the columns they show."""

    _SHOWN_AS = {"status": "status_column", "duration_ms": "duration_column"}

    def get_fields(self, request: HttpRequest, obj: Model | None = None) -> Any:
        """On a row's page, too, the status is a badge and the duration in human units."""
        fields = super().get_fields(request, obj)  # type: ignore[misc]
        if obj is None:
            return fields
        return list(dict.fromkeys(self._SHOWN_AS.get(f, f) for f in fields))

    def get_readonly_fields(self, request: HttpRequest, obj: Model | None = None) -> Any:
        readonly = tuple(super().get_readonly_fields(request, obj))  # type: ignore[misc]
        if obj is None:
            return readonly
        return readonly + tuple(self._SHOWN_AS.values())

    @admin.display(description="status", ordering="status")
    def status_column(self, obj: Any) -> str:
        return status_badge(obj.status, obj.get_status_display())

    @admin.display(description="duration", ordering="duration_ms")
    def duration_column(self, obj: Any) -> str:
        return human_duration(obj.duration_ms)


PRETTY_SUFFIX = "__pretty"


class PrettyJSONMixin:
    """A read-only page shows its JSON fields indented, escaped and wrapped (Django writes them
    as one compact line). Each JSON field is swapped for a display of the same label."""

    def _json_fields(self) -> set[str]:
        model = self.model
        return {f.name for f in model._meta.get_fields() if isinstance(f, JSONField)}

    def get_fields(self, request: HttpRequest, obj: Model | None = None) -> Any:
        fields = super().get_fields(request, obj)  # type: ignore[misc]
        if obj is None:
            return fields
        json_fields = self._json_fields()
        # Django lists the read-only fields after the form's, so a display is there already.
        shown = [f"{f}{PRETTY_SUFFIX}" if f in json_fields else f for f in fields]
        return list(dict.fromkeys(shown))

    def get_readonly_fields(self, request: HttpRequest, obj: Model | None = None) -> Any:
        readonly = tuple(super().get_readonly_fields(request, obj))  # type: ignore[misc]
        if obj is None:
            return readonly
        return readonly + tuple(f"{name}{PRETTY_SUFFIX}" for name in sorted(self._json_fields()))

    def __getattr__(self, name: str) -> Any:
        if not name.endswith(PRETTY_SUFFIX):
            raise AttributeError(name)
        field = name.removesuffix(PRETTY_SUFFIX)
        if field not in self._json_fields():
            raise AttributeError(name)

        def display(obj: Model) -> str:
            return pretty_json(getattr(obj, field))

        display.short_description = field.replace("_", " ")  # type: ignore[attr-defined]
        return display


class NoHistoryMixin:
    """For pages nobody edits in the admin: no History link, and its page is a 404 (the rows are
    written by services, so the admin's edit log has nothing to say about them)."""

    change_form_template: ClassVar[Any] = "admin/devskyy/read_only_change_form.html"

    def history_view(self, request: HttpRequest, object_id: str, extra_context: Any = None) -> Any:
        raise Http404("No edit history: these rows are written by the services.")


class ReadOnlyAuditAdmin(
    BigTableMixin,
    NoHistoryMixin,
    PrettyJSONMixin,
    TimestampsReadOnlyMixin,
    DeclaredFiltersOnlyAdmin,
):
    """Audit tables are written by services only: nobody adds, edits or deletes them here. Their
    pages show when a row was written (``created_at``; ``updated_at`` where there is one)."""

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
    # Sortable only where an index serves the whole ORDER BY (column, ordering, pk) both ways;
    # other columns have filters instead (tests/test_admin_index_served.py).
    sortable_by = ("created_at",)
    exclude = ("response_body",)


# django-axes' login logs are audit tables too: read-only like ours. Its access attempts stay
# deletable by staff, as deleting one is how a locked-out login is unlocked.
class AccessLogAdmin(ReadOnlyAuditAdmin, axes_admin.AccessLogAdmin):
    """Successful admin logins and logouts, as django-axes records them."""

    sortable_by = ()  # newest first (the primary key) only: axes indexes no column for order
    search_fields = ("=username", "=ip_address")  # exact, on axes' own indexes


class AccessFailureLogAdmin(ReadOnlyAuditAdmin, axes_admin.AccessFailureLogAdmin):
    """Failed admin logins, when AXES_ENABLE_ACCESS_FAILURE_LOG keeps them."""

    sortable_by = ()  # newest first (the primary key) only: axes indexes no column for order
    search_fields = ("=username", "=ip_address")  # exact, on axes' own indexes


class AccessAttemptAdmin(DeclaredFiltersOnlyAdmin, axes_admin.AccessAttemptAdmin):
    """Failed admin logins per username and address; deleting one unlocks it."""

    sortable_by = ()  # newest first (the primary key) only: axes indexes no column for order
    search_fields = ("=username", "=ip_address")  # exact, on axes' own indexes


# Roles (``User.role``) say who may do what; Django's groups would be a second, unused way.
admin.site.unregister(Group)

for _model, _model_admin in (
    (AccessAttempt, AccessAttemptAdmin),
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


# --- Change forms written through services ---------------------------------------------------

FormErrors = dict[str | None, list[str]]  # keyed by form field; None: the form as a whole


class ServiceRefused(Exception):
    """A service refused what a valid admin form asked for (raised from ``save_model``): the
    save's transaction is rolled back and ``ServiceWrittenAdminMixin`` shows the same form again
    with ``errors`` as its errors."""

    def __init__(self, errors: FormErrors) -> None:
        super().__init__(errors)
        self.errors = errors


class VersionedForm(forms.ModelForm):
    """A change form that carries the version it was opened at (hidden), so the service writes
    only over that version; the service's refusal from the last save becomes its errors."""

    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)
    refusal: ClassVar[FormErrors] = {}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance._state.adding:
            del self.fields["version"]  # a new record starts at version 1

    def clean(self) -> dict[str, Any] | None:
        cleaned = super().clean()
        for name, errors in self.refusal.items():
            if name is None or name in self.fields:
                self.add_error(name, errors)
            else:
                self.add_error(None, [f"{name}: {error}" for error in errors])
        return cleaned


class ServiceWrittenAdminMixin:
    """For admins whose ``save_model`` calls a service and raises ``ServiceRefused`` when the
    service says no: the form is shown again with the service's reasons, nothing saved."""

    def get_form(
        self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any
    ) -> Any:
        form = super().get_form(request, obj, change=change, **kwargs)  # type: ignore[misc]
        refusal = getattr(request, "_service_refusal", None)
        if refusal:
            form = type(form.__name__, (form,), {"refusal": refusal})
        return form

    def changeform_view(
        self,
        request: HttpRequest,
        object_id: str | None = None,
        form_url: str = "",
        extra_context: Any = None,
    ) -> HttpResponse:
        view = super().changeform_view  # type: ignore[misc]
        try:
            return view(request, object_id, form_url, extra_context)
        except ServiceRefused as refused:
            request._service_refusal = refused.errors  # type: ignore[attr-defined]
            return view(request, object_id, form_url, extra_context)


# --- State-change buttons on an object's own page ---------------------------------------------


@dataclass(frozen=True)
class ObjectAction:
    """A button on an object's page that runs one service, after a confirmation page.

    ``allowed(obj, user)`` says whether the service would accept the transition from the
    object's current state (the service's own rule: its ``can_transition_to``, who may); the
    button is shown only then, and only to users with ``permission`` on the model. ``run(obj,
    user, data)`` calls the service (``data``: the cleaned ``form``, if the action asks for
    one, e.g. a reason). ``question`` and ``done`` may name the object as ``{obj}``."""

    name: str
    label: str
    run: Callable[[Any, Any, dict[str, Any]], Any]
    allowed: Callable[[Any, Any], bool]
    question: str
    done: str
    form: type[forms.Form] | None = None
    permission: str = "change"
    dangerous: bool = False


class ObjectChanged(Exception):
    """The object is no longer as the confirmation page showed it."""


class ObjectActionsMixin:
    """Declared ``object_actions`` become buttons (``a.object-action``) on the object's page,
    each leading to ``<object_id>/actions/<name>/``: a GET shows a confirmation page (form
    ``#object-action-confirm``), a POST (CSRF-checked) runs the service and redirects back to
    the object's page with a message.

    The POST locks the row and compares it with what the confirmation page showed (its
    ``object_action_fingerprint`` fields: the version where there is one, else the status),
    then runs the service in the same transaction: if the object changed meanwhile, or the
    service refuses (a transition no longer allowed, not permitted), nothing is written and
    the page says why."""

    object_actions: ClassVar[tuple[ObjectAction, ...]] = ()
    object_action_fingerprint: ClassVar[tuple[str, ...] | None] = None
    object_action_template: ClassVar[str] = "admin/devskyy/object_action_confirm.html"

    def _fingerprint_fields(self) -> tuple[str, ...]:
        if self.object_action_fingerprint is not None:
            return self.object_action_fingerprint
        names = {f.name for f in self.model._meta.get_fields()}  # type: ignore[attr-defined]
        return ("version",) if "version" in names else ("status",)

    def object_fingerprint(self, obj: Model) -> str:
        return json.dumps([str(getattr(obj, name)) for name in self._fingerprint_fields()])

    def _may(self, request: HttpRequest, action: ObjectAction) -> bool:
        opts = self.model._meta  # type: ignore[attr-defined]
        codename = get_permission_codename(action.permission, opts)
        return request.user.has_perm(f"{opts.app_label}.{codename}")

    def available_object_actions(self, request: HttpRequest, obj: Model) -> list[ObjectAction]:
        return [
            action
            for action in self.object_actions
            if self._may(request, action) and action.allowed(obj, request.user)
        ]

    def _object_action_url(self, obj: Model, action: ObjectAction) -> str:
        opts = self.model._meta  # type: ignore[attr-defined]
        return reverse(
            f"admin:{opts.app_label}_{opts.model_name}_object_action",
            args=[quote(obj.pk), action.name],
        )

    def _change_url(self, obj: Model) -> str:
        opts = self.model._meta  # type: ignore[attr-defined]
        return reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[quote(obj.pk)])

    def get_urls(self) -> list[Any]:
        opts = self.model._meta  # type: ignore[attr-defined]
        view = self.admin_site.admin_view(self.object_action_view)  # type: ignore[attr-defined]
        return [
            url_path(
                "<path:object_id>/actions/<str:name>/",
                view,
                name=f"{opts.app_label}_{opts.model_name}_object_action",
            ),
            *super().get_urls(),  # type: ignore[misc]
        ]

    def render_change_form(
        self,
        request: HttpRequest,
        context: dict[str, Any],
        add: bool = False,
        change: bool = False,
        form_url: str = "",
        obj: Any = None,
    ) -> Any:
        if obj is not None and obj.pk is not None:
            context["object_actions"] = [
                (action, self._object_action_url(obj, action))
                for action in self.available_object_actions(request, obj)
            ]
        return super().render_change_form(  # type: ignore[misc]
            request, context, add=add, change=change, form_url=form_url, obj=obj
        )

    def object_action_view(self, request: HttpRequest, object_id: str, name: str) -> HttpResponse:
        if request.method not in ("GET", "HEAD", "POST"):
            return HttpResponseNotAllowed(["GET", "POST"])
        action = next((a for a in self.object_actions if a.name == name), None)
        if action is None:
            raise Http404(f"No action {name!r}.")
        if not self._may(request, action):
            raise PermissionDenied
        obj = self.get_object(request, unquote(object_id))  # type: ignore[attr-defined]
        if obj is None:
            opts = self.model._meta  # type: ignore[attr-defined]
            return self._get_obj_does_not_exist_redirect(  # type: ignore[attr-defined]
                request, opts, object_id
            )
        back = HttpResponseRedirect(self._change_url(obj))
        if not action.allowed(obj, request.user):
            messages.error(request, f"{action.label}: not possible for {obj} as it is now.")
            return back
        form = action.form(request.POST) if action.form and request.method == "POST" else None
        if action.form and form is None:
            form = action.form()
        if request.method == "POST" and (form is None or form.is_valid()):
            data = form.cleaned_data if form is not None else {}
            try:
                with transaction.atomic():
                    obj = self._lock_as_shown(obj, request.POST.get("fingerprint", ""))
                    action.run(obj, request.user, data)
            except ObjectChanged:
                messages.error(
                    request,
                    f"{obj} was changed by someone else since you opened the confirmation; "
                    "nothing was done. Check its current state and try again.",
                )
            except (DomainError, ValidationError, PermissionDenied, ObjectDoesNotExist) as exc:
                messages.error(request, f"{action.label}: {'; '.join(_refusal_messages(exc))}")
            else:
                messages.success(request, action.done.format(obj=obj))
            return back
        context = {
            **self.admin_site.each_context(request),  # type: ignore[attr-defined]
            "title": f"{action.label}?",
            "subtitle": str(obj),
            "opts": self.model._meta,  # type: ignore[attr-defined]
            "original": obj,
            "action": action,
            "question": action.question.format(obj=obj),
            "form": form,
            "fingerprint": self.object_fingerprint(obj),
            "change_url": self._change_url(obj),
        }
        return TemplateResponse(request, self.object_action_template, context)

    def _lock_as_shown(self, obj: Model, fingerprint: str) -> Model:
        """Lock ``obj``'s row and re-read it; ``ObjectChanged`` unless it is as it was shown."""
        locked = type(obj)._default_manager.select_for_update().get(pk=obj.pk)
        if self.object_fingerprint(locked) != fingerprint:
            raise ObjectChanged
        return locked


def _refusal_messages(exc: Exception) -> list[str]:
    if isinstance(exc, ValidationError):
        return list(exc.messages)
    if isinstance(exc, DomainError):
        return [exc.message]
    if isinstance(exc, ObjectDoesNotExist):
        return ["it no longer exists."]
    return [str(exc) or "Not allowed."]
