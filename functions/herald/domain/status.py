"""An event's status, derived from its routing and its notifications (One Codex's rule)."""

from __future__ import annotations

from collections.abc import Iterable

from herald.domain.models import Event, Notification, NotificationStatus


def aggregate_status(event: Event, notifications: Iterable[Notification]) -> NotificationStatus:
    """failed > retryable > pending > success; an event not yet routed is pending, one that could
    not be routed failed."""
    if event.routingError:
        return NotificationStatus.FAILED
    if not event.routed:
        return NotificationStatus.PENDING
    return aggregate_of(n.status for n in notifications)


def aggregate_of(statuses: Iterable[NotificationStatus]) -> NotificationStatus:
    """A routed event's status from its notifications' (none: success, nothing to deliver)."""
    seen = set(statuses)
    for status in (NotificationStatus.FAILED, NotificationStatus.RETRYABLE, NotificationStatus.PENDING):
        if status in seen:
            return status
    return NotificationStatus.SUCCESS
