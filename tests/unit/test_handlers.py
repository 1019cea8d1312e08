"""The SQS-triggered Lambda handlers: partial batch failures and SQS-held retries."""

from __future__ import annotations

import json
from typing import Any

import pytest

from herald import names
from herald.dal.subscriptions import SubscriptionStore
from herald.dev.local.lambda_context import LocalContext
from herald.domain import ids
from herald.domain.settings import reset_settings
from herald.handlers import api, bridge, deliver, reprocess, scheduled
from herald.handlers import route as route_handler
from herald.logic import accept
from herald.logic.services import Services, reset_services
from tests import events
from tests.conftest import Receiver
from tests.unit.builders import ANALYSIS, channel, subscription

# An envelope naming no project (and no default project configured): the bridge refuses it.
ANALYSIS_ENVELOPE = {"correlationId": "c-2", "eventCode": "ICA_EXEC_002", "payload": ANALYSIS}


def _routed_event(services: Services, address: str) -> None:
    ch = channel(services, address)
    subscription(services, ch.id)
    accept.accept_event(services, "p1", "ICA_EXEC_002", ANALYSIS)
    sqs = services.queues.sqs
    result = route_handler.handler(
        events.received(sqs, services.queues.events_url, "sqs_route"), LocalContext("filter")
    )
    assert result == {"batchItemFailures": []}


def test_deliver_handler_reports_success_with_no_failures(services: Services, receiver: Receiver) -> None:
    _routed_event(services, receiver.url)
    event = events.received(services.queues.sqs, services.queues.deliveries_url, "sqs_deliver")
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
    event = events.received(sqs, services.queues.deliveries_url, "sqs_deliver")

    result = deliver.handler(event, LocalContext("deliver"))

    assert result == {"batchItemFailures": [{"itemIdentifier": event["Records"][0]["messageId"]}]}
    # Visibility was set to the 600 s backoff: the message is not receivable now.
    assert sqs.receive_message(QueueUrl=services.queues.deliveries_url).get("Messages") is None


def test_poison_message_fails_its_record_only(services: Services, receiver: Receiver) -> None:
    _routed_event(services, receiver.url)
    sqs = services.queues.sqs
    sqs.send_message(QueueUrl=services.queues.deliveries_url, MessageBody="{not json")
    event = events.received(sqs, services.queues.deliveries_url, "sqs_deliver")
    poison = [r["messageId"] for r in event["Records"] if r["body"] == "{not json"]

    result = deliver.handler(event, LocalContext("deliver"))

    assert result == {"batchItemFailures": [{"itemIdentifier": poison[0]}]}
    assert len(receiver.requests) == 1


def test_reprocess_handler_settles_a_dead_letter(services: Services) -> None:
    sqs = services.queues.sqs
    dlq = sqs.get_queue_url(QueueName=names.EVENTS_DLQ_NAME)["QueueUrl"]
    event, _ = accept.accept_event(services, "p1", "ICA_EXEC_002", ANALYSIS)
    sqs.send_message(QueueUrl=dlq, MessageBody=f'{{"kind":"event","eventId":"{event.id}","projectId":"p1"}}')

    assert reprocess.handler(events.received(sqs, dlq, "sqs_reprocess"), LocalContext("reprocess")) == {
        "batchItemFailures": []
    }
    assert services.events.get(event.id).status == "failed"


def test_a_slow_target_does_not_hold_up_the_rest_of_its_batch(services: Services) -> None:
    """The slow receiver answers only once the fast one has been served: sent one after the
    other (slow first), the slow one would time out; sent concurrently, both succeed."""
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    fast_served = threading.Event()

    def server(wait_for_fast: bool) -> ThreadingHTTPServer:
        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if wait_for_fast:
                    fast_served.wait(timeout=10)
                else:
                    fast_served.set()
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        httpd.daemon_threads = True
        threading.Thread(target=httpd.serve_forever, daemon=True).start()
        return httpd

    slow, fast = server(wait_for_fast=True), server(wait_for_fast=False)
    try:
        slow_channel = channel(services, f"http://127.0.0.1:{slow.server_address[1]}/", timeoutSeconds=5)
        fast_channel = channel(services, f"http://127.0.0.1:{fast.server_address[1]}/")
        slow_sub = subscription(services, slow_channel.id)
        subscription(services, fast_channel.id)
        accept.accept_event(services, "p1", "ICA_EXEC_002", ANALYSIS)
        route_handler.handler(
            events.received(services.queues.sqs, services.queues.events_url, "sqs_route"), LocalContext("f")
        )
        batch = events.received(services.queues.sqs, services.queues.deliveries_url, "sqs_deliver")
        assert len(batch["Records"]) == 2
        # The slow target's record first: a sequential sender would be stuck on it.
        batch["Records"].sort(key=lambda r: slow_sub.id not in r["body"])

        assert deliver.handler(batch, LocalContext("deliver")) == {"batchItemFailures": []}
    finally:
        for httpd in (slow, fast):
            httpd.shutdown()
            httpd.server_close()


