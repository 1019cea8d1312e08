"""Bodies of Herald's own queue messages: small references, never payloads (those live in the store)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field


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
