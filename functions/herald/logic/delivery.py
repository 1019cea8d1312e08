"""Delivering one notification: one attempt, recorded, and (herald.logic.lifecycle) what becomes of its message.

The deliver function delivers a batch of messages with one `DeliveryBatch`: what they need is
read for all of them at once when the batch starts (herald.dal.batch_reads: two BatchGetItem
calls, a snapshot whose staleness is the batch's), their channels' attempt counters are written
once per channel when it ends, and so is each event's status (`DeliveryBatch.finish`). Without a
batch (`batch=None`) each delivery reads and writes for itself.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field

from aws_lambda_powertools import Logger

from herald import targets
from herald.dal.batch_reads import DeliveryReads, read_for_deliveries
from herald.dal.channel_stats import Tally
from herald.domain import clock, formats
from herald.domain.circuit import SEND, ChannelHealth, Gate
from herald.domain.messages import DeliverNotification
from herald.domain.models import Attempt, Channel, Event, Notification, NotificationStatus, Subscription
from herald.logic import endpoint_health, lifecycle, operational
from herald.logic.lifecycle import Disposition
from herald.logic.services import Services
from herald.targets.base import Outcome

logger = Logger(child=True)


@dataclass(frozen=True)
class Decision:
    """One receive of a notification's message: what came of it (`outcome`: delivered, retry,
    failed, deferred or skipped; the deliver function's metrics are named for it) and what becomes
    of the message (`disposition`, herald.logic.lifecycle's)."""

    outcome: str
    disposition: Disposition
    latency_ms: int | None = None  # delivered: from the event's acceptance to the receiver's answer


@dataclass
class DeliveryBatch:
    """One invocation's deliveries: their snapshot, their attempt counters and the events whose
    status they changed. Its deliveries run on worker threads, hence the lock."""

    reads: DeliveryReads = field(default_factory=DeliveryReads)
    tally: Tally = field(default_factory=Tally)
    # event id → subscription id → the status the batch gave that notification
    settled: dict[str, dict[str, NotificationStatus]] = field(default_factory=dict)
    # events whose status must be recomputed from their partition (a write the batch cannot vouch for)
    unsure: set[str] = field(default_factory=set)
    lock: threading.Lock = field(default_factory=threading.Lock)

    @classmethod
    def read(cls, services: Services, messages: Iterable[DeliverNotification]) -> DeliveryBatch:
        messages = list(messages)
        reads = read_for_deliveries(
            services.table,
            ((m.eventId, m.subscriptionId) for m in messages),
            known=(m.event for m in messages if m.event is not None),
        )
        for channel_id, health in reads.health.items():
            endpoint_health.seed(channel_id, health, reads.read_at)
        return cls(reads)

    def note(self, event_id: str, subscription_id: str, status: NotificationStatus | None) -> None:
        """The batch changed a notification to `status` (None: it may have, or another writer did)."""
        with self.lock:
            if status is None:
                self.unsure.add(event_id)
            else:
                self.settled.setdefault(event_id, {})[subscription_id] = status

    def count(self, channel_id: str, at: float, success: bool, duration_ms: int) -> None:
        with self.lock:
            self.tally.add(channel_id, at, success, duration_ms)

    def finish(self, services: Services) -> None:
        """Settle the events' status (raises if it cannot: the batch comes back, and its settled
        notifications are skipped and their events settled then); write the attempt counters
        (bookkeeping: logged, never raised)."""
        try:
            with self.lock:
                settled, unsure = dict(self.settled), set(self.unsure)
                self.settled.clear()
                self.unsure.clear()
            for event_id, statuses in settled.items():
                if event_id in unsure:
                    continue
                services.events.settle_deliveries(event_id, statuses)
            for event_id in unsure:
                services.events.refresh_status(event_id)
        finally:
            try:
                services.channel_stats.flush(self.tally)
            except Exception:
                logger.exception("the channels' attempt counters could not be updated")


@dataclass(frozen=True)
class Prepared:
    """What an attempt needs, read before the send (or why no send is possible)."""

    notification: Notification
    outcome: Outcome | None = None  # set when no send is possible
    event: Event | None = None
    subscription: Subscription | None = None
    channel: Channel | None = None
    gate: Gate = SEND  # what the channel's circuit and rate limit said
    seen: ChannelHealth | None = None  # the channel's health the gate was decided on


def prepare(
    services: Services,
    message: DeliverNotification,
    asked_at: float,
    ordered: bool = False,
    batch: DeliveryBatch | None = None,
) -> Prepared | Decision:
    reads = batch.reads if batch is not None else DeliveryReads()
    key = (message.eventId, message.subscriptionId)
    notification = (
        reads.notifications[key]
        if key in reads.notifications
        else services.notifications.get(message.eventId, message.subscriptionId)
    )
    if notification is None:
        logger.warning(
            "notification no longer exists (deleted or expired)", notification=message.notificationId
        )
        return Decision("skipped", lifecycle.done("the notification no longer exists"))
    if notification.status in (NotificationStatus.SUCCESS, NotificationStatus.FAILED):
        # A duplicate message, or one for a notification already settled: never deliver twice.
        # Its event's status is settled again: a batch that crashed after recording the
        # attempt but before settling the event comes back this way.
        if batch is not None:
            batch.note(message.eventId, message.subscriptionId, None)
        return Decision("skipped", lifecycle.done(f"the notification is already {notification.status.value}"))
    # The channel is the subscription's, now: a subscription moved to another channel takes its
    # pending and retrying notifications with it, so deleting the old channel strands none.
    sub_key = (notification.projectId, message.subscriptionId)
    subscription = (
        reads.subscriptions[sub_key]
        if sub_key in reads.subscriptions
        else services.subscriptions.get(notification.projectId, message.subscriptionId)
    )
    channel_id = subscription.notificationChannelId if subscription is not None else notification.channelId
    if channel_id != notification.channelId:
        notification = notification.model_copy(update={"channelId": channel_id})
    channel = (
        reads.channels[channel_id] if channel_id in reads.channels else services.channels.get(channel_id)
    )
    if channel is not None and not channel.enabled:
        # Kept as failed, not attempted: reprocessable (API) once the channel is enabled again.
        why = f"the channel is disabled ({channel.disabledReason})" if channel.disabledReason else ""
        changed = services.notifications.mark_failed(
            message.eventId,
            message.subscriptionId,
            why or "the channel is disabled",
            clock.utc_iso(),
            channel_id=channel.id,
            refresh=batch is None,
            created_at=notification.createdAt,
        )
        if batch is not None:
            batch.note(
                message.eventId, message.subscriptionId, NotificationStatus.FAILED if changed else None
            )
        return Decision("failed", lifecycle.done(why or "the channel is disabled"))
    gate, seen = SEND, None
    if channel is not None:
        # Before reading the rest: a delivery held back (open circuit, rate limit, pause) costs
        # three reads, not five and a KMS decrypt, each time it comes back.
        gate, seen = endpoint_health.before_send(services, channel, asked_at)
        if not gate.go:
            logger.info("delivery deferred", notification=message.notificationId, reason=gate.reason)
            # Held back: from now on the subscription's delete guard counts it (see herald.dal.notifications).
            services.notifications.hold_open(notification)
            return Decision("deferred", lifecycle.held_back(gate.wait, gate.reason, ordered))
    event = (
        reads.events[message.eventId]
        if message.eventId in reads.events
        else message.event or services.events.get(message.eventId)
    )
    if event is None or subscription is None or channel is None:
        missing = "event" if event is None else "subscription" if subscription is None else "channel"
        gone = Outcome(success=False, duration_ms=0, error=f"the {missing} no longer exists", retryable=False)
        return Prepared(notification, outcome=gone)
    # Signing secrets are stored sealed (herald.adapters.secret_box); only this function opens them.
    opened = channel.model_copy(
        update={
            "secret": services.secrets.open(channel.secret, channel.id),
            "previousSecret": services.secrets.open(channel.previousSecret, channel.id)
            if channel.previousSecret
            else None,
        }
    )
    return Prepared(
        notification, event=event, subscription=subscription, channel=opened, gate=gate, seen=seen
    )


async def deliver(
    services: Services,
    message: DeliverNotification,
    receive_count: int,
    ordered: bool = False,
    batch: DeliveryBatch | None = None,
) -> Decision:
    """One attempt at one notification, received from the FIFO queue if `ordered`. Store access
    (blocking boto3) runs on a worker thread; the send itself runs on the event loop, so a batch's
    sends overlap.

    The channel's circuit and rate limit may hold the delivery back first (outcome "deferred"):
    then nothing is sent and no attempt is used. `receive_count` is SQS's and only logged: the
    attempt number is the notification's own count, which deferrals do not advance.
    """
    asked_at = clock.now()
    prepared = await asyncio.to_thread(prepare, services, message, asked_at, ordered, batch)
    if isinstance(prepared, Decision):
        return prepared
    outcome, sent = prepared.outcome, False
    if outcome is None:
        event, subscription, channel = prepared.event, prepared.subscription, prepared.channel
        assert event and subscription and channel
        if prepared.gate.wait > 0:
            # Until the rate limit's slot itself: the wait was counted from before the booking,
            # which took time of its own (sleeping the whole wait after it would send late).
            await asyncio.sleep(max(0.0, asked_at + prepared.gate.wait - clock.now()))
        body = formats.render(event, subscription, channel)
        outcome = await targets.send(channel, event, body, prepared.notification.id, services.settings)
        sent = True
    decision = await asyncio.to_thread(
        record_attempt, services, message, prepared, outcome, receive_count, ordered, batch
    )
    if sent:
        # After the attempt is recorded, and never failing the delivery (see the function).
        await asyncio.to_thread(_count_towards_health, services, prepared, outcome, clock.now())
        if batch is not None:
            assert prepared.channel is not None
            batch.count(prepared.channel.id, clock.now(), outcome.success, outcome.duration_ms)
        else:
            await asyncio.to_thread(_count_towards_stats, services, prepared, outcome)
    if decision.outcome == "delivered" and prepared.event is not None:
        latency = int((clock.now() - prepared.event.createdAt) * 1000)
        return Decision(decision.outcome, decision.disposition, latency_ms=max(latency, 0))
    return decision


def _count_towards_health(services: Services, prepared: Prepared, outcome: Outcome, now: float) -> None:
    """The channel's health is bookkeeping about the receiver: failing to update it must not fail
    (and so repeat) a delivery that was made and recorded."""
    assert prepared.channel is not None
    try:
        endpoint_health.after_attempt(
            services,
            prepared.channel,
            prepared.notification,
            outcome,
            prepared.seen,
            prepared.gate.probe,
            now,
        )
    except Exception:
        logger.exception("the channel's health could not be updated", channel=prepared.channel.id)
        if prepared.gate.probe:
            endpoint_health.forget(prepared.channel.id)  # the probe's lease runs out by itself


def _count_towards_stats(services: Services, prepared: Prepared, outcome: Outcome) -> None:
    """The channel's attempts-over-time counters (the console's chart): bookkeeping too."""
    assert prepared.channel is not None
    try:
        services.channel_stats.count(prepared.channel.id, clock.now(), outcome.success, outcome.duration_ms)
    except Exception:
        logger.exception("the channel's attempt counters could not be updated", channel=prepared.channel.id)


def record_attempt(
    services: Services,
    message: DeliverNotification,
    prepared: Prepared,
    outcome: Outcome,
    receive_count: int,
    ordered: bool = False,
    batch: DeliveryBatch | None = None,
) -> Decision:
    """Record the attempt, with the status herald.logic.lifecycle gives the notification for it."""
    attempts_before = len(prepared.notification.attempts)
    verdict = lifecycle.after_attempt(outcome, attempts_before, services.settings.retry_schedule, ordered)
    status = verdict.status
    attempt = Attempt(
        at=clock.utc_iso(),
        durationMs=outcome.duration_ms,
        success=outcome.success,
        httpStatus=outcome.http_status,
        error=outcome.error,
        responseExcerpt=None if outcome.success else outcome.response_excerpt,
    )
    recorded = services.notifications.record_attempt(
        message.eventId,
        message.subscriptionId,
        attempt,
        status,
        attempt.at,
        attempts_before,
        channel_id=prepared.notification.channelId,
        refresh=batch is None,
        created_at=prepared.notification.createdAt,
    )
    if batch is not None:
        batch.note(message.eventId, message.subscriptionId, status if recorded else None)
    if recorded and status is NotificationStatus.FAILED and prepared.event is not None:
        operational.notification_exhausted(
            services,
            prepared.notification,
            prepared.event.eventCode,
            attempts_before + 1,
            attempt.error or f"HTTP {attempt.httpStatus}",
        )
    if outcome.success:
        logger.info(
            "delivered",
            event_id=message.eventId,
            notification=message.notificationId,
            duration_ms=outcome.duration_ms,
        )
        return Decision("delivered", verdict.disposition)
    logger.info(
        "attempt failed",
        event_id=message.eventId,
        notification=message.notificationId,
        error=outcome.error,
        attempt=attempts_before + 1,
        receive_count=receive_count,
    )
    return Decision("failed" if status is NotificationStatus.FAILED else "retry", verdict.disposition)
