"""Routing: which subscriptions an event goes to, and the notifications that follow.

Fair routing: one project's filters cannot hold up another project's events for long.

- Each filter evaluation is bounded (a regex times out after 50 ms, a path visits at most 200,000
  nodes).
- A project's filters share one budget per batch of events (`HERALD_ROUTING_BUDGET_SECONDS`, 2 s
  of evaluation): the filter function routes a batch of up to 10 events that may mix projects,
  and once a project's evaluations in the batch have taken its budget, the filters of that
  project's remaining subscriptions are not evaluated. Each of those subscriptions gets a `failed`
  notification saying so and naming the subscriptions whose filters spent the budget (in its
  failed-notifications list; the event is `failed`), so nothing is dropped silently; reprocessing
  one delivers it without evaluating its filter. Another project's event in the batch waits at
  most one budget (plus one evaluation) per other project in the batch.
- A filter that keeps hitting its bounds is quarantined: `QUARANTINE_AFTER_STRIKES` evaluations in
  a row that hit a bound (a regex timeout, the path-node limit) or took `SLOW_FILTER_SECONDS`
  disable its subscription, with the reason on the subscription (`disabledReason`) and a
  `herald.subscription.disabled` operational event, as `herald.channel.disabled` does for channels.
  Enabling it again (`:enable`, or a new filter) starts its count afresh.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from aws_lambda_powertools import Logger

from herald.adapters import aws
from herald.domain import catalog, clock, formats, ids, versions
from herald.domain.messages import DeliverNotification, carried
from herald.domain.models import Event, Notification, NotificationStatus, Subscription
from herald.filters import REGEX_TIMEOUT_SECONDS, FilterSyntaxError, compile_filter
from herald.logic import operational, transfers
from herald.logic.services import Services

logger = Logger(child=True)
# Evaluations in a row that hit a bound, or took this long, before a subscription is quarantined.
QUARANTINE_AFTER_STRIKES = 3
SLOW_FILTER_SECONDS = REGEX_TIMEOUT_SECONDS
# Subscriptions named in a routing-budget failure (the biggest spenders first).
SPENDERS_NAMED = 3


@dataclass
class RoutingBudget:
    """Filter evaluation time per project, for one batch of events (or one event routed alone)."""

    seconds: float
    spent: dict[str, float] = field(default_factory=dict)
    # project → subscription → (seconds, evaluations)
    by_subscription: dict[str, dict[str, tuple[float, int]]] = field(default_factory=dict)

    def left(self, project: str) -> bool:
        return self.spent.get(project, 0.0) < self.seconds

    def spend(self, project: str, subscription_id: str, seconds: float) -> None:
        self.spent[project] = self.spent.get(project, 0.0) + seconds
        subs = self.by_subscription.setdefault(project, {})
        before, count = subs.get(subscription_id, (0.0, 0))
        subs[subscription_id] = (before + seconds, count + 1)

    def spenders(self, project: str) -> list[tuple[str, float, int]]:
        subs = self.by_subscription.get(project, {})
        return sorted(((s, t, n) for s, (t, n) in subs.items()), key=lambda x: -x[1])


@dataclass
class Matching:
    matched: list[Subscription] = field(default_factory=list)
    # Subscriptions whose filters were not evaluated: the project's routing budget was spent.
    unevaluated: list[Subscription] = field(default_factory=list)
    # Costly evaluations (a bound hit, or slow), each with why; and subscriptions with strikes
    # whose filter just evaluated cheaply (their count starts again).
    strikes: list[tuple[Subscription, str]] = field(default_factory=list)
    cleared: list[Subscription] = field(default_factory=list)


def matching_subscriptions(event: Event, subscriptions: list[Subscription]) -> list[Subscription]:
    """The subscriptions the event goes to, every filter evaluated (no budget)."""
    return match(event, subscriptions).matched


def match(event: Event, subscriptions: list[Subscription], budget: RoutingBudget | None = None) -> Matching:
    """Which subscriptions match; with a budget, the project's filters are evaluated only while
    its budget lasts (subscriptions without a filter always match)."""
    out = Matching()
    operational_event = catalog.is_operational(event.eventCode)
    project = event.projectId
    for sub in subscriptions:
        if not sub.enabled or (operational_event and sub.eventCode == "*"):
            continue
        payload = formats.subscriber_payload(event, sub)
        if payload is None:  # e.g. a V4-only analysis state for a V3 subscriber
            continue
        if sub.filterExpression:
            if budget is not None and not budget.left(project):
                out.unevaluated.append(sub)
                continue
            started = clock.monotonic()
            try:
                # The filter sees what the subscriber will receive.
                result = compile_filter(sub.filterExpression).evaluate(payload)
            except FilterSyntaxError as exc:  # stored before validation tightened: skip, loudly
                logger.error("subscription filter no longer compiles", subscription=sub.id, error=str(exc))
                continue
            finally:
                took = clock.monotonic() - started
                if budget is not None:
                    budget.spend(project, sub.id, took)
            if result.error:
                # One hostile or failing filter costs only its own subscription.
                logger.warning("filter evaluation failed", subscription=sub.id, error=result.error)
            if result.bound_hit or took >= SLOW_FILTER_SECONDS:
                why = result.error if result.bound_hit else f"an evaluation took {took * 1000:.0f} ms"
                out.strikes.append((sub, why or "slow"))
            elif sub.filterStrikes:
                out.cleared.append(sub)
            if not result.matched:
                continue
        out.matched.append(sub)
    return out


def budget_spent_error(
    budget_seconds: float, project: str = "", spenders: Sequence[tuple[str, float, int]] = ()
) -> str:
    """The reason on a notification whose filter was not evaluated, naming who spent the budget."""
    named = [f"subscription {s}'s filter ({t:.2f} s in {n} evaluation{'s' if n != 1 else ''})"
             for s, t, n in spenders[:SPENDERS_NAMED]]  # fmt: skip
    if len(spenders) > SPENDERS_NAMED:
        named.append(f"{len(spenders) - SPENDERS_NAMED} other subscription(s)")
    by = f", by {', '.join(named)}" if named else ""
    whose = f"project {project}'s" if project else "the"
    return (
        f"filter not evaluated: {whose} routing budget ({budget_seconds:g} s of filter evaluation per "
        f"batch of events) was spent{by}; reprocess this notification to deliver the event without "
        "evaluating the filter"
    )


class SubscriptionLookup:
    """The subscriptions of a project to some codes, read once per batch of events, and the
    batch's routing budget.

    The filter function routes a batch (up to 10 events, usually of few projects and codes) with
    one lookup: one index query per (project, code) instead of one per event and code, and one
    budget per project for the whole batch. It lives for one invocation, so a subscription created
    or changed is seen by the next batch, as it would be by the next event."""

    def __init__(self, services: Services) -> None:
        self._subscriptions = services.subscriptions
        self._read: dict[tuple[str, tuple[str, ...]], list[Subscription]] = {}
        self.budget = RoutingBudget(services.settings.routing_budget_seconds)
        # Costly evaluations seen in this batch (one strike per subscription and batch), and
        # subscriptions with strikes that evaluated cheaply; counted once the batch is routed.
        self.strikes: dict[str, tuple[Subscription, str]] = {}
        self.cleared: dict[str, Subscription] = {}
        self.quarantined: set[str] = set()

    def __call__(self, project_id: str, codes: tuple[str, ...]) -> list[Subscription]:
        key = (project_id, codes)
        if key not in self._read:
            self._read[key] = self._subscriptions.for_codes(project_id, codes)
        return [s for s in self._read[key] if s.id not in self.quarantined]

    def note(self, matching: Matching) -> None:
        for sub, why in matching.strikes:
            self.strikes[sub.id] = (sub, why)
            self.cleared.pop(sub.id, None)
        for sub in matching.cleared:
            if sub.id not in self.strikes:
                self.cleared[sub.id] = sub


@dataclass
class Settle:
    """Routing's last word on one event, written once its deliveries are queued."""

    event_id: str
    known: NotificationStatus | None
    read_status: NotificationStatus
    count: int


