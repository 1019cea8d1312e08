"""The bridge in: an ingest queue (and DLQ) and an ingest topic that producer accounts write to.

Producers (ICA's platform account, or any account listed in `herald:producerAccountIds`) either
send to the ingest queue or publish to the ingest topic, which is subscribed to the queue; the
ingest function consumes the queue. Nobody else may write: the resource policies name the producer
accounts (or, with none configured, only the deploying account), and the topic's delivery into the
queue is pinned to that one topic in this account (confused-deputy conditions).

The topic→queue subscription keeps SNS's JSON envelope (raw message delivery off): the envelope
carries the topic ARN, message id, timestamp and message attributes, so the ingest function can
tell bridged messages from direct sends and keep their provenance. The runtime accepts both shapes.

`policies/ingest-*.json` mirror the policies built here, for users who build their own resources;
tests/infra/test_infra_policies.py keeps them identical.
"""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import Aws, Duration, RemovalPolicy
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from herald import names
from infra.messaging import QueuePair, queue_with_dlq

INGEST_MAX_AGE_SECONDS = 900
# Statement ids are part of the mirrored templates in policies/.
SID_PRODUCERS_SEND = "AllowProducersToSend"
SID_PRODUCERS_PUBLISH = "AllowProducersToPublish"
SID_TOPIC_SEND = "AllowIngestTopicToSend"
SID_PRODUCERS_KMS = "AllowProducersToEncryptViaSqsAndSns"
SID_TOPIC_KMS = "AllowIngestTopicToEncryptForQueue"


class IngestBridge(Construct):
    """Creates the ingest key (KMS mode), queue + DLQ, topic, subscription and resource policies."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        producer_account_ids: Sequence[str],
        use_kms: bool,
        consumer_timeout: Duration,
        dlq_consumer_timeout: Duration,
        prod: bool,
    ) -> None:
        super().__init__(scope, construct_id)
        self.producer_account_ids = tuple(producer_account_ids)

        # A dedicated key: producer accounts are granted its use, which must never extend to the
        # event store's data key. Messages on it live at most 14 days, so it is not retained.
        self.key: kms.Key | None = None
        if use_kms:
            self.key = kms.Key(
                self,
                "IngestKey",
                description="Herald ingest queue and topic (usable by the producer accounts via SQS/SNS)",
                enable_key_rotation=True,
                removal_policy=RemovalPolicy.DESTROY,
                pending_window=Duration.days(30 if prod else 7),
            )

        self.pair: QueuePair = queue_with_dlq(
            self,
            "Ingest",
            key=self.key,
            max_receive_count=names.INGEST_MAX_RECEIVE_COUNT,
            consumer_timeout=consumer_timeout,
            dlq_consumer_timeout=dlq_consumer_timeout,
            max_age_seconds=INGEST_MAX_AGE_SECONDS,
        )
        # Without KMS the topic is unencrypted at rest: SNS offers no service-managed key that other
        # accounts may publish with (aws/sns refuses cross-account use). Messages stay in SNS only
        # for the moment of delivery to the SSE-SQS queue; TLS is enforced in transit.
        self.topic = sns.Topic(
            self, "IngestTopic", display_name="Herald ingest", master_key=self.key, enforce_ssl=True
        )

        producers = self._producer_principals()
        self.queue.add_to_resource_policy(
            iam.PolicyStatement(
                sid=SID_PRODUCERS_SEND,
                principals=producers,
                actions=["sqs:SendMessage"],
                resources=[self.queue.queue_arn],
            )
        )
        self.topic.add_to_resource_policy(
            iam.PolicyStatement(
                sid=SID_PRODUCERS_PUBLISH,
                principals=producers,
                actions=["sns:Publish"],
                resources=[self.topic.topic_arn],
            )
        )
        # The topic delivers into the queue, and redrives what it cannot deliver into the DLQ.
        for queue in (self.queue, self.dlq):
            queue.add_to_resource_policy(
                iam.PolicyStatement(
                    sid=SID_TOPIC_SEND,
                    principals=[iam.ServicePrincipal("sns.amazonaws.com")],
                    actions=["sqs:SendMessage"],
                    resources=[queue.queue_arn],
                    conditions=self._from_topic(),
                )
            )
        if self.key is not None:
            self._key_policy(self.key)

        # L1: the L2 subscription adds its own queue/key statements, without aws:SourceAccount.
        self.subscription = sns.CfnSubscription(
            self,
            "IngestSubscription",
            topic_arn=self.topic.topic_arn,
            protocol="sqs",
            endpoint=self.queue.queue_arn,
            raw_message_delivery=False,
            redrive_policy={"deadLetterTargetArn": self.dlq.queue_arn},
        )
        # Subscribe only once the queue accepts the topic's messages.
        for queue in (self.queue, self.dlq):
            policy = queue.node.try_find_child("Policy")
            assert policy is not None, f"{queue.node.path} has no queue policy"
            self.subscription.node.add_dependency(policy)
        if self.key is not None:
            self.subscription.node.add_dependency(self.key)

    @property
    def queue(self) -> sqs.Queue:
        return self.pair.queue

    @property
    def dlq(self) -> sqs.Queue:
        return self.pair.dlq

    def _producer_principals(self) -> list[iam.IPrincipal]:
        if not self.producer_account_ids:
            return [iam.AccountRootPrincipal()]
        return [iam.AccountPrincipal(account) for account in self.producer_account_ids]

    def _from_topic(self) -> dict[str, dict[str, str]]:
        return {
            "ArnEquals": {"aws:SourceArn": self.topic.topic_arn},
            "StringEquals": {"aws:SourceAccount": Aws.ACCOUNT_ID},
        }

    def _key_policy(self, key: kms.Key) -> None:
        if self.producer_account_ids:
            # SQS and SNS call KMS with the producer's credentials; the producer's own IAM policy
            # must allow these actions on this key too (cross-account KMS needs both sides).
            key.add_to_resource_policy(
                iam.PolicyStatement(
                    sid=SID_PRODUCERS_KMS,
                    principals=self._producer_principals(),
                    actions=["kms:GenerateDataKey*", "kms:Decrypt"],
                    resources=["*"],
                    conditions={
                        "StringEquals": {
                            "kms:ViaService": [
                                f"sqs.{Aws.REGION}.amazonaws.com",
                                f"sns.{Aws.REGION}.amazonaws.com",
                            ]
                        }
                    },
                )
            )
        # SNS encrypts what it delivers into the queue and the DLQ. The key policy cannot name the
        # topic (the topic is encrypted with this key: a dependency cycle), so it pins this account;
        # the queue policies pin the topic itself, and only the ingest queues use this key.
        key.add_to_resource_policy(
            iam.PolicyStatement(
                sid=SID_TOPIC_KMS,
                principals=[iam.ServicePrincipal("sns.amazonaws.com")],
                actions=["kms:GenerateDataKey*", "kms:Decrypt"],
                resources=["*"],
                conditions={"StringEquals": {"aws:SourceAccount": Aws.ACCOUNT_ID}},
            )
        )
