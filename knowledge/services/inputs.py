"""The rules of what may be ingested: document ids, paths, metadata, texts, chunks and vectors.

Every check here returns the errors it found (``FieldError`` lists) instead of raising at the
first, so that one ``InvalidInput`` names every bad field at once; ``validate_metadata`` is the
raising form for callers that check metadata alone.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.conf import settings

from devskyy.errors import FieldError, InvalidInput
from devskyy.json_codec import INT64_MAX, INT64_MIN
from knowledge.chunking import (
    MAX_CHUNK_SIZE,
    MIN_CHUNK_SIZE,
    content_hash,
    normalize,
    split_text,
)
from knowledge.embedding_models import EMBEDDING_MODELS, EmbeddingModel

# A source's id is a URL segment (no "/"), and its chunks' ids, "<id>-chunk-<i>", must fit the
# seed's varchar(100): 80 + len("-chunk-") leaves 13 digits for the index.
DOCUMENT_ID_MAX_LENGTH = 80
DOCUMENT_ID_REGEX = r"[A-Za-z0-9][A-Za-z0-9._:@+-]{0,79}"
DOCUMENT_ID_PATTERN = re.compile(rf"^{DOCUMENT_ID_REGEX}\Z")
SOURCE_PATH_MAX_LENGTH = 500

# Metadata: a flat JSON object that filters can index (GIN jsonb_path_ops) and compare.
METADATA_KEY_PATTERN = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]{0,63}\Z")
METADATA_MAX_KEYS = 50
METADATA_MAX_STRING = 1000
METADATA_MAX_LIST = 100
METADATA_MAX_BYTES = 16 * 1024
# Every chunk's metadata names its source under this key; callers may not set it.
PARENT_KEY = "parent_doc_id"

# pgvector stores 4-byte floats: a larger magnitude does not fit.
FLOAT32_MAX = 3.4028234663852886e38
# pgvector computes cosine distance in single precision: a vector whose length squared
# underflows a 4-byte float compares as a perfect match with every query (or as NaN), one whose
# length squared overflows it as unrelated to anything. Lengths between these compare exactly.
MIN_VECTOR_NORM, MAX_VECTOR_NORM = 1e-12, 1e12

_SURROGATE = re.compile("[\ud800-\udfff]")


def chunk_document_id(document_id: str, index: int) -> str:
    """The seed's chunk id: ``<document_id>-chunk-<index>``."""
    return f"{document_id}-chunk-{index}"


def text_errors(value: str, *, max_length: int | None = None) -> list[FieldError]:
    """What PostgreSQL's ``text`` (and the UTF-8 on the wire) cannot hold, and a length cap."""
    errors = []
    if "\x00" in value:
        errors.append(FieldError("Null characters are not allowed.", "null_characters_not_allowed"))
    if not value.isascii() and _SURROGATE.search(value):
        errors.append(
            FieldError("Surrogate characters are not allowed.", "surrogate_characters_not_allowed")
        )
    if max_length is not None and len(value) > max_length:
        errors.append(
            FieldError(
                f"Ensure this field has no more than {max_length} characters "
                f"(it has {len(value)}).",
                "max_length",
            )
        )
    return errors


def document_id_errors(document_id: Any) -> list[FieldError]:
    if not isinstance(document_id, str):
        return [FieldError("Must be a string.", "invalid")]
    if not DOCUMENT_ID_PATTERN.match(document_id):
        return [
            FieldError(
                f"1 to {DOCUMENT_ID_MAX_LENGTH} characters: letters, digits and . _ : @ + -, "
                "starting with a letter or digit.",
                "invalid",
            )
        ]
    return []


def source_path_errors(source_path: Any) -> list[FieldError]:
    if source_path is None:
        return []
    if not isinstance(source_path, str):
        return [FieldError("Must be a string.", "invalid")]
    if not source_path.strip():
        return [FieldError("This field may not be blank.", "blank")]
    return text_errors(source_path, max_length=SOURCE_PATH_MAX_LENGTH)


