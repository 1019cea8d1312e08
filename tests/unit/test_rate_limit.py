"""The per-channel rate limit: ranks in a second, evenly spaced, never more than N a second."""

from __future__ import annotations

import pytest

from herald.logic import rate_limit
from herald.logic.services import Services

T0 = 1_800_000_000.0


def test_sends_within_the_limit_are_spaced_evenly_over_the_second(services: Services) -> None:
    store = services.channel_health

    waits = [rate_limit.reserve(store, "ch", 4, T0) for _ in range(4)]

    assert waits == [0.0, 0.25, 0.5, 0.75]


def test_a_full_second_books_the_next_one(services: Services) -> None:
    store = services.channel_health
    for _ in range(4):
        rate_limit.reserve(store, "ch", 4, T0)

    assert rate_limit.reserve(store, "ch", 4, T0) == 1.0


def test_when_both_seconds_are_booked_the_delivery_is_deferred(services: Services) -> None:
    store = services.channel_health
    for _ in range(8):
        assert rate_limit.reserve(store, "ch", 4, T0) is not None

    assert rate_limit.reserve(store, "ch", 4, T0) is None


def test_no_second_grants_more_than_the_limit(services: Services) -> None:
    store = services.channel_health
    granted_at = []
    for i in range(40):  # 40 tries spread over 3 seconds at a limit of 5/s
        now = T0 + i * 0.075
        wait = rate_limit.reserve(store, "ch", 5, now)
        if wait is not None:
            granted_at.append(now + wait)

    per_second: dict[int, int] = {}
    for at in granted_at:
        per_second[int(at)] = per_second.get(int(at), 0) + 1
    assert max(per_second.values()) == 5


def test_sends_late_in_a_second_do_not_bunch_up(services: Services) -> None:
    store = services.channel_health

    waits = [rate_limit.reserve(store, "ch", 2, T0 + 0.9) for _ in range(3)]

    # Rank 1's slot (T0) went unused: the first send takes the current slot (T0 + 0.5, now), the
    # next ones the next second's slots, 0.5 s apart.
    assert waits == [0.0, pytest.approx(0.1), pytest.approx(0.6)]


def test_sends_are_never_closer_than_one_slot_apart_in_a_sliding_second(services: Services) -> None:
    store = services.channel_health
    sends = []
    for i in range(60):  # arrivals every 0.05 s for 3 s at a limit of 4/s
        now = T0 + i * 0.05
        wait = rate_limit.reserve(store, "ch", 4, now)
        if wait is not None:
            sends.append(now + wait)

    sends.sort()
    busiest = max(sum(1 for s in sends if start <= s < start + 1) for start in sends)
    assert busiest <= 4 + 1


def test_channels_have_separate_limits(services: Services) -> None:
    store = services.channel_health
    rate_limit.reserve(store, "a", 1, T0)

    assert rate_limit.reserve(store, "b", 1, T0) == 0.0
