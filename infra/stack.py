"""HeraldStack: one deployable unit composed of small constructs, one per concern.

One stack, not several: the resource policies here reference each other in both directions (the
ingest key's policy names the ingest topic, the topic's subscription needs the queue's policy, the
data key's policy names CloudWatch for the alarm topic, every function's role names the keys,
queues and topics), and across stacks those references become export locks or dependency cycles
that CDK can only break by widening a policy to the account root. Stateful resources are protected
by their removal policies instead (table, keys, secret and log groups are retained in prod, and the
table has deletion protection), and their logical ids are pinned by tests.
"""

from __future__ import annotations

from typing import Any

from aws_cdk import Aws, CfnOutput, Stack, Tags
from constructs import Construct

from herald import names
from infra.api import Api
from infra.broadcast import Broadcast
from infra.bundling import code_asset
from infra.config import HeraldConfig
from infra.console import Console
from infra.functions import DELIVER, FILTER, INGEST, REPROCESS, HeraldFunctions
from infra.ingest import IngestBridge
from infra.messaging import Messaging
from infra.observability import Observability, WatchedQueue
from infra.secrets import Secrets
from infra.storage import Storage

# Output logical ids are an interface (scripts, docs and tests look them up): never rename them.
OUTPUT_API_URL = "ApiUrl"
OUTPUT_EVENTS_QUEUE_URL = "EventsQueueUrl"
OUTPUT_DELIVERIES_QUEUE_URL = "DeliveriesQueueUrl"
OUTPUT_ORDERED_DELIVERIES_QUEUE_URL = "OrderedDeliveriesQueueUrl"
OUTPUT_TABLE_NAME = "TableName"
OUTPUT_DELIVER_ROLE_ARN = "DeliverRoleArn"
OUTPUT_ACCOUNT_ID = "HeraldAccountId"
OUTPUT_INGEST_QUEUE_URL = "IngestQueueUrl"
OUTPUT_INGEST_QUEUE_ARN = "IngestQueueArn"
OUTPUT_INGEST_TOPIC_ARN = "IngestTopicArn"
OUTPUT_INGEST_KEY_ARN = "IngestKeyArn"
OUTPUT_BROADCAST_TOPIC_ARN = "BroadcastTopicArn"
OUTPUT_ONECODEX_WEBHOOK_URL = "OneCodexWebhookUrl"
OUTPUT_ONECODEX_SECRET_ARN = "OneCodexSecretArn"
OUTPUT_DASHBOARD_NAME = "DashboardName"
OUTPUT_ALARM_TOPIC_ARN = "AlarmTopicArn"
OUTPUT_CONSOLE_URL = "ConsoleUrl"