class RoutingSendError(RuntimeError):
    """An event's deliveries or broadcast were not all accepted: it was not marked routed."""


@dataclass
class Outbox:
    """What a batch of routed events sends, sent when the batch is routed: every delivery in
    SendMessageBatch calls of ten whichever event it belongs to, every broadcast in PublishBatch
    calls of ten, and only then each event whose sends were all accepted marked routed (an event
    is routed once its deliveries are queued). `flush` answers the events that were not: their
    records fail and come back, and routing them again queues what is still unsent
    (notifications are created once)."""

    deliveries: list[DeliverNotification] = field(default_factory=list)
    broadcasts: list[Event] = field(default_factory=list)
    settles: list[Settle] = field(default_factory=list)

    def flush(self, services: Services) -> set[str]:
        failed: set[str] = set()
        refused, reasons = services.queues.deliveries_not_accepted(
            self.deliveries, services.settings.ordered_deliveries_queue_url
        )
        if refused:
            logger.warning("deliveries not accepted by SQS", count=len(refused), reasons=reasons[:3])
            failed |= {m.eventId for m in refused}
        if self.broadcasts:
            failed |= broadcast_all(services, self.broadcasts)
        for settle in self.settles:
            if settle.event_id in failed:
                continue
            try:
                services.events.settle_routing(
                    settle.event_id,
                    settle.known,
                    read_status=settle.read_status,
                    notification_count=settle.count,
                )
            except Exception:  # the SDK's retries are spent: the record comes back
                logger.exception("the event could not be marked routed", event_id=settle.event_id)
                failed.add(settle.event_id)
        self.deliveries, self.broadcasts, self.settles = [], [], []
        return failed


