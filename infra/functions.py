"""Herald's Lambda functions: one helper builds them all, then event sources and grants per function."""

from __future__ import annotations

import re
from dataclasses import dataclass

from aws_cdk import Duration, RemovalPolicy, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as sources
from aws_cdk import aws_logs as logs
from constructs import Construct

from herald import names
from infra.config import HeraldConfig
from infra.messaging import Messaging
from infra.storage import Storage

LOG_LEVEL = "INFO"
RUNTIME = lambda_.Runtime.PYTHON_3_12
ARCHITECTURE = lambda_.Architecture.ARM_64
DLQ_BATCH_SIZE = 10


@dataclass(frozen=True)
class FunctionSpec:
    """What differs between Herald's functions; everything else is shared."""

    construct_id: str
    handler: str
    timeout_seconds: int
    memory_size: int
    description: str

    @property
    def timeout(self) -> Duration:
        return Duration.seconds(self.timeout_seconds)


# API Gateway gives up on an integration after 29 s; more CPU (memory) shortens cold starts.
API = FunctionSpec("Api", "herald.handlers.api.handler", 29, 1024, "Herald REST API")
FILTER = FunctionSpec("Filter", "herald.handlers.filter.handler", 60, 512, "Herald routing")
# A batch is sent concurrently with a 15 s per-attempt HTTP timeout; 120 s leaves room for slow
# targets, SES/SNS/SQS calls and the store updates.
DELIVER = FunctionSpec("Deliver", "herald.handlers.deliver.handler", 120, 512, "Herald delivery")
REPROCESS = FunctionSpec(
    "Reprocess", "herald.handlers.reprocess.handler", 60, 512, "Herald dead-letter handling"
)


class HeraldFunctions(Construct):
    """Creates the api, filter, deliver and reprocess functions from one code asset."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: HeraldConfig,
        storage: Storage,
        messaging: Messaging,
        code: lambda_.Code,
    ) -> None:
        super().__init__(scope, construct_id)
        self._config = config
        self._code = code
        self._environment = {
            names.ENV_TABLE_NAME: storage.table.table_name,
            names.ENV_EVENTS_QUEUE_URL: messaging.events.queue.queue_url,
            names.ENV_DELIVERIES_QUEUE_URL: messaging.deliveries.queue.queue_url,
            names.ENV_RETRY_SCHEDULE: config.retry_schedule_env,
            names.ENV_RETENTION_DAYS: str(config.retention_days),
            "POWERTOOLS_SERVICE_NAME": names.SERVICE_NAME,
            "POWERTOOLS_METRICS_NAMESPACE": names.METRICS_NAMESPACE,
            "LOG_LEVEL": LOG_LEVEL,
        }
        if config.ses_sender:
            self._environment[names.ENV_SES_SENDER] = config.ses_sender

        table = storage.table
        events, deliveries = messaging.events, messaging.deliveries

        self.api = self._function(API)
        table.grant_read_write_data(self.api)
        events.queue.grant_send_messages(self.api)

        self.filter = self._function(FILTER)
        table.grant_read_write_data(self.filter)
        deliveries.queue.grant_send_messages(self.filter)
        self.filter.add_event_source(
            sources.SqsEventSource(
                events.queue, batch_size=names.EVENTS_BATCH_SIZE, report_batch_item_failures=True
            )
        )

        self.deliver = self._function(DELIVER)
        table.grant_read_write_data(self.deliver)
        self.deliver.add_event_source(
            sources.SqsEventSource(
                deliveries.queue,
                batch_size=names.DELIVERIES_BATCH_SIZE,
                report_batch_item_failures=True,
                # Caps the load Herald can put on users' targets (and on SES/SNS quotas).
                max_concurrency=config.deliver_max_concurrency,
            )
        )
        # Backoff is a visibility change on the failed message; granted explicitly rather than
        # relying on what the event source's consume grant happens to include.
        deliveries.queue.grant(self.deliver, "sqs:ChangeMessageVisibility")
        self.deliver_targets_policy = self._deliver_targets_policy()

        self.reprocess = self._function(REPROCESS)
        table.grant_read_write_data(self.reprocess)
        for dlq in messaging.dlqs:
            self.reprocess.add_event_source(
                sources.SqsEventSource(dlq, batch_size=DLQ_BATCH_SIZE, report_batch_item_failures=True)
            )

    @property
    def functions(self) -> list[lambda_.Function]:
        return [self.api, self.filter, self.deliver, self.reprocess]

    def _function(self, spec: FunctionSpec) -> lambda_.Function:
        """The single place that decides runtime, architecture, tracing, logging and environment."""
        prod = self._config.is_prod
        log_group = logs.LogGroup(
            self,
            f"{spec.construct_id}Logs",
            retention=logs.RetentionDays.ONE_YEAR if prod else logs.RetentionDays.ONE_MONTH,
            removal_policy=RemovalPolicy.RETAIN if prod else RemovalPolicy.DESTROY,
        )
        return lambda_.Function(
            self,
            spec.construct_id,
            description=spec.description,
            code=self._code,
            handler=spec.handler,
            runtime=RUNTIME,
            architecture=ARCHITECTURE,
            memory_size=spec.memory_size,
            timeout=spec.timeout,
            tracing=lambda_.Tracing.ACTIVE,
            environment=dict(self._environment),
            log_group=log_group,
        )

    def _deliver_targets_policy(self) -> iam.Policy:
        """Cross-account delivery rights, kept in their own policy so they are easy to audit.

        Users' queues, topics and e-mail identities live in any account and region, so these
        resources are wildcards by nature: the target's own resource policy is what grants or
        refuses Herald (see policies/). This is the documented reason for the nag suppressions.
        """
        stack = Stack.of(self)

        def any_arn(service: str, resource: str = "*") -> str:
            return stack.format_arn(service=service, region="*", account="*", resource=resource)

        statements = [
            iam.PolicyStatement(
                sid="SendToTargetQueues", actions=["sqs:SendMessage"], resources=[any_arn("sqs")]
            ),
            iam.PolicyStatement(
                sid="PublishToTargetTopics", actions=["sns:Publish"], resources=[any_arn("sns")]
            ),
            # Targets encrypted with their owner's KMS key: usable only through SQS/SNS.
            iam.PolicyStatement(
                sid="EncryptForTargets",
                actions=["kms:GenerateDataKey*", "kms:Decrypt"],
                resources=[any_arn("kms", "key/*")],
                conditions={"StringLike": {"kms:ViaService": ["sqs.*.amazonaws.com", "sns.*.amazonaws.com"]}},
            ),
            iam.PolicyStatement(
                sid="SendMail",
                actions=["ses:SendEmail", "ses:SendRawEmail"],
                resources=[
                    stack.format_arn(service="ses", resource="identity", resource_name="*"),
                ],
                conditions=_ses_conditions(self._config.ses_sender),
            ),
        ]
        policy = iam.Policy(self, "DeliverTargetsPolicy", statements=statements)
        policy.attach_to_role(self.deliver.role)  # type: ignore[arg-type]
        return policy


def _ses_conditions(sender: str) -> dict[str, dict[str, str]] | None:
    """Pin the From address when one is configured ("Name <a@b>" or "a@b")."""
    if not sender:
        return None
    match = re.search(r"<([^>]+)>", sender)
    return {"StringEquals": {"ses:FromAddress": match.group(1) if match else sender}}