class HeraldStack(Stack):
    def __init__(self, scope: Construct, construct_id: str, *, config: HeraldConfig, **kwargs: Any) -> None:
        super().__init__(scope, construct_id, **kwargs)
        self.config = config
        Tags.of(self).add("service", names.SERVICE_NAME)
        Tags.of(self).add("stage", config.stage)

        self.storage = Storage(self, "Storage", prod=config.is_prod, capacity=config.table_capacity)
        self.secrets = Secrets(self, "Secrets", prod=config.is_prod)
        self.messaging = Messaging(
            self,
            "Messaging",
            key=self.storage.key,
            retry_schedule=config.retry_schedule,
            disable_after_seconds=config.effective_disable_after_seconds,
            events_consumer_timeout=FILTER.timeout,
            deliveries_consumer_timeout=DELIVER.timeout,
            dlq_consumer_timeout=REPROCESS.timeout,
        )
        self.ingest = IngestBridge(
            self,
            "Bridge",
            producer_account_ids=config.producer_account_ids,
            use_kms=config.ingest_uses_kms,
            consumer_timeout=INGEST.timeout,
            dlq_consumer_timeout=REPROCESS.timeout,
            prod=config.is_prod,
        )
        self.broadcast = Broadcast(
            self, "Broadcast", key=self.storage.key, consumer_account_ids=config.consumer_account_ids
        )
        self.functions = HeraldFunctions(
            self,
            "Functions",
            config=config,
            storage=self.storage,
            messaging=self.messaging,
            ingest=self.ingest,
            broadcast=self.broadcast,
            secrets=self.secrets,
            code=code_asset(),
        )
        self.api = Api(
            self,
            "Api",
            handler=self.functions.api,
            stage_name=config.stage,
            throttle_rate=config.api_throttle_rate,
            throttle_burst=config.api_throttle_burst,
            prod=config.is_prod,
        )
        self.console = Console(self, "Console", rest_api=self.api.rest_api, api_url=self.api.url)
        self.observability = Observability(
            self,
            "Observability",
            functions=[(name, handler.function) for name, handler in self.functions.handlers.items()],
            queues=[
                WatchedQueue("Ingest", self.ingest.pair),
                WatchedQueue("Events", self.messaging.events),
                WatchedQueue("Deliveries", self.messaging.deliveries),
                WatchedQueue("OrderedDeliveries", self.messaging.ordered_deliveries),
            ],
            rest_api=self.api.rest_api,
            table=self.storage.table,
            table_indexes=[index for index, _pk, _sk in names.TABLE_INDEXES],
            table_provisioned=config.table_capacity is not None,
            key=self.storage.key,
            alarm_email=config.alarm_email,
        )
        self._outputs()

    def _outputs(self) -> None:
        out = self._output
        out(OUTPUT_API_URL, self.api.url, "Base URL of the Herald REST API")
        out(
            OUTPUT_CONSOLE_URL,
            self.console.url,
            "The web console (sign in with an API key, or herald console)",
        )
        out(
            OUTPUT_ONECODEX_WEBHOOK_URL,
            self.api.onecodex_webhook_url,
            "Webhook URL to enter in One Codex (POST, signed with the secret in OneCodexSecretArn)",
        )
        out(
            OUTPUT_ONECODEX_SECRET_ARN,
            self.secrets.onecodex_secret.secret_arn,
            "Secrets Manager secret: store One Codex's webhook secret here (put-secret-value)",
        )
        out(
            OUTPUT_INGEST_QUEUE_URL,
            self.ingest.queue.queue_url,
            "Ingest queue URL (ICA's SQS channel address)",
        )
        out(OUTPUT_INGEST_QUEUE_ARN, self.ingest.queue.queue_arn, "Ingest queue ARN")
        out(OUTPUT_INGEST_TOPIC_ARN, self.ingest.topic.topic_arn, "Ingest topic ARN (producers publish here)")
        if self.ingest.key is not None:
            out(
                OUTPUT_INGEST_KEY_ARN,
                self.ingest.key.key_arn,
                "KMS key of the ingest queue/topic: producers allow kms:GenerateDataKey*/Decrypt on it",
            )
        out(
            OUTPUT_BROADCAST_TOPIC_ARN,
            self.broadcast.topic.topic_arn,
            "Broadcast topic: every delivered event (eventCode attribute); consumer accounts subscribe",
        )
        out(OUTPUT_EVENTS_QUEUE_URL, self.messaging.events.queue.queue_url, "Events queue (routing input)")
        out(
            OUTPUT_DELIVERIES_QUEUE_URL,
            self.messaging.deliveries.queue.queue_url,
            "Deliveries queue (delivery input)",
        )
        out(
            OUTPUT_ORDERED_DELIVERIES_QUEUE_URL,
            self.messaging.ordered_deliveries.queue.queue_url,
            "Ordered deliveries FIFO queue (delivery input of ordered subscriptions)",
        )
        out(OUTPUT_TABLE_NAME, self.storage.table.table_name, "Event store table")
        out(
            OUTPUT_DELIVER_ROLE_ARN,
            self.functions.deliver.role.role_arn,  # type: ignore[union-attr]
            "Principal that users allow in their target queue/topic policies (see policies/)",
        )
        out(OUTPUT_ACCOUNT_ID, Aws.ACCOUNT_ID, "Herald's account: `herald policy sqs|sns --account`")
        out(OUTPUT_DASHBOARD_NAME, self.observability.dashboard.dashboard_name, "CloudWatch dashboard")
        if self.observability.alarm_topic is not None:
            out(
                OUTPUT_ALARM_TOPIC_ARN,
                self.observability.alarm_topic.topic_arn,
                "Alarm notifications (confirm the e-mail subscription)",
            )

    def _output(self, name: str, value: str, description: str) -> CfnOutput:
        # Created at stack level so the logical id is exactly `name`.
        return CfnOutput(self, name, value=value, description=description)
