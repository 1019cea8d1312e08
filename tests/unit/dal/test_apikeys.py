"""API keys: found by hash and by id, listed oldest first, deleted."""

from __future__ import annotations

from herald.logic import apikeys
from herald.logic.services import Services


def test_a_key_is_found_by_its_hash_and_by_its_id(services: Services) -> None:
    _, record = apikeys.create(services.api_keys, ["p1"], admin=False, name="ci")

    assert services.api_keys.get(record.keyHash) == record
    assert services.api_keys.get_by_id(record.keyId) == record


def test_keys_list_oldest_first_and_a_deleted_key_is_gone(services: Services) -> None:
    made = [apikeys.create(services.api_keys, [], admin=True)[1] for _ in range(3)]
    services.api_keys.delete(made[1].keyHash)

    listed = services.api_keys.list_page(10, None)

    assert [k.keyId for k in listed.items] == [made[0].keyId, made[2].keyId]
