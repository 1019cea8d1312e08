"""Delivering one notification: one attempt, recorded, and the decision on what happens next."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from aws_lambda_powertools import Logger

from herald import clock, formats, retry, targets
from herald.messages import DeliverNotification
from herald.models import Attempt, Channel, Event, Notification, NotificationStatus, Subscription
from herald.services import Services
from herald.targets.base import Outcome

logger = Logger(child=True)


@dataclass(frozen=True)
class Decision:
    """`retry_in` is None when the message is done with (delivered, skipped or failed for good);
    otherwise the seconds until the next attempt. `exhausted` marks the last failed attempt: the
    message is handed to the dead-letter queue, whose consumer confirms the failure."""

    outcome: str
    retry_in: int | None = None
    exhausted: bool = False
    latency_ms: int | None = None  # delivered: from the event's acceptance to the receiver's answer


@dataclass(frozen=True)
class _Prepared:
    notification: Notification
    outcome: Outcome | None = None  # set when no send is possible
    event: Event | None = None
    subscription: Subscription | None = None
    channel: Channel | None = None


def _prepare(services: Services, message: DeliverNotification) -> _Prepared | Decision:
    store = services.store
    notification = store.get_notification(message.eventId, message.subscriptionId)
    if notification is None:
        logger.warning(
            "notification no longer exists (deleted or expired)", notification=message.notificationId
        )
        return Decision("skipped")
    if notification.status in (NotificationStatus.SUCCESS, NotificationStatus.FAILED):
        # A duplicate message, or one for a notification already settled: never deliver twice.
        return Decision("skipped")
    event = store.get_event(message.eventId)
    subscription = store.get_subscription(notification.projectId, message.subscriptionId)
    channel = store.get_channel(notification.channelId)
    if event is None or subscription is None or channel is None:
        missing = "event" if event is None else "subscription" if subscription is None else "channel"
        gone = Outcome(success=False, duration_ms=0, error=f"the {missing} no longer exists", retryable=False)
        return _Prepared(notification, outcome=gone)
    if not channel.enabled:
        return _Prepared(
            notification, outcome=Outcome(success=False, duration_ms=0, error="the channel is disabled")
        )
    # Signing secrets are stored sealed (herald.secret_box); only this function opens them.
    opened = channel.model_copy(
        update={
            "secret": services.secrets.open(channel.secret, channel.id),
            "previousSecret": services.secrets.open(channel.previousSecret, channel.id)
            if channel.previousSecret
            else None,
        }
    )
    return _Prepared(notification, event=event, subscription=subscription, channel=opened)


async def deliver(services: Services, message: DeliverNotification, receive_count: int) -> Decision:
    """One attempt at one notification. Store access (blocking boto3) runs on a worker thread; the
    send itself runs on the event loop, so a batch's sends overlap."""
    settings = services.settings
    prepared = await asyncio.to_thread(_prepare, services, message)
    if isinstance(prepared, Decision):
        return prepared
    outcome = prepared.outcome
    if outcome is None:
        assert prepared.event and prepared.subscription and prepared.channel
        body = formats.render(prepared.event, prepared.subscription, prepared.channel)
        outcome = await targets.send(
            prepared.channel, prepared.event, body, prepared.notification.id, settings
        )
    decision = await asyncio.to_thread(
        _settle_attempt, services, message, outcome, receive_count, len(prepared.notification.attempts)
    )
    if decision.outcome == "delivered" and prepared.event is not None:
        latency = int((clock.now() - prepared.event.createdAt) * 1000)
        return Decision(decision.outcome, latency_ms=max(latency, 0))
    return decision


def _settle_attempt(
    services: Services,
    message: DeliverNotification,
    outcome: Outcome,
    receive_count: int,
    attempts_before: int,
) -> Decision:
    store, settings = services.store, services.settings
    delay = retry.next_delay(settings.retry_schedule, receive_count) if outcome.retryable else None
    if outcome.success:
        status = NotificationStatus.SUCCESS
    elif delay is None:
        status = NotificationStatus.FAILED
    else:
        status = NotificationStatus.RETRYABLE
    attempt = Attempt(
        at=clock.utc_iso(),
        durationMs=outcome.duration_ms,
        success=outcome.success,
        httpStatus=outcome.http_status,
        error=outcome.error,
        responseExcerpt=None if outcome.success else outcome.response_excerpt,
    )
    store.record_attempt(
        message.eventId, message.subscriptionId, attempt, status, attempt.at, attempts_before
    )
    store.refresh_event_status(message.eventId)
    if outcome.success:
        logger.info(
            "delivered",
            event_id=message.eventId,
            notification=message.notificationId,
            duration_ms=outcome.duration_ms,
        )
        return Decision("delivered")
    logger.info(
        "attempt failed",
        event_id=message.eventId,
        notification=message.notificationId,
        error=outcome.error,
        attempt=receive_count,
    )
    if delay is None:
        return Decision("failed", exhausted=outcome.retryable)
    if outcome.retry_after is not None:
        # Honour the receiver's Retry-After, within the schedule's longest delay.
        delay = min(max(delay, outcome.retry_after), max(settings.retry_schedule))
    return Decision("retry", retry_in=delay)
