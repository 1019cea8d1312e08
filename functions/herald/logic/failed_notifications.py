"""Failed notifications (ICA's "Delivery failed" tab): reprocess or delete them.

Reprocessing starts a new delivery cycle: the notification goes back to `pending` with its
finished cycle (attempts, outcome) kept in `previousCycles` and its `attempts` emptied, and a new
message goes to the deliveries queue. The deliver function numbers attempts by the notification's
own `attempts` (herald.logic.lifecycle), so the new cycle gets the whole retry schedule again; the
message is new because the old one is gone (deleted, or consumed from the dead-letter queue), and a
new one's receive count starts afresh under the queue's redrive threshold.

The order matters: the notification is made pending before its message is sent, since the
deliver function skips a notification it finds failed; if sending fails, it is put back to
failed so it stays visible and can be reprocessed again.
"""

from __future__ import annotations

from collections.abc import Sequence

from aws_lambda_powertools import Logger

from herald.domain import clock
from herald.domain.messages import DeliverNotification
from herald.domain.models import Notification, NotificationStatus
from herald.logic.services import Services

logger = Logger(child=True)

# One bulk reprocess call handles at most this many; the answer says whether more remain.
MAX_BULK = 100


class QueueUnavailableError(Exception):
    """The deliveries queue did not take the reprocessed notifications (they stay failed)."""


class NotFailedError(Exception):
    """Only failed notifications can be reprocessed or deleted."""

    def __init__(self, notification: Notification) -> None:
        super().__init__(
            f"notification {notification.id} is {notification.status.value}; only failed "
            "notifications can be reprocessed or deleted"
        )
        self.notification = notification


def reprocess(services: Services, notifications: Sequence[Notification]) -> list[Notification]:
    """Restart each failed notification and queue it; returns those restarted.

    A notification changed meanwhile (reprocessed or deleted by someone else, or delivered) is
    skipped, never sent twice.
    """
    now = clock.utc_iso()
    # The new cycle goes where each subscription points now (the deliver function resolves the
    # channel through the subscription; the notification says so from the start).
    channels: dict[str, str] = {}
    for n in notifications:
        if n.subscriptionId not in channels:
            sub = services.subscriptions.get(n.projectId, n.subscriptionId)
            channels[n.subscriptionId] = sub.notificationChannelId if sub else n.channelId
    restarted = [
        n for n in notifications if services.notifications.restart(n, now, channels[n.subscriptionId])
    ]
    if not restarted:
        return []
    try:
        services.queues.send(
            services.queues.deliveries_url,
            [
                DeliverNotification(eventId=n.eventId, subscriptionId=n.subscriptionId, notificationId=n.id)
                for n in restarted
            ],
        )
    except Exception as exc:
        logger.exception("reprocessed notifications could not be queued; marking them failed again")
        for n in restarted:
            services.notifications.mark_failed(
                n.eventId,
                n.subscriptionId,
                "reprocess could not be queued; try again",
                clock.utc_iso(),
                created_at=n.createdAt,
            )
        raise QueueUnavailableError(str(exc)) from exc
    return restarted


def reprocess_one(services: Services, notification: Notification) -> bool:
    """Reprocess one notification; raises NotFailedError if it is not failed."""
    if notification.status != NotificationStatus.FAILED:
        raise NotFailedError(notification)
    return bool(reprocess(services, [notification]))


def reprocess_since(
    services: Services, subscription_id: str, since_iso: str
) -> tuple[list[Notification], bool]:
    """Reprocess the subscription's failed notifications routed since `since_iso`.

    At most MAX_BULK per call; returns (restarted, whether more failed ones may remain).
    """
    candidates = services.notifications.failed_since(subscription_id, since_iso, MAX_BULK + 1)
    more = len(candidates) > MAX_BULK
    return reprocess(services, candidates[:MAX_BULK]), more


def delete(services: Services, notification: Notification) -> bool:
    """Delete a failed notification; its event's status is recomputed. False if it changed meanwhile."""
    if notification.status != NotificationStatus.FAILED:
        raise NotFailedError(notification)
    return services.notifications.delete_failed(notification.eventId, notification.subscriptionId)
