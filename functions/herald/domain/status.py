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
    statuses = {n.status for n in notifications}
    for status in (NotificationStatus.FAILED, NotificationStatus.RETRYABLE, NotificationStatus.PENDING):
        if status in statuses:
            return status
    return NotificationStatus.SUCCESS
