"""SQS access for Herald's own queues (events, deliveries)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from pydantic import BaseModel

from herald.adapters import aws
from herald.domain.messages import DeliverNotification

SQS_BATCH_LIMIT = 10
M = TypeVar("M", bound=BaseModel)


class QueueSendError(RuntimeError):
    pass


def _raise_if_refused(refused: Sequence[BaseModel], reasons: list[str]) -> None:
    if refused:
        raise QueueSendError(f"{len(refused)} message(s) not accepted by SQS ({', '.join(reasons)})")


class Queues:
    def __init__(self, events_url: str, deliveries_url: str, sqs: Any | None = None) -> None:
        self.events_url = events_url
        self.deliveries_url = deliveries_url
        self.sqs = sqs if sqs is not None else aws.client("sqs")

    def send(
        self,
        queue_url: str,
        messages: Sequence[BaseModel],
        delay_seconds: int = 0,
        fifo: Callable[[Any], tuple[str, str]] | None = None,
    ) -> None:
        """Send in batches of ten; raise if any message was not accepted (the caller retries).

        `fifo(message)` gives a FIFO queue's (message group, de-duplication id).
        """
        _raise_if_refused(*self.send_each(queue_url, messages, delay_seconds, fifo))

    def send_each(
        self,
        queue_url: str,
        messages: Sequence[M],
        delay_seconds: int = 0,
        fifo: Callable[[Any], tuple[str, str]] | None = None,
    ) -> tuple[list[M], list[str]]:
        """Send in batches of ten, every batch tried; the messages SQS did not accept (a batch
        whose call failed: all of it) and why."""
        not_sent: list[M] = []
        reasons: list[str] = []
        for start in range(0, len(messages), SQS_BATCH_LIMIT):
            chunk = messages[start : start + SQS_BATCH_LIMIT]
            entries: list[dict[str, Any]] = []
            for i, m in enumerate(chunk):
                # Fields left unset (None) stay out of the body: messages stay small.
                entry: dict[str, Any] = {"Id": str(i), "MessageBody": m.model_dump_json(exclude_none=True)}
                if delay_seconds:
                    entry["DelaySeconds"] = delay_seconds
                if fifo is not None:
                    entry["MessageGroupId"], entry["MessageDeduplicationId"] = fifo(m)
                entries.append(entry)
            try:
                resp = self.sqs.send_message_batch(QueueUrl=queue_url, Entries=entries)
            except Exception as exc:  # the SDK's own retries are spent
                not_sent.extend(chunk)
                reasons.append(str(exc))
                continue
            for f in resp.get("Failed") or []:
                not_sent.append(chunk[int(f["Id"])])
                reasons.append(f"{f.get('Code')}: {f.get('Message')}")
        return not_sent, reasons

    def send_deliveries(self, messages: Sequence[DeliverNotification], ordered_url: str) -> None:
        """Ordered subscriptions' deliveries to the FIFO queue (a group per subscription, so one
        subscription's failure holds back only its own); the rest to the deliveries queue. Raises
        if any was not accepted."""
        _raise_if_refused(*self.deliveries_not_accepted(messages, ordered_url))

    def deliveries_not_accepted(
        self, messages: Sequence[DeliverNotification], ordered_url: str
    ) -> tuple[list[DeliverNotification], list[str]]:
        """`send_deliveries`, answering which messages SQS did not accept (and why) instead of raising."""
        ordered = [m for m in messages if m.ordered] if ordered_url else []
        failed, reasons = self.send_each(
            self.deliveries_url, [m for m in messages if not (ordered_url and m.ordered)]
        )
        if ordered:
            more, why = self.send_each(
                ordered_url, ordered, fifo=lambda m: (m.subscriptionId, m.notificationId)
            )
            failed, reasons = failed + more, reasons + why
        return failed, reasons

    def resend(self, queue_url: str, body: str, delay_seconds: int) -> None:
        """A copy of a received message (a standard queue's), back after `delay_seconds`."""
        self.sqs.send_message(QueueUrl=queue_url, MessageBody=body, DelaySeconds=delay_seconds)

    def change_visibility(self, queue_url: str, receipt_handle: str, seconds: int) -> None:
        self.sqs.change_message_visibility(
            QueueUrl=queue_url, ReceiptHandle=receipt_handle, VisibilityTimeout=seconds
        )
