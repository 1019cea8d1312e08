"""The SQS-triggered Lambda handlers: partial batch failures and SQS-held retries."""

from __future__ import annotations

from typing import Any

import pytest

from herald import ingest, names
from herald.handlers import deliver, reprocess
from herald.handlers import filter as filter_handler
from herald.local.lambda_context import LocalContext
from herald.local.pollers import SqsPoller
from herald.services import Services, reset_services
from herald.settings import reset_settings
from tests.conftest import Receiver
from tests.unit.builders import ANALYSIS, channel, subscription


def _sqs_event(sqs: Any, queue_url: str) -> dict[str, Any]:
    poller = SqsPoller.__new__(SqsPoller)
    poller.queue_arn = f"arn:aws:sqs:us-east-1:123456789012:{queue_url.rsplit('/', 1)[1]}"
    messages = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, AttributeNames=["All"])[
        "Messages"
    ]
    return {"Records": [poller._record(m) for m in messages]}


def _routed_event(services: Services, address: str) -> None:
    ch = channel(services.store, address)
    subscription(services.store, ch.id)
    ingest.accept_event(services, "p1", "ICA_EXEC_002", ANALYSIS)
    sqs = services.queues.sqs
    result = filter_handler.handler(_sqs_event(sqs, services.queues.events_url), LocalContext("filter"))
    assert result == {"batchItemFailures": []}


def test_deliver_handler_reports_success_with_no_failures(services: Services, receiver: Receiver) -> None:
    _routed_event(services, receiver.url)
    event = _sqs_event(services.queues.sqs, services.queues.deliveries_url)
    assert deliver.handler(event, LocalContext("deliver")) == {"batchItemFailures": []}
    assert len(receiver.requests) == 1


def test_failed_delivery_is_reported_and_hidden_for_the_backoff_delay(
    services: Services, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(names.ENV_RETRY_SCHEDULE, "600")
    reset_settings()
    reset_services()
    receiver.statuses = [500]
    _routed_event(services, receiver.url)
    sqs = services.queues.sqs
    event = _sqs_event(sqs, services.queues.deliveries_url)

    result = deliver.handler(event, LocalContext("deliver"))

    assert result == {"batchItemFailures": [{"itemIdentifier": event["Records"][0]["messageId"]}]}
    # Visibility was set to the 600 s backoff: the message is not receivable now.
    assert sqs.receive_message(QueueUrl=services.queues.deliveries_url).get("Messages") is None


def test_poison_message_fails_its_record_only(services: Services, receiver: Receiver) -> None:
    _routed_event(services, receiver.url)
    sqs = services.queues.sqs
    sqs.send_message(QueueUrl=services.queues.deliveries_url, MessageBody="{not json")
    event = _sqs_event(sqs, services.queues.deliveries_url)
    poison = [r["messageId"] for r in event["Records"] if r["body"] == "{not json"]

    result = deliver.handler(event, LocalContext("deliver"))

    assert result == {"batchItemFailures": [{"itemIdentifier": poison[0]}]}
    assert len(receiver.requests) == 1


def test_reprocess_handler_settles_a_dead_letter(services: Services) -> None:
    sqs = services.queues.sqs
    dlq = sqs.get_queue_url(QueueName=names.EVENTS_DLQ_NAME)["QueueUrl"]
    event, _ = ingest.accept_event(services, "p1", "ICA_EXEC_002", ANALYSIS)
    sqs.send_message(QueueUrl=dlq, MessageBody=f'{{"kind":"event","eventId":"{event.id}","projectId":"p1"}}')

    assert reprocess.handler(_sqs_event(sqs, dlq), LocalContext("reprocess")) == {"batchItemFailures": []}
    assert services.store.get_event(event.id).status == "failed"
