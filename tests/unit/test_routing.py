"""Routing: an event becomes one notification per matching, enabled subscription."""

from __future__ import annotations

import json

from herald import ingest, routing
from herald.services import Services
from tests.unit.builders import ANALYSIS, channel, subscription


def _deliveries(services: Services) -> list[dict]:
    msgs = services.queues.sqs.receive_message(
        QueueUrl=services.queues.deliveries_url, MaxNumberOfMessages=10
    ).get("Messages", [])
    return [json.loads(m["Body"]) for m in msgs]


def test_event_reaches_code_wildcard_and_filtered_subscriptions(services: Services) -> None:
    ch = channel(services.store, "http://127.0.0.1:9/hook")
    by_code = subscription(services.store, ch.id)
    wildcard = subscription(services.store, ch.id, code="*")
    filtered = subscription(services.store, ch.id, filterExpression="[?($.status == 'SUCCEEDED')]")
    subscription(services.store, ch.id, filterExpression="[?($.status == 'FAILED')]")
    subscription(services.store, ch.id, code="ICA_EXEC_001")
    subscription(services.store, ch.id, project="p2")
    subscription(services.store, ch.id, enabled=False)
    event, _ = ingest.accept_event(services, "p1", "ICA_EXEC_002", ANALYSIS)

    assert routing.route_event(services, event.id) == 3

    sent = {m["subscriptionId"] for m in _deliveries(services)}
    assert sent == {by_code.id, wildcard.id, filtered.id}


def test_routing_twice_creates_no_second_notification(services: Services) -> None:
    ch = channel(services.store, "http://127.0.0.1:9/hook")
    subscription(services.store, ch.id)
    event, _ = ingest.accept_event(services, "p1", "ICA_EXEC_002", ANALYSIS)
    routing.route_event(services, event.id)
    routing.route_event(services, event.id)
    _, notifications = services.store.get_event_with_notifications(event.id)
    assert len(notifications) == 1


def test_event_without_subscribers_is_settled_as_success(services: Services) -> None:
    event, _ = ingest.accept_event(services, "p1", "ICA_EXEC_002", ANALYSIS)
    assert routing.route_event(services, event.id) == 0
    stored = services.store.get_event(event.id)
    assert stored is not None and stored.routed and stored.status == "success"


def test_routed_event_with_notifications_is_pending(services: Services) -> None:
    ch = channel(services.store, "http://127.0.0.1:9/hook")
    subscription(services.store, ch.id)
    event, _ = ingest.accept_event(services, "p1", "ICA_EXEC_002", ANALYSIS)
    routing.route_event(services, event.id)
    stored = services.store.get_event(event.id)
    assert stored is not None and stored.status == "pending"
