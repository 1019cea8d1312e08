"""Dashboard and alarms: Herald's EMF metrics, its functions, queues, table and API; an optional
alarm topic.

The runtime emits EMF metrics through Powertools in namespace `names.METRICS_NAMESPACE` with the
dimension `service` = `names.SERVICE_NAME`; the names below are the ones it emits.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from aws_cdk import Aws, Duration
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as actions
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sns as sns
from constructs import Construct

from herald import names
from infra.messaging import QueuePair, dlq_depth

PERIOD = Duration.minutes(5)
# Counters the runtime emits (handlers: ingest, filter, deliver, reprocess, scheduled).
METRIC_EVENTS_INGESTED = "EventsIngested"
METRIC_EVENTS_DEDUPLICATED = "EventsDeduplicated"
METRIC_TRANSFERS_STALLED = "TransfersStalled"
# Events stored but not queued at ingest, queued by the scheduled function's sweep (only when > 0).
METRIC_UNQUEUED_EVENTS_REQUEUED = "UnqueuedEventsRequeued"
METRIC_NOTIFICATIONS_CREATED = "NotificationsCreated"
# "deferred": held back by the channel's circuit or rate limit (no attempt used).
NOTIFICATION_OUTCOMES = ("delivered", "retry", "failed", "skipped", "deferred")
METRIC_DEAD_LETTERS = "DeadLetters"
METRIC_DELIVERY_LATENCY = "DeliveryLatencyMs"
SID_CLOUDWATCH_PUBLISH = "AllowCloudWatchAlarmsToPublish"
SID_CLOUDWATCH_KMS = "AllowCloudWatchAlarmsToEncrypt"


def notification_metric_name(outcome: str) -> str:
    return f"Notifications_{outcome}"


def herald_metric(
    name: str, *, statistic: str = cloudwatch.Stats.SUM, label: str | None = None
) -> cloudwatch.Metric:
    return cloudwatch.Metric(
        namespace=names.METRICS_NAMESPACE,
        metric_name=name,
        dimensions_map={"service": names.SERVICE_NAME},
        statistic=statistic,
        period=PERIOD,
        label=label or name,
    )


@dataclass(frozen=True)
class WatchedQueue:
    name: str
    pair: QueuePair


class Observability(Construct):
    """Creates per-function error/throttle alarms, the dashboard, and the alarm topic if asked."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        functions: Sequence[tuple[str, lambda_.IFunction]],
        queues: Sequence[WatchedQueue],
        rest_api: apigw.RestApi,
        table: dynamodb.Table,
        table_indexes: Sequence[str],
        table_provisioned: bool,
        key: kms.Key,
        alarm_email: str,
    ) -> None:
        super().__init__(scope, construct_id)
        self._table = table
        self._table_indexes = tuple(table_indexes)
        self._table_provisioned = table_provisioned
        self.function_alarms: list[cloudwatch.Alarm] = []
        for name, function in functions:
            # Target failures are reported per item, not raised: an Errors datapoint is a bug or an
            # outage inside Herald, worth a look every time.
            self.function_alarms.append(
                cloudwatch.Alarm(
                    self,
                    f"{name}ErrorsAlarm",
                    alarm_description=f"Herald {name.lower()} function raised errors",
                    metric=function.metric_errors(period=PERIOD, statistic=cloudwatch.Stats.SUM),
                    threshold=1,
                    evaluation_periods=1,
                    comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
                    treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
                )
            )
            # Event-source concurrency caps do not throttle; a throttle means the account's
            # concurrency is exhausted.
            self.function_alarms.append(
                cloudwatch.Alarm(
                    self,
                    f"{name}ThrottlesAlarm",
                    alarm_description=f"Herald {name.lower()} function is throttled",
                    metric=function.metric_throttles(period=PERIOD, statistic=cloudwatch.Stats.SUM),
                    threshold=1,
                    evaluation_periods=1,
                    comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
                    treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
                )
            )
        self.alarms = [*self.function_alarms, *(alarm for q in queues for alarm in q.pair.alarms)]

        self.alarm_topic: sns.Topic | None = None
        if alarm_email:
            self.alarm_topic = self._alarm_topic(key, alarm_email)
            action = actions.SnsAction(self.alarm_topic)
            for alarm in self.alarms:
                alarm.add_alarm_action(action)
                alarm.add_ok_action(action)

        self.dashboard = cloudwatch.Dashboard(
            self,
            "Dashboard",
            default_interval=Duration.hours(6),
            widgets=self._widgets(functions, queues, rest_api),
        )

    def _alarm_topic(self, key: kms.Key, email: str) -> sns.Topic:
        topic = sns.Topic(self, "AlarmTopic", display_name="Herald alarms", master_key=key, enforce_ssl=True)
        # A stable id: the L2 helper would put the address into the logical id.
        sns.Subscription(
            self, "AlarmEmail", topic=topic, endpoint=email, protocol=sns.SubscriptionProtocol.EMAIL
        )
        # CloudWatch publishes as a service: only for alarms in this account and region.
        from_alarms = {
            "ArnLike": {
                "aws:SourceArn": f"arn:{Aws.PARTITION}:cloudwatch:{Aws.REGION}:{Aws.ACCOUNT_ID}:alarm:*"
            },
            "StringEquals": {"aws:SourceAccount": Aws.ACCOUNT_ID},
        }
        cloudwatch_principal = iam.ServicePrincipal("cloudwatch.amazonaws.com")
        topic.add_to_resource_policy(
            iam.PolicyStatement(
                sid=SID_CLOUDWATCH_PUBLISH,
                principals=[cloudwatch_principal],
                actions=["sns:Publish"],
                resources=[topic.topic_arn],
                conditions=from_alarms,
            )
        )
        # Without this CloudWatch cannot publish to a KMS-encrypted topic and alarms go nowhere.
        key.add_to_resource_policy(
            iam.PolicyStatement(
                sid=SID_CLOUDWATCH_KMS,
                principals=[cloudwatch_principal],
                actions=["kms:Decrypt", "kms:GenerateDataKey*"],
                resources=["*"],
                conditions=from_alarms,
            )
        )
        return topic

    def _widgets(
        self,
        functions: Sequence[tuple[str, lambda_.IFunction]],
        queues: Sequence[WatchedQueue],
        rest_api: apigw.RestApi,
    ) -> list[list[cloudwatch.IWidget]]:
        def graph(
            title: str, metrics: Sequence[cloudwatch.IMetric], **kwargs: object
        ) -> cloudwatch.GraphWidget:
            return cloudwatch.GraphWidget(title=title, left=list(metrics), width=6, height=6, **kwargs)  # type: ignore[arg-type]

        def per_function(title: str, metric: str, statistic: str) -> cloudwatch.GraphWidget:
            return cloudwatch.GraphWidget(
                title=title,
                width=8,
                height=6,
                left=[
                    function.metric(metric, period=PERIOD, statistic=statistic, label=name)
                    for name, function in functions
                ],
            )

        header = cloudwatch.TextWidget(
            markdown=(
                "# Herald\n"
                "Events in (`EventsIngested`) → notifications created → delivered / retried / failed / "
                "skipped / deferred (a channel's circuit or rate limit held it back); dead letters are "
                "events or notifications the pipeline gave up on."
            ),
            width=24,
            height=2,
        )
        pipeline: list[cloudwatch.IWidget] = [
            graph(
                "Events and notifications",
                [
                    herald_metric(METRIC_EVENTS_INGESTED),
                    herald_metric(METRIC_EVENTS_DEDUPLICATED),
                    herald_metric(METRIC_NOTIFICATIONS_CREATED),
                ],
            ),
            graph(
                "Delivery outcomes",
                [
                    herald_metric(notification_metric_name(outcome), label=outcome)
                    for outcome in NOTIFICATION_OUTCOMES
                ],
            ),
            graph(
                "Dead letters, stalled transfers, requeued events",
                [
                    herald_metric(METRIC_DEAD_LETTERS),
                    herald_metric(METRIC_TRANSFERS_STALLED),
                    herald_metric(METRIC_UNQUEUED_EVENTS_REQUEUED),
                ],
            ),
            graph(
                "Delivery latency (ms)",
                [
                    herald_metric(METRIC_DELIVERY_LATENCY, statistic=stat, label=stat)
                    for stat in (cloudwatch.Stats.p(50), cloudwatch.Stats.p(90), cloudwatch.Stats.p(99))
                ],
            ),
        ]
        lambdas: list[cloudwatch.IWidget] = [
            per_function("Lambda errors", "Errors", cloudwatch.Stats.SUM),
            per_function("Lambda throttles", "Throttles", cloudwatch.Stats.SUM),
            per_function("Lambda duration p99 (ms)", "Duration", cloudwatch.Stats.p(99)),
        ]
        messaging: list[cloudwatch.IWidget] = [
            graph(
                "Queue age of oldest message (s)",
                [
                    q.pair.queue.metric_approximate_age_of_oldest_message(
                        period=PERIOD, statistic=cloudwatch.Stats.MAXIMUM, label=q.name
                    )
                    for q in queues
                ],
            ),
            graph(
                "DLQ depth (visible + in flight)",
                [dlq_depth(q.pair.dlq, label=f"{q.name} DLQ", suffix=q.name.lower()) for q in queues],
            ),
            graph(
                "API requests",
                [
                    rest_api.metric_count(period=PERIOD, label="requests"),
                    rest_api.metric_client_error(period=PERIOD, label="4xx"),
                    rest_api.metric_server_error(period=PERIOD, label="5xx"),
                ],
            ),
            graph(
                "API latency p99 (ms)",
                [
                    rest_api.metric_latency(period=PERIOD, statistic=cloudwatch.Stats.p(99), label="latency"),
                    rest_api.metric_integration_latency(
                        period=PERIOD, statistic=cloudwatch.Stats.p(99), label="integration"
                    ),
                ],
            ),
        ]
        status = cloudwatch.AlarmStatusWidget(title="Alarms", alarms=self.alarms, width=24, height=4)
        return [[header], pipeline, lambdas, messaging, self._table_widgets(), [status]]

    def _table_widgets(self) -> list[cloudwatch.IWidget]:
        """Capacity the table and its indexes use (against what is provisioned, in provisioned
        mode) and their throttled requests: what the billing mode costs and what it refuses."""
        parts: list[tuple[str, dict[str, str]]] = [("table", {"TableName": self._table.table_name})]
        parts += [
            (index, {"TableName": self._table.table_name, "GlobalSecondaryIndexName": index})
            for index in self._table_indexes
        ]

        def dynamodb_metric(
            name: str, dimensions: dict[str, str], statistic: str, label: str
        ) -> cloudwatch.Metric:
            return cloudwatch.Metric(
                namespace="AWS/DynamoDB",
                metric_name=name,
                dimensions_map=dimensions,
                statistic=statistic,
                period=PERIOD,
                label=label,
            )

        def per_second(kind: str) -> list[cloudwatch.IMetric]:
            metrics: list[cloudwatch.IMetric] = []
            for part, dimensions in parts:
                consumed = dynamodb_metric(
                    f"Consumed{kind}CapacityUnits", dimensions, cloudwatch.Stats.SUM, f"{part} consumed"
                )
                # A metric id must be unique within its graph.
                metric_id = f"{part}_{kind}".lower()
                metrics.append(
                    cloudwatch.MathExpression(
                        expression=f"{metric_id} / PERIOD({metric_id})",
                        using_metrics={metric_id: consumed},
                        label=f"{part} consumed",
                        period=PERIOD,
                    )
                )
                if self._table_provisioned:
                    metrics.append(
                        dynamodb_metric(
                            f"Provisioned{kind}CapacityUnits",
                            dimensions,
                            cloudwatch.Stats.AVERAGE,
                            f"{part} provisioned",
                        )
                    )
            return metrics

        throttles = [
            dynamodb_metric(
                f"{kind}ThrottleEvents", dimensions, cloudwatch.Stats.SUM, f"{part} {kind.lower()}s throttled"
            )
            for part, dimensions in parts
            for kind in ("Read", "Write")
        ]
        return [
            cloudwatch.GraphWidget(
                title="Table write units per second", left=per_second("Write"), width=8, height=6
            ),
            cloudwatch.GraphWidget(
                title="Table read units per second", left=per_second("Read"), width=8, height=6
            ),
            cloudwatch.GraphWidget(title="Table throttled requests", left=throttles, width=8, height=6),
        ]
