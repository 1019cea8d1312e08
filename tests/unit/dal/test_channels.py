"""Channels: stored, listed oldest first, replaced only while they exist, disabled once."""

from __future__ import annotations

from herald.domain import clock
from herald.logic.services import Services
from tests.unit.builders import channel


def test_channels_list_oldest_first_in_pages(services: Services) -> None:
    made = [channel(services, f"https://example.org/{n}") for n in range(3)]

    first = services.channels.list_page(2, None)
    rest = services.channels.list_page(2, first.cursor)

    assert [c.id for c in first.items + rest.items] == [c.id for c in made] and rest.cursor is None


def test_a_replace_of_a_deleted_channel_is_refused(services: Services) -> None:
    ch = channel(services, "https://example.org/")
    services.channels.delete(ch.id)

    assert not services.channels.replace(ch)


def test_a_channel_is_disabled_by_exactly_one_caller(services: Services) -> None:
    ch = channel(services, "https://example.org/")

    assert services.channels.disable(ch.id, "410 Gone", clock.utc_iso())
    assert not services.channels.disable(ch.id, "410 Gone", clock.utc_iso())

    stored = services.channels.get(ch.id)
    assert stored is not None and not stored.enabled and stored.disabledReason == "410 Gone"


def test_a_deleted_channel_is_not_disabled(services: Services) -> None:
    assert not services.channels.disable("gone", "410 Gone", clock.utc_iso())
