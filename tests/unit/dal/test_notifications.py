"""Notifications: every write that changes a notification's status keeps its event's status."""

from __future__ import annotations

from herald.domain import clock
from herald.domain.models import Notification, NotificationStatus
from herald.logic.services import Services
from tests.unit.dal.support import attempt, routed_notification


def _event_status(services: Services, n: Notification) -> NotificationStatus:
    stored = services.events.get(n.eventId, consistent=True)
    assert stored is not None
    return stored.status


def _failed(services: Services) -> Notification:
    n = routed_notification(services)
    services.notifications.record_attempt(
        n.eventId, n.subscriptionId, attempt(False), NotificationStatus.FAILED, clock.utc_iso()
    )
    current = services.notifications.get(n.eventId, n.subscriptionId)
    assert current is not None
    return current


def test_a_routed_event_with_a_pending_notification_is_pending(services: Services) -> None:
    assert _event_status(services, routed_notification(services)) == NotificationStatus.PENDING


def test_recording_a_failed_attempt_makes_the_event_retryable(services: Services) -> None:
    n = routed_notification(services)

    services.notifications.record_attempt(
        n.eventId, n.subscriptionId, attempt(False), NotificationStatus.RETRYABLE, clock.utc_iso(), 0
    )

    assert _event_status(services, n) == NotificationStatus.RETRYABLE


def test_recording_a_successful_attempt_makes_the_event_succeed(services: Services) -> None:
    n = routed_notification(services)

    services.notifications.record_attempt(
        n.eventId, n.subscriptionId, attempt(True), NotificationStatus.SUCCESS, clock.utc_iso(), 0
    )

    assert _event_status(services, n) == NotificationStatus.SUCCESS


def test_an_attempt_is_recorded_once_when_the_count_it_read_is_stale(services: Services) -> None:
    n = routed_notification(services)
    first = attempt(False)
    services.notifications.record_attempt(
        n.eventId, n.subscriptionId, first, NotificationStatus.RETRYABLE, first.at, 0
    )

    again = services.notifications.record_attempt(
        n.eventId, n.subscriptionId, first, NotificationStatus.RETRYABLE, first.at, 0
    )

    current = services.notifications.get(n.eventId, n.subscriptionId)
    assert not again and current is not None and len(current.attempts) == 1


def test_marking_a_notification_failed_fails_the_event(services: Services) -> None:
    n = routed_notification(services)

    assert services.notifications.mark_failed(
        n.eventId, n.subscriptionId, "retries exhausted", clock.utc_iso()
    )

    assert _event_status(services, n) == NotificationStatus.FAILED


def test_a_delivered_notification_is_not_marked_failed(services: Services) -> None:
    n = routed_notification(services)
    services.notifications.record_attempt(
        n.eventId, n.subscriptionId, attempt(True), NotificationStatus.SUCCESS, clock.utc_iso(), 0
    )

    assert not services.notifications.mark_failed(n.eventId, n.subscriptionId, "late", clock.utc_iso())

    assert _event_status(services, n) == NotificationStatus.SUCCESS


def test_restarting_a_failed_notification_makes_the_event_pending_again(services: Services) -> None:
    failed = _failed(services)

    assert services.notifications.restart(failed, clock.utc_iso())

    current = services.notifications.get(failed.eventId, failed.subscriptionId)
    assert current is not None and (current.status, current.cycle, current.attempts) == ("pending", 2, [])
    assert _event_status(services, failed) == NotificationStatus.PENDING


def test_a_notification_changed_since_it_was_read_is_not_restarted(services: Services) -> None:
    failed = _failed(services)
    services.notifications.restart(failed, clock.utc_iso())

    assert not services.notifications.restart(failed, clock.utc_iso())


def test_deleting_the_only_failed_notification_makes_the_event_succeed(services: Services) -> None:
    failed = _failed(services)

    assert services.notifications.delete_failed(failed.eventId, failed.subscriptionId)

    assert services.notifications.get(failed.eventId, failed.subscriptionId) is None
    assert _event_status(services, failed) == NotificationStatus.SUCCESS


