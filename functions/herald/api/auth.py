"""API keys: `X-API-Key`, stored only as a SHA-256 hash, looked up with a short cache."""

from __future__ import annotations

import hashlib
import time

from herald import clock
from herald.models import ApiKey
from herald.store import Store

# A revoked key may keep working this long on a warm function: the price of not reading the
# table on every request.
CACHE_SECONDS = 60.0
_cache: dict[str, tuple[float, ApiKey | None]] = {}


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def authenticate(store: Store, presented: str | None) -> ApiKey | None:
    if not presented:
        return None
    digest = hash_key(presented)
    cached = _cache.get(digest)
    now = time.monotonic()
    if cached and now - cached[0] < CACHE_SECONDS:
        return cached[1]
    key = store.get_api_key(digest)
    _cache[digest] = (now, key)
    return key


def register_key(store: Store, key: str, projects: list[str], admin: bool, name: str = "") -> ApiKey:
    record = ApiKey(
        keyHash=hash_key(key),
        keyId=hash_key(key)[:12],
        projects=projects,
        admin=admin,
        name=name,
        createdAt=clock.utc_iso(),
    )
    store.put_api_key(record)
    _cache.pop(record.keyHash, None)
    return record


def new_key() -> str:
    return "hrld_" + clock.random_token(24)


def clear_cache() -> None:
    _cache.clear()
