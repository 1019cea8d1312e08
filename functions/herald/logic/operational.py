"""Herald's operational events, delivered like any other through the project's subscriptions.

- `herald.notification.exhausted`: a notification ran out of attempts (it is `failed`, reprocessable);
- `herald.channel.failing`: a channel's circuit opened (its deliveries are held back);
- `herald.channel.disabled`: Herald disabled a channel (410 Gone, or failing for days);
- `herald.channel.recovered`: a failing channel's circuit closed again;
- `herald.subscription.disabled`: Herald quarantined a subscription whose filter kept hitting its
  evaluation bounds (see herald.logic.routing).

Each is emitted once per occurrence (a deterministic idempotency id), and never about Herald's own
operational events, so a channel that fails to receive them cannot feed a loop.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from aws_lambda_powertools import Logger

from herald.domain import catalog
from herald.domain.models import Channel, Notification, Subscription
from herald.logic import emit
from herald.logic.services import Services

logger = Logger(child=True)

NOTIFICATION_EXHAUSTED = "herald.notification.exhausted"
CHANNEL_FAILING = "herald.channel.failing"
CHANNEL_DISABLED = "herald.channel.disabled"
CHANNEL_RECOVERED = "herald.channel.recovered"
SUBSCRIPTION_DISABLED = "herald.subscription.disabled"
CODES = (NOTIFICATION_EXHAUSTED, CHANNEL_FAILING, CHANNEL_DISABLED, CHANNEL_RECOVERED, SUBSCRIPTION_DISABLED)


is_operational = catalog.is_operational


def _emit(services: Services, projects: Iterable[str], code: str, payload: dict[str, Any], key: str) -> None:
    """Emit the event in each project that subscribes to it (no subscriber: no event, so projects
    that never asked see none in their events list)."""
    for project in sorted(set(projects)):
        try:
            subscribers = services.subscriptions.for_codes(project, [code], include_wildcard=False)
            if not any(s.enabled and s.eventCode == code for s in subscribers):
                continue
            emit.emit(services, project, code, payload, key=f"{code}:{key}")
        except Exception:  # an operational event must never fail the delivery that caused it
            logger.exception("could not emit an operational event", event_code=code, project=project)


def channel_projects(channel: Channel, fallback: str) -> list[str]:
    """Who hears about a channel: its projects, else (an admin's channel) the delivery's project."""
    return list(channel.projects) or [fallback]


def _channel_payload(channel: Channel, **extra: Any) -> dict[str, Any]:
    # The address is the user's own configuration; the secret never appears.
    return {"channelId": channel.id, "type": channel.type.value, "address": channel.address, **extra}


def notification_exhausted(
    services: Services, notification: Notification, event_code: str, attempts: int, last_error: str | None
) -> None:
    if is_operational(event_code):
        return
    payload = {
        "notificationId": notification.id,
        "eventId": notification.eventId,
        "eventCode": event_code,
        "subscriptionId": notification.subscriptionId,
        "channelId": notification.channelId,
        "cycle": notification.cycle,
        "attempts": attempts,
        "lastError": last_error,
    }
    _emit(
        services,
        [notification.projectId],
        NOTIFICATION_EXHAUSTED,
        payload,
        f"{notification.id}:{notification.cycle}",
    )


def channel_failing(
    services: Services, channel: Channel, projects: list[str], opened_at: str, **health: Any
) -> None:
    payload = _channel_payload(channel, state="open", openedAt=opened_at, **health)
    _emit(services, projects, CHANNEL_FAILING, payload, f"{channel.id}:{opened_at}")


def channel_disabled(
    services: Services, channel: Channel, projects: list[str], reason: str, disabled_at: str
) -> None:
    payload = _channel_payload(channel, reason=reason, disabledAt=disabled_at)
    _emit(services, projects, CHANNEL_DISABLED, payload, f"{channel.id}:{disabled_at}")


def channel_recovered(services: Services, channel: Channel, projects: list[str], recovered_at: str) -> None:
    payload = _channel_payload(channel, state="closed", recoveredAt=recovered_at)
    _emit(services, projects, CHANNEL_RECOVERED, payload, f"{channel.id}:{recovered_at}")


def subscription_disabled(
    services: Services, subscription: Subscription, reason: str, disabled_at: str
) -> None:
    payload = {
        "subscriptionId": subscription.id,
        "projectId": subscription.projectId,
        "eventCode": subscription.eventCode,
        "filterExpression": subscription.filterExpression,
        "reason": reason,
        "disabledAt": disabled_at,
    }
    _emit(
        services, [subscription.projectId], SUBSCRIPTION_DISABLED, payload, f"{subscription.id}:{disabled_at}"
    )