def _scalar_error(key: str, value: Any) -> str | None:
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, str):
        if len(value) > METADATA_MAX_STRING:
            return f"{key!r}: a string of at most {METADATA_MAX_STRING} characters."
        if text_errors(value):
            return f"{key!r}: null and surrogate characters are not allowed."
        return None
    if isinstance(value, int):
        if not INT64_MIN <= value <= INT64_MAX:
            return f"{key!r}: integers must lie between {INT64_MIN} and {INT64_MAX}."
        return None
    if isinstance(value, float):
        if not math.isfinite(value) or not INT64_MIN < value < -INT64_MIN:
            return f"{key!r}: numbers must be finite and lie between {INT64_MIN} and {INT64_MAX}."
        return None
    return f"{key!r}: not a string, number, boolean or null."


def _value_error(key: str, value: Any) -> str | None:
    if isinstance(value, dict):
        return f"{key!r}: nested objects are not allowed."
    if not isinstance(value, list):
        return _scalar_error(key, value)
    if len(value) > METADATA_MAX_LIST:
        return f"{key!r}: a list of at most {METADATA_MAX_LIST} items."
    for item in value:
        if isinstance(item, dict | list):
            return f"{key!r}: list items must be strings, numbers, booleans or null."
        if (message := _scalar_error(key, item)) is not None:
            return message
    return None


def metadata_errors(metadata: Any) -> list[FieldError]:
    """The rules of user metadata (see ``validate_metadata``)."""
    if not isinstance(metadata, dict):
        return [FieldError("Must be a JSON object.", "not_an_object")]
    errors: list[FieldError] = []
    if len(metadata) > METADATA_MAX_KEYS:
        errors.append(
            FieldError(f"At most {METADATA_MAX_KEYS} keys (it has {len(metadata)}).", "max_keys")
        )
    for key, value in metadata.items():
        if not isinstance(key, str) or not METADATA_KEY_PATTERN.match(key):
            errors.append(
                FieldError(
                    f"{key!r}: keys are 1 to 64 letters, digits, '_', '.' or '-', starting "
                    "with a letter or '_'.",
                    "invalid_key",
                )
            )
            continue
        if key == PARENT_KEY:
            errors.append(
                FieldError(
                    f"{key!r} is reserved: every chunk's metadata names its source with it.",
                    "reserved_key",
                )
            )
            continue
        message = _value_error(key, value)
        if message is not None:
            errors.append(FieldError(message, "invalid_value"))
    if not errors:
        size = len(json.dumps(metadata, ensure_ascii=False, separators=(",", ":")).encode())
        if size > METADATA_MAX_BYTES:
            errors.append(
                FieldError(
                    f"At most {METADATA_MAX_BYTES} bytes as JSON (it has {size}).", "too_large"
                )
            )
    return errors


def validate_metadata(metadata: Any) -> dict[str, Any]:
    """User metadata for a source and its chunks, or ``InvalidInput`` under ``metadata``.

    A JSON object of at most 50 keys; keys match ``METADATA_KEY_PATTERN`` (``parent_doc_id`` is
    reserved); values are strings (at most 1,000 characters), integers within int64, finite
    numbers, booleans, null, or lists of at most 100 of those; no nested objects; at most 16 KB
    as JSON. ``None`` is ``{}``.
    """
    if metadata is None:
        return {}
    errors = metadata_errors(metadata)
    if errors:
        raise InvalidInput({"metadata": errors})
    return dict(metadata)


def model_errors(name: Any) -> tuple[EmbeddingModel | None, list[FieldError]]:
    if name is None:
        return None, []
    if not isinstance(name, str) or name not in EMBEDDING_MODELS:
        choices = ", ".join(sorted(EMBEDDING_MODELS))
        return None, [
            FieldError(f"{name!r} is not a registered model (one of: {choices}).", "invalid_choice")
        ]
    return EMBEDDING_MODELS[name], []


def vector_errors(vector: Any, model: EmbeddingModel) -> list[FieldError]:
    if not isinstance(vector, list | tuple) or not all(
        isinstance(x, int | float) and not isinstance(x, bool) for x in vector
    ):
        return [FieldError("Must be a list of numbers.", "invalid")]
    if len(vector) != model.dimensions:
        return [
            FieldError(
                f"{model.name} vectors have {model.dimensions} numbers; this one has "
                f"{len(vector)}.",
                "invalid_dimensions",
            )
        ]
    if not all(math.isfinite(x) and abs(x) <= FLOAT32_MAX for x in vector):
        return [FieldError("Numbers must be finite and fit a 4-byte float.", "invalid")]
    if not any(vector):
        return [FieldError("A zero vector has no direction (cosine is undefined).", "invalid")]
    norm = math.hypot(*vector)
    if not MIN_VECTOR_NORM <= norm <= MAX_VECTOR_NORM:
        return [
            FieldError(
                f"Its length ({norm:.3g}) must lie between {MIN_VECTOR_NORM:g} and "
                f"{MAX_VECTOR_NORM:g}: vectors are compared in single precision.",
                "norm_out_of_range",
            )
        ]
    return []


