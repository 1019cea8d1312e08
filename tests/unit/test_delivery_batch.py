"""A batch of deliveries: read once when it starts, its events' status and its channels'
counters written once when it ends, and what a snapshot that old can and cannot show."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest

from herald import signing
from herald.dal.events import EventStore
from herald.dev.local.lambda_context import LocalContext
from herald.domain.messages import CARRIED_EVENT_BYTES
from herald.domain.models import Channel, NotificationStatus
from herald.handlers import deliver
from herald.handlers import route as route_handler
from herald.logic import accept
from herald.logic.services import Services
from tests import events
from tests.conftest import Receiver
from tests.unit.builders import ANALYSIS, channel, subscription


class DynamoCalls:
    """Every DynamoDB operation the test's client makes, with the sort key it names (if one), and
    the sort keys each BatchGetItem asked for."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str | None]] = []
        self.batch_keys: list[list[str]] = []

    def __call__(self, params: dict[str, Any], model: Any, **_: Any) -> None:
        key = params.get("Key") or {}
        sk = key.get("sk", {}).get("S") if isinstance(key, dict) else None
        self.calls.append((model.name, sk))
        for request in (params.get("RequestItems") or {}).values():
            self.batch_keys.append([k["sk"]["S"] for k in request["Keys"]])

    def named(self, operation: str) -> list[str | None]:
        return [sk for op, sk in self.calls if op == operation]


@pytest.fixture
def dynamo_calls(services: Services) -> Iterator[DynamoCalls]:
    calls = DynamoCalls()
    services.table.ddb.meta.events.register("before-parameter-build.dynamodb", calls)
    yield calls
    services.table.ddb.meta.events.unregister("before-parameter-build.dynamodb", calls)


def _route(services: Services, n_events: int = 1, first: int = 0) -> list[str]:
    """Accept `n_events` events (analyses numbered from `first`) and route them."""
    ids = [
        accept.accept_event(services, "p1", "ICA_EXEC_002", {**ANALYSIS, "id": f"a{n}"})[0].id
        for n in range(first, first + n_events)
    ]
    batch = events.received(services.queues.sqs, services.queues.events_url, "sqs_route")
    assert route_handler.handler(batch, LocalContext("route"), services=services) == {"batchItemFailures": []}
    return ids


def _deliveries(services: Services) -> dict[str, Any]:
    return events.received(services.queues.sqs, services.queues.deliveries_url, "sqs_deliver")


def _deliver(services: Services, batch: dict[str, Any]) -> dict[str, Any]:
    return dict(deliver.handler(batch, LocalContext("deliver"), services=services))


def _three_deliveries(
    services: Services, receiver: Receiver, calls: DynamoCalls
) -> tuple[str, dict[str, Any]]:
    """One event routed to three subscriptions of one channel: its id and its delivery batch
    (the calls counted from here on)."""
    ch = channel(services, receiver.url)
    for _ in range(3):
        subscription(services, ch.id)
    (event_id,) = _route(services)
    batch = _deliveries(services)
    assert len(batch["Records"]) == 3
    calls.calls.clear()
    calls.batch_keys.clear()
    return event_id, batch


def test_a_batch_reads_its_notifications_events_subscriptions_and_channels_in_two_calls(
    services: Services, receiver: Receiver, dynamo_calls: DynamoCalls
) -> None:
    _, batch = _three_deliveries(services, receiver, dynamo_calls)

    assert _deliver(services, batch) == {"batchItemFailures": []}

    assert len(dynamo_calls.named("BatchGetItem")) == 2
    assert dynamo_calls.named("GetItem") == []  # the channel's health came with its item
    assert len(receiver.requests) == 3


def test_an_event_whose_every_notification_the_batch_settled_is_settled_without_a_query(
    services: Services, receiver: Receiver, dynamo_calls: DynamoCalls
) -> None:
    event_id, batch = _three_deliveries(services, receiver, dynamo_calls)

    _deliver(services, batch)

    assert dynamo_calls.named("Query") == []
    assert dynamo_calls.named("UpdateItem").count("EVENT") == 1
    stored = services.events.get(event_id, consistent=True)
    assert stored is not None and stored.status == NotificationStatus.SUCCESS


def test_an_event_the_batch_delivered_only_in_part_is_settled_from_its_partition(
    services: Services, receiver: Receiver
) -> None:
    ch = channel(services, receiver.url)
    subscription(services, ch.id)
    subscription(services, ch.id)
    (event_id,) = _route(services)
    batch = _deliveries(services)
    batch["Records"] = batch["Records"][:1]

    _deliver(services, batch)

    stored = services.events.get(event_id, consistent=True)
    assert stored is not None and stored.status == NotificationStatus.PENDING
    statuses = sorted(n.status for n in services.events.get_with_notifications(event_id, consistent=True)[1])
    assert statuses == [NotificationStatus.PENDING, NotificationStatus.SUCCESS]


def test_a_failed_attempt_in_a_batch_leaves_its_event_retryable(
    services: Services, receiver: Receiver
) -> None:
    receiver.statuses = [500]
    ch = channel(services, receiver.url)
    subscription(services, ch.id)
    (event_id,) = _route(services)

    _deliver(services, _deliveries(services))

    stored = services.events.get(event_id, consistent=True)
    assert stored is not None and stored.status == NotificationStatus.RETRYABLE


