"""Delivery targets: HTTP details, SQS (incl. FIFO), SNS as a consumer reads it, SES, and refusals."""

from __future__ import annotations

import json
import threading
import time
from typing import Any

import pytest
from botocore.exceptions import ClientError
from moto.core import DEFAULT_ACCOUNT_ID
from moto.ses.models import ses_backends

from herald import signing, targets
from herald.adapters import aws
from herald.dev.receiver import WebhookHandler, WebhookServer
from herald.domain.models import Channel, ChannelType, Event
from herald.domain.settings import Settings
from herald.targets import aws_targets, http
from herald.targets.http import run

EVENT = Event(
    id="e1",
    projectId="p1",
    eventCode="ICA_EXEC_002",
    description="Analysis success",
    payload={"status": "SUCCEEDED"},
    correlationId="corr-1",
    timestamp="2025-10-17T00:08:00.128Z",
    createdAt=0.0,
)
BODY = json.dumps({"eventCode": "ICA_EXEC_002", "payload": {"status": "SUCCEEDED"}}).encode()
SETTINGS = Settings(allow_private_targets=True, ses_sender="herald@example.com", http_timeout_seconds=5)


def _channel(type_: ChannelType, address: str, **extra: Any) -> Channel:
    return Channel(
        id="c1", type=type_, address=address, secret=signing.generate_secret(), createdAt="t", **extra
    )


class _Server:
    def __init__(self, handler: type[WebhookHandler]) -> None:
        self.httpd = WebhookServer(("127.0.0.1", 0), handler)
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/"

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def _server(
    status: int = 200, delay: float = 0.0, body: bytes = b"ok", headers: dict | None = None
) -> _Server:
    class Handler(WebhookHandler):
        def receive(self, _: bytes) -> None:
            time.sleep(delay)
            self.answer(status, body, headers)

    return _Server(Handler)


def test_http_timeout_comes_from_the_channel() -> None:
    server = _server(delay=1.0)
    try:
        outcome = run(
            targets.send(
                _channel(ChannelType.HTTP, server.url, timeoutSeconds=0.2), EVENT, BODY, "n1", SETTINGS
            )
        )
    finally:
        server.close()
    assert (outcome.success, outcome.error) == (False, "timed out after 0.2 s")


def test_http_429_retry_after_is_reported() -> None:
    server = _server(status=429, headers={"Retry-After": "120"})
    try:
        outcome = run(http.post(server.url, BODY, {}, 2.0, allow_private=True))
    finally:
        server.close()
    assert (outcome.http_status, outcome.retry_after) == (429, 120)


def test_http_response_excerpt_is_capped() -> None:
    server = _server(status=500, body=b"x" * 200_000)
    try:
        outcome = run(http.post(server.url, BODY, {}, 2.0, allow_private=True))
    finally:
        server.close()
    assert outcome.error == "HTTP 500" and len(outcome.response_excerpt or "") == 1024


def test_rotation_window_signs_with_both_secrets_then_only_the_new() -> None:
    captured: list[dict] = []

    class Handler(WebhookHandler):
        def receive(self, _: bytes) -> None:
            captured.append(dict(self.headers.items()))
            self.answer(204, b"")

    server = _Server(Handler)
    old = signing.generate_secret()
    try:
        within = _channel(
            ChannelType.HTTP, server.url, previousSecret=old, previousSecretExpiresAt=time.time() + 60
        )
        after = _channel(
            ChannelType.HTTP, server.url, previousSecret=old, previousSecretExpiresAt=time.time() - 1
        )
        run(targets.send(within, EVENT, BODY, "n1", SETTINGS))
        run(targets.send(after, EVENT, BODY, "n1", SETTINGS))
    finally:
        server.close()
    assert len(captured[0]["webhook-signature"].split()) == 2
    assert signing.verify(BODY, captured[0], old) == "standard-webhooks, onecodex"
    assert len(captured[1]["webhook-signature"].split()) == 1
    with pytest.raises(signing.SignatureError):
        signing.verify(BODY, captured[1], old)


