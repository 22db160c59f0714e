"""The API's JSON renderer: orjson, made total.

drf-orjson-renderer raises on what orjson cannot write: integers beyond 64 bits, documents nested
more than 254 levels, strings with lone surrogates. Any of those in a stored row (raw SQL can put
them there) would make every read of that row a 500. This renderer writes such parts itself
(``devskyy.json_codec.dumps``): big integers as JSON numbers, digit for digit; ``JSONNumber``
values (numbers a double cannot hold, read from ``jsonb``) as their digits; deep documents whole.
Everything else is byte for byte what orjson writes.
"""

from __future__ import annotations

from typing import Any

import orjson
from drf_orjson_renderer.renderers import ORJSONRenderer

from devskyy.json_codec import JSONNumber, dumps


def default(obj: Any) -> Any:
    """orjson's ``default`` for response data: ORJSONRenderer's, plus ``JSONNumber``."""
    if isinstance(obj, JSONNumber):
        return orjson.Fragment(str(obj))
    return ORJSONRenderer.default(obj)


class JSONRenderer(ORJSONRenderer):
    @staticmethod
    def default(obj: Any) -> Any:
        return default(obj)

    def render(
        self, data: Any, media_type: str | None = None, renderer_context: Any = None
    ) -> bytes:
        try:
            return super().render(data, media_type, renderer_context)
        except orjson.JSONEncodeError:
            return dumps(data, default=default)


def render_json(data: Any) -> bytes:
    """``data`` as the API renders it to JSON (compact); never fails on JSON-shaped data."""
    return dumps(data, default=default)
