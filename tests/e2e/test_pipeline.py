"""The whole pipeline on the embedded runtime: API → ingest → filter → deliver → receiver."""

from __future__ import annotations

import json

import pytest
from standardwebhooks import Webhook

from tests.conftest import Receiver
from tests.e2e.conftest import Herald

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]

ANALYSIS = {
    "id": "0c2ed19d-9452-4258-809b-0d676EXAMPLE",
    "status": "SUCCEEDED",
    "pipeline": {"code": "CopyToolDev", "pipelineTags": {"technicalTags": ["Demo"]}},
}


def _subscribe(herald: Herald, project: str, address: str, **fields: object) -> tuple[dict, dict]:
    status, channel = herald.call("POST", "/api/notificationChannels", {"type": "HTTP", "address": address})
    assert status == 201, channel
    body = {"eventCode": "ICA_EXEC_002", "notificationChannelId": channel["id"], **fields}
    status, sub = herald.call("POST", f"/api/projects/{project}/notificationSubscriptions", body)
    assert status == 201, sub
    return channel, sub


def _post(herald: Herald, project: str, payload: dict, code: str = "ICA_EXEC_002") -> dict:
    status, accepted = herald.call(
        "POST",
        f"/api/projects/{project}/events",
        {"eventCode": code, "payload": payload, "description": "Analysis success"},
    )
    assert status == 202, accepted
    return accepted


def test_delivery_is_signed_and_verifies_with_standardwebhooks(
    herald: Herald, project: str, receiver: Receiver
) -> None:
    channel, sub = _subscribe(herald, project, receiver.url, filterExpression="[?($.status == 'SUCCEEDED')]")
    accepted = _post(herald, project, ANALYSIS)

    event = herald.event_when(accepted["id"], "success")

    [request] = receiver.requests
    envelope = Webhook(channel["secret"]).verify(request["body"], request["headers"])
    assert envelope["eventCode"] == "ICA_EXEC_002"
    assert envelope["payload"] == ANALYSIS
    assert envelope["projectId"] == project
    assert envelope["correlationId"] == event["correlationId"]
    assert set(envelope) == {
        "correlationId",
        "timestamp",
        "eventCode",
        "description",
        "payload",
        "projectId",
        "payloadVersion",
    }
    [notification] = event["notifications"]
    assert notification["subscriptionId"] == sub["id"]
    [attempt] = notification["attempts"]
    assert attempt["success"] is True and attempt["httpStatus"] == 200 and attempt["durationMs"] >= 0


def test_filter_that_does_not_match_sends_nothing(herald: Herald, project: str, receiver: Receiver) -> None:
    _subscribe(herald, project, receiver.url, filterExpression="[?($.status == 'FAILED')]")
    accepted = _post(herald, project, ANALYSIS)
    event = herald.event_when(accepted["id"], "success")
    assert event["notifications"] == []
    assert receiver.requests == []


def test_receiver_failing_twice_gets_it_on_the_third_attempt(
    herald: Herald, project: str, receiver: Receiver
) -> None:
    receiver.statuses = [500, 503]
    _subscribe(herald, project, receiver.url)
    accepted = _post(herald, project, ANALYSIS)

    event = herald.event_when(accepted["id"], "success")

    [notification] = event["notifications"]
    assert [a["httpStatus"] for a in notification["attempts"]] == [500, 503, 200]
    assert len(receiver.requests) == 3
    assert len({r["headers"]["webhook-id"] for r in receiver.requests}) == 1  # same message id on retries


def test_receiver_that_always_fails_ends_failed_and_visible(
    herald: Herald, project: str, receiver: Receiver
) -> None:
    receiver.statuses = [500] * 10
    _subscribe(herald, project, receiver.url)
    accepted = _post(herald, project, ANALYSIS)

    event = herald.event_when(accepted["id"], "failed")

    [notification] = event["notifications"]
    assert notification["status"] == "failed"
    assert [a["httpStatus"] for a in notification["attempts"]] == [500, 500, 500]
    assert notification["lastError"] == "HTTP 500"
    status, listed = herald.call("GET", f"/v1/events?project={project}")
    assert status == 200 and [e["status"] for e in listed["items"]] == ["failed"]


def test_refused_connection_is_retried_then_failed(herald: Herald, project: str) -> None:
    _subscribe(herald, project, "http://127.0.0.1:9/unreachable")
    accepted = _post(herald, project, ANALYSIS)
    event = herald.event_when(accepted["id"], "failed")
    errors = [a["error"] for a in event["notifications"][0]["attempts"]]
    assert errors == ["connection refused or unreachable"] * 3


def test_wildcard_and_code_subscriptions_each_deliver(
    herald: Herald, project: str, receiver: Receiver
) -> None:
    _subscribe(herald, project, receiver.url)
    _subscribe(herald, project, receiver.url, eventCode="*")
    accepted = _post(herald, project, ANALYSIS)
    event = herald.event_when(accepted["id"], "success")
    assert len(event["notifications"]) == 2
    assert len(receiver.requests) == 2


def test_sqs_channel_receives_the_envelope(herald: Herald, project: str) -> None:
    sqs = herald.boto3("sqs")
    queue_url = sqs.create_queue(QueueName=f"target-{project}"[:80])["QueueUrl"]
    status, channel = herald.call("POST", "/api/notificationChannels", {"type": "SQS", "address": queue_url})
    assert status == 201, channel
    herald.call(
        "POST",
        f"/api/projects/{project}/notificationSubscriptions",
        {"eventCode": "ICA_EXEC_002", "notificationChannelId": channel["id"]},
    )
    accepted = _post(herald, project, ANALYSIS)
    herald.event_when(accepted["id"], "success")
    [message] = sqs.receive_message(QueueUrl=queue_url, MessageAttributeNames=["All"])["Messages"]
    assert json.loads(message["Body"])["payload"] == ANALYSIS
    assert message["MessageAttributes"]["eventCode"]["StringValue"] == "ICA_EXEC_002"


def test_idempotent_ingest_delivers_once(herald: Herald, project: str, receiver: Receiver) -> None:
    _subscribe(herald, project, receiver.url)
    body = {"eventCode": "ICA_EXEC_002", "payload": ANALYSIS, "id": "run-42"}
    _, first = herald.call("POST", f"/api/projects/{project}/events", body)
    _, second = herald.call("POST", f"/api/projects/{project}/events", body)
    assert first["id"] == second["id"]
    herald.event_when(first["id"], "success")
    assert len(receiver.requests) == 1
