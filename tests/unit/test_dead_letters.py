"""The reprocess function: every dead letter ends as a visible failure."""

from __future__ import annotations

import json
import time

from herald.domain.messages import DeliverNotification, RouteEvent
from herald.logic import accept, dead_letters, routing
from herald.logic.services import Services
from tests.unit.builders import ANALYSIS, channel, subscription


def test_dead_delivery_marks_the_notification_and_event_failed(services: Services) -> None:
    ch = channel(services, "http://127.0.0.1:9/hook")
    sub = subscription(services, ch.id)
    event, _ = accept.accept_event(services, "p1", "ICA_EXEC_002", ANALYSIS)
    routing.route_event(services, event.id)
    [n] = services.events.get_with_notifications(event.id)[1]
    body = DeliverNotification(eventId=event.id, subscriptionId=sub.id, notificationId=n.id).model_dump_json()

    assert dead_letters.settle(services, body) == "notification failed"

    stored, [failed] = services.events.get_with_notifications(event.id)
    assert (stored.status, failed.status) == ("failed", "failed")
    assert (
        failed.lastError
        == "retries exhausted: no attempt could be made (3 tries of the deliver function failed)"
    )


def test_dead_route_message_marks_the_event_failed(services: Services) -> None:
    event, _ = accept.accept_event(services, "p1", "ICA_EXEC_002", ANALYSIS)
    body = RouteEvent(eventId=event.id, projectId="p1").model_dump_json()

    assert dead_letters.settle(services, body) == "event failed"

    stored = services.events.get(event.id)
    assert stored.status == "failed"
    assert "routing failed" in stored.routingError


def test_unreadable_dead_letter_is_quarantined_as_a_failed_event(services: Services) -> None:
    assert dead_letters.settle(services, "not json") == "quarantined"
    [event] = services.events.list_page(dead_letters.QUARANTINE_PROJECT, 10, None, now=time.time()).items
    assert (event.status, event.payload["body"]) == ("failed", "not json")
    assert event.routingError.startswith("the message body is not JSON")


def test_ingestable_dead_letter_is_ingested_on_reprocess(services: Services) -> None:
    envelope = {
        "correlationId": "c-1",
        "eventCode": "ICA_DATA_108",
        "projectId": "p9",
        "payload": {"id": "f"},
    }
    assert dead_letters.settle(services, json.dumps(envelope)) == "ingested on reprocess"
    assert [e.eventCode for e in services.events.list_page("p9", 10, None, now=time.time()).items] == [
        "ICA_DATA_108"
    ]
