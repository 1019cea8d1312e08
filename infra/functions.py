"""Herald's Lambda functions: one construct builds each, then event sources and grants per function."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from aws_cdk import Duration, RemovalPolicy, Stack
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as sources
from aws_cdk import aws_logs as logs
from constructs import Construct

from herald import names
from infra import nag
from infra.broadcast import Broadcast
from infra.config import HeraldConfig
from infra.ingest import IngestBridge
from infra.messaging import Messaging
from infra.secrets import Secrets
from infra.storage import Storage

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
FILTER = FunctionSpec("Filter", "herald.handlers.route.handler", 60, 512, "Herald routing")
# A batch is sent concurrently with a 15 s per-attempt HTTP timeout; 120 s leaves room for slow
# targets, SES/SNS/SQS calls and the store updates.
DELIVER = FunctionSpec("Deliver", "herald.handlers.deliver.handler", 120, 512, "Herald delivery")
REPROCESS = FunctionSpec(
    "Reprocess", "herald.handlers.reprocess.handler", 60, 512, "Herald dead-letter handling"
)
INGEST = FunctionSpec(
    "Ingest", "herald.handlers.bridge.handler", 60, 512, "Herald bridge ingest (ICA and other producers)"
)
# Runs every minute: a run must end before the next one starts.
SCHEDULED = FunctionSpec(
    "Scheduled", "herald.handlers.scheduled.handler", 50, 512, "Herald scheduled jobs (stalled transfers)"
)
ALL_SPECS = (API, INGEST, FILTER, DELIVER, REPROCESS, SCHEDULED)
STALL_SCHEDULE = Duration.minutes(1)


class HeraldFunction(Construct):
    """One Lambda function with its own log group and execution role.

    The single place that decides runtime, architecture, tracing, logging and the role. The role
    is Herald's own rather than CDK's default (AWSLambdaBasicExecutionRole, which may write to
    every log group in the account): it may write only to this function's log group.
    """

    def __init__(
        self,
        scope: Construct,
        spec: FunctionSpec,
        *,
        code: lambda_.Code,
        environment: Mapping[str, str],
        prod: bool,
    ) -> None:
        super().__init__(scope, spec.construct_id)
        self.spec = spec
        self.log_group = logs.LogGroup(
            self,
            "Logs",
            retention=logs.RetentionDays.ONE_YEAR if prod else logs.RetentionDays.ONE_MONTH,
            removal_policy=RemovalPolicy.RETAIN if prod else RemovalPolicy.DESTROY,
        )
        self.role = iam.Role(
            self,
            "Role",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description=f"{spec.description}: Lambda execution role",
        )
        self.log_group.grant_write(self.role)
        self.function = lambda_.Function(
            self,
            "Function",
            description=spec.description,
            code=code,
            handler=spec.handler,
            runtime=RUNTIME,
            architecture=ARCHITECTURE,
            memory_size=spec.memory_size,
            timeout=spec.timeout,
            tracing=lambda_.Tracing.ACTIVE,
            environment=dict(environment),
            log_group=self.log_group,
            role=self.role,
        )
        nag.acknowledge(self.function.node.default_child, "AwsSolutions-L1", nag.REASON_RUNTIME)  # type: ignore[arg-type]

    @property
    def policy(self) -> iam.Policy:
        """The role's default policy, where CDK's grants (and Herald's) land."""
        policy = self.role.node.try_find_child("DefaultPolicy")
        assert isinstance(policy, iam.Policy), f"{self.node.path}: no default policy yet"
        return policy

    def acknowledge(self, rule: str, reason: str) -> None:
        """Acknowledge a finding on this function's role policy only."""
        nag.acknowledge(self.policy, rule, reason)


class HeraldFunctions(Construct):
    """Creates the api, ingest, filter, deliver, reprocess and scheduled functions from one asset."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: HeraldConfig,
        storage: Storage,
        messaging: Messaging,
        ingest: IngestBridge,
        broadcast: Broadcast,
        secrets: Secrets,
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
            "POWERTOOLS_LOG_LEVEL": config.log_level,
        }
        if config.ses_sender:
            self._environment[names.ENV_SES_SENDER] = config.ses_sender
        self.handlers: dict[str, HeraldFunction] = {}

        table = storage.table
        events_pair, deliveries = messaging.events, messaging.deliveries
        ordered = messaging.ordered_deliveries
        broadcast_env = {names.ENV_BROADCAST_TOPIC_ARN: broadcast.topic.topic_arn}
        secrets_env = {names.ENV_SECRETS_KEY_ID: secrets.key.key_arn}
        # Only where the ordered queue is used and granted: without it the runtime sends ordered
        # subscriptions' deliveries to the deliveries queue (Queues.send_deliveries).
        ordered_env = {names.ENV_ORDERED_DELIVERIES_QUEUE_URL: ordered.queue.queue_url}
        # Endpoint health settings that are configured (unset ones keep names.DEFAULT_*).
        circuit_env = config.circuit_env

        # api: the REST API, including One Codex webhooks. Custom events go to the events queue;
        # reprocessed failed notifications go straight back to the deliveries queue. It seals
        # channel secrets and may open them (herald.adapters.secret_box: API and deliver read them), and
        # shows channels' health (the same circuit settings as deliver).
        self.api = self._function(
            API,
            {
                **secrets_env,
                **circuit_env,
                names.ENV_ONECODEX_SECRET_ARN: secrets.onecodex_secret.secret_arn,
                **config.onecodex_env,
            },
        )
        table.grant_read_write_data(self.api)
        events_pair.queue.grant_send_messages(self.api)
        deliveries.queue.grant_send_messages(self.api)
        secrets.grant_encrypt_channel_secrets(self.api)
        secrets.grant_decrypt_channel_secrets(self.api)
        secrets.onecodex_secret.grant_read(self.api)

        # ingest: the bridge's consumer (ICA and other producer accounts).
        ingest_env = {}
        if config.ingest_default_project:
            ingest_env[names.ENV_INGEST_DEFAULT_PROJECT] = config.ingest_default_project
        self.ingest = self._function(INGEST, ingest_env)
        table.grant_read_write_data(self.ingest)
        events_pair.queue.grant_send_messages(self.ingest)
        self.ingest.add_event_source(
            sources.SqsEventSource(
                ingest.queue, batch_size=names.INGEST_BATCH_SIZE, report_batch_item_failures=True
            )
        )

        # filter: routes events to subscriptions (ordered ones' deliveries to the FIFO queue); may
        # publish to the broadcast topic. With herald:broadcast off it neither knows nor may publish
        # to the topic (HERALD_BROADCAST=0 too); the topic itself stays, so its ARN and consumers'
        # subscriptions survive turning broadcast off and on again. Routing settings that are
        # configured (broadcast off, a filter time budget) override the runtime's defaults.
        filter_broadcast_env = broadcast_env if config.broadcast else {}
        self.filter = self._function(FILTER, {**filter_broadcast_env, **ordered_env, **config.routing_env})
        table.grant_read_write_data(self.filter)
        deliveries.queue.grant_send_messages(self.filter)
        ordered.queue.grant_send_messages(self.filter)
        if config.broadcast:
            broadcast.grant_publish(self.filter)
        self.filter.add_event_source(
            sources.SqsEventSource(
                events_pair.queue, batch_size=names.EVENTS_BATCH_SIZE, report_batch_item_failures=True
            )
        )

        # deliver: sends to users' targets; decrypts channel signing secrets. Reads and writes
        # channels' health and rate-limit items in the table, and may emit operational events
        # (stored in the table, queued on the events queue, like ingest).
        self.deliver = self._function(DELIVER, {**broadcast_env, **secrets_env, **ordered_env, **circuit_env})
        table.grant_read_write_data(self.deliver)
        for queue, batch_size in (
            (deliveries.queue, names.DELIVERIES_BATCH_SIZE),
            (ordered.queue, names.ORDERED_DELIVERIES_BATCH_SIZE),
        ):
            self.deliver.add_event_source(
                sources.SqsEventSource(
                    queue,
                    batch_size=batch_size,
                    report_batch_item_failures=True,
                    # Caps the load Herald can put on users' targets (and on SES/SNS quotas) without
                    # reserving account concurrency (which new accounts with a limit of 10 cannot).
                    # Per event source: each queue may run this many. (A FIFO source takes no
                    # batching window; neither sets one.)
                    max_concurrency=config.deliver_max_concurrency,
                )
            )
            # Backoff (and, on the FIFO queue, deferral and releasing the messages held back
            # behind a retry) is a visibility change; granted explicitly rather than relying on
            # what the event source's consume grant happens to include.
            queue.grant(self.deliver, "sqs:ChangeMessageVisibility")
        # A deferred standard delivery is sent again with a delay (the FIFO one keeps its place).
        deliveries.queue.grant_send_messages(self.deliver)
        events_pair.queue.grant_send_messages(self.deliver)  # operational events
        broadcast.grant_publish(self.deliver)
        secrets.grant_decrypt_channel_secrets(self.deliver)
        self.deliver_targets_policy = self._deliver_targets_policy()

        # reprocess: drains every DLQ (marks events/notifications failed, records bad ingests).
        # A dead-lettered ingest is tried once more (so it needs ingest's default project), and
        # an accepted one, like an operational event about an exhausted notification, is queued
        # on the events queue.
        self.reprocess = self._function(REPROCESS, ingest_env)
        table.grant_read_write_data(self.reprocess)
        events_pair.queue.grant_send_messages(self.reprocess)
        self.reprocess_dlqs = [*messaging.dlqs, ingest.dlq]
        for dlq in self.reprocess_dlqs:
            self.reprocess.add_event_source(
                sources.SqsEventSource(dlq, batch_size=DLQ_BATCH_SIZE, report_batch_item_failures=True)
            )

        # scheduled: stalled data transfer detection, every minute.
        self.scheduled = self._function(
            SCHEDULED, {names.ENV_STALL_AFTER_SECONDS: str(config.stall_after_seconds)}
        )
        table.grant_read_write_data(self.scheduled)
        events_pair.queue.grant_send_messages(self.scheduled)
        # A missed or failed run is covered by the next one a minute later: no retries that would
        # pile up behind it.
        self.scheduled.configure_async_invoke(retry_attempts=0, max_event_age=Duration.minutes(1))
        self.stall_schedule = events.Rule(
            self,
            "StallSchedule",
            description="Herald: detect stalled data transfers",
            schedule=events.Schedule.rate(STALL_SCHEDULE),
            targets=[
                targets.LambdaFunction(self.scheduled, retry_attempts=0, max_event_age=Duration.minutes(1))
            ],
        )

        # The value CDK's table grants name (`<table ARN>/index/*`), spelled by nag.finding.
        table_indexes = f"{table.table_arn}/index/*"
        for handler in self.handlers.values():
            handler.acknowledge("AwsSolutions-IAM5[Resource::*]", nag.REASON_XRAY)
            nag.acknowledge_resource(
                handler.policy, "AwsSolutions-IAM5", table_indexes, nag.REASON_TABLE_INDEXES
            )
            handler.acknowledge("AwsSolutions-IAM5[Action::kms:GenerateDataKey*]", nag.REASON_KMS_ACTIONS)
            handler.acknowledge("AwsSolutions-IAM5[Action::kms:ReEncrypt*]", nag.REASON_KMS_ACTIONS)

    @property
    def functions(self) -> list[lambda_.Function]:
        return [handler.function for handler in self.handlers.values()]

    def _function(self, spec: FunctionSpec, extra: Mapping[str, str] | None = None) -> lambda_.Function:
        handler = HeraldFunction(
            self,
            spec,
            code=self._code,
            environment={**self._environment, **(extra or {})},
            prod=self._config.is_prod,
        )
        self.handlers[spec.construct_id] = handler
        return handler.function

    def _deliver_targets_policy(self) -> iam.Policy:
        """Cross-account delivery rights, kept in their own policy so they are easy to audit.

        Users' queues, topics and e-mail identities live in any account and region, so these
        resources are wildcards by nature: the target's own resource policy is what grants or
        refuses Herald (see policies/). This is the documented reason for the nag suppressions.
        """
        stack = Stack.of(self)

        def any_arn(service: str, resource: str = "*") -> str:
            return stack.format_arn(service=service, region="*", account="*", resource=resource)

        # Each wildcard is built once and used for both the statement and its acknowledgment, so the
        # acknowledgment names the ARN in whatever form the template holds it (placeholders in an
        # environment-agnostic stack, `arn:aws:...` or `arn:aws-cn:...` with a concrete region).
        queues, topics, keys = any_arn("sqs"), any_arn("sns"), any_arn("kms", "key/*")
        identities = stack.format_arn(service="ses", resource="identity", resource_name="*")
        statements = [
            iam.PolicyStatement(sid="SendToTargetQueues", actions=["sqs:SendMessage"], resources=[queues]),
            iam.PolicyStatement(sid="PublishToTargetTopics", actions=["sns:Publish"], resources=[topics]),
            # Targets encrypted with their owner's KMS key: usable only through SQS/SNS.
            iam.PolicyStatement(
                sid="EncryptForTargets",
                actions=["kms:GenerateDataKey*", "kms:Decrypt"],
                resources=[keys],
                conditions={"StringLike": {"kms:ViaService": ["sqs.*.amazonaws.com", "sns.*.amazonaws.com"]}},
            ),
            iam.PolicyStatement(
                sid="SendMail",
                actions=["ses:SendEmail", "ses:SendRawEmail"],
                resources=[identities],
                conditions=_ses_conditions(self._config.ses_sender),
            ),
        ]
        policy = iam.Policy(self, "DeliverTargetsPolicy", statements=statements)
        policy.attach_to_role(self.deliver.role)  # type: ignore[arg-type]

        def acknowledge(resource: str, reason: str) -> None:
            nag.acknowledge_resource(policy, "AwsSolutions-IAM5", resource, reason)

        target_owner = (
            " The target's own resource policy decides whether Herald's deliver role may write "
            "(policies/target-*.json); this statement only lets the role ask."
        )
        acknowledge(
            queues,
            "Users' SQS targets are queues in any account and region, known only at runtime "
            "(channels are data, not infrastructure)." + target_owner,
        )
        acknowledge(
            topics,
            "Users' SNS targets are topics in any account and region, known only at runtime." + target_owner,
        )
        acknowledge(
            keys,
            "Targets encrypted with their owner's customer-managed key: the key is in the target's "
            "account and unknown to Herald; usable only through SQS/SNS (kms:ViaService), and only "
            "if the owner's key policy allows Herald (policies/target-kms-key-policy-statement.json).",
        )
        nag.acknowledge(
            policy,
            "AwsSolutions-IAM5[Action::kms:GenerateDataKey*]",
            "SQS/SNS SSE with a target's key needs kms:GenerateDataKey (and SNS may use the "
            "WithoutPlaintext variant); restricted to kms:ViaService sqs/sns.",
        )
        acknowledge(
            identities,
            "Mail targets: SES checks every identity a message uses (From domain or address), in this "
            "account and region only; the From address is pinned by ses:FromAddress when "
            "herald:sesSender is set.",
        )
        return policy


def _ses_conditions(sender: str) -> dict[str, dict[str, str]] | None:
    """Pin the From address when one is configured ("Name <a@b>" or "a@b")."""
    if not sender:
        return None
    match = re.search(r"<([^>]+)>", sender)
    return {"StringEquals": {"ses:FromAddress": match.group(1) if match else sender}}
