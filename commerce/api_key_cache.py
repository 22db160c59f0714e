"""The per-process memory of API keys that checked out recently.

Authentication is the hot path of every agent request; remembering a key for a few seconds
(``API_KEY_CACHE_SECONDS``, 0 turns it off) saves its SHA-512 check and lookup. A revoked or
expired key, a deactivated or demoted owner, is refused within that time in other processes and
at once in the process that revoked it (``api_key_revoke`` clears this cache on commit).
"""

from __future__ import annotations

import time
from typing import Any

_MAX_ENTRIES = 10_000
# SHA-256 of the presented key -> (monotonic deadline, key id, user)
_entries: dict[bytes, tuple[float, Any, Any]] = {}


def get(digest: bytes) -> tuple[Any, Any] | None:
    hit = _entries.get(digest)
    if hit is None or hit[0] <= time.monotonic():
        return None
    return hit[2], hit[1]


def put(digest: bytes, *, key_id: Any, user: Any, ttl: float) -> None:
    if len(_entries) >= _MAX_ENTRIES:
        _entries.clear()
    _entries[digest] = (time.monotonic() + ttl, key_id, user)


def clear() -> None:
    _entries.clear()
