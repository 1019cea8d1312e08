"""Authenticating `X-API-Key`: a hash lookup behind a short, bounded, per-process cache.

Revocation is immediate on the instance that revokes (its cache entry is dropped) and takes up to
`CACHE_SECONDS` on other warm instances: the price of not reading the table on every request.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict

from herald.dal.apikeys import ApiKeyStore
from herald.domain.models import ApiKey
from herald.logic import apikeys

CACHE_SECONDS = 60.0
# Unknown keys are cached too (a flood of guesses costs one read each per minute, not per
# request); the bound keeps such a flood from growing a warm function's memory.
CACHE_MAX_ENTRIES = 1024
_cache: OrderedDict[str, tuple[float, ApiKey | None]] = OrderedDict()
_lock = threading.Lock()


def authenticate(store: ApiKeyStore, presented: str | None) -> ApiKey | None:
    if not presented:
        return None
    digest = apikeys.hash_key(presented)
    now = time.monotonic()
    with _lock:
        cached = _cache.get(digest)
        if cached and now - cached[0] < CACHE_SECONDS:
            return cached[1]
    key = store.get(digest)
    with _lock:
        _cache[digest] = (now, key)
        _cache.move_to_end(digest)
        while len(_cache) > CACHE_MAX_ENTRIES:
            _cache.popitem(last=False)
    return key


def register_key(store: ApiKeyStore, key: str, projects: list[str], admin: bool, name: str = "") -> ApiKey:
    record = apikeys.register(store, key, projects, admin, name)
    forget(record.keyHash)
    return record


def forget(key_hash: str) -> None:
    """Drop one key from this process's cache (after it was created or revoked here)."""
    with _lock:
        _cache.pop(key_hash, None)


def clear_cache() -> None:
    with _lock:
        _cache.clear()
