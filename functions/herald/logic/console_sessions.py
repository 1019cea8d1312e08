"""Console sign-in: one-time links and the short-lived sessions they (or an API key) open.

A link (`hrldl_…`) is made by an API key, is valid for minutes and is exchanged once for a
session; a session (`hrlds_…`) lasts `SESSION_SECONDS` and is sent as `Authorization: Bearer`.
Both act with exactly the access of the key that made them: the session stores the key's hash,
not a copy of its projects, so a key's revocation ends its sessions and links too.

Only hashes are stored (SHA-256, as API keys): the table never holds a usable token
(`herald.dal.console_sessions`). A link holds keyHash, keyId and project and is deleted by its
exchange; a session holds keyHash, keyId, project and createdAt. Both expire by DynamoDB TTL as
well; the `expiresAt` check does not wait for TTL's sweep.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass

from herald.dal.console_sessions import ConsoleStore
from herald.domain import clock, ids
from herald.domain.models import ApiKey

LINK_PREFIX = "hrldl_"
SESSION_PREFIX = "hrlds_"
SESSION_SECONDS = 3600
DEFAULT_LINK_SECONDS = 600
MAX_LINK_SECONDS = 3600
# Sessions are looked up once per this many seconds per warm instance (as keys are, see
# `herald.api.auth`); sign-out forgets it at once on the instance that answers.
CACHE_SECONDS = 30.0
CACHE_MAX_ENTRIES = 1024
_TOKEN_LIMIT = 200  # longer than any token Herald makes: refused before hashing


@dataclass(frozen=True)
class Session:
    token_hash: str
    key: ApiKey
    project: str | None
    expires_at: float


class SessionError(Exception):
    """A link or session that cannot be used; the message says why."""


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_link(console: ConsoleStore, key: ApiKey, project: str | None, seconds: int) -> tuple[str, float]:
    """A one-time link token for `key` (and a project to open); returns (token, expiresAt)."""
    token = LINK_PREFIX + ids.random_token(32)
    expires_at = clock.now() + seconds
    fields = {"keyHash": key.keyHash, "keyId": key.keyId, "project": project}
    console.put_link(_hash(token), fields, expires_at)
    return token, expires_at


def _key_of(console: ConsoleStore, key_hash: str) -> ApiKey | None:
    return console.api_keys.get(key_hash)


def exchange_link(console: ConsoleStore, token: str) -> tuple[str, Session]:
    """Use a link (once) and open a session with its key's access."""
    if not token.startswith(LINK_PREFIX) or len(token) > _TOKEN_LIMIT:
        raise SessionError("not a console link token")
    item = console.take_link(_hash(token))
    if item is None:
        raise SessionError("this console link was already used or does not exist; ask for a new one")
    if float(item["expiresAt"]) <= clock.now():
        raise SessionError("this console link has expired; ask for a new one")
    key = _key_of(console, item["keyHash"])
    if key is None:
        raise SessionError("the API key that made this console link has been revoked")
    return open_session(console, key, item.get("project"))


def open_session(console: ConsoleStore, key: ApiKey, project: str | None) -> tuple[str, Session]:
    """A new session for `key`; returns (the token, shown once; the session)."""
    token = SESSION_PREFIX + ids.random_token(32)
    expires_at = clock.now() + SESSION_SECONDS
    digest = _hash(token)
    fields = {"keyHash": key.keyHash, "keyId": key.keyId, "project": project, "createdAt": clock.utc_iso()}
    console.put_session(digest, fields, expires_at)
    return token, Session(digest, key, project, expires_at)


_cache: OrderedDict[str, tuple[float, Session | None]] = OrderedDict()
_lock = threading.Lock()


def authenticate(console: ConsoleStore, token: str | None) -> Session | None:
    """The live session behind a bearer token, or None (unknown, expired, or its key revoked)."""
    if not token or not token.startswith(SESSION_PREFIX) or len(token) > _TOKEN_LIMIT:
        return None
    digest = _hash(token)
    now_mono = time.monotonic()
    with _lock:
        cached = _cache.get(digest)
    if cached and now_mono - cached[0] < CACHE_SECONDS:
        session = cached[1]
    else:
        session = _read_session(console, digest)
        with _lock:
            _cache[digest] = (now_mono, session)
            _cache.move_to_end(digest)
            while len(_cache) > CACHE_MAX_ENTRIES:
                _cache.popitem(last=False)
    if session is None or session.expires_at <= clock.now():
        return None
    return session


def _read_session(console: ConsoleStore, digest: str) -> Session | None:
    item = console.get_session(digest)
    if item is None:
        return None
    key = _key_of(console, item["keyHash"])
    if key is None:
        return None
    return Session(digest, key, item.get("project"), float(item["expiresAt"]))


def end_session(console: ConsoleStore, session: Session) -> None:
    console.delete_session(session.token_hash)
    forget(session.token_hash)


def forget(token_hash: str | None = None) -> None:
    with _lock:
        if token_hash is None:
            _cache.clear()
        else:
            _cache.pop(token_hash, None)


def bearer(header: str | None) -> str | None:
    """The token of an `Authorization: Bearer <token>` header."""
    if not header:
        return None
    scheme, _, token = header.strip().partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None
