"""Startup checks of the knowledge base's settings."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import Error, register

from knowledge.embedding_models import EMBEDDING_MODELS


@register()
def check_embedding_model_setting(**kwargs: Any) -> list[Error]:
    name = settings.KNOWLEDGE_EMBEDDING_MODEL
    if name in EMBEDDING_MODELS:
        return []
    return [
        Error(
            f"KNOWLEDGE_EMBEDDING_MODEL is {name!r}, which is not a registered embedding model.",
            hint=f"Use one of: {', '.join(sorted(EMBEDDING_MODELS))} (knowledge.embedding_models).",
            id="knowledge.E001",
        )
    ]
