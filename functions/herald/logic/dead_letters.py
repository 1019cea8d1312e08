"""What the reprocess function does with a dead letter: make the failure visible, never lose it.

The last stage of a message's life (herald.logic.lifecycle): a delivery whose attempts ran out, or
whose every try crashed before an attempt was recorded, ends its notification failed here, with a
`herald.notification.exhausted` notice (herald.logic.operational); an event routing kept failing
ends failed; a producer's message the bridge refused gets one more try, then quarantine.
"""

from __future__ import annotations

import hashlib

from aws_lambda_powertools import Logger
from pydantic import TypeAdapter, ValidationError

from herald.domain import clock, ids
from herald.domain.messages import DeliverNotification, RouteEvent
from herald.domain.models import Event, NotificationStatus
from herald.logic import bridge, operational
from herald.logic.services import Services
from herald.names import EVENTS_MAX_RECEIVE_COUNT

logger = Logger(child=True)
_message = TypeAdapter(DeliverNotification | RouteEvent)

# Where messages that cannot be attributed to any project are kept, as failed events that admin
# keys can read through the events API (instead of vanishing with the dead-letter queue).
QUARANTINE_PROJECT = "herald.unroutable"
QUARANTINE_CODE = "HERALD_UNROUTABLE"
MAX_QUARANTINED_BODY = 200 * 1024


def settle(services: Services, body: str) -> str:
    """Mark the notification or event behind a dead letter failed; returns what was done."""
    try:
        message = _message.validate_json(body)
    except ValidationError:
        return _settle_foreign(services, body)
    if isinstance(message, DeliverNotification):
        current = services.notifications.get(message.eventId, message.subscriptionId)
        if current is None:
            return "gone"
        if current.status in (NotificationStatus.SUCCESS, NotificationStatus.FAILED):
            # The deliver function settled it on its last attempt (and refreshed the event's
            # status); repair the status in case that function died between the two writes.
            services.events.refresh_status(message.eventId)
            return "already settled"
        reason = current.lastError
        if not current.attempts:
            # The DLQ's receive count runs on from the source queue's; the redrive threshold is
            # the number of tries that were made.
            tries = services.settings.max_attempts
            reason = f"no attempt could be made ({tries} tries of the deliver function failed)"
        changed = services.notifications.mark_failed(
            message.eventId,
            message.subscriptionId,
            f"retries exhausted: {reason}",
            clock.utc_iso(),
            created_at=current.createdAt,
        )
        if changed:
            event = services.events.get(message.eventId)
            operational.notification_exhausted(
                services, current, event.eventCode if event else "", len(current.attempts), reason
            )
        return "notification failed" if changed else "already settled"
    event = services.events.get(message.eventId, consistent=True)
    if event is None:
        return "gone"
    if not event.routed:
        services.events.mark_routed(
            event.id, error=f"routing failed {EVENTS_MAX_RECEIVE_COUNT} times; see the filter function's logs"
        )
    else:
        # Routed after all: repair a status left stale by a routing run that died after it.
        services.events.refresh_status(event.id)
    return "event failed"


def _settle_foreign(services: Services, body: str) -> str:
    """A dead letter from the ingest queue (a producer's message): one more try, else quarantine."""
    try:
        bridge.ingest_message(services, body)
        return "ingested on reprocess"
    except bridge.BridgeError as exc:
        reason = str(exc)
    now = clock.now()
    event = Event(
        id=ids.event_id_for(QUARANTINE_PROJECT, hashlib.sha256(body.encode()).hexdigest()),
        projectId=QUARANTINE_PROJECT,
        eventCode=QUARANTINE_CODE,
        description="A message Herald could not ingest",
        payload={"body": body[:MAX_QUARANTINED_BODY], "truncated": len(body) > MAX_QUARANTINED_BODY},
        correlationId=ids.new_id(),
        timestamp=clock.utc_iso(now),
        createdAt=now,
        status=NotificationStatus.FAILED,
        routed=True,
        routingError=reason,
    )
    services.events.put_if_new(event)
    logger.error("dead letter quarantined", reason=reason, event_id=event.id)
    return "quarantined"
