"""The knowledge base in the admin: sources (ingested documents) with their chunks, the chunks
themselves, and a search page that runs ``knowledge_search`` with each leg's rank and score.

Chunks and vectors are written by ingestion only (``knowledge.services``): an edit here would
leave a chunk's hash and vector behind its content, so both pages are read-only. Deleting a
source runs ``document_delete`` (its chunks and vectors go with it, in one transaction).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.forms.fields import InvalidJSONInput
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from rest_framework.exceptions import ParseError

from devskyy.admin import (
    BigTableMixin,
    DeclaredFiltersOnlyAdmin,
    ReadOnlyAuditAdmin,
    pretty_json,
)
from devskyy.api import parsers
from devskyy.errors import ErrorTree, InvalidInput, NotFound
from knowledge.models import RAGDocument, Source
from knowledge.search import MODES, knowledge_search
from knowledge.services import document_delete

CHUNKS_SHOWN = 50


def _field_messages(errors: ErrorTree, prefix: str = "") -> Iterator[tuple[str, str]]:
    """(field, message) for each error of an ``InvalidInput`` tree (nested names dotted)."""
    for name, value in errors.items():
        if isinstance(value, list):
            yield from ((f"{prefix}{name}", error.message) for error in value)
        else:
            yield from _field_messages(value, f"{prefix}{name}.")


def _like_prefix(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


class SourceFolderFilter(admin.SimpleListFilter):
    """Sources grouped by the first folder of their path (``docs/`` of ``docs/guide/a.md``)."""

    title = "folder"
    parameter_name = "folder"
    MAX_FOLDERS = 50

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        folders = (
            Source.objects.exclude(source_path__isnull=True)
            .filter(source_path__contains="/")
            .extra(select={"folder": "split_part(source_path, '/', 1)"})
            .values_list("folder", flat=True)
            .distinct()
            .order_by("folder")[: self.MAX_FOLDERS]
        )
        return [(folder, f"{folder}/") for folder in folders]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Source]) -> QuerySet[Source]:
        folder = self.value()
        if not folder:
            return queryset
        return queryset.extra(where=["source_path LIKE %s"], params=[_like_prefix(folder + "/")])


@admin.register(Source)
class SourceAdmin(BigTableMixin, DeclaredFiltersOnlyAdmin):
    """Ingested documents, grouped by source path; a document's page lists its chunks."""

    list_display = (
        "document_id",
        "source_path",
        "total_chunks",
        "char_count",
        "created_by",
        "updated_at",
    )
    list_filter = (SourceFolderFilter,)
    list_select_related = ("created_by",)
    search_fields = ("=document_id",)
    search_help_text = "An exact document id, or the beginning of a source path."
    ordering = ("source_path", "document_id")  # rag_sources_path_order_idx
    # Sortable only where an index serves the whole ORDER BY both ways (source path: one way).
    sortable_by = ("document_id",)
    readonly_fields = (
        "document_id",
        "source_path",
        "pretty_metadata",
        "total_chunks",
        "char_count",
        "chunk_size",
        "chunk_overlap",
        "text_hash",
        "created_by",
        "created_at",
        "updated_at",
        "chunk_table",
    )
    fields = readonly_fields
    change_list_template = "admin/knowledge/source/change_list.html"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # sources come from ingestion (API or ``manage.py ingest``)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Source], search_term: str
    ) -> tuple[QuerySet[Source], bool]:
        term = search_term.strip()
        if not term:
            return queryset, False
        # exact id (unique index) or path prefix (varchar_pattern_ops index)
        by_path = queryset.extra(where=["source_path LIKE %s"], params=[_like_prefix(term)])
        return queryset.filter(document_id=term) | by_path, False

    @admin.display(description="metadata")
    def pretty_metadata(self, obj: Source) -> Any:
        return pretty_json(obj.metadata)

    @admin.display(description="chunks")
    def chunk_table(self, obj: Source) -> Any:
        # parent too: the related manager sets each chunk's parent, which reads its parent_id
        chunks = list(
            obj.chunks.order_by("chunk_index").only(
                "id", "parent", "chunk_index", "content", "embedding_model", "content_hash"
            )[:CHUNKS_SHOWN]
        )
        all_chunks = (
            reverse("admin:knowledge_ragdocument_changelist") + f"?parent__id__exact={obj.pk}"
        )
        rows = format_html_join(
            "",
            '<tr><td><a href="{}">{}</a></td><td>{}</td><td>{}</td><td><code>{}</code></td></tr>',
            (
                (
                    reverse("admin:knowledge_ragdocument_change", args=[chunk.pk]),
                    chunk.chunk_index,
                    chunk.content[:200] + ("…" if len(chunk.content) > 200 else ""),
                    chunk.embedding_model or "no vector",
                    chunk.content_hash[:12],
                )
                for chunk in chunks
            ),
        )
        more = (
            format_html(
                '<p>Showing the first {} of {} chunks. <a href="{}">All chunks</a></p>',
                CHUNKS_SHOWN,
                obj.total_chunks,
                all_chunks,
            )
            if obj.total_chunks > CHUNKS_SHOWN
            else format_html('<p><a href="{}">These chunks in the chunk list</a></p>', all_chunks)
        )
        return format_html(
            "<table><thead><tr><th>#</th><th>content</th><th>embedding model</th>"
            "<th>hash</th></tr></thead><tbody>{}</tbody></table>{}",
            rows,
            more,
        )

    def delete_model(self, request: HttpRequest, obj: Source) -> None:
        self._delete(request, obj.document_id)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Source]) -> None:
        for document_id in queryset.values_list("document_id", flat=True):
            self._delete(request, document_id)

    @staticmethod
    def _delete(request: HttpRequest, document_id: str) -> None:
        # deleted meanwhile (another operator, the API): what was asked for is done
        with contextlib.suppress(NotFound):
            document_delete(document_id=document_id, actor=request.user)  # type: ignore[arg-type]

    def get_deleted_objects(self, objs: Any, request: HttpRequest) -> Any:
        # The confirmation page counts the chunks (deleted by the database, ON DELETE CASCADE)
        # instead of listing thousands of them.
        deleted, model_count, perms_needed, protected = super().get_deleted_objects(objs, request)
        sources = list(objs)
        chunks = str(RAGDocument._meta.verbose_name_plural)
        model_count[chunks] = sum(source.total_chunks for source in sources)
        return deleted, model_count, perms_needed, protected

    def get_urls(self) -> list[Any]:
        view = self.admin_site.admin_view
        return [
            path("search/", view(self.search_view), name="knowledge_source_search"),
            *super().get_urls(),
        ]

    def search_view(self, request: HttpRequest) -> HttpResponse:
        """``knowledge_search`` as an operator sees it: each hit with its rank and score per leg."""
        if not request.user.is_staff:
            raise PermissionDenied
        form = KnowledgeSearchForm(request.GET or None)
        result = None
        if form.is_bound and form.is_valid():
            try:
                result = knowledge_search(**form.search_arguments())
            except InvalidInput as exc:
                for name, message in _field_messages(exc.errors):
                    if name in form.fields:
                        form.add_error(name, message)
                    else:  # the filter language's messages name the bad part themselves
                        form.add_error(None, message)
            if result is not None and result.fallback_reason:
                messages.warning(
                    request,
                    f"Searched full text only ({result.requested_mode} was asked for): "
                    f"{result.fallback_reason}.",
                )
        context = {
            **self.admin_site.each_context(request),
            "title": "Search the knowledge base",
            "opts": self.opts,
            "form": form,
            "result": result,
        }
        return TemplateResponse(request, "admin/knowledge/source/search.html", context)


