"""The queues between Herald's hops, each with its dead-letter queue and alarms."""

from __future__ import annotations

from dataclasses import dataclass, field

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from herald import names
from infra.config import QUEUE_RETENTION_SECONDS

# SQS keeps a message at most 14 days. A redriven message keeps its original enqueue time, so the
# DLQ must keep messages at least as long as its source queue.
RETENTION = Duration.seconds(QUEUE_RETENTION_SECONDS)
# AWS's guidance for Lambda-consumed queues: visibility >= 6 x the function timeout, so retries of
# a throttled or timed-out batch do not make a message visible while it is still being handled.
VISIBILITY_FACTOR = 6
# A DLQ is drained by the reprocess function within seconds; messages present in every one-minute
# sample for this long mean reprocess is failing, and events or notifications are not marked failed.
DLQ_STUCK_PERIOD = Duration.minutes(1)
DLQ_STUCK_PERIODS = 15
EVENTS_MAX_AGE_SECONDS = 900


@dataclass
class QueuePair:
    """A work queue, its dead-letter queue and the alarms that watch them."""

    queue: sqs.Queue
    dlq: sqs.Queue
    alarms: list[cloudwatch.Alarm] = field(default_factory=list)


def ordered_deliveries_max_age_seconds(retry_schedule: tuple[int, ...], disable_after_seconds: int) -> int:
    """Alarm threshold on the ordered (FIFO) deliveries queue's ApproximateAgeOfOldestMessage.

    A message group waits behind its head for as long as the head is retried (the whole schedule)
    and held back by its channel's open circuit (at most until the channel is disabled), and the
    messages waiting behind it count however long that is. Older than both, plus 15 minutes,
    means the deliver function is not draining the queue (a receiver's outage alone cannot).
    """
    return sum(retry_schedule) + disable_after_seconds + 900


def deliveries_max_age_seconds(retry_schedule: tuple[int, ...]) -> int:
    """Alarm threshold on the deliveries queue's ApproximateAgeOfOldestMessage.

    Messages in backoff legitimately grow old, but SQS leaves a message out of this metric once it
    has been received three times; so only the first delays are normal age, plus 15 minutes.
    """
    return sum(retry_schedule[:3]) + 900


