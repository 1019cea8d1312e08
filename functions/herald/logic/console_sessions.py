"""Console sign-in: one-time links and the short-lived sessions they (or an API key) open.

A link (`hrldl_…`) is made by an API key, is valid for minutes and is exchanged once for a
session; a session (`hrlds_…`) lasts `SESSION_SECONDS` and is sent as `Authorization: Bearer`.
Both act with exactly the access of the key that made them: the session stores the key's hash,
not a copy of its projects, so a key's revocation ends its sessions and links too.

Only hashes are stored (SHA-256, as API keys): the table never holds a usable token. Items, in
Herald's single table (beside the keys they belong to, which `herald.dal.store` lays out):
- `CONSOLELINK#<sha256>` / `LINK`: keyHash, project, expiresAt — deleted by its exchange;
- `CONSOLESESSION#<sha256>` / `SESSION`: keyHash, keyId, project, expiresAt.
Both expire by DynamoDB TTL as well; the `expiresAt` check does not wait for TTL's sweep.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from herald.dal.store import Store, _from_ddb, _to_ddb, is_condition_failure
from herald.domain import clock, ids
from herald.domain.models import ApiKey
from herald.names import TABLE_PARTITION_KEY as PK
from herald.names import TABLE_SORT_KEY as SK
from herald.names import TABLE_TTL_ATTRIBUTE

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


class ConsoleStore:
    def __init__(self, store: Store, ddb: Any | None = None) -> None:
        self.store = store
        self.table = store.table
        self.ddb = ddb if ddb is not None else store.ddb

    def put(self, pk: str, sk: str, fields: dict[str, Any], expires_at: float) -> None:
        item = {PK: pk, SK: sk, TABLE_TTL_ATTRIBUTE: int(expires_at) + 60, "expiresAt": expires_at, **fields}
        self.ddb.put_item(TableName=self.table, Item=_to_ddb(item))

    def get(self, pk: str, sk: str) -> dict[str, Any] | None:
        item = self.ddb.get_item(TableName=self.table, Key=_to_ddb({PK: pk, SK: sk}), ConsistentRead=True)
        return _from_ddb(item["Item"]) if "Item" in item else None

    def take(self, pk: str, sk: str) -> dict[str, Any] | None:
        """Delete the item and return it: exactly one caller gets it (a one-time link)."""
        try:
            resp = self.ddb.delete_item(
                TableName=self.table,
                Key=_to_ddb({PK: pk, SK: sk}),
                ConditionExpression=f"attribute_exists({PK})",
                ReturnValues="ALL_OLD",
            )
        except ClientError as exc:
            if is_condition_failure(exc):
                return None
            raise
        return _from_ddb(resp["Attributes"])

    def delete(self, pk: str, sk: str) -> None:
        self.ddb.delete_item(TableName=self.table, Key=_to_ddb({PK: pk, SK: sk}))


def create_link(console: ConsoleStore, key: ApiKey, project: str | None, seconds: int) -> tuple[str, float]:
    """A one-time link token for `key` (and a project to open); returns (token, expiresAt)."""
    token = LINK_PREFIX + ids.random_token(32)
    expires_at = clock.now() + seconds
    fields = {"keyHash": key.keyHash, "keyId": key.keyId, "project": project}
    console.put(f"CONSOLELINK#{_hash(token)}", "LINK", fields, expires_at)
    return token, expires_at


def _key_of(console: ConsoleStore, key_hash: str) -> ApiKey | None:
    return console.store.get_api_key(key_hash)


def exchange_link(console: ConsoleStore, token: str) -> tuple[str, Session]:
    """Use a link (once) and open a session with its key's access."""
    if not token.startswith(LINK_PREFIX) or len(token) > _TOKEN_LIMIT:
        raise SessionError("not a console link token")
    item = console.take(f"CONSOLELINK#{_hash(token)}", "LINK")
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
    console.put(f"CONSOLESESSION#{digest}", "SESSION", fields, expires_at)
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
    item = console.get(f"CONSOLESESSION#{digest}", "SESSION")
    if item is None:
        return None
    key = _key_of(console, item["keyHash"])
    if key is None:
        return None
    return Session(digest, key, item.get("project"), float(item["expiresAt"]))


def end_session(console: ConsoleStore, session: Session) -> None:
    console.delete(f"CONSOLESESSION#{session.token_hash}", "SESSION")
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
