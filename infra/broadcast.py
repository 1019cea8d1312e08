"""The broadcast topic: every delivered event, for consumer accounts that prefer SNS fan-out.

Consumer accounts (`herald:consumerAccountIds`) may subscribe their own endpoints; the runtime
publishes each event with an `eventCode` message attribute, so subscribers narrow what they
receive with an SNS filter policy instead of a Herald subscription. Subscribers never need the
topic's key: SNS decrypts before it delivers.
"""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from constructs import Construct

SID_CONSUMERS_SUBSCRIBE = "AllowConsumersToSubscribe"
# Endpoints that keep events encrypted in transit and inside AWS: no plain `http`, no e-mail or SMS
# (event payloads in inboxes and phones, beyond any later access control).
SUBSCRIBE_PROTOCOLS = ("sqs", "lambda", "https", "firehose")


class Broadcast(Construct):
    """Creates the broadcast topic (data key, TLS only) and lets consumer accounts subscribe."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        key: kms.IKey,
        consumer_account_ids: Sequence[str],
    ) -> None:
        super().__init__(scope, construct_id)
        self.consumer_account_ids = tuple(consumer_account_ids)
        self.topic = sns.Topic(
            self, "BroadcastTopic", display_name="Herald broadcast", master_key=key, enforce_ssl=True
        )
        if self.consumer_account_ids:
            self.topic.add_to_resource_policy(
                iam.PolicyStatement(
                    sid=SID_CONSUMERS_SUBSCRIBE,
                    principals=[iam.AccountPrincipal(account) for account in self.consumer_account_ids],
                    actions=["sns:Subscribe"],
                    resources=[self.topic.topic_arn],
                    conditions={"StringEquals": {"sns:Protocol": list(SUBSCRIBE_PROTOCOLS)}},
                )
            )

    def grant_publish(self, grantee: iam.IGrantable) -> iam.Grant:
        return self.topic.grant_publish(grantee)