class Messaging(Construct):
    """Creates the events, deliveries and ordered deliveries queues with their DLQs, all
    KMS-encrypted and TLS-only."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        key: kms.IKey,
        retry_schedule: tuple[int, ...],
        disable_after_seconds: int,
        events_consumer_timeout: Duration,
        deliveries_consumer_timeout: Duration,
        dlq_consumer_timeout: Duration,
    ) -> None:
        super().__init__(scope, construct_id)
        # Routing failures are bugs or outages: a few quick retries, then the DLQ.
        self.events = queue_with_dlq(
            self,
            "Events",
            key=key,
            max_receive_count=names.EVENTS_MAX_RECEIVE_COUNT,
            consumer_timeout=events_consumer_timeout,
            dlq_consumer_timeout=dlq_consumer_timeout,
            max_age_seconds=EVENTS_MAX_AGE_SECONDS,
        )
        # One receive per delivery attempt: the deliver function stretches each failed message's
        # visibility to the next backoff delay, and the receive after the last attempt redrives it.
        self.deliveries = queue_with_dlq(
            self,
            "Deliveries",
            key=key,
            max_receive_count=names.max_receive_count(retry_schedule),
            consumer_timeout=deliveries_consumer_timeout,
            dlq_consumer_timeout=dlq_consumer_timeout,
            max_age_seconds=deliveries_max_age_seconds(retry_schedule),
        )
        # Ordered subscriptions: FIFO, one message group per subscription (the sender sets the
        # group and the de-duplication id, the notification's id, so content-based de-duplication
        # is off). Herald counts attempts itself: a held-back message is received again with its
        # group's head, so the redrive only catches what no deliver function can process.
        self.ordered_deliveries = queue_with_dlq(
            self,
            "OrderedDeliveries",
            key=key,
            max_receive_count=names.ORDERED_MAX_RECEIVE_COUNT,
            consumer_timeout=deliveries_consumer_timeout,
            dlq_consumer_timeout=dlq_consumer_timeout,
            max_age_seconds=ordered_deliveries_max_age_seconds(retry_schedule, disable_after_seconds),
            fifo=True,
            label="ordered deliveries",
        )

    @property
    def pairs(self) -> list[QueuePair]:
        return [self.events, self.deliveries, self.ordered_deliveries]

    @property
    def dlqs(self) -> list[sqs.Queue]:
        return [pair.dlq for pair in self.pairs]

    @property
    def alarms(self) -> list[cloudwatch.Alarm]:
        return [alarm for pair in self.pairs for alarm in pair.alarms]


def queue_with_dlq(
    scope: Construct,
    name: str,
    *,
    key: kms.IKey | None,
    max_receive_count: int,
    consumer_timeout: Duration,
    dlq_consumer_timeout: Duration,
    max_age_seconds: int,
    fifo: bool = False,
    label: str | None = None,
) -> QueuePair:
    """A queue and its DLQ with Herald's settings, plus the alarms that watch them.

    `key=None` encrypts with SQS-managed keys (SSE-SQS) instead of a customer-managed KMS key.
    `fifo=True` makes both FIFO (a FIFO queue's DLQ must be FIFO too): CloudFormation then names
    them `….fifo`, and the queue gets high-throughput mode (de-duplication and throughput per
    message group, since Herald's groups are independent). `label` names them in alarm texts.
    The DLQ has no DLQ of its own: a message reprocess cannot handle is retried every visibility
    timeout until it expires, and the depth alarm below says so.
    """
    label = label or name.lower()
    dlq = _queue(scope, f"{name}Dlq", key=key, consumer_timeout=dlq_consumer_timeout, fifo=fifo)
    queue = _queue(
        scope,
        f"{name}Queue",
        key=key,
        consumer_timeout=consumer_timeout,
        dead_letter_queue=sqs.DeadLetterQueue(queue=dlq, max_receive_count=max_receive_count),
        fifo=fifo,
        high_throughput=fifo,
    )
    pair = QueuePair(queue=queue, dlq=dlq)
    pair.alarms.append(
        cloudwatch.Alarm(
            scope,
            f"{name}OldestMessageAlarm",
            alarm_description=f"Herald {label} queue is falling behind",
            metric=queue.metric_approximate_age_of_oldest_message(
                period=Duration.minutes(5), statistic=cloudwatch.Stats.MAXIMUM
            ),
            threshold=max_age_seconds,
            evaluation_periods=1,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        )
    )
    pair.alarms.append(
        cloudwatch.Alarm(
            scope,
            f"{name}DlqDepthAlarm",
            alarm_description=f"Herald {label} DLQ is not being drained by reprocess",
            # Visible + in flight: a message reprocess keeps failing on is in flight most of
            # the time, so "visible" alone would hide it.
            metric=dlq_depth(dlq, label=f"{name} DLQ messages"),
            threshold=1,
            evaluation_periods=DLQ_STUCK_PERIODS,
            datapoints_to_alarm=DLQ_STUCK_PERIODS,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        )
    )
    return pair


def dlq_depth(dlq: sqs.IQueue, *, label: str, suffix: str = "") -> cloudwatch.MathExpression:
    """Messages in a DLQ, visible or in flight (alarms and the dashboard use the same metric).

    `suffix` keeps the expression's metric ids unique when several share one graph.
    """
    visible, inflight = f"visible{suffix}", f"inflight{suffix}"
    return cloudwatch.MathExpression(
        expression=f"{visible} + {inflight}",
        label=label,
        period=DLQ_STUCK_PERIOD,
        using_metrics={
            visible: dlq.metric_approximate_number_of_messages_visible(
                period=DLQ_STUCK_PERIOD, statistic=cloudwatch.Stats.MAXIMUM
            ),
            inflight: dlq.metric_approximate_number_of_messages_not_visible(
                period=DLQ_STUCK_PERIOD, statistic=cloudwatch.Stats.MAXIMUM
            ),
        },
    )


def _queue(
    scope: Construct,
    construct_id: str,
    *,
    key: kms.IKey | None,
    consumer_timeout: Duration,
    dead_letter_queue: sqs.DeadLetterQueue | None = None,
    fifo: bool = False,
    high_throughput: bool = False,
) -> sqs.Queue:
    return sqs.Queue(
        scope,
        construct_id,
        encryption=sqs.QueueEncryption.KMS if key is not None else sqs.QueueEncryption.SQS_MANAGED,
        encryption_master_key=key,
        enforce_ssl=True,
        retention_period=RETENTION,
        visibility_timeout=Duration.seconds(consumer_timeout.to_seconds() * VISIBILITY_FACTOR),
        dead_letter_queue=dead_letter_queue,
        # None leaves a standard queue's template as it was.
        fifo=True if fifo else None,
        content_based_deduplication=False if fifo else None,
        deduplication_scope=sqs.DeduplicationScope.MESSAGE_GROUP if high_throughput else None,
        fifo_throughput_limit=sqs.FifoThroughputLimit.PER_MESSAGE_GROUP_ID if high_throughput else None,
    )