def route_event(
    services: Services,
    event_id: str,
    lookup: SubscriptionLookup | None = None,
    outbox: Outbox | None = None,
    read: Event | None = None,
) -> int:
    """Create a notification per matching subscription and queue each; returns how many.
    `lookup` shares subscription reads between the events of one batch, `outbox` their sends
    (then the caller flushes it; without one the event's are sent before this returns); `read`:
    the event as the batch read it (eventually consistent), if it did.

    Safe to run twice: an event already routed is left alone (a duplicate RouteEvent), notification
    ids are deterministic and created only once, and a notification that exists without an attempt
    is queued again only when the event was never marked routed (the first run died before sending).
    """
    # Eventually consistent first (half the read units); the RouteEvent is sent after the event
    # is stored, so a miss is most likely a read that has not caught up: read again, consistently.
    event = read or services.events.get(event_id) or services.events.get(event_id, consistent=True)
    if event is None:
        logger.warning("event to route no longer exists (expired?)", event_id=event_id)
        return 0
    if event.routed and not event.routingError:
        return 0
    if outbox is not None and any(s.event_id == event_id for s in outbox.settles):
        return 0  # a second message for it in this batch: routed above, not yet marked routed
    transfers.observe(services, event)
    codes = catalog.subscribable_codes(event.eventCode)
    alone = lookup is None
    lookup = lookup or SubscriptionLookup(services)
    budget = lookup.budget
    matching = match(event, lookup(event.projectId, codes), budget)
    lookup.note(matching)
    subs = matching.matched
    to_send: list[DeliverNotification] = []
    stamp = clock.utc_iso()
    # Routing knows the event's status when it created every notification itself (all pending);
    # after an earlier, interrupted run it recomputes it from the notifications.
    knows_status = True
    along = carried(event)
    for sub in subs:
        notification = _notification(event, sub, stamp)
        if not services.notifications.create_if_new(notification, event):
            if knows_status:
                # Another run created it: if that run finished (the read above, eventually
                # consistent, may predate it), its deliveries are queued already.
                now = services.events.get(event.id, consistent=True)
                if now is None or (now.routed and not now.routingError):
                    return 0
            knows_status = False
            existing = services.notifications.get(event.id, sub.id)
            if existing is None or existing.attempts or existing.status != NotificationStatus.PENDING:
                continue
        to_send.append(
            DeliverNotification(
                eventId=event.id,
                subscriptionId=sub.id,
                notificationId=notification.id,
                ordered=sub.ordered,
                event=along,
            )
        )
    spenders = budget.spenders(event.projectId)
    reason = budget_spent_error(budget.seconds, event.projectId, spenders)
    if matching.unevaluated:
        logger.warning(
            "routing budget spent: filters not evaluated, their notifications failed",
            event_id=event.id,
            project=event.projectId,
            budget_seconds=budget.seconds,
            unevaluated=len(matching.unevaluated),
            spent_by=[s for s, _, _ in spenders[:SPENDERS_NAMED]],
        )
    for sub in matching.unevaluated:
        unevaluated = _notification(event, sub, stamp, status=NotificationStatus.FAILED, lastError=reason)
        if not services.notifications.create_if_new(unevaluated, event):
            knows_status = False
    known = NotificationStatus.PENDING if subs else NotificationStatus.SUCCESS
    if matching.unevaluated:
        known = NotificationStatus.FAILED
    sends = outbox if outbox is not None else Outbox()
    sends.deliveries.extend(to_send)
    if services.settings.broadcast and services.settings.broadcast_topic_arn:
        sends.broadcasts.append(event)
    sends.settles.append(
        Settle(event.id, known if knows_status else None, event.status, len(subs) + len(matching.unevaluated))
    )
    if outbox is None and sends.flush(services):
        raise RoutingSendError(f"event {event.id}: its deliveries or broadcast were not all accepted")
    if alone:
        count_strikes(services, lookup)
    return len(to_send)


