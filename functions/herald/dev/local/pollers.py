"""SQS pollers that behave like Lambda's SQS event source mapping.

Each poller long-polls one queue, hands the handler a batch in Lambda's SQS event format,
deletes the records the handler did not report as failed, and leaves the failed ones to SQS: they
return after their visibility timeout (which the deliver handler sets to the backoff delay), and
the queue's redrive policy moves them to the dead-letter queue after maxReceiveCount receives.
If the handler raises, the whole batch is left, as Lambda does.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable
from typing import Any

from herald.dev.local.lambda_context import LocalContext

Handler = Callable[[dict[str, Any], Any], Any]


class SqsPoller(threading.Thread):
    def __init__(
        self,
        sqs: Any,
        queue_url: str,
        handler: Handler,
        function_name: str,
        batch_size: int = 10,
        wait_seconds: int = 1,
        on_error: Callable[[str, BaseException], None] | None = None,
        on_exit: Callable[[], None] | None = None,
    ) -> None:
        super().__init__(name=f"poller-{function_name}", daemon=True)
        self.sqs, self.queue_url, self.handler = sqs, queue_url, handler
        self.function_name, self.batch_size, self.wait_seconds = function_name, batch_size, wait_seconds
        self.on_error, self.on_exit = on_error, on_exit
        self._stop_event = threading.Event()
        self.queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])[
            "Attributes"
        ]["QueueArn"]
        self.invocations = 0

    def stop(self) -> None:
        self._stop_event.set()

    def run(self) -> None:
        while not self._stop_event.is_set():
            try:
                self.poll_once()
            except Exception as exc:  # keep polling, as the event source mapping does
                if self.on_error:
                    self.on_error(self.function_name, exc)
                self._stop_event.wait(1.0)
        if self.on_exit:
            self.on_exit()  # in this thread: e.g. close what lives on its event loop

    def poll_once(self) -> int:
        resp = self.sqs.receive_message(
            QueueUrl=self.queue_url,
            MaxNumberOfMessages=self.batch_size,
            WaitTimeSeconds=self.wait_seconds,
            AttributeNames=["All"],
            MessageAttributeNames=["All"],
        )
        messages = resp.get("Messages", [])
        if not messages:
            return 0
        event = {"Records": [self._record(m) for m in messages]}
        self.invocations += 1
        try:
            result = self.handler(event, LocalContext(self.function_name))
        except Exception as exc:
            if self.on_error:
                self.on_error(self.function_name, exc)
            return len(messages)
        failed = {f["itemIdentifier"] for f in (result or {}).get("batchItemFailures", [])}
        done = [m for m in messages if m["MessageId"] not in failed]
        if done:
            self.sqs.delete_message_batch(
                QueueUrl=self.queue_url,
                Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(done)],
            )
        return len(messages)

    def _record(self, message: dict[str, Any]) -> dict[str, Any]:
        attrs = message.get("Attributes", {})
        attributes = {
            "ApproximateReceiveCount": attrs.get("ApproximateReceiveCount", "1"),
            "SentTimestamp": attrs.get("SentTimestamp", str(int(time.time() * 1000))),
            "SenderId": attrs.get("SenderId", "local"),
            "ApproximateFirstReceiveTimestamp": attrs.get("ApproximateFirstReceiveTimestamp", ""),
        }
        # FIFO queues: Lambda passes the group (the FIFO batch processor keys on it) and sequence.
        for fifo_attribute in ("MessageGroupId", "MessageDeduplicationId", "SequenceNumber"):
            if fifo_attribute in attrs:
                attributes[fifo_attribute] = attrs[fifo_attribute]
        return {
            "messageId": message["MessageId"],
            "receiptHandle": message["ReceiptHandle"],
            "body": message["Body"],
            "attributes": attributes,
            "messageAttributes": {
                k: {"stringValue": v.get("StringValue"), "dataType": v.get("DataType", "String")}
                for k, v in message.get("MessageAttributes", {}).items()
            },
            "md5OfBody": message.get("MD5OfBody", ""),
            "eventSource": "aws:sqs",
            "eventSourceARN": self.queue_arn,
            "awsRegion": self.queue_arn.split(":")[3],
        }


class Scheduler(threading.Thread):
    """Invokes a handler with an EventBridge scheduled event every `interval` seconds."""

    def __init__(
        self,
        handler: Handler,
        interval: float,
        function_name: str,
        on_error: Callable[[str, BaseException], None] | None = None,
    ) -> None:
        super().__init__(name=f"scheduler-{function_name}", daemon=True)
        self.handler, self.interval, self.function_name, self.on_error = (
            handler,
            interval,
            function_name,
            on_error,
        )
        self._stop_event = threading.Event()

    def stop(self) -> None:
        self._stop_event.set()

    def run(self) -> None:
        while not self._stop_event.wait(self.interval):
            event = {
                "version": "0",
                "id": str(uuid.uuid4()),
                "detail-type": "Scheduled Event",
                "source": "aws.events",
                "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                "resources": [f"arn:aws:events:us-east-1:123456789012:rule/{self.function_name}"],
                "detail": {},
            }
            try:
                self.handler(event, LocalContext(self.function_name))
            except Exception as exc:
                if self.on_error:
                    self.on_error(self.function_name, exc)