def test_a_batchs_attempts_are_counted_in_one_write_per_channel_and_minute(
    services: Services, receiver: Receiver, dynamo_calls: DynamoCalls
) -> None:
    ch = channel(services, receiver.url)
    subscription(services, ch.id)
    _route(services, n_events=4)
    batch = _deliveries(services)
    assert len(batch["Records"]) == 4
    dynamo_calls.calls.clear()

    _deliver(services, batch)

    stats_writes = [sk for sk in dynamo_calls.named("UpdateItem") if sk and sk.startswith("STATS#")]
    assert len(stats_writes) == len(set(stats_writes)) <= 2  # one per minute the batch spanned
    points = services.channel_stats.series(ch.id, time.time() - 120, time.time(), 60)
    assert sum(p.succeeded for p in points) == 4


def test_a_batch_that_stops_before_settling_its_events_has_them_settled_when_it_comes_back(
    services: Services, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    ch = channel(services, receiver.url)
    subscription(services, ch.id)
    (event_id,) = _route(services)
    batch = _deliveries(services)

    def crash(*_: Any, **__: Any) -> None:
        raise RuntimeError("the function stopped")

    with monkeypatch.context() as patched:
        patched.setattr(EventStore, "settle_deliveries", crash)
        with pytest.raises(RuntimeError):
            _deliver(services, batch)
    stored = services.events.get(event_id, consistent=True)
    assert stored is not None and stored.status == NotificationStatus.PENDING  # stale, for now

    # Lambda returns the whole batch: the delivered notification is skipped, its event settled.
    assert _deliver(services, batch) == {"batchItemFailures": []}

    assert len(receiver.requests) == 1
    stored = services.events.get(event_id, consistent=True)
    assert stored is not None and stored.status == NotificationStatus.SUCCESS


# --- staleness: a batch's snapshot is as old as the batch; the next batch reads afresh ---------------
def _one_delivered(services: Services, receiver: Receiver) -> Channel:
    """A channel and a subscription, and one event delivered through them: the batches' reads are warm."""
    ch = channel(services, receiver.url)
    subscription(services, ch.id)
    _route(services)
    _deliver(services, _deliveries(services))
    return ch


def test_a_channel_disabled_after_a_batch_is_seen_by_the_next_batch(
    services: Services, receiver: Receiver
) -> None:
    ch = _one_delivered(services, receiver)
    services.channels.put(ch.model_copy(update={"enabled": False, "disabledReason": "by a test"}))
    (later,) = _route(services, first=1)

    _deliver(services, _deliveries(services))

    assert len(receiver.requests) == 1
    _, (notification,) = services.events.get_with_notifications(later, consistent=True)
    assert notification.status == NotificationStatus.FAILED
    assert notification.lastError is not None and "disabled" in notification.lastError


def test_a_secret_rotated_after_a_batch_signs_the_next_batchs_deliveries(
    services: Services, receiver: Receiver
) -> None:
    ch = _one_delivered(services, receiver)
    rotated = signing.generate_secret()
    services.channels.put(ch.model_copy(update={"secret": rotated}))
    _route(services, first=1)

    _deliver(services, _deliveries(services))

    first, second = receiver.requests
    assert signing.verify(first["body"], first["headers"], ch.secret)
    assert signing.verify(second["body"], second["headers"], rotated)
    with pytest.raises(signing.SignatureError):
        signing.verify(second["body"], second["headers"], ch.secret)


def test_a_subscription_deleted_after_a_batch_is_not_delivered_by_the_next_batch(
    services: Services, receiver: Receiver
) -> None:
    ch = channel(services, receiver.url)
    sub = subscription(services, ch.id)
    (event_id,) = _route(services)
    batch = _deliveries(services)
    services.subscriptions.delete(sub.projectId, sub.id)

    _deliver(services, batch)

    assert receiver.requests == []
    _, (notification,) = services.events.get_with_notifications(event_id, consistent=True)
    assert notification.status == NotificationStatus.FAILED
    assert notification.lastError == "the subscription no longer exists"


def test_an_event_carried_in_its_messages_is_not_read_again(
    services: Services, receiver: Receiver, dynamo_calls: DynamoCalls
) -> None:
    _, batch = _three_deliveries(services, receiver, dynamo_calls)

    _deliver(services, batch)

    assert all("EVENT" not in keys for keys in dynamo_calls.batch_keys)
    assert len(receiver.requests) == 3


def test_an_event_too_big_to_carry_is_read_with_the_batch(
    services: Services, receiver: Receiver, dynamo_calls: DynamoCalls
) -> None:
    ch = channel(services, receiver.url)
    subscription(services, ch.id)
    big = {**ANALYSIS, "id": "big", "notes": "x" * (CARRIED_EVENT_BYTES + 1)}
    event, _ = accept.accept_event(services, "p1", "ICA_EXEC_002", big)
    route_handler.handler(
        events.received(services.queues.sqs, services.queues.events_url, "sqs_route"),
        LocalContext("route"),
        services=services,
    )
    batch = _deliveries(services)
    assert "notes" not in batch["Records"][0]["body"]
    dynamo_calls.calls.clear()
    dynamo_calls.batch_keys.clear()

    _deliver(services, batch)

    assert any("EVENT" in keys for keys in dynamo_calls.batch_keys)
    assert receiver.bodies()[0]["payload"]["notes"] == big["notes"]
    stored = services.events.get(event.id, consistent=True)
    assert stored is not None and stored.status == NotificationStatus.SUCCESS
