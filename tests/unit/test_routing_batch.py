"""A batch of routed events sends together: its deliveries and broadcasts in batch calls, and
no event is marked routed before they are all accepted."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

import pytest

from herald.adapters import aws
from herald.dal.events import EventStore
from herald.dev.local.lambda_context import LocalContext
from herald.domain.models import Event
from herald.domain.settings import get_settings
from herald.handlers import route as route_handler
from herald.logic import accept, routing
from herald.logic.services import Services, build_services
from tests import events
from tests.unit.builders import ANALYSIS, channel, subscription


class Calls(Counter[str]):
    def __call__(self, model: Any, **_: Any) -> None:
        self[model.name] += 1


@pytest.fixture
def broadcasting(broadcast_consumer: str) -> tuple[Services, str]:
    """Services whose deployment broadcasts to a topic; the topic's consumer queue's URL."""
    return build_services(get_settings()), broadcast_consumer


def _accept(services: Services, n: int) -> list[str]:
    return [
        accept.accept_event(services, "p1", "ICA_EXEC_002", {**ANALYSIS, "id": f"a{i}"})[0].id
        for i in range(n)
    ]


def _received(sqs: Any, queue: str) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    while batch := sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10).get("Messages"):
        out.extend(batch)
        sqs.delete_message_batch(
            QueueUrl=queue,
            Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(batch)],
        )
    return out


def test_a_batchs_deliveries_and_broadcasts_go_out_in_one_call_each(
    broadcasting: tuple[Services, str],
) -> None:
    svc, consumer = broadcasting
    ch = channel(svc, "http://127.0.0.1:9/hook")
    subscription(svc, ch.id)
    ids = _accept(svc, 5)
    batch = events.received(svc.queues.sqs, svc.queues.events_url, "sqs_route")
    assert len(batch["Records"]) == 5
    sqs_calls, sns_calls = Calls(), Calls()
    svc.queues.sqs.meta.events.register("before-call.sqs", sqs_calls)
    aws.client("sns").meta.events.register("before-call.sns", sns_calls)
    try:
        assert route_handler.handler(batch, LocalContext("route"), services=svc) == {"batchItemFailures": []}
    finally:
        svc.queues.sqs.meta.events.unregister("before-call.sqs", sqs_calls)
        aws.client("sns").meta.events.unregister("before-call.sns", sns_calls)

    assert sqs_calls["SendMessageBatch"] == 1
    assert sns_calls == Counter({"PublishBatch": 1})
    delivered = {
        json.loads(m["Body"])["eventId"] for m in _received(svc.queues.sqs, svc.queues.deliveries_url)
    }
    broadcast = {
        json.loads(json.loads(m["Body"])["Message"])["correlationId"]
        for m in _received(svc.queues.sqs, consumer)
    }
    assert delivered == set(ids)
    assert broadcast == {svc.events.get(i).correlationId for i in ids}  # type: ignore[union-attr]
    assert all(svc.events.get(i, consistent=True).routed for i in ids)  # type: ignore[union-attr]


def test_broadcasts_too_big_for_one_publish_batch_are_split(broadcasting: tuple[Services, str]) -> None:
    svc, consumer = broadcasting
    # Three ~100 KB payloads: SNS takes at most 256 KiB per PublishBatch.
    big = [
        accept.accept_event(svc, "p1", "ICA_EXEC_002", {**ANALYSIS, "id": f"b{i}", "notes": "x" * 100_000})[0]
        for i in range(3)
    ]
    calls = Calls()
    aws.client("sns").meta.events.register("before-call.sns", calls)
    try:
        routing.broadcast_all(svc, big)
    finally:
        aws.client("sns").meta.events.unregister("before-call.sns", calls)

    assert calls["PublishBatch"] == 2
    assert len(_received(svc.queues.sqs, consumer)) == 3


def test_events_whose_broadcasts_are_refused_fail_their_records_and_are_not_marked_routed(
    broadcasting: tuple[Services, str],
) -> None:
    svc, _ = broadcasting
    ids = _accept(svc, 3)
    batch = events.received(svc.queues.sqs, svc.queues.events_url, "sqs_route")
    aws.client("sns").delete_topic(TopicArn=svc.settings.broadcast_topic_arn)

    result = route_handler.handler(batch, LocalContext("route"), services=svc)

    # Every record fails and comes back; routing them again is safe.
    assert sorted(f["itemIdentifier"] for f in result["batchItemFailures"]) == sorted(
        r["messageId"] for r in batch["Records"]
    )
    assert not any(svc.events.get(i, consistent=True).routed for i in ids)  # type: ignore[union-attr]


def test_a_rerun_that_read_a_stale_unrouted_event_queues_no_second_delivery(
    services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    ch = channel(services, "http://127.0.0.1:9/hook")
    subscription(services, ch.id)
    (event_id,) = _accept(services, 1)
    routing.route_event(services, event_id)
    _received(services.queues.sqs, services.queues.deliveries_url)
    read = EventStore.get

    def stale(store: EventStore, eid: str, consistent: bool = False) -> Event | None:
        found = read(store, eid, consistent)
        # An eventually consistent read that has not seen the routing yet.
        return found.model_copy(update={"routed": False}) if found and not consistent else found

    monkeypatch.setattr(EventStore, "get", stale)

    assert routing.route_event(services, event_id) == 0
    assert _received(services.queues.sqs, services.queues.deliveries_url) == []


def test_a_batch_reads_its_events_in_one_call(services: Services) -> None:
    ch = channel(services, "http://127.0.0.1:9/hook")
    subscription(services, ch.id)
    _accept(services, 4)
    batch = events.received(services.queues.sqs, services.queues.events_url, "sqs_route")
    calls = Calls()
    services.table.ddb.meta.events.register("before-call.dynamodb", calls)
    try:
        route_handler.handler(batch, LocalContext("route"), services=services)
    finally:
        services.table.ddb.meta.events.unregister("before-call.dynamodb", calls)

    assert calls["BatchGetItem"] == 1
    assert calls["GetItem"] == 0


def test_two_messages_for_one_event_in_a_batch_queue_its_deliveries_once(services: Services) -> None:
    ch = channel(services, "http://127.0.0.1:9/hook")
    subscription(services, ch.id)
    (event_id,) = _accept(services, 1)
    batch = events.received(services.queues.sqs, services.queues.events_url, "sqs_route")
    twice = {"Records": [batch["Records"][0], {**batch["Records"][0], "messageId": "copy"}]}

    assert route_handler.handler(twice, LocalContext("route"), services=services) == {"batchItemFailures": []}

    assert [
        json.loads(m["Body"])["eventId"]
        for m in _received(services.queues.sqs, services.queues.deliveries_url)
    ] == [event_id]


def test_only_the_events_whose_deliveries_sqs_refused_fail_their_records(
    services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    ch = channel(services, "http://127.0.0.1:9/hook")
    subscription(services, ch.id)
    ids = _accept(services, 3)
    batch = events.received(services.queues.sqs, services.queues.events_url, "sqs_route")
    send = services.queues.sqs.send_message_batch

    def refuse_the_first(**kwargs: Any) -> dict[str, Any]:
        answer = send(**kwargs)
        entry = kwargs["Entries"][0]
        return {
            "Successful": [s for s in answer.get("Successful", []) if s["Id"] != entry["Id"]],
            "Failed": [
                {"Id": entry["Id"], "Code": "InternalError", "Message": "refused", "SenderFault": False}
            ],
        }

    monkeypatch.setattr(services.queues.sqs, "send_message_batch", refuse_the_first)
    result = route_handler.handler(batch, LocalContext("route"), services=services)

    refused = json.loads(batch["Records"][0]["body"])["eventId"]
    by_event = {json.loads(r["body"])["eventId"]: r["messageId"] for r in batch["Records"]}
    assert result["batchItemFailures"] == [{"itemIdentifier": by_event[refused]}]
    routed = {i for i in ids if services.events.get(i, consistent=True).routed}  # type: ignore[union-attr]
    assert routed == set(ids) - {refused}
