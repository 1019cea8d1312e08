"""HeraldStack: storage, messaging, functions and API composed into one deployable unit."""

from __future__ import annotations

from typing import Any

from aws_cdk import CfnOutput, Stack, Tags
from constructs import Construct

from herald import names
from infra.api import Api
from infra.bundling import code_asset
from infra.config import HeraldConfig
from infra.functions import DELIVER, FILTER, REPROCESS, HeraldFunctions
from infra.messaging import Messaging
from infra.storage import Storage

# Output logical ids are an interface (scripts and tests look them up): never rename them.
OUTPUT_API_URL = "ApiUrl"
OUTPUT_EVENTS_QUEUE_URL = "EventsQueueUrl"
OUTPUT_DELIVERIES_QUEUE_URL = "DeliveriesQueueUrl"
OUTPUT_TABLE_NAME = "TableName"
OUTPUT_DELIVER_ROLE_ARN = "DeliverRoleArn"


class HeraldStack(Stack):
    def __init__(self, scope: Construct, construct_id: str, *, config: HeraldConfig, **kwargs: Any) -> None:
        super().__init__(scope, construct_id, **kwargs)
        self.config = config
        Tags.of(self).add("service", names.SERVICE_NAME)
        Tags.of(self).add("stage", config.stage)

        self.storage = Storage(self, "Storage", prod=config.is_prod)
        self.messaging = Messaging(
            self,
            "Messaging",
            key=self.storage.key,
            retry_schedule=config.retry_schedule,
            events_consumer_timeout=FILTER.timeout,
            deliveries_consumer_timeout=DELIVER.timeout,
            dlq_consumer_timeout=REPROCESS.timeout,
        )
        self.functions = HeraldFunctions(
            self,
            "Functions",
            config=config,
            storage=self.storage,
            messaging=self.messaging,
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

        self._output(OUTPUT_API_URL, self.api.url, "Base URL of the Herald REST API")
        self._output(
            OUTPUT_EVENTS_QUEUE_URL, self.messaging.events.queue.queue_url, "Events queue (routing input)"
        )
        self._output(
            OUTPUT_DELIVERIES_QUEUE_URL,
            self.messaging.deliveries.queue.queue_url,
            "Deliveries queue (delivery input)",
        )
        self._output(OUTPUT_TABLE_NAME, self.storage.table.table_name, "Event store table")
        self._output(
            OUTPUT_DELIVER_ROLE_ARN,
            self.functions.deliver.role.role_arn,  # type: ignore[union-attr]
            "Principal that users allow in their target queue/topic policies (see policies/)",
        )

    def _output(self, name: str, value: str, description: str) -> CfnOutput:
        # Created at stack level so the logical id is exactly `name`.
        return CfnOutput(self, name, value=value, description=description)
