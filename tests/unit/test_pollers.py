"""The local pollers behave like Lambda's SQS event source mapping."""

from __future__ import annotations

from typing import Any

import boto3
import pytest

from herald.dev.local.pollers import SqsPoller
from herald.dev.local.resources import ensure_queue


@pytest.fixture
def queues(aws_env: None) -> tuple[Any, str, str]:
    sqs = boto3.client("sqs")
    dlq = ensure_queue(sqs, "t-dlq")
    main = ensure_queue(sqs, "t-main", dlq, max_receive=2)
    return sqs, main, dlq


def _count(sqs: Any, url: str) -> int:
    attrs = sqs.get_queue_attributes(
        QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
    )["Attributes"]
    return int(attrs["ApproximateNumberOfMessages"]) + int(attrs["ApproximateNumberOfMessagesNotVisible"])


def test_handler_gets_a_lambda_shaped_batch_and_successes_are_deleted(queues: tuple[Any, str, str]) -> None:
    sqs, main, _ = queues
    for i in range(3):
        sqs.send_message(QueueUrl=main, MessageBody=f"m{i}")
    seen: list[dict] = []

    def handler(event: dict, context: Any) -> dict:
        seen.extend(event["Records"])
        return {"batchItemFailures": []}

    poller = SqsPoller(sqs, main, handler, "fn", batch_size=10, wait_seconds=0)
    while poller.poll_once():
        pass
    assert sorted(r["body"] for r in seen) == ["m0", "m1", "m2"]
    record = seen[0]
    assert record["eventSource"] == "aws:sqs" and record["eventSourceARN"].endswith(":t-main")
    assert record["attributes"]["ApproximateReceiveCount"] == "1"
    assert _count(sqs, main) == 0


def test_reported_failures_stay_and_return_with_a_higher_receive_count(queues: tuple[Any, str, str]) -> None:
    sqs, main, _ = queues
    sqs.send_message(QueueUrl=main, MessageBody="flaky")
    counts: list[str] = []

    def handler(event: dict, context: Any) -> dict:
        record = event["Records"][0]
        counts.append(record["attributes"]["ApproximateReceiveCount"])
        sqs.change_message_visibility(
            QueueUrl=main, ReceiptHandle=record["receiptHandle"], VisibilityTimeout=0
        )
        return {"batchItemFailures": [{"itemIdentifier": record["messageId"]}]}

    poller = SqsPoller(sqs, main, handler, "fn", wait_seconds=0)
    poller.poll_once()
    poller.poll_once()
    assert counts == ["1", "2"]


def test_message_moves_to_the_dlq_after_max_receive_count(queues: tuple[Any, str, str]) -> None:
    sqs, main, dlq = queues
    sqs.send_message(QueueUrl=main, MessageBody="doomed")

    def handler(event: dict, context: Any) -> dict:
        for r in event["Records"]:
            sqs.change_message_visibility(
                QueueUrl=main, ReceiptHandle=r["receiptHandle"], VisibilityTimeout=0
            )
        return {"batchItemFailures": [{"itemIdentifier": r["messageId"]} for r in event["Records"]]}

    poller = SqsPoller(sqs, main, handler, "fn", wait_seconds=0)
    for _ in range(3):
        poller.poll_once()
    assert poller.invocations == 2
    assert [m["Body"] for m in sqs.receive_message(QueueUrl=dlq)["Messages"]] == ["doomed"]


def test_a_raising_handler_leaves_the_whole_batch(queues: tuple[Any, str, str]) -> None:
    sqs, main, _ = queues
    sqs.send_message(QueueUrl=main, MessageBody="x")
    errors: list[str] = []

    def handler(event: dict, context: Any) -> dict:
        raise RuntimeError("boom")

    poller = SqsPoller(
        sqs, main, handler, "fn", wait_seconds=0, on_error=lambda fn, exc: errors.append(str(exc))
    )
    poller.poll_once()
    assert errors == ["boom"]
    assert _count(sqs, main) == 1
