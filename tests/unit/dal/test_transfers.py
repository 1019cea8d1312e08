"""Transfers: progress only when bytes grow, and each stall claimed once."""

from __future__ import annotations

from herald.logic.services import Services


def test_progress_is_recorded_only_when_the_byte_count_grows(services: Services) -> None:
    transfers = services.transfers

    assert transfers.progress("p1", "t1", "IN_PROGRESS", 10, "{}", 100.0)
    assert not transfers.progress("p1", "t1", "IN_PROGRESS", 10, "{}", 200.0)
    assert transfers.progress("p1", "t1", "IN_PROGRESS", 11, "{}", 300.0)


def test_a_transfer_without_progress_since_the_cutoff_is_listed(services: Services) -> None:
    services.transfers.progress("p1", "old", "IN_PROGRESS", 1, '{"id":"old"}', 100.0)
    services.transfers.progress("p1", "new", "IN_PROGRESS", 1, '{"id":"new"}', 500.0)

    [stalled] = services.transfers.without_progress_since(300.0)

    assert (stalled.project_id, stalled.transfer_id, stalled.last_payload) == ("p1", "old", '{"id":"old"}')
    assert not stalled.stall_reported


def test_a_stall_is_claimed_once(services: Services) -> None:
    services.transfers.progress("p1", "t1", "IN_PROGRESS", 1, "{}", 100.0)
    [stalled] = services.transfers.without_progress_since(300.0)

    assert services.transfers.claim_stall(stalled, 400.0)
    assert not services.transfers.claim_stall(stalled, 401.0)
    assert [t.stall_reported for t in services.transfers.without_progress_since(300.0)] == [True]


def test_a_stall_read_before_new_progress_is_not_claimed(services: Services) -> None:
    services.transfers.progress("p1", "t1", "IN_PROGRESS", 1, "{}", 100.0)
    [stalled] = services.transfers.without_progress_since(300.0)
    services.transfers.progress("p1", "t1", "IN_PROGRESS", 2, "{}", 350.0)

    assert not services.transfers.claim_stall(stalled, 400.0)


def test_a_finished_transfer_is_never_listed_as_stalled(services: Services) -> None:
    services.transfers.progress("p1", "t1", "IN_PROGRESS", 1, "{}", 100.0)

    services.transfers.finish("p1", "t1", "SUCCEEDED", "{}", 150.0)

    assert list(services.transfers.without_progress_since(300.0)) == []