@dataclass(frozen=True)
class DocumentInput:
    """A validated ingest request: the document's chunks and what describes it."""

    document_id: str
    source_path: str | None
    metadata: dict[str, Any]
    contents: tuple[str, ...]
    text_hash: str
    char_count: int
    chunk_size: int  # 0 for content the caller chunked
    chunk_overlap: int
    model: EmbeddingModel
    # one per chunk, when the caller sent vectors (pre-chunked content)
    client_vectors: tuple[tuple[float, ...], ...] | None

    @property
    def hashes(self) -> tuple[str, ...]:
        return tuple(content_hash(text) for text in self.contents)

    @property
    def chunk_metadata(self) -> dict[str, Any]:
        return {**self.metadata, PARENT_KEY: self.document_id}


def chunking_errors(chunk_size: Any, chunk_overlap: Any) -> dict[str, list[FieldError]]:
    errors: dict[str, list[FieldError]] = {}
    for name, value in (("chunk_size", chunk_size), ("chunk_overlap", chunk_overlap)):
        if isinstance(value, bool) or not isinstance(value, int):
            errors[name] = [FieldError("A valid integer is required.", "invalid")]
    if errors:
        return errors
    if chunk_size < MIN_CHUNK_SIZE:
        errors["chunk_size"] = [
            FieldError(f"Ensure this value is at least {MIN_CHUNK_SIZE}.", "min_value")
        ]
    elif chunk_size > MAX_CHUNK_SIZE:
        errors["chunk_size"] = [
            FieldError(f"Ensure this value is at most {MAX_CHUNK_SIZE}.", "max_value")
        ]
    elif chunk_overlap < 0:
        errors["chunk_overlap"] = [FieldError("Ensure this value is at least 0.", "min_value")]
    elif chunk_overlap > chunk_size // 2:
        errors["chunk_overlap"] = [
            FieldError(
                f"Ensure this value is at most half of chunk_size ({chunk_size // 2}).",
                "max_value",
            )
        ]
    return errors


def _text_contents(
    text: Any, chunk_size: int, chunk_overlap: int, errors: dict[str, Any]
) -> tuple[tuple[str, ...], str, int]:
    if not isinstance(text, str):
        errors["text"] = [FieldError("Must be a string.", "invalid")]
        return (), "", 0
    limit = settings.KNOWLEDGE_MAX_DOCUMENT_CHARS
    text_problems = text_errors(text, max_length=limit)
    if text_problems:
        errors["text"] = text_problems
        return (), "", 0
    whole = normalize(text).strip()
    if not whole:
        errors["text"] = [FieldError("This field may not be blank.", "blank")]
        return (), "", 0
    if "chunk_size" in errors or "chunk_overlap" in errors:
        return (), "", 0
    contents = tuple(
        c.text for c in split_text(whole, chunk_size=chunk_size, chunk_overlap=chunk_overlap)
    )
    most = settings.KNOWLEDGE_MAX_CHUNKS
    if len(contents) > most:
        errors["text"] = [
            FieldError(
                f"The text splits into {len(contents)} chunks; at most {most} are allowed: "
                "raise chunk_size or split the document.",
                "too_many_chunks",
            )
        ]
    return contents, content_hash(whole), len(whole)


