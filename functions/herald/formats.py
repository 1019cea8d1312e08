"""What a receiver gets: the event rendered in a platform's payload format."""

from __future__ import annotations

import json
from typing import Any

from herald.models import Event, Subscription


def ica_envelope(event: Event, subscription: Subscription) -> dict[str, Any]:
    """ICA's notification body (seed: correlationId, timestamp, eventCode, description, payload),
    plus projectId and payloadVersion as ICA's real deliveries carry them."""
    return {
        "correlationId": event.correlationId,
        "timestamp": event.timestamp,
        "eventCode": event.eventCode,
        "description": event.description,
        "projectId": event.projectId,
        "payloadVersion": subscription.payloadVersion or event.payloadVersion,
        "payload": event.payload,
    }


def render(event: Event, subscription: Subscription) -> bytes:
    body = ica_envelope(event, subscription)
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()