def test_sns_delivery_is_read_by_a_subscribed_queue_with_filterable_attributes(aws_env: None) -> None:
    sns, sqs = aws.client("sns"), aws.client("sqs")
    topic = sns.create_topic(Name="target")["TopicArn"]
    queue = sqs.create_queue(QueueName="consumer")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    sns.subscribe(
        TopicArn=topic,
        Protocol="sqs",
        Endpoint=queue_arn,
        Attributes={"FilterPolicy": json.dumps({"eventCode": ["ICA_EXEC_002"]})},
    )

    outcome = run(targets.send(_channel(ChannelType.SNS, topic), EVENT, BODY, "n1", SETTINGS))

    assert outcome.success
    [message] = sqs.receive_message(QueueUrl=queue)["Messages"]
    notification = json.loads(message["Body"])
    assert json.loads(notification["Message"]) == json.loads(BODY)
    assert notification["MessageAttributes"]["eventCode"] == {"Type": "String", "Value": "ICA_EXEC_002"}


def test_fifo_queue_gets_project_group_and_notification_dedup_ids(aws_env: None) -> None:
    sqs = aws.client("sqs")
    url = sqs.create_queue(QueueName="t.fifo", Attributes={"FifoQueue": "true"})["QueueUrl"]
    assert run(targets.send(_channel(ChannelType.SQS, url), EVENT, BODY, "ntf_1", SETTINGS)).success
    [message] = sqs.receive_message(QueueUrl=url, AttributeNames=["All"])["Messages"]
    assert message["Attributes"]["MessageGroupId"] == "p1"
    assert message["Attributes"]["MessageDeduplicationId"] == "ntf_1"


def test_mail_is_sent_with_a_readable_subject_and_both_bodies(aws_env: None) -> None:
    aws.client("ses").verify_email_identity(EmailAddress="herald@example.com")
    outcome = run(targets.send(_channel(ChannelType.MAIL, "ops@example.com"), EVENT, BODY, "n1", SETTINGS))
    assert outcome.success
    [sent] = ses_backends[DEFAULT_ACCOUNT_ID]["us-east-1"].sent_messages
    assert sent.subject == "[Herald] ICA_EXEC_002: Analysis success (project p1)"
    # moto keeps the HTML part; the text part is checked below.
    assert "<th align='left'>Correlation id</th><td>corr-1</td>" in sent.body
    assert "&quot;status&quot;: &quot;SUCCEEDED&quot;" in sent.body
    assert sent.destinations["ToAddresses"] == ["ops@example.com"]


def test_mail_text_part_lists_the_key_fields_then_the_payload() -> None:
    _, text, _ = targets.mail_parts(EVENT, BODY)
    assert text.startswith("Event: ICA_EXEC_002\nDescription: Analysis success\nProject: p1\n")
    assert text.rstrip().endswith('"status": "SUCCEEDED"\n  }\n}')


def test_mail_without_a_configured_sender_fails_saying_what_to_set() -> None:
    outcome = run(
        targets.send(
            _channel(ChannelType.MAIL, "ops@example.com"), EVENT, BODY, "n1", Settings(ses_sender="")
        )
    )
    assert "set HERALD_SES_SENDER" in (outcome.error or "")


def test_oversized_payload_for_sqs_fails_clearly_without_retry() -> None:
    outcome = aws_targets.send_message(
        "sqs", "https://sqs.eu-west-1.amazonaws.com/1/q", b"x" * (256 * 1024 + 1), {}, "g", "d", None
    )
    assert not outcome.retryable
    assert outcome.error == "payload is 262145 bytes; SQS accepts at most 262144 bytes"


def test_access_denied_points_to_the_policy_templates(monkeypatch: pytest.MonkeyPatch) -> None:
    class Refusing:
        def publish(self, **_: Any) -> None:
            raise ClientError(
                {"Error": {"Code": "AuthorizationError", "Message": "not authorized"}}, "Publish"
            )

    monkeypatch.setattr(aws, "client", lambda service, region=None: Refusing())
    outcome = aws_targets.send_message(
        "sns", "arn:aws:sns:eu-west-1:210987654321:t", BODY, {}, "g", "d", None
    )
    assert outcome.retryable
    assert outcome.error.startswith("AuthorizationError: not authorized; grant Herald's account sns:Publish")
    assert "herald policy sns --arn" in outcome.error


def test_sqs_region_is_taken_from_the_queue_url() -> None:
    assert aws_targets.region_of_queue("https://sqs.eu-west-1.amazonaws.com/123456789012/q") == "eu-west-1"
    assert aws_targets.region_of_arn("arn:aws:sns:ap-southeast-2:123456789012:t") == "ap-southeast-2"
