from __future__ import annotations

import hashlib

import factory

from knowledge.models import RAGDocument


class RAGDocumentFactory(factory.django.DjangoModelFactory[RAGDocument]):
    class Meta:
        model = RAGDocument

    document_id = factory.Sequence(lambda n: f"doc-{n:05d}-chunk-0")
    source_path = "docs/guide.md"
    content = factory.Sequence(lambda n: f"Chunk number {n} of the guide.")
    content_hash = factory.LazyAttribute(lambda d: hashlib.sha256(d.content.encode()).hexdigest())
    chunk_index = 0
    total_chunks = 1
    embedding_model = "sentence-transformers/all-MiniLM-L6-v2"
