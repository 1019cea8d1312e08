"""Bodies of Herald's own queue messages: small references, never payloads (those live in the store)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from herald.domain.models import Event

# An event at most this big (its JSON) travels in its deliver messages, so that the deliver
# function need not read it: events never change once accepted, so a copy cannot be stale in
# anything a delivery uses. Bigger ones are read from the table (SQS bills 64 KB chunks, and ten
# messages share a SendMessageBatch's 256 KB).
CARRIED_EVENT_BYTES = 8192


class RouteEvent(BaseModel):
    """On the events queue: route this stored event to its subscriptions."""

    kind: Literal["event"] = "event"
    eventId: str
    projectId: str


class DeliverNotification(BaseModel):
    """On the deliveries queue: attempt this notification."""

    kind: Literal["delivery"] = "delivery"
    eventId: str
    subscriptionId: str
    notificationId: str
    # Routing's note to the sender: the subscription is ordered, send through the FIFO queue. Not
    # part of the body (the deliver function knows which queue a message came from).
    ordered: bool = Field(default=False, exclude=True)
    # The event itself, when routing sent it along (see CARRIED_EVENT_BYTES); else read.
    event: Event | None = None


def carried(event: Event) -> Event | None:
    """The event to carry in its deliver messages, or None if it is too big to."""
    return event if len(event.model_dump_json()) <= CARRIED_EVENT_BYTES else None
