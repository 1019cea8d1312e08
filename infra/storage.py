"""The event store: one DynamoDB table with overloaded keys, and the data key that encrypts it."""

from __future__ import annotations

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_kms as kms
from constructs import Construct

from herald import names


class Storage(Construct):
    """Creates the customer-managed data key (shared with the queues) and the table.

    Key and table are retained in prod: losing either loses the event history.
    """

    def __init__(self, scope: Construct, construct_id: str, *, prod: bool) -> None:
        super().__init__(scope, construct_id)
        removal = RemovalPolicy.RETAIN if prod else RemovalPolicy.DESTROY

        self.key = kms.Key(
            self,
            "DataKey",
            description="Herald data at rest: event store and queues",
            enable_key_rotation=True,
            removal_policy=removal,
            pending_window=Duration.days(30 if prod else 7),
        )

        self.table = dynamodb.Table(
            self,
            "Table",
            partition_key=_string(names.TABLE_PARTITION_KEY),
            sort_key=_string(names.TABLE_SORT_KEY),
            billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
            encryption=dynamodb.TableEncryption.CUSTOMER_MANAGED,
            encryption_key=self.key,
            point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=True
            ),
            time_to_live_attribute=names.TABLE_TTL_ATTRIBUTE,
            deletion_protection=prod,
            removal_policy=removal,
        )
        for index, pk, sk in (
            (names.GSI1_NAME, names.GSI1_PARTITION_KEY, names.GSI1_SORT_KEY),
            (names.GSI2_NAME, names.GSI2_PARTITION_KEY, names.GSI2_SORT_KEY),
        ):
            self.table.add_global_secondary_index(
                index_name=index,
                partition_key=_string(pk),
                sort_key=_string(sk),
                projection_type=dynamodb.ProjectionType.ALL,
            )


def _string(name: str) -> dynamodb.Attribute:
    return dynamodb.Attribute(name=name, type=dynamodb.AttributeType.STRING)
