"""The event store: one DynamoDB table with overloaded keys, and the data key that encrypts it.

The table is on demand by default. With `herald:tableBillingMode=provisioned` the table and each
of its two indexes get read and write capacity that target-tracking auto scaling keeps at 70 %
utilisation between the configured bounds (docs/deploy.md weighs the two modes).
"""

from __future__ import annotations

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_kms as kms
from constructs import Construct

from herald import names
from infra.config import TableCapacity

# Auto scaling keeps consumed capacity at this share of the provisioned capacity (AWS's default).
TARGET_UTILIZATION_PERCENT = 70


class Storage(Construct):
    """Creates the customer-managed data key (shared with the queues) and the table.

    Key and table are retained in prod: losing either loses the event history. `capacity` None
    means on demand; otherwise provisioned, starting at the minimums, with auto scaling.
    """

    def __init__(
        self, scope: Construct, construct_id: str, *, prod: bool, capacity: TableCapacity | None = None
    ) -> None:
        super().__init__(scope, construct_id)
        self.capacity = capacity
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
            partition_key=_string(names.TABLE_KEY[0]),
            sort_key=_string(names.TABLE_KEY[1]),
            billing_mode=(
                dynamodb.BillingMode.PROVISIONED if capacity else dynamodb.BillingMode.PAY_PER_REQUEST
            ),
            read_capacity=capacity.min_read if capacity else None,
            write_capacity=capacity.min_write if capacity else None,
            encryption=dynamodb.TableEncryption.CUSTOMER_MANAGED,
            encryption_key=self.key,
            point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=True
            ),
            time_to_live_attribute=names.TABLE_TTL_ATTRIBUTE,
            deletion_protection=prod,
            removal_policy=removal,
        )
        for index, pk, sk in names.TABLE_INDEXES:
            self.table.add_global_secondary_index(
                index_name=index,
                partition_key=_string(pk),
                sort_key=_string(sk),
                projection_type=dynamodb.ProjectionType.ALL,
                read_capacity=capacity.min_read if capacity else None,
                write_capacity=capacity.min_write if capacity else None,
            )
        if capacity:
            # CDK leaves BillingMode out for provisioned tables (CloudFormation's default); stated
            # explicitly so the template says what a switch from on demand does.
            cfn_table = self.table.node.default_child
            assert isinstance(cfn_table, dynamodb.CfnTable)
            cfn_table.billing_mode = "PROVISIONED"
            self._auto_scale(capacity)

    def _auto_scale(self, capacity: TableCapacity) -> None:
        """Target tracking on reads and writes of the table and of each index (each index has its
        own capacity: a write that changes an index entry consumes the index's write units too,
        and a throttled index throttles the table's writes)."""
        table = self.table
        scaled = [
            table.auto_scale_read_capacity(min_capacity=capacity.min_read, max_capacity=capacity.max_read),
            table.auto_scale_write_capacity(min_capacity=capacity.min_write, max_capacity=capacity.max_write),
        ]
        for index, _pk, _sk in names.TABLE_INDEXES:
            scaled.append(
                table.auto_scale_global_secondary_index_read_capacity(
                    index, min_capacity=capacity.min_read, max_capacity=capacity.max_read
                )
            )
            scaled.append(
                table.auto_scale_global_secondary_index_write_capacity(
                    index, min_capacity=capacity.min_write, max_capacity=capacity.max_write
                )
            )
        for attribute in scaled:
            attribute.scale_on_utilization(target_utilization_percent=TARGET_UTILIZATION_PERCENT)


def _string(name: str) -> dynamodb.Attribute:
    return dynamodb.Attribute(name=name, type=dynamodb.AttributeType.STRING)
