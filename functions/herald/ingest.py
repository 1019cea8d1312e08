"""Accepting an event: validate, store once, queue for routing."""

from __future__ import annotations

import json
from typing import Any

from herald import clock
from herald.messages import RouteEvent
from herald.models import Event
from herald.services import Services

MAX_PAYLOAD_BYTES = 256 * 1024


class EventConflictError(Exception):
    """The idempotency id was used before for a different event."""


class PayloadTooLargeError(ValueError):
    pass


def accept_event(
    services: Services,
    project_id: str,
    event_code: str,
    payload: dict[str, Any],
    client_id: str | None = None,
    description: str | None = None,
    payload_version: str | None = None,
    timestamp: str | None = None,
) -> tuple[Event, bool]:
    """Store the event (once per idempotency id) and queue it; returns (event, newly created).

    Storing comes first: an event the API acknowledged is in the table even if queueing fails,
    and resending the same id queues an event that was stored but never routed.
    """
    size = len(json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode())
    if size > MAX_PAYLOAD_BYTES:
        raise PayloadTooLargeError(f"payload is {size} bytes; the limit is {MAX_PAYLOAD_BYTES}")
    now = clock.now()
    if client_id:
        event_id = clock.event_id_for(project_id, client_id)
        correlation_id = client_id
    else:
        event_id = correlation_id = clock.new_id()
    event = Event(
        id=event_id,
        projectId=project_id,
        eventCode=event_code,
        description=description or event_code,
        payload=payload,
        correlationId=correlation_id,
        timestamp=timestamp or clock.utc_iso(now),
        createdAt=now,
        payloadVersion=payload_version,
    )
    stored, created = services.store.put_event_if_new(event)
    if not created:
        if (stored.eventCode, stored.payload) != (event.eventCode, event.payload):
            raise EventConflictError(
                f"event id {client_id!r} was already used for a different event in this project"
            )
        if stored.routed:
            return stored, False
    services.queues.send(services.queues.events_url, [RouteEvent(eventId=stored.id, projectId=project_id)])
    return stored, created
