"""The bridge in, on the embedded runtime: ICA envelopes through the ingest queue and topic,
analysis status changes with derived events, and a transfer that stalls and resumes."""

from __future__ import annotations

import json
import time
import uuid

import pytest

from tests.conftest import Receiver
from tests.e2e.conftest import ONECODEX_SECRET, Herald

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]


def _subscribe(herald: Herald, project: str, address: str, code: str) -> None:
    status, channel = herald.call("POST", "/api/notificationChannels", {"type": "HTTP", "address": address})
    assert status == 201, channel
    status, sub = herald.call(
        "POST",
        f"/api/projects/{project}/notificationSubscriptions",
        {"eventCode": code, "notificationChannelId": channel["id"]},
    )
    assert status == 201, sub


def _events(herald: Herald, project: str) -> list[dict]:
    status, listed = herald.call("GET", f"/v1/events?project={project}&limit=100")
    assert status == 200, listed
    return listed["items"]


def _envelope(project: str, code: str, payload: dict) -> str:
    return json.dumps(
        {
            "correlationId": str(uuid.uuid4()),
            "timestamp": "2022-10-06T07:51:09.128Z",
            "eventCode": code,
            "description": "Data updates",
            "projectId": project,
            "payload": payload,
        }
    )


def test_envelope_sent_to_the_ingest_queue_is_delivered(
    herald: Herald, project: str, receiver: Receiver
) -> None:
    _subscribe(herald, project, receiver.url, "ICA_DATA_108")
    sqs = herald.boto3("sqs")
    body = _envelope(project, "ICA_DATA_108", {"id": "fil.1"})
    queue = sqs.get_queue_url(QueueName="herald-ingest")["QueueUrl"]
    sqs.send_message(QueueUrl=queue, MessageBody=body)
    sqs.send_message(QueueUrl=queue, MessageBody=body)  # a redelivery

    herald.wait_for(lambda: len(receiver.requests) >= 1, what="the bridged delivery")
    [event] = herald.wait_for(
        lambda: [e for e in _events(herald, project) if e["status"] == "success"] or None
    )
    assert event["correlationId"] == json.loads(body)["correlationId"]
    time.sleep(1)
    assert len(receiver.requests) == 1


def test_envelope_published_to_the_ingest_topic_is_delivered(
    herald: Herald, project: str, receiver: Receiver
) -> None:
    _subscribe(herald, project, receiver.url, "ICA_DATA_108")
    sns = herald.boto3("sns")
    topic = next(
        t["TopicArn"] for t in sns.list_topics()["Topics"] if t["TopicArn"].endswith(":herald-ingest")
    )
    sns.publish(TopicArn=topic, Message=_envelope(project, "ICA_DATA_108", {"id": "fil.2"}))
    herald.wait_for(lambda: receiver.requests, what="the delivery via the topic")
    assert receiver.bodies()[0]["payload"] == {"id": "fil.2"}


def test_analysis_run_notifies_status_change_and_success_subscribers(
    herald: Herald, project: str, receiver: Receiver
) -> None:
    _subscribe(herald, project, receiver.url, "ICA_EXEC_028")
    _subscribe(herald, project, receiver.url, "ICA_EXEC_002")
    for status in ["REQUESTED", "QUEUED", "IN_PROGRESS", "SUCCEEDED"]:
        code, accepted = herald.call(
            "POST",
            f"/api/projects/{project}/events",
            {"eventCode": "ICA_EXEC_028", "payload": {"id": "ana-1", "status": status}},
        )
        assert code == 202, accepted
    herald.wait_for(lambda: len(receiver.requests) >= 5, what="4 status changes and 1 success")
    time.sleep(0.5)
    seen = sorted((b["eventCode"], b["payload"]["status"]) for b in receiver.bodies())
    assert seen == [
        ("ICA_EXEC_002", "SUCCEEDED"),
        ("ICA_EXEC_028", "IN_PROGRESS"),
        ("ICA_EXEC_028", "QUEUED"),
        ("ICA_EXEC_028", "REQUESTED"),
        ("ICA_EXEC_028", "SUCCEEDED"),
    ]


def test_transfer_that_stalls_and_resumes(herald: Herald, project: str, receiver: Receiver) -> None:
    _subscribe(herald, project, receiver.url, "ICA_DATA_025")
    _subscribe(herald, project, receiver.url, "ICA_DATA_002")

    def report(done: int, status: str = "IN_PROGRESS") -> None:
        herald.call(
            "POST",
            f"/api/projects/{project}/events",
            {
                "eventCode": "HERALD_TRANSFER",
                "payload": {"id": "trf-1", "bytesTransferred": done, "status": status},
            },
        )

    report(10)
    herald.wait_for(lambda: len(receiver.requests) >= 1, timeout=20, what="the first stall")
    report(20)  # progress re-arms
    herald.wait_for(lambda: len(receiver.requests) >= 2, timeout=20, what="the second stall")
    report(30, "SUCCEEDED")
    herald.wait_for(lambda: len(receiver.requests) >= 3, timeout=20, what="the success")
    time.sleep(3)  # no stall for a finished transfer
    codes = [b["eventCode"] for b in receiver.bodies()]
    assert codes == ["ICA_DATA_025", "ICA_DATA_025", "ICA_DATA_002"]


