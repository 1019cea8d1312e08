"""The deliver function's queues: deferred deliveries come back later, ordered ones keep order."""

from __future__ import annotations

from typing import Any

from herald.dev.local.lambda_context import LocalContext
from herald.dev.local.resources import LocalResources
from herald.domain import clock, ids
from herald.domain.messages import DeliverNotification
from herald.handlers import deliver
from herald.handlers import route as route_handler
from herald.logic import accept
from herald.logic.services import Services
from tests import events
from tests.conftest import Receiver
from tests.unit.builders import ANALYSIS, channel, subscription

REFUSED = "http://127.0.0.1:1/hook"  # nothing listens: every attempt fails


def _post_and_route(services: Services, n: int) -> list[str]:
    ids = []
    for i in range(n):
        event, _ = accept.accept_event(services, "p1", "ICA_EXEC_002", {**ANALYSIS, "id": f"analysis-{i}"})
        ids.append(event.id)
        # One event per routing batch: the order routing sends them in is the order posted.
        result = route_handler.handler(
            events.received(services.queues.sqs, services.queues.events_url, "sqs_route"), LocalContext("f")
        )
        assert result == {"batchItemFailures": []}
    return ids


def _fifo_batch(services: Services, resources: LocalResources) -> dict[str, Any]:
    return events.received(services.queues.sqs, resources.ordered_deliveries_queue_url, "sqs_deliver_ordered")


def _bodies(records: list[dict[str, Any]]) -> list[DeliverNotification]:
    return [DeliverNotification.model_validate_json(r["body"]) for r in records]


def test_a_deferred_delivery_is_sent_again_later_and_not_reported_failed(
    services: Services, receiver: Receiver
) -> None:
    ch = channel(services, receiver.url)
    subscription(services, ch.id)
    _post_and_route(services, 1)
    services.channel_health.pause(ch.id, clock.now() + 60, clock.now())
    sqs = services.queues.sqs
    event = events.received(sqs, services.queues.deliveries_url, "sqs_deliver")

    result = deliver.handler(event, LocalContext("deliver"))

    assert result == {"batchItemFailures": []}  # the original is deleted...
    attributes = sqs.get_queue_attributes(
        QueueUrl=services.queues.deliveries_url, AttributeNames=["ApproximateNumberOfMessagesDelayed"]
    )["Attributes"]
    assert attributes["ApproximateNumberOfMessagesDelayed"] == "1"  # ...and a copy waits its turn
    assert receiver.requests == []


def test_ordered_subscriptions_deliveries_go_to_the_fifo_queue_in_event_order(
    services: Services, resources: LocalResources, receiver: Receiver
) -> None:
    ch = channel(services, receiver.url)
    subscription(services, ch.id, ordered=True)

    event_ids = _post_and_route(services, 3)

    assert [m.eventId for m in _bodies(_fifo_batch(services, resources)["Records"])] == event_ids
    assert (
        services.queues.sqs.receive_message(QueueUrl=services.queues.deliveries_url).get("Messages") is None
    )


def test_a_failing_ordered_delivery_holds_back_only_its_own_subscription(
    services: Services, resources: LocalResources, receiver: Receiver
) -> None:
    failing = subscription(services, channel(services, REFUSED).id, ordered=True)
    healthy = subscription(services, channel(services, receiver.url).id, ordered=True)
    event_ids = _post_and_route(services, 3)
    batch = _fifo_batch(services, resources)

    result = deliver.handler(batch, LocalContext("deliver"))

    held = {f["itemIdentifier"] for f in result["batchItemFailures"]}
    by_id = {r["messageId"]: m for r, m in zip(batch["Records"], _bodies(batch["Records"]), strict=True)}
    assert sorted(by_id[i].eventId for i in held) == sorted(event_ids)
    assert {by_id[i].subscriptionId for i in held} == {failing.id}
    assert [r["headers"]["webhook-id"] for r in receiver.requests] == [
        ids.notification_id_for(e, healthy.id) for e in event_ids
    ]
    # Only the head was attempted; the two behind it were not.
    attempts = [len(services.notifications.get(e, failing.id).attempts) for e in event_ids]
    assert attempts == [1, 0, 0]


def test_held_back_ordered_deliveries_come_back_in_order_behind_the_retried_one(
    services: Services, resources: LocalResources
) -> None:
    failing = subscription(services, channel(services, REFUSED).id, ordered=True)
    event_ids = _post_and_route(services, 3)
    deliver.handler(_fifo_batch(services, resources), LocalContext("deliver"))

    again = _bodies(_fifo_batch(services, resources)["Records"])  # the schedule's 0 s backoff is over

    assert [(m.subscriptionId, m.eventId) for m in again] == [(failing.id, e) for e in event_ids]


def test_an_ordered_delivery_that_failed_for_good_leaves_its_group_at_once(
    services: Services, resources: LocalResources, monkeypatch: Any
) -> None:
    from herald import names
    from herald.domain.settings import get_settings, reset_settings
    from herald.logic.services import build_services

    monkeypatch.setenv(names.ENV_RETRY_SCHEDULE, "")  # one attempt only
    reset_settings()
    svc = build_services(get_settings())
    failing = subscription(svc, channel(svc, REFUSED).id, ordered=True)
    event_ids = _post_and_route(svc, 2)

    result = deliver.handler(_fifo_batch(svc, resources), LocalContext("deliver"), services=svc)

    assert result == {"batchItemFailures": []}
    statuses = [svc.notifications.get(e, failing.id).status for e in event_ids]
    assert statuses == ["failed", "failed"]
