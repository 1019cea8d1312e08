"""Routing: which subscriptions an event goes to, and the notifications that follow.

Each filter evaluation is bounded (a regex times out after 50 ms, a path visits at most 200,000
nodes), and so is an event's routing as a whole: once its filter evaluations have taken
`HERALD_ROUTING_BUDGET_SECONDS` (2 s), the remaining subscriptions' filters are not evaluated.
Each of those subscriptions gets a `failed` notification saying so (in its failed-notifications
list, and the event is `failed`), so nothing is dropped silently; reprocessing one delivers it
without evaluating its filter. Retrying the event instead would spend the same budget again.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field

from aws_lambda_powertools import Logger

from herald import aws, catalog, clock, formats, transfers, versions
from herald.filters import FilterSyntaxError, compile_filter
from herald.messages import DeliverNotification
from herald.models import Event, Notification, NotificationStatus, Subscription
from herald.services import Services

logger = Logger(child=True)
# The clock the routing budget is measured with (tests replace it).
_monotonic = time.monotonic


@dataclass
class Matching:
    matched: list[Subscription] = field(default_factory=list)
    # Subscriptions whose filters were not evaluated: the event's routing budget was spent.
    unevaluated: list[Subscription] = field(default_factory=list)


def matching_subscriptions(event: Event, subscriptions: list[Subscription]) -> list[Subscription]:
    """The subscriptions the event goes to, every filter evaluated (no budget)."""
    return match(event, subscriptions).matched


def match(event: Event, subscriptions: list[Subscription], budget_seconds: float | None = None) -> Matching:
    """Which subscriptions match; with a budget, filters are evaluated only until their
    evaluations have taken `budget_seconds` (subscriptions without a filter always match)."""
    out = Matching()
    spent = 0.0
    operational = catalog.is_operational(event.eventCode)
    for sub in subscriptions:
        if not sub.enabled or (operational and sub.eventCode == "*"):
            continue
        payload = formats.subscriber_payload(event, sub)
        if payload is None:  # e.g. a V4-only analysis state for a V3 subscriber
            continue
        if sub.filterExpression:
            if budget_seconds is not None and spent >= budget_seconds:
                out.unevaluated.append(sub)
                continue
            started = _monotonic()
            try:
                # The filter sees what the subscriber will receive.
                result = compile_filter(sub.filterExpression).evaluate(payload)
            except FilterSyntaxError as exc:  # stored before validation tightened: skip, loudly
                logger.error("subscription filter no longer compiles", subscription=sub.id, error=str(exc))
                continue
            finally:
                spent += _monotonic() - started
            if result.error:
                # One hostile or failing filter costs only its own subscription.
                logger.warning("filter evaluation failed", subscription=sub.id, error=result.error)
            if not result.matched:
                continue
        out.matched.append(sub)
    return out


def budget_spent_error(budget_seconds: float) -> str:
    return (
        f"filter not evaluated: this event's routing budget ({budget_seconds:g} s of filter "
        "evaluation) was spent on other subscriptions' filters; reprocess this notification to "
        "deliver the event without evaluating the filter"
    )


class SubscriptionLookup:
    """The subscriptions of a project to some codes, read once per batch of events.

    The filter function routes a batch (up to 10 events, usually of few projects and codes) with
    one lookup: one index query per (project, code) instead of one per event and code. It lives
    for one invocation, so a subscription created or changed is seen by the next batch, as it
    would be by the next event."""

    def __init__(self, services: Services) -> None:
        self._store = services.store
        self._read: dict[tuple[str, tuple[str, ...]], list[Subscription]] = {}

    def __call__(self, project_id: str, codes: tuple[str, ...]) -> list[Subscription]:
        key = (project_id, codes)
        if key not in self._read:
            self._read[key] = self._store.subscriptions_for(project_id, codes)
        return self._read[key]


def route_event(services: Services, event_id: str, lookup: SubscriptionLookup | None = None) -> int:
    """Create a notification per matching subscription and queue each; returns how many.
    `lookup` shares subscription reads between the events of one batch.

    Safe to run twice: an event already routed is left alone (a duplicate RouteEvent), notification
    ids are deterministic and created only once, and a notification that exists without an attempt
    is queued again only when the event was never marked routed (the first run died before sending).
    """
    store = services.store
    event = store.get_event(event_id, consistent=True)
    if event is None:
        logger.warning("event to route no longer exists (expired?)", event_id=event_id)
        return 0
    if event.routed and not event.routingError:
        return 0
    transfers.observe(services, event)
    codes = catalog.subscribable_codes(event.eventCode)
    budget = services.settings.routing_budget_seconds
    subscriptions = (lookup or SubscriptionLookup(services))(event.projectId, codes)
    matching = match(event, subscriptions, budget)
    subs = matching.matched
    to_send: list[DeliverNotification] = []
    stamp = clock.utc_iso()
    # Routing knows the event's status when it created every notification itself (all pending);
    # after an earlier, interrupted run it recomputes it from the notifications.
    knows_status = True
    for sub in subs:
        notification = _notification(event, sub, stamp)
        if not store.create_notification_if_new(notification, event):
            knows_status = False
            existing = store.get_notification(event.id, sub.id)
            if existing is None or existing.attempts or existing.status != NotificationStatus.PENDING:
                continue
        to_send.append(
            DeliverNotification(
                eventId=event.id, subscriptionId=sub.id, notificationId=notification.id, ordered=sub.ordered
            )
        )
    if matching.unevaluated:
        logger.warning(
            "routing budget spent: filters not evaluated, their notifications failed",
            event_id=event.id,
            budget_seconds=budget,
            unevaluated=len(matching.unevaluated),
        )
    for sub in matching.unevaluated:
        unevaluated = _notification(
            event, sub, stamp, status=NotificationStatus.FAILED, lastError=budget_spent_error(budget)
        )
        if not store.create_notification_if_new(unevaluated, event):
            knows_status = False
    services.queues.send_deliveries(to_send, services.settings.ordered_deliveries_queue_url)
    if services.settings.broadcast and services.settings.broadcast_topic_arn:
        broadcast(services, event)
    known = NotificationStatus.PENDING if subs else NotificationStatus.SUCCESS
    if matching.unevaluated:
        known = NotificationStatus.FAILED
    if not (knows_status and store.settle_routing(event.id, known, read_status=event.status)):
        store.mark_routed(event.id)
        store.refresh_event_status(event.id)
    return len(to_send)


def _notification(event: Event, sub: Subscription, stamp: str, **state: object) -> Notification:
    return Notification(
        id=clock.notification_id_for(event.id, sub.id),
        eventId=event.id,
        subscriptionId=sub.id,
        projectId=event.projectId,
        channelId=sub.notificationChannelId,
        createdAt=stamp,
        updatedAt=stamp,
        **state,  # type: ignore[arg-type]
    )


def broadcast(services: Services, event: Event) -> None:
    """Publish the event (ICA's envelope) to the deployment's broadcast topic, for consumer
    accounts that subscribe to everything and filter with SNS filter policies on eventCode."""
    body = formats.ica_envelope(event, event.payload, versions.delivered_version(None, event.payloadVersion))
    attributes = {"eventCode": event.eventCode, "projectId": event.projectId}
    aws.client("sns").publish(
        TopicArn=services.settings.broadcast_topic_arn,
        Message=json.dumps(body, separators=(",", ":"), ensure_ascii=False),
        MessageAttributes={k: {"DataType": "String", "StringValue": v} for k, v in attributes.items()},
    )