def _given_contents(
    chunks: Any, model: EmbeddingModel | None, errors: dict[str, Any]
) -> tuple[tuple[str, ...], tuple[tuple[float, ...], ...] | None]:
    most = settings.KNOWLEDGE_MAX_CHUNKS
    if not isinstance(chunks, list | tuple):
        errors["chunks"] = [FieldError("Must be a list of chunks.", "not_a_list")]
        return (), None
    if not chunks:
        errors["chunks"] = [FieldError("Give at least one chunk.", "empty")]
        return (), None
    if len(chunks) > most:
        errors["chunks"] = [
            FieldError(f"At most {most} chunks (there are {len(chunks)}).", "max_length")
        ]
        return (), None
    items: dict[str, dict[str, list[FieldError]]] = {}
    contents: list[str] = []
    vectors: list[Any] = []
    for index, chunk in enumerate(chunks):
        problems: dict[str, list[FieldError]] = {}
        content = chunk.get("content") if isinstance(chunk, dict) else None
        vector = chunk.get("embedding") if isinstance(chunk, dict) else None
        if not isinstance(chunk, dict):
            problems["non_field_errors"] = [FieldError("Must be an object.", "invalid")]
        elif unknown := sorted(set(chunk) - {"content", "embedding"}):
            for name in unknown:
                problems[str(name)] = [FieldError("Unknown field.", "unknown_field")]
        elif not isinstance(content, str):
            problems["content"] = [FieldError("A string is required.", "required")]
        elif not content.strip():
            problems["content"] = [FieldError("This field may not be blank.", "blank")]
        elif text_problems := text_errors(content.strip(), max_length=MAX_CHUNK_SIZE):
            problems["content"] = text_problems
        if (
            vector is not None
            and model is not None
            and (problems_v := vector_errors(vector, model))
        ):
            problems["embedding"] = problems_v
        if problems:
            items[str(index)] = problems
        else:
            contents.append(str(content).strip())
            vectors.append(vector)
    if items:
        errors["chunks"] = items
        return (), None
    given = [v is not None for v in vectors]
    if any(given) and not all(given):
        errors["chunks"] = [
            FieldError("Give an embedding for every chunk or for none.", "mixed_embeddings")
        ]
        return (), None
    if not any(given):
        return tuple(contents), None
    return tuple(contents), tuple(tuple(float(x) for x in v) for v in vectors)


def document_input(
    *,
    document_id: Any,
    text: Any,
    chunks: Any,
    source_path: Any,
    metadata: Any,
    chunk_size: Any,
    chunk_overlap: Any,
    embedding_model: Any,
    active: EmbeddingModel,
) -> DocumentInput:
    """The request checked field by field: a ``DocumentInput``, or ``InvalidInput`` naming
    every bad field (nothing has been read or written yet)."""
    errors: dict[str, Any] = {}
    if problems := document_id_errors(document_id):
        errors["document_id"] = problems
    if problems := source_path_errors(source_path):
        errors["source_path"] = problems
    if metadata is not None and (problems := metadata_errors(metadata)):
        errors["metadata"] = problems
    model, problems = model_errors(embedding_model)
    if problems:
        errors["embedding_model"] = problems
    if text is None and chunks is None:
        errors["text"] = [FieldError("Give the document's text, or its chunks.", "required")]
    elif text is not None and chunks is not None:
        errors["chunks"] = [FieldError("Give text or chunks, not both.", "invalid")]

    client_vectors = None
    if text is not None and chunks is None:
        errors.update(chunking_errors(chunk_size, chunk_overlap))
        if model is not None and not model.server_side:
            errors["embedding_model"] = [
                FieldError(
                    f"The server does not compute {model.name} vectors: send the document "
                    "as chunks with their embeddings.",
                    "client_only_model",
                )
            ]
        contents, text_hash, char_count = _text_contents(text, chunk_size, chunk_overlap, errors)
    elif chunks is not None and text is None:
        contents, client_vectors = _given_contents(
            chunks, model or (None if "embedding_model" in errors else active), errors
        )
        text_hash = content_hash("\n\n".join(contents))
        char_count = sum(len(c) for c in contents)
        chunk_size = chunk_overlap = 0
    if errors:
        raise InvalidInput(errors)
    return DocumentInput(
        document_id=document_id,
        source_path=source_path,
        metadata=dict(metadata or {}),
        contents=contents,
        text_hash=text_hash,
        char_count=char_count,
        chunk_size=chunk_size,
        chunk_overlap=chunk_overlap,
        model=model or active,
        client_vectors=client_vectors,
    )


def same_json(a: Any, b: Any) -> bool:
    """Equal as ``jsonb`` compares: numbers by value (``1`` = ``1.0``), booleans only with
    booleans, objects by their keys whatever the order."""
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same_json(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same_json(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, int | float) and isinstance(b, int | float):
        return a == b
    return type(a) is type(b) and a == b


def vector_literal(vector: Sequence[float]) -> str:
    """pgvector's text form; 9 significant digits hold a 4-byte float exactly."""
    return "[" + ",".join(format(x, ".9g") for x in vector) + "]"