def test_a_pending_notification_is_not_deleted(services: Services) -> None:
    n = routed_notification(services)

    assert not services.notifications.delete_failed(n.eventId, n.subscriptionId)


def test_open_counts_count_pending_retryable_and_failed_but_not_delivered(services: Services) -> None:
    pending = routed_notification(services, "s1")
    services.notifications.hold_open(pending)  # held back: pending, and counted
    routed_notification(services, "s1")  # in its first delivery: not counted
    failed = routed_notification(services, "s1")
    delivered = routed_notification(services, "s1")
    services.notifications.mark_failed(failed.eventId, "s1", "gone", clock.utc_iso())
    services.notifications.record_attempt(
        delivered.eventId, "s1", attempt(True), NotificationStatus.SUCCESS, clock.utc_iso()
    )

    counts = services.notifications.open_counts("s1")

    assert pending and counts == {NotificationStatus.PENDING: 1, NotificationStatus.FAILED: 1}


def test_open_counts_at_most_say_when_they_stopped_early(services: Services) -> None:
    for _ in range(3):
        services.notifications.hold_open(routed_notification(services, "s1"))

    assert services.notifications.open_counts_at_most("s1", 100) == ({NotificationStatus.PENDING: 3}, True)


def test_the_failed_list_and_lookup_read_the_subscriptions_open_index(services: Services) -> None:
    failed = _failed(services)
    routed_notification(services, failed.subscriptionId)

    page = services.notifications.list_failed(failed.subscriptionId, 10, None)

    assert [n.id for n in page.items] == [failed.id] and page.cursor is None
    assert services.notifications.find_open(failed.subscriptionId, failed.id) == failed
    assert [n.id for n in services.notifications.failed_since(failed.subscriptionId, "2000-01-01", 10)] == [
        failed.id
    ]


# --- the subscription's open-notifications index: entered only when the first delivery does not succeed
def _open(services: Services, n: Notification) -> dict[NotificationStatus, int]:
    return services.notifications.open_counts(n.subscriptionId)


def test_a_routed_notification_is_not_listed_open_before_its_first_delivery(services: Services) -> None:
    n = routed_notification(services)

    assert _open(services, n) == {}
    stored = services.notifications.get(n.eventId, n.subscriptionId)
    assert stored is not None and not stored.openListed


def test_a_notification_delivered_by_its_first_attempt_never_enters_the_open_index(
    services: Services,
) -> None:
    n = routed_notification(services)

    services.notifications.record_attempt(
        n.eventId, n.subscriptionId, attempt(True), NotificationStatus.SUCCESS, clock.utc_iso(), 0
    )

    assert _open(services, n) == {}


def test_a_failed_attempt_lists_the_notification_open_until_it_is_delivered(services: Services) -> None:
    n = routed_notification(services)
    services.notifications.record_attempt(
        n.eventId,
        n.subscriptionId,
        attempt(False),
        NotificationStatus.RETRYABLE,
        clock.utc_iso(),
        0,
        created_at=n.createdAt,
    )
    assert _open(services, n) == {NotificationStatus.RETRYABLE: 1}

    services.notifications.record_attempt(
        n.eventId, n.subscriptionId, attempt(True), NotificationStatus.SUCCESS, clock.utc_iso(), 1
    )

    assert _open(services, n) == {}


def test_a_held_back_notification_is_listed_open_once(services: Services) -> None:
    n = routed_notification(services)

    assert services.notifications.hold_open(n)
    listed = services.notifications.get(n.eventId, n.subscriptionId)
    assert listed is not None and listed.openListed
    assert not services.notifications.hold_open(listed)  # no second write

    assert _open(services, n) == {NotificationStatus.PENDING: 1}


def test_a_notification_marked_failed_before_any_attempt_is_listed_open(services: Services) -> None:
    n = routed_notification(services)

    services.notifications.mark_failed(
        n.eventId, n.subscriptionId, "the channel is disabled", clock.utc_iso()
    )

    assert _open(services, n) == {NotificationStatus.FAILED: 1}
    assert [f.id for f in services.notifications.list_failed(n.subscriptionId, 10, None).items] == [n.id]
