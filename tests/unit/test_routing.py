"""Routing: an event becomes one notification per matching, enabled subscription."""

from __future__ import annotations

import json

import pytest

from herald import aws, ingest, names, routing
from herald.services import Services, build_services
from herald.settings import get_settings, reset_settings
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


def test_routed_event_is_broadcast_once_with_its_code_as_attribute(
    services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    sqs, sns = services.queues.sqs, aws.client("sns")
    topic = sns.create_topic(Name="broadcast")["TopicArn"]
    queue = sqs.create_queue(QueueName="consumer")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn)
    monkeypatch.setenv(names.ENV_BROADCAST_TOPIC_ARN, topic)
    reset_settings()
    svc = build_services(get_settings())
    event, _ = ingest.accept_event(svc, "p1", "ICA_EXEC_002", ANALYSIS)
    routing.route_event(svc, event.id)
    routing.route_event(svc, event.id)  # a redelivery publishes nothing more

    messages = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10)["Messages"]
    assert len(messages) == 1
    notification = json.loads(messages[0]["Body"])
    assert json.loads(notification["Message"])["correlationId"] == event.correlationId
    assert notification["MessageAttributes"]["eventCode"]["Value"] == "ICA_EXEC_002"


@pytest.mark.parametrize(
    ("code", "reaches_data_wildcard"),
    [
        ("ICA_DATA_104", True),
        ("ICA_DATA_108", True),
        ("ICA_DATA_114", True),
        ("ICA_DATA_100", True),
        ("ICA_DATA_002", False),
        ("ICA_DATA_025", False),
        ("ICA_EXEC_002", False),
    ],
)
def test_ica_data_100_covers_project_data_status_changes_only(
    services: Services, code: str, reaches_data_wildcard: bool
) -> None:
    ch = channel(services.store, "http://127.0.0.1:9/hook")
    wildcard = subscription(services.store, ch.id, code="ICA_DATA_100")
    event, _ = ingest.accept_event(services, "p1", code, {"id": "fil.1"})
    routing.route_event(services, event.id)
    _, notifications = services.store.get_event_with_notifications(event.id)
    assert (wildcard.id in {n.subscriptionId for n in notifications}) is reaches_data_wildcard