def count_strikes(services: Services, lookup: SubscriptionLookup) -> None:
    """Count the batch's costly evaluations against their subscriptions (one strike each per
    batch), after the batch is routed so that the bookkeeping delays no event; quarantine the
    subscriptions that keep at it."""
    for sub in lookup.cleared.values():
        services.subscriptions.clear_filter_strikes(sub.projectId, sub.id)
    for sub, why in lookup.strikes.values():
        count = services.subscriptions.add_filter_strike(sub.projectId, sub.id)
        if count is None or count < QUARANTINE_AFTER_STRIKES:  # None: deleted meanwhile
            continue
        reason = (
            f"its filter hit an evaluation bound {count} times in a row (last: {why}); it was costing "
            "other subscriptions their routing; fix the filter (PATCH filterExpression) or enable it again"
        )
        at = clock.utc_iso()
        lookup.quarantined.add(sub.id)
        if services.subscriptions.quarantine(sub.projectId, sub.id, reason, at):
            logger.warning(
                "subscription quarantined", subscription=sub.id, project=sub.projectId, reason=reason
            )
            operational.subscription_disabled(services, sub, reason, at)
    lookup.strikes.clear()
    lookup.cleared.clear()


def _notification(event: Event, sub: Subscription, stamp: str, **state: object) -> Notification:
    return Notification(
        id=ids.notification_id_for(event.id, sub.id),
        eventId=event.id,
        subscriptionId=sub.id,
        projectId=event.projectId,
        channelId=sub.notificationChannelId,
        createdAt=stamp,
        updatedAt=stamp,
        **state,
    )


# SNS PublishBatch: at most ten messages, 256 KiB in all (bodies and attributes).
PUBLISH_BATCH_ENTRIES = 10
PUBLISH_BATCH_BYTES = 262_144


def broadcast_all(services: Services, events: Sequence[Event]) -> set[str]:
    """Publish each event (ICA's envelope) to the deployment's broadcast topic, for consumer
    accounts that subscribe to everything and filter with SNS filter policies on eventCode; in
    PublishBatch calls of up to ten. Returns the ids of the events SNS did not accept."""
    sns = aws.client("sns")
    chunk: list[dict[str, Any]] = []
    size = 0
    failed: set[str] = set()
    for n, event in enumerate(events):
        body = formats.ica_envelope(
            event, event.payload, versions.delivered_version(None, event.payloadVersion)
        )
        attributes = {"eventCode": event.eventCode, "projectId": event.projectId}
        message = json.dumps(body, separators=(",", ":"), ensure_ascii=False)
        entry_size = len(message.encode()) + sum(len(k) + len(v.encode()) + 6 for k, v in attributes.items())
        if chunk and (len(chunk) == PUBLISH_BATCH_ENTRIES or size + entry_size > PUBLISH_BATCH_BYTES):
            failed |= _publish(sns, services.settings.broadcast_topic_arn, chunk, events)
            chunk, size = [], 0
        chunk.append(
            {
                "Id": str(n),
                "Message": message,
                "MessageAttributes": {
                    k: {"DataType": "String", "StringValue": v} for k, v in attributes.items()
                },
            }
        )
        size += entry_size
    if chunk:
        failed |= _publish(sns, services.settings.broadcast_topic_arn, chunk, events)
    return failed


def _publish(sns: Any, topic_arn: str, chunk: list[dict[str, Any]], events: Sequence[Event]) -> set[str]:
    """One PublishBatch; the ids of the events (by the entries' Id, their index in `events`) SNS
    did not accept."""
    try:
        response = sns.publish_batch(TopicArn=topic_arn, PublishBatchRequestEntries=chunk)
    except Exception:  # the SDK's retries are spent
        logger.exception("broadcast not accepted by SNS", count=len(chunk))
        return {events[int(e["Id"])].id for e in chunk}
    failed = response.get("Failed") or []
    if failed:
        logger.warning(
            "broadcasts not accepted by SNS",
            count=len(failed),
            reasons=[f"{f.get('Code')}: {f.get('Message')}" for f in failed[:3]],
        )
    return {events[int(f["Id"])].id for f in failed}
