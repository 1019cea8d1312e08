"""Sample Lambda events, as AWS hands them to Herald's functions (one JSON file each), and the one
helper that loads them.

- `sqs_route`, `sqs_deliver`, `sqs_deliver_ordered`, `sqs_bridge`, `sqs_reprocess`: an SQS batch
  of one record from the events, deliveries, ordered (FIFO) deliveries, ingest and a dead-letter
  queue; `sqs_bridge_sns` carries ICA's envelope inside SNS's Notification wrapper (the ingest
  topic's subscription without raw message delivery);
- `eventbridge_schedule`: the scheduled function's every-minute rule;
- `apigw_rest_proxy`: a REST API (proxy integration) request for the API function.

`load(name)` gives the sample itself; `load(name, messages=..., queue_arn=...)` gives it with its
records made from SQS ReceiveMessage answers (moto's), as Lambda's event source mapping builds
them, so a test drives a handler with real receipt handles.
"""

from __future__ import annotations

import copy
import json
from functools import cache
from pathlib import Path
from typing import Any

HERE = Path(__file__).parent
# The FIFO attributes Lambda passes on (the FIFO batch processor keys on the group).
FIFO_ATTRIBUTES = ("MessageGroupId", "MessageDeduplicationId", "SequenceNumber")


@cache
def _sample(name: str) -> str:
    return (HERE / f"{name}.json").read_text()


def load(
    name: str, messages: list[dict[str, Any]] | None = None, queue_arn: str | None = None
) -> dict[str, Any]:
    """A fresh copy of the sample `name`; with `messages`, an SQS sample's records become them."""
    event: dict[str, Any] = json.loads(_sample(name))
    if messages is None:
        return event
    template = event["Records"][0]
    records = []
    for message in messages:
        record = copy.deepcopy(template)
        received = message.get("Attributes", {})
        for attribute in record["attributes"]:
            if attribute in received:
                record["attributes"][attribute] = received[attribute]
        record["attributes"].update({k: received[k] for k in FIFO_ATTRIBUTES if k in received})
        record.update(
            messageId=message["MessageId"],
            receiptHandle=message["ReceiptHandle"],
            body=message["Body"],
            md5OfBody=message.get("MD5OfBody", ""),
        )
        if queue_arn:
            record.update(eventSourceARN=queue_arn, awsRegion=queue_arn.split(":")[3])
        records.append(record)
    event["Records"] = records
    return event


def received(sqs: Any, queue_url: str, name: str) -> dict[str, Any]:
    """Up to ten messages received from `queue_url`, as the SQS sample `name`'s batch."""
    arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    messages = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, AttributeNames=["All"]).get(
        "Messages", []
    )
    return load(name, messages, arn)