def test_filter_handler_reads_a_batchs_subscriptions_once_per_project_and_code(
    services: Services, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    ch = channel(services, receiver.url)
    subscription(services, ch.id)
    for n in range(5):
        accept.accept_event(services, "p1", "ICA_EXEC_002", {**ANALYSIS, "id": f"a{n}"})
    accept.accept_event(services, "p2", "ICA_EXEC_002", ANALYSIS)
    reads: list[tuple[str, tuple[str, ...]]] = []
    read = SubscriptionStore.for_codes

    def counted(store: SubscriptionStore, project_id: str, codes: tuple[str, ...]) -> list[Any]:
        reads.append((project_id, tuple(codes)))
        return read(store, project_id, codes)

    monkeypatch.setattr(SubscriptionStore, "for_codes", counted)
    batch = events.received(services.queues.sqs, services.queues.events_url, "sqs_route")
    assert len(batch["Records"]) == 6

    assert route_handler.handler(batch, LocalContext("filter")) == {"batchItemFailures": []}

    assert sorted(reads) == [("p1", ("ICA_EXEC_002",)), ("p2", ("ICA_EXEC_002",))]
    deliveries = services.queues.sqs.receive_message(
        QueueUrl=services.queues.deliveries_url, MaxNumberOfMessages=10
    )["Messages"]
    assert len(deliveries) == 5  # every p1 event still gets its notification


def test_a_subscription_created_between_batches_is_seen_by_the_next_batch(
    services: Services, receiver: Receiver
) -> None:
    ch = channel(services, receiver.url)
    subscription(services, ch.id)
    accept.accept_event(services, "p1", "ICA_EXEC_002", ANALYSIS)
    route_handler.handler(
        events.received(services.queues.sqs, services.queues.events_url, "sqs_route"), LocalContext("f")
    )
    later = subscription(services, ch.id)
    event, _ = accept.accept_event(services, "p1", "ICA_EXEC_002", {**ANALYSIS, "id": "a2"})

    route_handler.handler(
        events.received(services.queues.sqs, services.queues.events_url, "sqs_route"), LocalContext("f")
    )

    assert services.notifications.get(event.id, later.id) is not None


def test_bridge_handler_ingests_an_ica_envelope_wrapped_by_sns(services: Services) -> None:
    sample = events.load("sqs_bridge_sns")
    envelope = json.loads(json.loads(sample["Records"][0]["body"])["Message"])

    assert bridge.handler(sample, LocalContext("ingest"), services=services) == {"batchItemFailures": []}

    stored = services.events.get(ids.event_id_for("prj-1", envelope["correlationId"]))
    assert stored is not None
    assert (stored.eventCode, stored.payload) == (envelope["eventCode"], envelope["payload"])


def test_bridge_handler_fails_only_the_record_it_cannot_attribute(services: Services) -> None:
    sample = events.load("sqs_bridge")
    unattributed = {**sample["Records"][0], "messageId": "m-2", "body": json.dumps({**ANALYSIS_ENVELOPE})}
    sample["Records"].append(unattributed)

    result = bridge.handler(sample, LocalContext("ingest"), services=services)

    assert result == {"batchItemFailures": [{"itemIdentifier": "m-2"}]}


def test_scheduled_handler_reports_what_it_found_on_the_rules_event(services: Services) -> None:
    result = scheduled.handler(
        events.load("eventbridge_schedule"), LocalContext("scheduled"), services=services
    )
    assert result == {"stalled": 0, "requeued": 0}


def test_api_handler_answers_an_api_gateway_proxy_request() -> None:
    response = api.handler(events.load("apigw_rest_proxy"), LocalContext("api"))
    assert response["statusCode"] == 200
    assert json.loads(response["body"])["status"] == "ok"
