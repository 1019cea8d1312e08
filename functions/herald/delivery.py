"""Delivering one notification: one attempt, recorded, and the decision on what happens next."""

from __future__ import annotations

from dataclasses import dataclass

from aws_lambda_powertools import Logger

from herald import clock, formats, retry, targets
from herald.messages import DeliverNotification
from herald.models import Attempt, NotificationStatus
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


def deliver(services: Services, message: DeliverNotification, receive_count: int) -> Decision:
    store, settings = services.store, services.settings
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
        outcome = Outcome(
            success=False, duration_ms=0, error=f"the {missing} no longer exists", retryable=False
        )
    elif not channel.enabled:
        outcome = Outcome(success=False, duration_ms=0, error="the channel is disabled")
    else:
        body = formats.render(event, subscription, channel)
        outcome = targets.send(channel, event, body, notification.id, settings)

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
    store.record_attempt(message.eventId, message.subscriptionId, attempt, status, attempt.at)
    store.refresh_event_status(message.eventId)
    if outcome.success:
        logger.info("delivered", notification=notification.id, duration_ms=outcome.duration_ms)
        return Decision("delivered")
    logger.info("attempt failed", notification=notification.id, error=outcome.error, attempt=receive_count)
    if delay is None:
        return Decision("failed", exhausted=outcome.retryable)
    if outcome.retry_after is not None:
        # Honour the receiver's Retry-After, but never beyond the next step of the schedule.
        delay = min(max(delay, outcome.retry_after), settings.retry_schedule[-1])
    return Decision("retry", retry_in=delay)