class SearchJSONField(forms.JSONField):
    """JSON read by the API's parser (``devskyy.api.parsers.loads``), so that what the search
    endpoint refuses (nesting deeper than its limit, lone surrogates, NUL characters, NaN,
    numbers beyond 64 bits) is a form error here too: Python's ``json`` reads those, and later
    steps failed on them (RecursionError, UnicodeEncodeError). Shown again as typed."""

    def to_python(self, value: Any) -> Any:
        if value in self.empty_values:
            return None
        try:
            return parsers.loads(str(value).encode("utf-8", "surrogatepass"))
        except ParseError as error:
            raise forms.ValidationError(str(error.detail), code="invalid") from None

    def bound_data(self, data: Any, initial: Any) -> Any:
        return None if data is None else InvalidJSONInput(data)


class KnowledgeSearchForm(forms.Form):
    query = forms.CharField(max_length=1000)
    mode = forms.ChoiceField(choices=[(m, m) for m in MODES], initial="hybrid")
    k = forms.IntegerField(min_value=1, max_value=100, initial=10, label="Results (k)")
    source_path = forms.CharField(
        max_length=500, required=False, help_text="Only sources whose path starts with this."
    )
    document_id = forms.CharField(max_length=100, required=False, label="Document id")
    metadata = SearchJSONField(
        required=False,
        help_text='A metadata filter, e.g. {"lang": "en", "year": {"gte": 2024}}.',
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    min_score = forms.FloatField(required=False, help_text="Drop hits scoring below this.")

    def clean_metadata(self) -> Any:
        value = self.cleaned_data.get("metadata")
        if value in (None, "", {}):
            return None
        if not isinstance(value, dict):
            raise forms.ValidationError('A JSON object, e.g. {"lang": "en"}.')
        return value

    def search_arguments(self) -> dict[str, Any]:
        data = self.cleaned_data
        filters: dict[str, Any] = {}
        if data.get("source_path"):
            filters["source_path"] = {"prefix": data["source_path"]}
        if data.get("document_id"):
            filters["document_id"] = data["document_id"]
        if data.get("metadata"):
            filters["metadata"] = data["metadata"]
        return {
            "query": data["query"],
            "mode": data["mode"],
            "k": data["k"],
            "filters": filters or None,
            "min_score": data.get("min_score"),
        }


@admin.register(RAGDocument)
class RAGDocumentAdmin(ReadOnlyAuditAdmin):
    """Chunks, read-only (ingestion writes them); filter by source from a source's page."""

    list_display = (
        "document_id",
        "parent",
        "source_path",
        "chunk_index",
        "total_chunks",
        "embedding_model",
        "updated_at",
    )
    list_filter = ("embedding_model",)
    list_select_related = ("parent",)
    extra_filter_lookups = ("parent",)
    search_fields = ("=document_id", "=content_hash")
    ordering = ("document_id",)
    # Sortable only where an index serves the whole ORDER BY (column, ordering, pk) both ways;
    # other columns have filters instead (tests/test_admin_index_served.py).
    sortable_by = ("document_id",)
    exclude = ("search_vector",)
    readonly_fields = ("pretty_content", "pretty_metadata", "vectors")

    @admin.display(description="content")
    def pretty_content(self, obj: RAGDocument) -> Any:
        return format_html('<pre style="white-space: pre-wrap">{}</pre>', obj.content)

    @admin.display(description="metadata")
    def pretty_metadata(self, obj: RAGDocument) -> Any:
        return pretty_json(obj.metadata)

    @admin.display(description="vectors")
    def vectors(self, obj: RAGDocument) -> Any:
        rows = [
            (
                vector.model,
                len(vector.embedding),
                "current" if vector.content_hash == obj.content_hash else "stale",
                vector.created_at,
            )
            for vector in obj.embeddings.order_by("model")
        ]
        if not rows:
            return "none (full-text search only)"
        return format_html(
            "<ul>{}</ul>",
            format_html_join("", "<li>{}: {} dimensions, {}, {}</li>", rows),
        )
