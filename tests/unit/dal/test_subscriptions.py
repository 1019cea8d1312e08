"""Subscriptions: by code (with `*`), by channel, filter strikes and quarantine."""

from __future__ import annotations

from herald.domain import clock
from herald.logic.services import Services
from tests.unit.builders import subscription


def test_subscriptions_for_codes_include_those_to_every_code(services: Services) -> None:
    exact = subscription(services, "c1", code="ICA_EXEC_002")
    every = subscription(services, "c1", code="*")
    subscription(services, "c1", code="ICA_EXEC_001")
    subscription(services, "c1", project="p2", code="ICA_EXEC_002")

    found = services.subscriptions.for_codes("p1", ["ICA_EXEC_002"])

    assert {s.id for s in found} == {exact.id, every.id}


def test_a_channels_subscriptions_are_counted_across_projects(services: Services) -> None:
    subscription(services, "c1", project="p1")
    subscription(services, "c1", project="p2")
    subscription(services, "c2", project="p3")

    assert services.subscriptions.count_on_channel("c1") == 2
    assert services.subscriptions.projects_on_channel("c1") == {"p1", "p2"}


def test_filter_strikes_count_up_and_clear(services: Services) -> None:
    sub = subscription(services, "c1")

    assert [services.subscriptions.add_filter_strike("p1", sub.id) for _ in range(2)] == [1, 2]
    services.subscriptions.clear_filter_strikes("p1", sub.id)
    assert services.subscriptions.add_filter_strike("p1", sub.id) == 1


def test_a_strike_against_a_deleted_subscription_counts_nothing(services: Services) -> None:
    assert services.subscriptions.add_filter_strike("p1", "gone") is None


def test_a_subscription_is_quarantined_once(services: Services) -> None:
    sub = subscription(services, "c1")

    assert services.subscriptions.quarantine("p1", sub.id, "too costly", clock.utc_iso())
    assert not services.subscriptions.quarantine("p1", sub.id, "too costly", clock.utc_iso())

    stored = services.subscriptions.get("p1", sub.id)
    assert stored is not None and not stored.enabled and stored.disabledReason == "too costly"


def test_a_replace_of_a_deleted_subscription_is_refused(services: Services) -> None:
    sub = subscription(services, "c1")
    services.subscriptions.delete("p1", sub.id)

    assert not services.subscriptions.replace(sub)
