"""Create Herald's table and queues in the local moto server, as CDK does in AWS."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from herald import names
from herald.domain.settings import Settings

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
    ordered_deliveries_queue_url: str
    ordered_deliveries_dlq_url: str
    ingest_queue_url: str
    ingest_dlq_url: str
    ingest_topic_arn: str
    broadcast_topic_arn: str
    secrets_key_id: str

    def environment(self) -> dict[str, str]:
        """The variables that point Herald's functions at these resources (as CDK sets them),
        the broadcast topic aside: publishing there is a deployment's choice."""
        return {
            names.ENV_TABLE_NAME: self.table_name,
            names.ENV_EVENTS_QUEUE_URL: self.events_queue_url,
            names.ENV_DELIVERIES_QUEUE_URL: self.deliveries_queue_url,
            names.ENV_ORDERED_DELIVERIES_QUEUE_URL: self.ordered_deliveries_queue_url,
            names.ENV_SECRETS_KEY_ID: self.secrets_key_id,
        }


def create_table(ddb: Any, table_name: str) -> None:
    """Herald's table from its schema in `herald.names`, the definition CDK deploys too."""
    partition, sort = names.TABLE_KEY
    try:
        ddb.create_table(
            TableName=table_name,
            BillingMode="PAY_PER_REQUEST",
            AttributeDefinitions=[
                {"AttributeName": a, "AttributeType": "S"} for a in names.TABLE_KEY_ATTRIBUTES
            ],
            KeySchema=[
                {"AttributeName": partition, "KeyType": "HASH"},
                {"AttributeName": sort, "KeyType": "RANGE"},
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
                for index, pk, sk in names.TABLE_INDEXES
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


def ensure_queue(sqs: Any, name: str, dlq_url: str | None = None, max_receive: int = 0) -> str:
    """The queue `name` with this runtime's attributes (and a redrive to `dlq_url` after
    `max_receive` receives), made or updated; its URL."""
    attributes = {
        "VisibilityTimeout": str(LOCAL_VISIBILITY_SECONDS),
        "MessageRetentionPeriod": str(RETENTION_SECONDS),
    }
    if name.endswith(".fifo"):
        attributes["FifoQueue"] = "true"
    if dlq_url:
        redrive = {"deadLetterTargetArn": _arn(sqs, dlq_url), "maxReceiveCount": max_receive}
        attributes["RedrivePolicy"] = json.dumps(redrive)
    url: str = sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
    # create_queue keeps an existing queue's attributes; make them match this run's settings.
    sqs.set_queue_attributes(QueueUrl=url, Attributes=attributes)
    return url


def _arn(sqs: Any, url: str) -> str:
    arn: str = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    return arn


def create_resources(
    ddb: Any, sqs: Any, settings: Settings, sns: Any | None = None, kms: Any | None = None
) -> LocalResources:
    create_table(ddb, settings.table_name)
    events_dlq = ensure_queue(sqs, names.EVENTS_DLQ_NAME)
    deliveries_dlq = ensure_queue(sqs, names.DELIVERIES_DLQ_NAME)
    ordered_dlq = ensure_queue(sqs, names.ORDERED_DELIVERIES_DLQ_NAME)
    ingest_dlq = ensure_queue(sqs, names.INGEST_DLQ_NAME)
    ingest_queue = ensure_queue(sqs, names.INGEST_QUEUE_NAME, ingest_dlq, names.INGEST_MAX_RECEIVE_COUNT)
    ingest_topic = broadcast_topic = secrets_key = ""
    if sns is not None:
        # As in AWS: the ingest topic feeds the ingest queue, so one function reads both.
        ingest_topic = sns.create_topic(Name=names.INGEST_TOPIC_NAME)["TopicArn"]
        subscribed = sns.list_subscriptions_by_topic(TopicArn=ingest_topic)["Subscriptions"]
        if not subscribed:
            sns.subscribe(TopicArn=ingest_topic, Protocol="sqs", Endpoint=_arn(sqs, ingest_queue))
        broadcast_topic = sns.create_topic(Name=names.BROADCAST_TOPIC_NAME)["TopicArn"]
    if kms is not None:
        secrets_key = kms.create_key(Description="Herald channel signing secrets")["KeyMetadata"]["KeyId"]
    return LocalResources(
        table_name=settings.table_name,
        events_queue_url=ensure_queue(
            sqs, names.EVENTS_QUEUE_NAME, events_dlq, names.EVENTS_MAX_RECEIVE_COUNT
        ),
        events_dlq_url=events_dlq,
        deliveries_queue_url=ensure_queue(
            sqs, names.DELIVERIES_QUEUE_NAME, deliveries_dlq, names.max_receive_count(settings.retry_schedule)
        ),
        deliveries_dlq_url=deliveries_dlq,
        ordered_deliveries_queue_url=ensure_queue(
            sqs, names.ORDERED_DELIVERIES_QUEUE_NAME, ordered_dlq, names.ORDERED_MAX_RECEIVE_COUNT
        ),
        ordered_deliveries_dlq_url=ordered_dlq,
        ingest_queue_url=ingest_queue,
        ingest_dlq_url=ingest_dlq,
        ingest_topic_arn=ingest_topic,
        broadcast_topic_arn=broadcast_topic,
        secrets_key_id=secrets_key,
    )
