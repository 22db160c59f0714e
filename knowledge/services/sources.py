"""Deleting ingested documents: a source goes with all its chunks and their vectors.

Each delete is one transaction that locks the source rows first (in primary-key order, the
order every multi-row lock of the knowledge base takes), so it waits for an ingest of the same
document to finish and an ingest that comes after it starts from nothing. The chunks and vectors
go by the database's ON DELETE CASCADE (migration 0004).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction
from django.db.models import Count

from commerce.models import User
from devskyy.errors import FieldError, InvalidInput, NotFound, NotPermitted
from knowledge.models import RAGDocument, Source
from knowledge.services.ingest import may_change
from knowledge.services.inputs import source_path_errors


@dataclass(frozen=True)
class DeletedSource:
    document_id: str
    source_path: str | None
    chunks: int  # the chunks deleted with it


def _delete(sources: list[Source], actor: User | None) -> list[DeletedSource]:
    """Delete locked ``sources``, all or none: any that ``actor`` may not change refuses all."""
    refused = [
        s.document_id for s in sources if not may_change(created_by_id=s.created_by_id, actor=actor)
    ]
    if refused:
        raise NotPermitted(
            f"{len(refused)} of these sources ({', '.join(refused[:5])}"
            f"{', ...' if len(refused) > 5 else ''}) were ingested by someone else; agents may "
            "delete only the sources they ingested. Nothing was deleted."
        )
    if not sources:
        return []
    ids = [s.pk for s in sources]
    counts = dict(
        RAGDocument.objects.filter(parent_id__in=ids)
        .order_by()
        .values_list("parent_id")
        .annotate(n=Count("id"))
    )
    Source.objects.filter(pk__in=ids).delete()
    return [
        DeletedSource(
            document_id=s.document_id, source_path=s.source_path, chunks=counts.get(s.pk, 0)
        )
        for s in sorted(sources, key=lambda s: s.document_id)
    ]


@transaction.atomic
def document_delete(*, document_id: str, actor: User | None = None) -> DeletedSource:
    """Delete the source ``document_id`` with its chunks and vectors; ``NotFound`` if there is
    none, ``NotPermitted`` for an agent and a source it did not ingest (nothing deleted)."""
    source = Source.objects.select_for_update().filter(document_id=document_id).first()
    if source is None:
        raise NotFound(f"No source {document_id!r}.")
    return _delete([source], actor)[0]


@transaction.atomic
def sources_delete(
    *, source_path: str, prefix: bool = False, actor: User | None = None
) -> list[DeletedSource]:
    """Delete every source whose ``source_path`` is ``source_path`` (or, with ``prefix``,
    starts with it), with their chunks and vectors; the deleted, by document id (an empty
    list when none matched). All or none: one source an agent did not ingest refuses all."""
    field = "source_path_prefix" if prefix else "source_path"
    if errors := (
        [FieldError("Required.", "required")]
        if source_path is None
        else source_path_errors(source_path)
    ):
        raise InvalidInput({field: errors})
    matching = Source.objects.filter(
        **{"source_path__startswith" if prefix else "source_path": source_path}
    )
    sources = list(matching.select_for_update().order_by("pk"))
    return _delete(sources, actor)
