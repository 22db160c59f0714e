"""Factories of the knowledge base. ``SourceFactory`` writes rows directly (fast, no embedder);
tests of ingestion itself go through ``document_ingest`` and the paragraphs made here."""

from __future__ import annotations

import hashlib

import factory

from knowledge.models import RAGDocument, Source


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


class RAGDocumentFactory(factory.django.DjangoModelFactory[RAGDocument]):
    class Meta:
        model = RAGDocument

    document_id = factory.Sequence(lambda n: f"doc-{n:05d}-chunk-0")
    source_path = "docs/guide.md"
    content = factory.Sequence(lambda n: f"Chunk number {n} of the guide.")
    content_hash = factory.LazyAttribute(lambda d: sha256(d.content))
    chunk_index = 0
    total_chunks = 1
    embedding_model = "all-MiniLM-L6-v2"


class SourceFactory(factory.django.DjangoModelFactory[Source]):
    """An ingested document as its row alone; ``chunks=n`` adds n chunk rows (without vectors)
    as ``document_ingest`` would lay them out."""

    class Meta:
        model = Source
        skip_postgeneration_save = True

    document_id = factory.Sequence(lambda n: f"source-{n:05d}")
    source_path = factory.LazyAttribute(lambda s: f"docs/{s.document_id}.md")
    metadata = factory.LazyFunction(dict)
    text_hash = factory.LazyAttribute(lambda s: sha256(s.document_id))
    char_count = 0
    total_chunks = 0
    chunk_size = 1000
    chunk_overlap = 100
    created_by = None

    @factory.post_generation
    def chunks(source: Source, create: bool, extracted: int | None, **kwargs: object) -> None:
        if not create or not extracted:
            return
        contents = [f"Paragraph {i} of {source.document_id}." for i in range(extracted)]
        RAGDocument.objects.bulk_create(
            RAGDocument(
                document_id=f"{source.document_id}-chunk-{i}",
                parent=source,
                chunk_index=i,
                total_chunks=extracted,
                content=content,
                content_hash=sha256(content),
                source_path=source.source_path,
                metadata={**source.metadata, "parent_doc_id": source.document_id},
            )
            for i, content in enumerate(contents)
        )
        Source.objects.filter(pk=source.pk).update(
            total_chunks=extracted, char_count=sum(map(len, contents))
        )
        source.refresh_from_db()
