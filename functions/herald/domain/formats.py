"""What a receiver gets: the event rendered in the payload format and version it subscribed to."""

from __future__ import annotations

import json
from typing import Any

from herald.domain import catalog, versions
from herald.domain.models import Channel, Event, PayloadFormat, Subscription

ONECODEX_API_VERSION = "v1"


def payload_format(subscription: Subscription, channel: Channel | None) -> PayloadFormat:
    """The subscription's choice, else the channel's default, else ICA's envelope."""
    return subscription.format or (channel.format if channel else None) or PayloadFormat.ICA


def subscriber_payload(event: Event, subscription: Subscription) -> dict[str, Any] | None:
    """The payload in the subscriber's version, or None if that version has no such event."""
    return versions.view(event.eventCode, event.payload, subscription.payloadVersion)


def ica_envelope(event: Event, payload: dict[str, Any], payload_version: str) -> dict[str, Any]:
    """ICA's notification body (seed: correlationId, timestamp, eventCode, description, payload),
    plus projectId and payloadVersion as ICA's real deliveries carry them."""
    return {
        "correlationId": event.correlationId,
        "timestamp": event.timestamp,
        "eventCode": event.eventCode,
        "description": event.description,
        "projectId": event.projectId,
        "payloadVersion": payload_version,
        "payload": payload,
    }


def onecodex_payload(event: Event, payload: dict[str, Any]) -> dict[str, Any]:
    """One Codex's webhook payload: api_version, event_type, object, object_type, triggered_at."""
    return {
        "api_version": ONECODEX_API_VERSION,
        "event_type": event.eventCode,
        "object": payload,
        "object_type": catalog.object_type(event.eventCode),
        "triggered_at": event.timestamp,  # RFC 3339, when the event happened (not when sent)
    }


def render(event: Event, subscription: Subscription, channel: Channel | None = None) -> bytes:
    payload = subscriber_payload(event, subscription)
    if payload is None:  # routed before the version rule applied: deliver it as stored
        payload = event.payload
    if payload_format(subscription, channel) is PayloadFormat.ONECODEX:
        body = onecodex_payload(event, payload)
    else:
        body = ica_envelope(
            event, payload, versions.delivered_version(subscription.payloadVersion, event.payloadVersion)
        )
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()
