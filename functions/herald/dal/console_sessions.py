"""Console sign-in items: one-time links and sessions, stored by the SHA-256 of their tokens
(the table never holds a usable token). Both expire by DynamoDB TTL as well; readers check
`expiresAt` themselves rather than wait for TTL's sweep."""

from __future__ import annotations

from typing import Any

from herald.dal import layout
from herald.dal.apikeys import ApiKeyStore
from herald.dal.codec import PK, Item, Table
from herald.names import TABLE_TTL_ATTRIBUTE


class ConsoleStore:
    """Links and sessions; `api_keys` are the keys they act for."""

    def __init__(self, table: Table, api_keys: ApiKeyStore) -> None:
        self.table = table
        self.api_keys = api_keys

    def _put(self, key: Item, fields: dict[str, Any], expires_at: float) -> None:
        # `expiresAt` is the table's TTL attribute as well: DynamoDB deletes the item after it.
        self.table.put({**key, **fields, "expiresAt": expires_at, TABLE_TTL_ATTRIBUTE: expires_at})

    def put_link(self, token_hash: str, fields: dict[str, Any], expires_at: float) -> None:
        self._put(layout.console_link(token_hash), fields, expires_at)

    def take_link(self, token_hash: str) -> Item | None:
        """Delete the link and return it: exactly one caller gets it (a one-time link)."""
        return self.table.delete_if(
            layout.console_link(token_hash), f"attribute_exists({PK})", returns_old=True
        )

    def put_session(self, token_hash: str, fields: dict[str, Any], expires_at: float) -> None:
        self._put(layout.console_session(token_hash), fields, expires_at)

    def get_session(self, token_hash: str) -> Item | None:
        return self.table.get(layout.console_session(token_hash), consistent=True)

    def delete_session(self, token_hash: str) -> None:
        self.table.delete(layout.console_session(token_hash))
