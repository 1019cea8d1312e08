"""SQS access for Herald's own queues (events, deliveries)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel

from herald import aws

SQS_BATCH_LIMIT = 10


class QueueSendError(RuntimeError):
    pass


class Queues:
    def __init__(self, events_url: str, deliveries_url: str, sqs: Any | None = None) -> None:
        self.events_url = events_url
        self.deliveries_url = deliveries_url
        self.sqs = sqs if sqs is not None else aws.client("sqs")

    def send(self, queue_url: str, messages: Sequence[BaseModel]) -> None:
        """Send in batches of ten; raise if any message was not accepted (the caller retries)."""
        for start in range(0, len(messages), SQS_BATCH_LIMIT):
            chunk = messages[start : start + SQS_BATCH_LIMIT]
            entries = [{"Id": str(i), "MessageBody": m.model_dump_json()} for i, m in enumerate(chunk)]
            resp = self.sqs.send_message_batch(QueueUrl=queue_url, Entries=entries)
            failed = resp.get("Failed") or []
            if failed:
                reasons = ", ".join(f"{f.get('Code')}: {f.get('Message')}" for f in failed)
                raise QueueSendError(f"{len(failed)} message(s) not accepted by SQS ({reasons})")

    def change_visibility(self, queue_url: str, receipt_handle: str, seconds: int) -> None:
        self.sqs.change_message_visibility(
            QueueUrl=queue_url, ReceiptHandle=receipt_handle, VisibilityTimeout=seconds
        )
