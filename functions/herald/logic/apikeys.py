"""API keys: created once (the secret is shown then and never again), stored as a SHA-256 hash.

A key belongs to projects (it sees and changes only theirs) or is an admin key (every project,
and the keys themselves). Used by the API's `/api/keys` routes, by `herald keys --direct` to
bootstrap a deployment, and by `herald dev` for its development key.
"""

from __future__ import annotations

import hashlib

from herald.dal.apikeys import ApiKeyStore
from herald.domain import clock, ids
from herald.domain.models import ApiKey

KEY_PREFIX = "hrld_"


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def key_id(key_hash: str) -> str:
    """The public handle of a key: the first 12 hex digits of its hash (never the key)."""
    return key_hash[:12]


def new_key() -> str:
    return KEY_PREFIX + ids.random_token(24)


def register(api_keys: ApiKeyStore, key: str, projects: list[str], admin: bool, name: str = "") -> ApiKey:
    """Store `key` (hashed) with its access; returns the stored record."""
    digest = hash_key(key)
    record = ApiKey(
        keyHash=digest,
        keyId=key_id(digest),
        projects=sorted(set(projects)),
        admin=admin,
        name=name,
        createdAt=clock.utc_iso(),
    )
    api_keys.put(record)
    return record


def create(api_keys: ApiKeyStore, projects: list[str], admin: bool, name: str = "") -> tuple[str, ApiKey]:
    """A new random key: (the key itself, to show once; its record)."""
    key = new_key()
    return key, register(api_keys, key, projects, admin, name)


def revoke(api_keys: ApiKeyStore, key_id_: str) -> ApiKey | None:
    """Delete the key with this id; returns it, or None if there is none."""
    record = api_keys.get_by_id(key_id_)
    if record is None:
        return None
    api_keys.delete(record.keyHash)
    return record
