"""Builders for the data-access tests: events, routed notifications, raw items, item sizes."""

from __future__ import annotations

from typing import Any

from herald.domain import clock, ids
from herald.domain.models import Attempt, Event, Notification
from herald.logic.services import Services
from tests.unit.builders import ANALYSIS


def event(project: str = "p1", code: str = "ICA_EXEC_002", **extra: Any) -> Event:
    now = clock.now()
    return Event(
        id=ids.new_id(),
        projectId=project,
        eventCode=code,
        description=code,
        payload=ANALYSIS,
        correlationId=ids.new_id(),
        timestamp=clock.utc_iso(now),
        createdAt=now,
        **extra,
    )


def routed_notification(services: Services, subscription_id: str = "s1") -> Notification:
    """A stored, routed event with one pending notification to `subscription_id`."""
    stored = event()
    services.events.put_if_new(stored)
    stamp = clock.utc_iso()
    n = Notification(
        id=ids.notification_id_for(stored.id, subscription_id),
        eventId=stored.id,
        subscriptionId=subscription_id,
        projectId=stored.projectId,
        channelId="c1",
        createdAt=stamp,
        updatedAt=stamp,
    )
    services.notifications.create_if_new(n, stored)
    services.events.mark_routed(stored.id)
    return n


def attempt(success: bool, status: int = 500) -> Attempt:
    return Attempt(
        at=clock.utc_iso(),
        durationMs=3,
        success=success,
        httpStatus=200 if success else status,
        error=None if success else f"HTTP {status}",
    )


def item_bytes(item: dict[str, Any]) -> int:
    """DynamoDB's size of an item in its typed form: attribute names plus values (strings and
    binaries their bytes, numbers about one byte per two digits, lists and maps 3 bytes plus
    their elements, booleans and nulls 1)."""
    return sum(len(name.encode()) + _value_bytes(value) for name, value in item.items())


def _value_bytes(value: dict[str, Any]) -> int:
    ((kind, raw),) = value.items()
    if kind == "S":
        return len(raw.encode())
    if kind == "B":
        return len(raw)
    if kind == "N":
        return len(raw.replace(".", "").replace("-", "")) // 2 + 1
    if kind == "L":
        return 3 + sum(1 + _value_bytes(v) for v in raw)
    if kind == "M":
        return 3 + sum(1 + len(k.encode()) + _value_bytes(v) for k, v in raw.items())
    return 1
