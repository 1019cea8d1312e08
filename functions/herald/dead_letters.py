"""What the reprocess function does with a dead letter: make the failure visible, never lose it."""

from __future__ import annotations

from aws_lambda_powertools import Logger
from pydantic import TypeAdapter, ValidationError

from herald import clock
from herald.messages import DeliverNotification, RouteEvent
from herald.models import NotificationStatus
from herald.services import Services

logger = Logger(child=True)
_message = TypeAdapter(DeliverNotification | RouteEvent)


def settle(services: Services, body: str, receive_count: int) -> str:
    """Mark the notification or event behind a dead letter failed; returns what was done."""
    try:
        message = _message.validate_json(body)
    except ValidationError:
        # Not one of Herald's messages: nothing to attribute it to. Logged whole for the operator.
        logger.error("unreadable dead letter dropped", body=body[:4096])
        return "unreadable"
    store = services.store
    if isinstance(message, DeliverNotification):
        current = store.get_notification(message.eventId, message.subscriptionId)
        if current is None:
            return "gone"
        if current.status in (NotificationStatus.SUCCESS, NotificationStatus.FAILED):
            # The deliver function settled it on its last attempt; make sure the event agrees.
            store.refresh_event_status(message.eventId)
            return "already settled"
        reason = current.lastError
        if not current.attempts:
            reason = f"no attempt could be made ({receive_count} tries of the deliver function failed)"
        changed = store.mark_notification_failed(
            message.eventId, message.subscriptionId, f"retries exhausted: {reason}", clock.utc_iso()
        )
        store.refresh_event_status(message.eventId)
        return "notification failed" if changed else "already settled"
    event = store.get_event(message.eventId, consistent=True)
    if event is None:
        return "gone"
    if not event.routed:
        store.mark_routed(
            event.id, error=f"routing failed {receive_count} times; see the filter function's logs"
        )
    store.refresh_event_status(event.id)
    return "event failed"
