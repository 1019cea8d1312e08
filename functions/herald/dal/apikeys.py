"""API keys, stored by the SHA-256 of the key (never the key itself)."""

from __future__ import annotations

from herald.dal import layout
from herald.dal.codec import Page, Table
from herald.domain.models import ApiKey
from herald.names import GSI1_NAME, GSI1_PARTITION_KEY, GSI2_NAME


class ApiKeyStore:
    def __init__(self, table: Table) -> None:
        self.table = table

    def put(self, key: ApiKey) -> None:
        item = key.model_dump(mode="json")
        item.update(layout.api_key(key.keyHash))
        item.update(layout.api_key_index(key.keyId, key.createdAt))
        self.table.put(item)

    def get(self, key_hash: str) -> ApiKey | None:
        item = self.table.get(layout.api_key(key_hash))
        return ApiKey.model_validate(item) if item else None

    def get_by_id(self, key_id: str) -> ApiKey | None:
        items, _ = self.table.query(
            f"{GSI1_PARTITION_KEY} = :pk", {":pk": layout.api_key_by_id(key_id)}, index=GSI1_NAME, limit=1
        )
        return ApiKey.model_validate(items[0]) if items else None

    def list_page(self, limit: int, cursor: str | None) -> Page[ApiKey]:
        """Oldest first."""
        return self.table.paged(
            cursor, ApiKey.model_validate, partition=layout.API_KEYS, index=GSI2_NAME, limit=limit
        )

    def delete(self, key_hash: str) -> None:
        self.table.delete(layout.api_key(key_hash))