def _onecodex_signature(body: bytes, ts: int | None = None) -> str:
    import hashlib
    import hmac

    ts = int(time.time()) if ts is None else ts
    return (
        f"t={ts},v1="
        + hmac.new(ONECODEX_SECRET.encode(), f"{ts}.".encode() + body, hashlib.sha256).hexdigest()
    )


def _post_webhook(herald: Herald, project: str, body: bytes, signature: str) -> tuple[int, dict]:
    import urllib.error
    import urllib.request

    # The project's own secret (as One Codex issued it): a secret is bound to its project.
    if not herald.call("GET", f"/api/projects/{project}/inboundWebhooks")[1]["items"]:
        status, created = herald.call(
            "POST",
            f"/api/projects/{project}/inboundWebhooks",
            {"source": "onecodex", "secret": ONECODEX_SECRET},
        )
        assert status == 201, created

    req = urllib.request.Request(
        f"{herald.url}/webhooks/onecodex?project={project}", data=body, method="POST"
    )
    req.add_header("X-OneCodex-Signature", signature)
    req.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read())


def test_signed_onecodex_webhook_is_routed_like_a_native_event(
    herald: Herald, project: str, receiver: Receiver
) -> None:
    _subscribe(herald, project, receiver.url, "analysis.failed")
    body = json.dumps(
        {
            "api_version": "v1",
            "event_type": "analysis.failed",
            "object_type": "analysis",
            "object": {"$uri": "/api/v1/analyses/abc", "success": False},
            "triggered_at": "2026-11-20T10:00:00Z",
        }
    ).encode()

    first = _post_webhook(herald, project, body, _onecodex_signature(body))
    assert first[0] == 202, first
    assert (first[1]["created"], first[1]["duplicateOf"]) == (True, None)
    retried = _post_webhook(herald, project, body, _onecodex_signature(body))  # One Codex retried
    assert retried[0] == 202 and retried[1]["created"] is False
    assert retried[1]["duplicateOf"]["id"] == first[1]["id"]
    assert retried[1]["duplicateOf"]["rule"] == "onecodex_delivery"

    herald.wait_for(lambda: receiver.requests, what="the delivery")
    time.sleep(1)
    assert len(receiver.requests) == 1
    assert receiver.bodies()[0]["payload"] == {"$uri": "/api/v1/analyses/abc", "success": False}


def test_tampered_or_stale_onecodex_webhook_is_401_and_stores_nothing(herald: Herald, project: str) -> None:
    body = json.dumps(
        {
            "api_version": "v1",
            "event_type": "sample.uploaded",
            "object_type": "sample",
            "object": {"$uri": "/api/v1/samples/s1"},
            "triggered_at": "2026-11-20T10:00:00Z",
        }
    ).encode()
    tampered = _post_webhook(herald, project, body.replace(b"s1", b"s2"), _onecodex_signature(body))
    stale = _post_webhook(herald, project, body, _onecodex_signature(body, ts=int(time.time()) - 600))
    assert tampered == (
        401,
        {
            "error": {
                "code": "invalid_signature",
                "message": "the signature does not match the configured secret",
            }
        },
    )
    assert stale[0] == 401 and "more than 300 s" in stale[1]["error"]["message"]
    assert _events(herald, project) == []


def test_catalog_lists_ica_and_onecodex_codes(herald: Herald) -> None:
    status, listed = herald.call("GET", "/api/eventCodes")
    assert status == 200
    codes = {item["code"]: item for item in listed["items"]}
    assert codes["ICA_EXEC_002"]["description"] == "Analysis success"
    assert codes["ICA_DATA_025"]["payloadType"] == "DataTransfer"
    assert codes["analysis.failed"]["objectType"] == "analysis"
    assert len([c for c in codes if c.startswith("ICA_")]) == 24


def test_unknown_event_code_is_400_with_suggestions(herald: Herald, project: str) -> None:
    _, channel = herald.call(
        "POST", "/api/notificationChannels", {"type": "HTTP", "address": "http://127.0.0.1:9/h"}
    )
    status, error = herald.call(
        "POST",
        f"/api/projects/{project}/notificationSubscriptions",
        {"eventCode": "ICA_EXEC_02", "notificationChannelId": channel["id"]},
    )
    assert status == 400
    assert error["error"]["field"] == "eventCode"
    assert "did you mean ICA_EXEC_002" in error["error"]["message"]
