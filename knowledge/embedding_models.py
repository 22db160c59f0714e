"""The embedding models devskyy knows: each has a name, a dimension and its own HNSW index.

The registry is code, not settings, because every model's index is a migration: vectors of all
models share one table (``rag_embeddings``), and each model gets a partial expression index
``((embedding::vector(<dims>)) vector_cosine_ops) WHERE model = '<name>'`` (pgvector's pattern for
several dimensions in one column). Adding a model means adding it here and running
``makemigrations knowledge`` (then making the new index ``CONCURRENTLY``, as 0003 does).

Which model the server embeds with, and which one search uses by default, is a setting:
``KNOWLEDGE_EMBEDDING_MODEL`` (see ``knowledge.embedder``).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class EmbeddingModel:
    name: str
    dimensions: int
    # True when devskyy can compute this model's vectors itself (the ``embeddings`` extra);
    # the others take vectors from the client only.
    server_side: bool
    description: str
    # the model's HNSW index on rag_embeddings (at most 30 characters: Django's limit)
    index_name: str


EMBEDDING_MODELS: dict[str, EmbeddingModel] = {
    model.name: model
    for model in (
        EmbeddingModel(
            name="all-MiniLM-L6-v2",
            dimensions=384,
            server_side=True,
            index_name="rag_emb_minilm_l6_v2_hnsw",
            description="sentence-transformers/all-MiniLM-L6-v2, computed by the server "
            "(pip install -e '.[embeddings]') or sent by the client",
        ),
        EmbeddingModel(
            name="text-embedding-3-small",
            dimensions=1536,
            server_side=False,
            index_name="rag_emb_oai_3_small_hnsw",
            description="OpenAI's text-embedding-3-small; vectors come from the client",
        ),
    )
}

# pgvector's HNSW index takes up to 2,000 dimensions of ``vector``.
MAX_INDEXED_DIMENSIONS = 2000
