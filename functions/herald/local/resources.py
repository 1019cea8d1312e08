"""Create Herald's table and queues in the local moto server, as CDK does in AWS."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from herald import names
from herald.settings import Settings

# Long enough for the slowest handler run; retries set their own per-message visibility.
LOCAL_VISIBILITY_SECONDS = 120
RETENTION_SECONDS = 14 * 86400


@dataclass(frozen=True)
class LocalResources:
    table_name: str
    events_queue_url: str
    events_dlq_url: str
    deliveries_queue_url: str
    deliveries_dlq_url: str


def create_table(ddb: Any, table_name: str) -> None:
    attrs = [
        names.TABLE_PARTITION_KEY,
        names.TABLE_SORT_KEY,
        names.GSI1_PARTITION_KEY,
        names.GSI1_SORT_KEY,
        names.GSI2_PARTITION_KEY,
        names.GSI2_SORT_KEY,
    ]
    try:
        ddb.create_table(
            TableName=table_name,
            BillingMode="PAY_PER_REQUEST",
            AttributeDefinitions=[{"AttributeName": a, "AttributeType": "S"} for a in attrs],
            KeySchema=[
                {"AttributeName": names.TABLE_PARTITION_KEY, "KeyType": "HASH"},
                {"AttributeName": names.TABLE_SORT_KEY, "KeyType": "RANGE"},
            ],
            GlobalSecondaryIndexes=[
                {
                    "IndexName": index,
                    "KeySchema": [
                        {"AttributeName": pk, "KeyType": "HASH"},
                        {"AttributeName": sk, "KeyType": "RANGE"},
                    ],
                    "Projection": {"ProjectionType": "ALL"},
                }
                for index, pk, sk in (
                    (names.GSI1_NAME, names.GSI1_PARTITION_KEY, names.GSI1_SORT_KEY),
                    (names.GSI2_NAME, names.GSI2_PARTITION_KEY, names.GSI2_SORT_KEY),
                )
            ],
        )
    except ClientError as exc:
        if exc.response["Error"]["Code"] != "ResourceInUseException":
            raise
        return
    ddb.update_time_to_live(
        TableName=table_name,
        TimeToLiveSpecification={"Enabled": True, "AttributeName": names.TABLE_TTL_ATTRIBUTE},
    )


def _queue(sqs: Any, name: str, dlq_url: str | None = None, max_receive: int = 0) -> str:
    attributes = {
        "VisibilityTimeout": str(LOCAL_VISIBILITY_SECONDS),
        "MessageRetentionPeriod": str(RETENTION_SECONDS),
    }
    if dlq_url:
        dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"][
            "QueueArn"
        ]
        attributes["RedrivePolicy"] = json.dumps(
            {"deadLetterTargetArn": dlq_arn, "maxReceiveCount": max_receive}
        )
    url = sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
    # create_queue keeps an existing queue's attributes; make them match this run's settings.
    sqs.set_queue_attributes(QueueUrl=url, Attributes=attributes)
    return url


def create_resources(ddb: Any, sqs: Any, settings: Settings) -> LocalResources:
    create_table(ddb, settings.table_name)
    events_dlq = _queue(sqs, names.EVENTS_DLQ_NAME)
    deliveries_dlq = _queue(sqs, names.DELIVERIES_DLQ_NAME)
    return LocalResources(
        table_name=settings.table_name,
        events_queue_url=_queue(sqs, names.EVENTS_QUEUE_NAME, events_dlq, names.EVENTS_MAX_RECEIVE_COUNT),
        events_dlq_url=events_dlq,
        deliveries_queue_url=_queue(
            sqs, names.DELIVERIES_QUEUE_NAME, deliveries_dlq, names.max_receive_count(settings.retry_schedule)
        ),
        deliveries_dlq_url=deliveries_dlq,
    )
