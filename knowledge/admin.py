from __future__ import annotations

from django.contrib import admin

from devskyy.admin import BoundedCountPaginator, DeclaredFiltersOnlyAdmin, TimestampsReadOnlyMixin
from knowledge.models import RAGDocument


@admin.register(RAGDocument)
class RAGDocumentAdmin(TimestampsReadOnlyMixin, DeclaredFiltersOnlyAdmin):
    list_display = (
        "document_id",
        "source_path",
        "chunk_index",
        "total_chunks",
        "embedding_model",
        "updated_at",
    )
    list_filter = ("embedding_model",)
    search_fields = ("=document_id", "source_path", "=content_hash")
    ordering = ("document_id",)
    paginator = BoundedCountPaginator
    show_full_result_count = False
