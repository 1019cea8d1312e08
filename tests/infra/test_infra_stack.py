"""HeraldStack's template, property by property: storage, the core queues, functions, API, outputs.

The bridge (ingest, broadcast, secrets, schedule) is in test_infra_bridge.py, alarms and the
dashboard in test_infra_observability.py, cdk-nag in test_infra_nag.py.
"""

from __future__ import annotations

import json
import re
from functools import partial
from typing import Any

import deploy_doc
import pytest
from aws_cdk.assertions import Annotations, Match
from conftest import (
    PROD_DISABLE_AFTER_SECONDS,
    PROD_SCHEDULE,
    PROVISIONED_READ,
    PROVISIONED_ROUTING_BUDGET,
    PROVISIONED_WRITE,
    REGIONS,
    SYNTH_GROUP,
)
from infra_helpers import allows, arn, grants, mentions, queue_policy, ref, role_statements

from herald import names
from infra import functions as fns
from infra import stack as stack_module
from infra import storage as storage_module
from infra.config import QUEUE_RETENTION_SECONDS
from infra.messaging import (
    VISIBILITY_FACTOR,
    deliveries_max_age_seconds,
    ordered_deliveries_max_age_seconds,
)

pytestmark = pytest.mark.xdist_group(name=SYNTH_GROUP)


# --- storage ------------------------------------------------------------------------------------


def test_table_keys_indexes_ttl_pitr_and_kms(dev: Any) -> None:
    key_arn = arn(dev.logical_id(dev.stack.storage.key))

    def gsi(name: str, pk: str, sk: str) -> dict[str, Any]:
        return {
            "IndexName": name,
            "KeySchema": [
                {"AttributeName": pk, "KeyType": "HASH"},
                {"AttributeName": sk, "KeyType": "RANGE"},
            ],
            "Projection": {"ProjectionType": "ALL"},
        }

    dev.template.has_resource_properties(
        "AWS::DynamoDB::Table",
        {
            "KeySchema": [
                {"AttributeName": names.TABLE_PARTITION_KEY, "KeyType": "HASH"},
                {"AttributeName": names.TABLE_SORT_KEY, "KeyType": "RANGE"},
            ],
            "AttributeDefinitions": Match.array_with(
                [
                    {"AttributeName": attribute, "AttributeType": "S"}
                    for attribute in (
                        names.TABLE_PARTITION_KEY,
                        names.TABLE_SORT_KEY,
                        names.GSI1_PARTITION_KEY,
                        names.GSI1_SORT_KEY,
                        names.GSI2_PARTITION_KEY,
                        names.GSI2_SORT_KEY,
                    )
                ]
            ),
            "GlobalSecondaryIndexes": Match.array_with(
                [
                    gsi(names.GSI1_NAME, names.GSI1_PARTITION_KEY, names.GSI1_SORT_KEY),
                    gsi(names.GSI2_NAME, names.GSI2_PARTITION_KEY, names.GSI2_SORT_KEY),
                ]
            ),
            "BillingMode": "PAY_PER_REQUEST",
            "TimeToLiveSpecification": {"AttributeName": names.TABLE_TTL_ATTRIBUTE, "Enabled": True},
            "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": True},
            "SSESpecification": {"SSEEnabled": True, "SSEType": "KMS", "KMSMasterKeyId": key_arn},
        },
    )


SCALABLE_TARGET = "AWS::ApplicationAutoScaling::ScalableTarget"
SCALING_POLICY = "AWS::ApplicationAutoScaling::ScalingPolicy"


@pytest.mark.parametrize("variant", ["dev", "prod", "managed"])
def test_table_is_on_demand_by_default(variant: str, request: pytest.FixtureRequest) -> None:
    synth = request.getfixturevalue(variant)
    table = synth.resource(synth.stack.storage.table)["Properties"]
    assert table["BillingMode"] == "PAY_PER_REQUEST"
    assert "ProvisionedThroughput" not in table
    assert all("ProvisionedThroughput" not in index for index in table["GlobalSecondaryIndexes"])
    assert not synth.template.find_resources(SCALABLE_TARGET)
    assert not synth.template.find_resources(SCALING_POLICY)


def test_provisioned_table_starts_at_the_minimums_on_the_table_and_both_indexes(provisioned: Any) -> None:
    table = provisioned.resource(provisioned.stack.storage.table)["Properties"]
    minimums = {"ReadCapacityUnits": PROVISIONED_READ[0], "WriteCapacityUnits": PROVISIONED_WRITE[0]}
    assert table["BillingMode"] == "PROVISIONED"
    assert table["ProvisionedThroughput"] == minimums
    indexes = {index["IndexName"]: index for index in table["GlobalSecondaryIndexes"]}
    assert set(indexes) == {names.GSI1_NAME, names.GSI2_NAME}
    for index in indexes.values():
        assert index["ProvisionedThroughput"] == minimums, index["IndexName"]
    # Only the capacity changes: same table (no replacement), keys, encryption, PITR and TTL.
    assert provisioned.logical_id(provisioned.stack.storage.table) == "StorageTableB43FDCE7"
    assert table["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    assert table["SSESpecification"]["SSEType"] == "KMS"
    assert table["TimeToLiveSpecification"]["Enabled"] is True


def _resource_id(synth: Any, index: str | None) -> dict[str, Any]:
    suffix = [f"/index/{index}"] if index else []
    return {"Fn::Join": ["", ["table/", ref(synth.logical_id(synth.stack.storage.table)), *suffix]]}


@pytest.mark.parametrize("index", [None, names.GSI1_NAME, names.GSI2_NAME], ids=["table", "gsi1", "gsi2"])
@pytest.mark.parametrize("kind", ["Read", "Write"])
def test_provisioned_capacity_is_auto_scaled_at_70_percent(
    provisioned: Any, index: str | None, kind: str
) -> None:
    resource_id = _resource_id(provisioned, index)
    dimension = f"dynamodb:{'index' if index else 'table'}:{kind}CapacityUnits"
    targets = {
        logical_id: target["Properties"]
        for logical_id, target in provisioned.template.find_resources(SCALABLE_TARGET).items()
        if target["Properties"]["ResourceId"] == resource_id
        and target["Properties"]["ScalableDimension"] == dimension
    }
    assert len(targets) == 1, targets
    [(target_id, target)] = targets.items()
    low, high = PROVISIONED_READ if kind == "Read" else PROVISIONED_WRITE
    assert (target["MinCapacity"], target["MaxCapacity"]) == (low, high)
    assert target["ServiceNamespace"] == "dynamodb"
    # DynamoDB's service-linked role for Application Auto Scaling: no role of Herald's own.
    assert "AWSServiceRoleForApplicationAutoScaling_DynamoDBTable" in json.dumps(target["RoleARN"])
    policies = [
        policy["Properties"]
        for policy in provisioned.template.find_resources(SCALING_POLICY).values()
        if policy["Properties"]["ScalingTargetId"] == ref(target_id)
    ]
    assert len(policies) == 1
    [policy] = policies
    assert policy["PolicyType"] == "TargetTrackingScaling"
    assert policy["TargetTrackingScalingPolicyConfiguration"] == {
        "PredefinedMetricSpecification": {"PredefinedMetricType": f"DynamoDB{kind}CapacityUtilization"},
        "TargetValue": storage_module.TARGET_UTILIZATION_PERCENT,
    }
    assert storage_module.TARGET_UTILIZATION_PERCENT == 70


def test_provisioned_table_has_six_scaled_dimensions_and_nothing_else(provisioned: Any) -> None:
    # Reads and writes of the table and of each index; nothing else in the stack is auto scaled.
    assert len(provisioned.template.find_resources(SCALABLE_TARGET)) == 6
    assert len(provisioned.template.find_resources(SCALING_POLICY)) == 6


def test_keys_rotate(dev: Any) -> None:
    for key in (dev.stack.storage.key, dev.stack.secrets.key, dev.stack.ingest.key):
        assert dev.resource(key)["Properties"]["EnableKeyRotation"] is True


def test_dev_stateful_resources_are_destroyed_with_the_stack(dev: Any) -> None:
    for construct in (
        dev.stack.storage.table,
        dev.stack.storage.key,
        dev.stack.secrets.key,
        dev.stack.secrets.onecodex_secret,
    ):
        assert dev.resource(construct)["DeletionPolicy"] == "Delete", construct.node.path
    assert dev.resource(dev.stack.storage.table)["Properties"]["DeletionProtectionEnabled"] is False


def test_prod_stateful_resources_are_retained_and_protected(prod: Any) -> None:
    # The secrets key must live as long as the table: channel secrets in the table are encrypted
    # with it. Log groups are evidence; the ingest key protects only 14-day messages.
    stateful = [
        prod.stack.storage.table,
        prod.stack.storage.key,
        prod.stack.secrets.key,
        prod.stack.secrets.onecodex_secret,
        prod.stack.api.access_logs,
        *(handler.log_group for handler in prod.stack.functions.handlers.values()),
    ]
    for construct in stateful:
        assert prod.resource(construct)["DeletionPolicy"] == "Retain", construct.node.path
        assert prod.resource(construct)["UpdateReplacePolicy"] == "Retain", construct.node.path
    assert prod.resource(prod.stack.storage.table)["Properties"]["DeletionProtectionEnabled"] is True
    for key in (prod.stack.storage.key, prod.stack.secrets.key):
        assert prod.resource(key)["Properties"]["PendingWindowInDays"] == 30


def test_stateful_logical_ids_are_pinned(dev: Any) -> None:
    """Renaming a construct would replace these resources (and lose the data) on the next deploy."""
    assert dev.logical_id(dev.stack.storage.table) == "StorageTableB43FDCE7"
    assert dev.logical_id(dev.stack.storage.key) == "StorageDataKeyE15BA43B"
    assert dev.logical_id(dev.stack.secrets.key) == "SecretsSecretsKeyAC75409E"
    assert dev.logical_id(dev.stack.secrets.onecodex_secret) == "SecretsOneCodexWebhookSecretC32011E6"


# --- messaging ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("pair", "expected_receive_count"),
    [
        ("events", names.EVENTS_MAX_RECEIVE_COUNT),
        ("deliveries", names.max_receive_count(names.DEFAULT_RETRY_SCHEDULE)),
        ("ordered_deliveries", names.ORDERED_MAX_RECEIVE_COUNT),
    ],
)
def test_redrive_policies(dev: Any, pair: str, expected_receive_count: int) -> None:
    queues = getattr(dev.stack.messaging, pair)
    redrive = dev.resource(queues.queue)["Properties"]["RedrivePolicy"]
    assert redrive == {
        "deadLetterTargetArn": arn(dev.logical_id(queues.dlq)),
        "maxReceiveCount": expected_receive_count,
    }


def test_ordered_deliveries_queue_and_its_dlq_are_fifo(dev: Any) -> None:
    ordered = dev.stack.messaging.ordered_deliveries
    queue, dlq = dev.resource(ordered.queue)["Properties"], dev.resource(ordered.dlq)["Properties"]
    # Herald sets the group (subscription) and de-duplication id (notification) on every send.
    assert queue["FifoQueue"] is True and queue["ContentBasedDeduplication"] is False
    # High-throughput mode: groups are independent, and a notification has one group.
    assert queue["DeduplicationScope"] == "messageGroup"
    assert queue["FifoThroughputLimit"] == "perMessageGroupId"
    # A FIFO queue's DLQ must be FIFO too.
    assert dlq["FifoQueue"] is True and dlq["ContentBasedDeduplication"] is False
    # Named by CloudFormation (which appends `.fifo`), as the other queues are; the local
    # runtime's names (names.ORDERED_DELIVERIES_*_NAME) are not used in AWS.
    assert "QueueName" not in queue and "QueueName" not in dlq
    assert ordered.queue.fifo and ordered.dlq.fifo
    # The standard queues stay standard.
    for pair in (dev.stack.messaging.events, dev.stack.messaging.deliveries):
        for construct in (pair.queue, pair.dlq):
            props = dev.resource(construct)["Properties"]
            assert "FifoQueue" not in props and "ContentBasedDeduplication" not in props


def test_default_deliveries_receive_count_is_one_per_attempt() -> None:
    # The first attempt plus one per scheduled retry: 1 + 7.
    assert names.max_receive_count(names.DEFAULT_RETRY_SCHEDULE) == 8


def test_receive_count_follows_the_configured_schedule(prod: Any) -> None:
    redrive = prod.resource(prod.stack.messaging.deliveries.queue)["Properties"]["RedrivePolicy"]
    assert redrive["maxReceiveCount"] == names.max_receive_count(PROD_SCHEDULE) == 4


def test_queues_are_kms_encrypted_retained_14_days_and_tls_only(dev: Any) -> None:
    messaging = dev.stack.messaging
    key_arn = arn(dev.logical_id(dev.stack.storage.key))
    assert len(messaging.dlqs) == 3
    for queue in (
        messaging.events.queue,
        messaging.deliveries.queue,
        messaging.ordered_deliveries.queue,
        *messaging.dlqs,
    ):
        queue_id = dev.logical_id(queue)
        props = dev.resource(queue)["Properties"]
        assert props["KmsMasterKeyId"] == key_arn
        assert props["MessageRetentionPeriod"] == QUEUE_RETENTION_SECONDS == 14 * 24 * 3600
        assert deny_plain_http(arn(queue_id)) in queue_policy(dev, queue), f"{queue_id} is not TLS-only"


def deny_plain_http(resource: Any) -> dict[str, Any]:
    return {
        "Effect": "Deny",
        "Action": "sqs:*",
        "Principal": {"AWS": "*"},
        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
        "Resource": resource,
    }


def test_visibility_timeouts_cover_six_consumer_timeouts(dev: Any) -> None:
    messaging, ingest = dev.stack.messaging, dev.stack.ingest
    for queue, consumer in (
        (messaging.events.queue, fns.FILTER),
        (messaging.deliveries.queue, fns.DELIVER),
        (messaging.ordered_deliveries.queue, fns.DELIVER),
        (ingest.queue, fns.INGEST),
        (messaging.events.dlq, fns.REPROCESS),
        (messaging.deliveries.dlq, fns.REPROCESS),
        (messaging.ordered_deliveries.dlq, fns.REPROCESS),
        (ingest.dlq, fns.REPROCESS),
    ):
        visibility = dev.resource(queue)["Properties"]["VisibilityTimeout"]
        assert visibility >= VISIBILITY_FACTOR * consumer.timeout_seconds


def test_retry_delays_fit_sqs_visibility_and_retention() -> None:
    assert max(names.DEFAULT_RETRY_SCHEDULE) <= names.SQS_MAX_VISIBILITY_SECONDS
    assert sum(names.DEFAULT_RETRY_SCHEDULE) < QUEUE_RETENTION_SECONDS


def _queue_name(synth: Any, queue: Any) -> dict[str, Any]:
    return {"Fn::GetAtt": [synth.logical_id(queue), "QueueName"]}


def _age_alarm_threshold(synth: Any, queue: Any) -> Any:
    [threshold] = [
        a["Properties"]["Threshold"]
        for a in synth.template.find_resources("AWS::CloudWatch::Alarm").values()
        if a["Properties"].get("MetricName") == "ApproximateAgeOfOldestMessage"
        and a["Properties"]["Dimensions"] == [{"Name": "QueueName", "Value": _queue_name(synth, queue)}]
    ]
    return threshold


def test_alarms_on_queue_age_and_dlq_depth(dev: Any) -> None:
    messaging, ingest = dev.stack.messaging, dev.stack.ingest
    alarms = dev.template.find_resources("AWS::CloudWatch::Alarm").values()
    queue_name = partial(_queue_name, dev)

    for queue, threshold in (
        (messaging.events.queue, 900),
        (messaging.deliveries.queue, deliveries_max_age_seconds(names.DEFAULT_RETRY_SCHEDULE)),
        (
            messaging.ordered_deliveries.queue,
            ordered_deliveries_max_age_seconds(
                names.DEFAULT_RETRY_SCHEDULE, names.DEFAULT_DISABLE_AFTER_SECONDS
            ),
        ),
        (ingest.queue, 900),
    ):
        assert _age_alarm_threshold(dev, queue) == threshold, dev.logical_id(queue)
    for dlq in (*messaging.dlqs, ingest.dlq):
        depth = [
            a["Properties"]
            for a in alarms
            if json.dumps(queue_name(dlq)) in json.dumps(a["Properties"].get("Metrics", []))
            and "ApproximateNumberOfMessagesVisible" in json.dumps(a["Properties"]["Metrics"])
            and "ApproximateNumberOfMessagesNotVisible" in json.dumps(a["Properties"]["Metrics"])
        ]
        assert len(depth) == 1, f"no depth alarm for {dev.logical_id(dlq)}"
        assert depth[0]["Threshold"] == 1
        assert depth[0]["ComparisonOperator"] == "GreaterThanOrEqualToThreshold"


def test_ordered_age_alarm_allows_for_the_schedule_and_the_disable_delay(prod: Any) -> None:
    # A group may wait behind its head for the whole retry schedule and an open circuit.
    assert ordered_deliveries_max_age_seconds((5, 300), 86400) == 5 + 300 + 86400 + 900
    threshold = _age_alarm_threshold(prod, prod.stack.messaging.ordered_deliveries.queue)
    assert threshold == sum(PROD_SCHEDULE) + PROD_DISABLE_AFTER_SECONDS + 900


# --- functions ----------------------------------------------------------------------------------


@pytest.mark.parametrize("spec", fns.ALL_SPECS, ids=lambda s: s.construct_id)
def test_function_runtime_and_settings(dev: Any, spec: fns.FunctionSpec) -> None:
    _function_id, function = dev.function(spec.handler)
    props = function["Properties"]
    assert props["Runtime"] == "python3.12"
    assert props["Architectures"] == ["arm64"]
    assert props["TracingConfig"] == {"Mode": "Active"}
    assert props["Timeout"] == spec.timeout_seconds
    assert props["MemorySize"] == spec.memory_size
    handler = dev.stack.functions.handlers[spec.construct_id]
    assert props["LoggingConfig"] == {"LogGroup": ref(dev.logical_id(handler.log_group))}
    assert dev.resource(handler.log_group)["Properties"]["RetentionInDays"] == 30
    assert "ReservedConcurrentExecutions" not in props, "reserving concurrency fails on new accounts"


def test_function_timeouts() -> None:
    assert (fns.API.timeout_seconds, fns.FILTER.timeout_seconds) == (29, 60)
    assert (fns.DELIVER.timeout_seconds, fns.REPROCESS.timeout_seconds) == (120, 60)
    assert (fns.INGEST.timeout_seconds, fns.SCHEDULED.timeout_seconds) == (60, 50)
    # A scheduled run ends before the next one starts.
    assert fns.SCHEDULED.timeout_seconds < fns.STALL_SCHEDULE.to_seconds()


def test_prod_logs_are_kept_a_year(prod: Any) -> None:
    for handler in prod.stack.functions.handlers.values():
        assert prod.resource(handler.log_group)["Properties"]["RetentionInDays"] == 365


def common_env(synth: Any, *, log_level: str = "INFO") -> dict[str, Any]:
    return {
        names.ENV_TABLE_NAME: ref(synth.logical_id(synth.stack.storage.table)),
        names.ENV_EVENTS_QUEUE_URL: ref(synth.logical_id(synth.stack.messaging.events.queue)),
        names.ENV_DELIVERIES_QUEUE_URL: ref(synth.logical_id(synth.stack.messaging.deliveries.queue)),
        names.ENV_RETRY_SCHEDULE: synth.stack.config.retry_schedule_env,
        names.ENV_RETENTION_DAYS: str(synth.stack.config.retention_days),
        "POWERTOOLS_SERVICE_NAME": names.SERVICE_NAME,
        "POWERTOOLS_METRICS_NAMESPACE": names.METRICS_NAMESPACE,
        "POWERTOOLS_LOG_LEVEL": log_level,
    }


def test_function_environments(dev: Any) -> None:
    common = common_env(dev)
    broadcast = {names.ENV_BROADCAST_TOPIC_ARN: ref(dev.logical_id(dev.stack.broadcast.topic))}
    secrets_key = {names.ENV_SECRETS_KEY_ID: arn(dev.logical_id(dev.stack.secrets.key))}
    onecodex = {names.ENV_ONECODEX_SECRET_ARN: ref(dev.logical_id(dev.stack.secrets.onecodex_secret))}
    # Only the functions that send to (filter) or consume (deliver) the FIFO queue know it; with no
    # URL the runtime sends ordered deliveries to the deliveries queue instead.
    ordered = {
        names.ENV_ORDERED_DELIVERIES_QUEUE_URL: ref(
            dev.logical_id(dev.stack.messaging.ordered_deliveries.queue)
        )
    }
    expected = {
        fns.API: {**common, **secrets_key, **onecodex},
        fns.INGEST: common,
        fns.FILTER: {**common, **broadcast, **ordered},
        # No endpoint-health variables in dev: the runtime's defaults apply.
        fns.DELIVER: {**common, **broadcast, **secrets_key, **ordered},
        fns.REPROCESS: common,
        fns.SCHEDULED: {**common, names.ENV_STALL_AFTER_SECONDS: str(names.DEFAULT_STALL_AFTER_SECONDS)},
    }
    assert set(expected) == set(fns.ALL_SPECS)
    for spec, variables in expected.items():
        actual = dev.function(spec.handler)[1]["Properties"]["Environment"]["Variables"]
        assert actual == variables, spec.construct_id


def test_prod_environment_carries_the_configuration(prod: Any) -> None:
    for spec in fns.ALL_SPECS:
        variables = prod.function(spec.handler)[1]["Properties"]["Environment"]["Variables"]
        assert variables[names.ENV_SES_SENDER] == "Herald <noreply@example.org>"
        assert variables[names.ENV_RETRY_SCHEDULE] == "1,2,3"
        assert variables["POWERTOOLS_LOG_LEVEL"] == "DEBUG"
        # Reprocess tries a dead-lettered ingest once more, the way ingest would.
        assert (names.ENV_INGEST_DEFAULT_PROJECT in variables) == (spec in (fns.INGEST, fns.REPROCESS)), (
            spec.construct_id
        )
        # Endpoint health: deliver acts on it, the api shows it (next probe time).
        circuit = {k: v for k, v in variables.items() if k.startswith(("HERALD_CIRCUIT_", "HERALD_DISABLE_"))}
        expected_circuit = {
            names.ENV_CIRCUIT_FAILURE_RATE: "0.5",
            names.ENV_CIRCUIT_COOLDOWN_SECONDS: "30",
            names.ENV_DISABLE_AFTER_SECONDS: str(PROD_DISABLE_AFTER_SECONDS),
        }
        assert circuit == (expected_circuit if spec in (fns.DELIVER, fns.API) else {}), spec.construct_id
    for spec in (fns.INGEST, fns.REPROCESS):
        variables = prod.function(spec.handler)[1]["Properties"]["Environment"]["Variables"]
        assert variables[names.ENV_INGEST_DEFAULT_PROJECT] == "proj-1"
    # The deployment-wide One Codex secret writes to one project only: the api function knows which.
    for spec in fns.ALL_SPECS:
        variables = prod.function(spec.handler)[1]["Properties"]["Environment"]["Variables"]
        expected_project = {names.ENV_ONECODEX_PROJECT: "proj-1"} if spec is fns.API else {}
        assert {k: v for k, v in variables.items() if k == names.ENV_ONECODEX_PROJECT} == expected_project
    scheduled = prod.function(fns.SCHEDULED.handler)[1]["Properties"]["Environment"]["Variables"]
    assert scheduled[names.ENV_STALL_AFTER_SECONDS] == "300"


ROUTING_VARIABLES = (names.ENV_BROADCAST, names.ENV_ROUTING_BUDGET_SECONDS)


@pytest.mark.parametrize("variant", ["dev", "prod", "managed"])
def test_routing_variables_are_absent_unless_configured(variant: str, request: pytest.FixtureRequest) -> None:
    # Broadcast on and the default filter budget are the runtime's own defaults: nothing to set.
    synth = request.getfixturevalue(variant)
    for spec in fns.ALL_SPECS:
        variables = synth.function(spec.handler)[1]["Properties"]["Environment"]["Variables"]
        assert not set(ROUTING_VARIABLES) & set(variables), spec.construct_id


def test_configured_routing_settings_reach_the_filter_function_only(provisioned: Any) -> None:
    for spec in fns.ALL_SPECS:
        variables = provisioned.function(spec.handler)[1]["Properties"]["Environment"]["Variables"]
        routing = {k: v for k, v in variables.items() if k in ROUTING_VARIABLES}
        if spec is fns.FILTER:
            assert routing == {
                names.ENV_BROADCAST: "0",
                names.ENV_ROUTING_BUDGET_SECONDS: str(float(PROVISIONED_ROUTING_BUDGET)),
            }
            # Broadcast off: the filter is not told the topic either.
            assert names.ENV_BROADCAST_TOPIC_ARN not in variables
        else:
            assert routing == {}, spec.construct_id


def _mapping(synth: Any, spec: fns.FunctionSpec, queue: Any) -> dict[str, Any]:
    function_id, _ = synth.function(spec.handler)
    found = synth.template.find_resources(
        "AWS::Lambda::EventSourceMapping",
        {
            "Properties": {
                "FunctionName": ref(function_id),
                "EventSourceArn": arn(synth.logical_id(queue)),
            }
        },
    )
    assert len(found) == 1, f"{spec.construct_id} is not mapped to {synth.logical_id(queue)}"
    return next(iter(found.values()))["Properties"]  # type: ignore[no-any-return]


def test_filter_consumes_the_events_queue(dev: Any) -> None:
    mapping = _mapping(dev, fns.FILTER, dev.stack.messaging.events.queue)
    assert mapping["BatchSize"] == names.EVENTS_BATCH_SIZE
    assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]


def test_ingest_consumes_the_ingest_queue(dev: Any) -> None:
    mapping = _mapping(dev, fns.INGEST, dev.stack.ingest.queue)
    assert mapping["BatchSize"] == names.INGEST_BATCH_SIZE
    assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]


def test_deliver_consumes_the_deliveries_queue_with_capped_concurrency(dev: Any, prod: Any) -> None:
    mapping = _mapping(dev, fns.DELIVER, dev.stack.messaging.deliveries.queue)
    assert mapping["BatchSize"] == names.DELIVERIES_BATCH_SIZE
    assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert mapping["ScalingConfig"] == {"MaximumConcurrency": 20}
    prod_mapping = _mapping(prod, fns.DELIVER, prod.stack.messaging.deliveries.queue)
    assert prod_mapping["ScalingConfig"] == {"MaximumConcurrency": 5}


def test_deliver_consumes_the_ordered_fifo_queue(dev: Any, prod: Any) -> None:
    mapping = _mapping(dev, fns.DELIVER, dev.stack.messaging.ordered_deliveries.queue)
    assert mapping["BatchSize"] == names.ORDERED_DELIVERIES_BATCH_SIZE == 1
    # Skipping the rest of a failed message's group is reported item by item.
    assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    # FIFO event sources take no batching window.
    assert "MaximumBatchingWindowInSeconds" not in mapping
    assert mapping["ScalingConfig"] == {"MaximumConcurrency": 20}
    prod_mapping = _mapping(prod, fns.DELIVER, prod.stack.messaging.ordered_deliveries.queue)
    assert prod_mapping["ScalingConfig"] == {"MaximumConcurrency": 5}
    function_id, _ = dev.function(fns.DELIVER.handler)
    assert (
        len(
            dev.template.find_resources(
                "AWS::Lambda::EventSourceMapping", {"Properties": {"FunctionName": ref(function_id)}}
            )
        )
        == 2
    )


def test_reprocess_consumes_every_dlq(dev: Any) -> None:
    assert dev.stack.messaging.ordered_deliveries.dlq in dev.stack.messaging.dlqs
    for dlq in (*dev.stack.messaging.dlqs, dev.stack.ingest.dlq):
        mapping = _mapping(dev, fns.REPROCESS, dlq)
        assert mapping["BatchSize"] == fns.DLQ_BATCH_SIZE == 10
        assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]


def test_api_and_scheduled_have_no_queue_trigger(dev: Any) -> None:
    for spec in (fns.API, fns.SCHEDULED):
        function_id, _ = dev.function(spec.handler)
        assert not dev.template.find_resources(
            "AWS::Lambda::EventSourceMapping", {"Properties": {"FunctionName": ref(function_id)}}
        ), spec.construct_id


# --- least privilege ----------------------------------------------------------------------------


@pytest.mark.parametrize("spec", fns.ALL_SPECS, ids=lambda s: s.construct_id)
def test_roles_are_herald_own_and_write_only_their_log_group(dev: Any, spec: fns.FunctionSpec) -> None:
    handler = dev.stack.functions.handlers[spec.construct_id]
    role = dev.resource(handler.role)["Properties"]
    assert "ManagedPolicyArns" not in role, "no AWSLambdaBasicExecutionRole (logs on every group)"
    assert role["AssumeRolePolicyDocument"]["Statement"] == [
        {"Action": "sts:AssumeRole", "Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}}
    ]
    statements = role_statements(dev, spec)
    [logs] = [s for s in statements if "logs:PutLogEvents" in json.dumps(s["Action"])]
    assert sorted(logs["Action"]) == ["logs:CreateLogStream", "logs:PutLogEvents"]
    assert logs["Resource"] == arn(dev.logical_id(handler.log_group))
    assert not any(str(a).startswith("logs:CreateLogGroup") for s in statements for a in s["Action"])


def test_every_function_reads_and_writes_the_table(dev: Any) -> None:
    table = arn(dev.logical_id(dev.stack.storage.table))
    for spec in fns.ALL_SPECS:
        statements = role_statements(dev, spec)
        assert allows(statements, "dynamodb:PutItem", table), spec.construct_id
        assert allows(statements, "dynamodb:Query", table), spec.construct_id


def test_queue_grants_follow_the_data_flow(dev: Any) -> None:
    m, bridge = dev.stack.messaging, dev.stack.ingest
    events, deliveries = arn(dev.logical_id(m.events.queue)), arn(dev.logical_id(m.deliveries.queue))
    ordered = arn(dev.logical_id(m.ordered_deliveries.queue))
    ingest_queue, ingest_dlq = arn(dev.logical_id(bridge.queue)), arn(dev.logical_id(bridge.dlq))
    events_dlq, deliveries_dlq = arn(dev.logical_id(m.events.dlq)), arn(dev.logical_id(m.deliveries.dlq))
    ordered_dlq = arn(dev.logical_id(m.ordered_deliveries.dlq))
    own_queues = (
        events,
        deliveries,
        ordered,
        ingest_queue,
        events_dlq,
        deliveries_dlq,
        ordered_dlq,
        ingest_dlq,
    )

    def sends_to(statements: list[dict[str, Any]]) -> set[str]:
        return {json.dumps(q) for q in own_queues if allows(statements, "sqs:SendMessage", q)}

    def names_of(*queues: Any) -> set[str]:
        return {json.dumps(q) for q in queues}

    api = role_statements(dev, fns.API)
    # Custom events; reprocessed failed notifications (to the deliveries queue, ordered or not).
    assert sends_to(api) == names_of(events, deliveries)
    assert not grants(api, "sqs:ReceiveMessage")

    ingest = role_statements(dev, fns.INGEST)
    assert allows(ingest, "sqs:ReceiveMessage", ingest_queue)
    assert allows(ingest, "sqs:DeleteMessage", ingest_queue)
    assert sends_to(ingest) == names_of(events)

    filter_ = role_statements(dev, fns.FILTER)
    assert allows(filter_, "sqs:ReceiveMessage", events)
    assert allows(filter_, "sqs:DeleteMessage", events)
    # Routing: ordered subscriptions' deliveries to the FIFO queue, the others' to the standard one.
    assert sends_to(filter_) == names_of(deliveries, ordered)
    assert not allows(filter_, "sqs:ReceiveMessage", ordered)

    deliver = role_statements(dev, fns.DELIVER)
    for queue in (deliveries, ordered):
        assert allows(deliver, "sqs:ReceiveMessage", queue)
        assert allows(deliver, "sqs:DeleteMessage", queue)
        # Backoff; on the FIFO queue also deferrals and releasing held-back messages.
        assert allows(deliver, "sqs:ChangeMessageVisibility", queue)
    # A deferred standard delivery is re-sent with a delay; operational events go to the events
    # queue. A deferred ordered delivery keeps its place (no send to the FIFO queue).
    assert sends_to(deliver) == names_of(deliveries, events)
    assert not allows(deliver, "sqs:ReceiveMessage", events)

    reprocess = role_statements(dev, fns.REPROCESS)
    for dlq in (events_dlq, deliveries_dlq, ordered_dlq, ingest_dlq):
        assert allows(reprocess, "sqs:ReceiveMessage", dlq)
        assert allows(reprocess, "sqs:DeleteMessage", dlq)
    # A dead-lettered ingest accepted on the second try, and an operational event about an
    # exhausted notification, are queued for routing.
    assert sends_to(reprocess) == names_of(events)
    assert len(grants(reprocess, "sqs:SendMessage")) == 1

    scheduled = role_statements(dev, fns.SCHEDULED)
    assert allows(scheduled, "sqs:SendMessage", events)
    assert not grants(scheduled, "sqs:ReceiveMessage")
    assert len(grants(scheduled, "sqs:SendMessage")) == 1


def test_deliver_reads_and_writes_channel_health_in_the_table(dev: Any) -> None:
    # herald.dal.channel_health: GetItem, UpdateItem (conditional), DeleteItem; operational events are
    # stored with PutItem (herald.logic.accept).
    table = arn(dev.logical_id(dev.stack.storage.table))
    deliver = role_statements(dev, fns.DELIVER)
    for action in ("dynamodb:GetItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:PutItem"):
        assert allows(deliver, action, table), action


def test_every_function_can_use_the_data_key(dev: Any) -> None:
    key = arn(dev.logical_id(dev.stack.storage.key))
    for spec in fns.ALL_SPECS:
        assert allows(role_statements(dev, spec), "kms:Decrypt", key), spec.construct_id


def test_only_consumers_of_the_ingest_queues_may_decrypt_with_the_ingest_key(dev: Any) -> None:
    key = arn(dev.logical_id(dev.stack.ingest.key))
    for spec in fns.ALL_SPECS:
        assert allows(role_statements(dev, spec), "kms:Decrypt", key) == (
            spec in (fns.INGEST, fns.REPROCESS)
        ), spec.construct_id


def _any_arn(service: str, resource: str = "*") -> dict[str, Any]:
    return {"Fn::Join": ["", ["arn:", {"Ref": "AWS::Partition"}, f":{service}:*:*:{resource}"]]}


def test_deliver_may_reach_targets_in_any_account(dev: Any) -> None:
    deliver = role_statements(dev, fns.DELIVER)
    assert allows(deliver, "sqs:SendMessage", _any_arn("sqs"))
    assert allows(deliver, "sns:Publish", _any_arn("sns"))
    kms = [s for s in deliver if s.get("Sid") == "EncryptForTargets"]
    assert kms and kms[0]["Condition"]["StringLike"]["kms:ViaService"] == [
        "sqs.*.amazonaws.com",
        "sns.*.amazonaws.com",
    ]
    mail = [s for s in deliver if s.get("Sid") == "SendMail"]
    assert mail and sorted(mail[0]["Action"]) == ["ses:SendEmail", "ses:SendRawEmail"]
    assert ":identity/*" in json.dumps(mail[0]["Resource"])
    assert "Condition" not in mail[0]
    for spec in (fns.API, fns.INGEST, fns.FILTER, fns.REPROCESS, fns.SCHEDULED):
        statements = role_statements(dev, spec)
        assert not allows(statements, "sqs:SendMessage", _any_arn("sqs")), spec.construct_id
        assert not allows(statements, "sns:Publish", _any_arn("sns")), spec.construct_id
        assert not mentions(statements, "ses:"), spec.construct_id


def test_prod_mail_is_pinned_to_the_configured_sender(prod: Any) -> None:
    mail = [s for s in role_statements(prod, fns.DELIVER) if s.get("Sid") == "SendMail"]
    assert mail[0]["Condition"] == {"StringEquals": {"ses:FromAddress": "noreply@example.org"}}


# --- API ----------------------------------------------------------------------------------------


def test_api_stage_throttling_tracing_and_access_logs(dev: Any, prod: Any) -> None:
    access_logs = dev.logical_id(dev.stack.api.access_logs)
    dev.template.has_resource_properties(
        "AWS::ApiGateway::Stage",
        {
            "StageName": "dev",
            "TracingEnabled": True,
            "MethodSettings": Match.array_with(
                [
                    Match.object_like(
                        {
                            "HttpMethod": "*",
                            "ResourcePath": "/*",
                            "ThrottlingRateLimit": 100,
                            "ThrottlingBurstLimit": 200,
                            "LoggingLevel": "ERROR",
                            "DataTraceEnabled": False,
                            "MetricsEnabled": True,
                        }
                    )
                ]
            ),
            "AccessLogSetting": {
                "DestinationArn": {"Fn::Join": ["", Match.array_with([ref(access_logs)])]},
                "Format": Match.string_like_regexp(r"\$context\.requestId"),
            },
        },
    )
    prod.template.has_resource_properties(
        "AWS::ApiGateway::Stage",
        {
            "StageName": "prod",
            "MethodSettings": Match.array_with(
                [Match.object_like({"ThrottlingRateLimit": 10, "ThrottlingBurstLimit": 20})]
            ),
        },
    )


def test_access_log_format_is_json(dev: Any) -> None:
    stage = next(iter(dev.template.find_resources("AWS::ApiGateway::Stage").values()))
    fields = json.loads(stage["Properties"]["AccessLogSetting"]["Format"])
    assert {"requestId", "status", "integrationLatency", "errorMessage"} <= set(fields)


def test_api_proxies_everything_to_the_api_function_without_cors(dev: Any) -> None:
    function_id, _ = dev.function(fns.API.handler)
    dev.template.has_resource_properties("AWS::ApiGateway::Resource", {"PathPart": "{proxy+}"})
    dev.template.has_resource_properties(
        "AWS::ApiGateway::Method",
        {
            "HttpMethod": "ANY",
            "ResourceId": Match.object_like({"Ref": Match.string_like_regexp("proxy")}),
            "Integration": Match.object_like(
                {
                    "Type": "AWS_PROXY",
                    "Uri": {"Fn::Join": ["", Match.array_with([arn(function_id)])]},
                }
            ),
        },
    )
    assert not dev.template.find_resources(
        "AWS::ApiGateway::Method", {"Properties": {"HttpMethod": "OPTIONS"}}
    )
    dev.template.has_resource_properties(
        "AWS::ApiGateway::RestApi",
        # Named after the stack, so API Gateway's per-name metrics never mix two stages.
        {"Name": dev.stack.stack_name, "EndpointConfiguration": {"Types": ["REGIONAL"]}},
    )


# --- outputs, annotations, cfn-lint -------------------------------------------------------------


def test_outputs(dev: Any) -> None:
    outputs = dev.template.to_json()["Outputs"]
    s = dev.stack
    expected = {
        stack_module.OUTPUT_EVENTS_QUEUE_URL: ref(dev.logical_id(s.messaging.events.queue)),
        stack_module.OUTPUT_DELIVERIES_QUEUE_URL: ref(dev.logical_id(s.messaging.deliveries.queue)),
        stack_module.OUTPUT_ORDERED_DELIVERIES_QUEUE_URL: ref(
            dev.logical_id(s.messaging.ordered_deliveries.queue)
        ),
        stack_module.OUTPUT_TABLE_NAME: ref(dev.logical_id(s.storage.table)),
        stack_module.OUTPUT_INGEST_QUEUE_URL: ref(dev.logical_id(s.ingest.queue)),
        stack_module.OUTPUT_INGEST_QUEUE_ARN: arn(dev.logical_id(s.ingest.queue)),
        stack_module.OUTPUT_INGEST_TOPIC_ARN: ref(dev.logical_id(s.ingest.topic)),
        stack_module.OUTPUT_INGEST_KEY_ARN: arn(dev.logical_id(s.ingest.key)),
        stack_module.OUTPUT_BROADCAST_TOPIC_ARN: ref(dev.logical_id(s.broadcast.topic)),
        stack_module.OUTPUT_ONECODEX_SECRET_ARN: ref(dev.logical_id(s.secrets.onecodex_secret)),
        stack_module.OUTPUT_DASHBOARD_NAME: ref(dev.logical_id(s.observability.dashboard)),
        stack_module.OUTPUT_ACCOUNT_ID: {"Ref": "AWS::AccountId"},
        stack_module.OUTPUT_DELIVER_ROLE_ARN: dev.function(fns.DELIVER.handler)[1]["Properties"]["Role"],
    }
    for name, value in expected.items():
        assert outputs[name]["Value"] == value, name
        assert outputs[name]["Description"], name
    rest_api = dev.logical_id(s.api.rest_api)
    assert rest_api in json.dumps(outputs[stack_module.OUTPUT_API_URL]["Value"])
    webhook = outputs[stack_module.OUTPUT_ONECODEX_WEBHOOK_URL]["Value"]["Fn::Join"][1]
    assert rest_api in json.dumps(webhook) and webhook[-1].endswith("/webhooks/onecodex")
    # The API's auto-generated endpoint output is replaced by ApiUrl; no alarm topic in dev.
    assert set(outputs) == {
        *expected,
        stack_module.OUTPUT_API_URL,
        stack_module.OUTPUT_ONECODEX_WEBHOOK_URL,
        stack_module.OUTPUT_CONSOLE_URL,
    }


def test_optional_outputs(prod: Any, managed: Any) -> None:
    prod_outputs = prod.template.to_json()["Outputs"]
    alarm_topic = prod.stack.observability.alarm_topic
    assert prod_outputs[stack_module.OUTPUT_ALARM_TOPIC_ARN]["Value"] == ref(prod.logical_id(alarm_topic))
    assert stack_module.OUTPUT_INGEST_KEY_ARN not in managed.template.to_json()["Outputs"]


def test_the_deploy_guides_outputs_table_lists_every_output(prod: Any, managed: Any) -> None:
    outputs = set(prod.template.to_json()["Outputs"]) | set(managed.template.to_json()["Outputs"])
    assert deploy_doc.outputs_table() == outputs


def test_the_guides_resource_counts_are_the_templates(dev: Any, managed: Any) -> None:
    """'three KMS keys (two with `sqs-managed`)', '20 alarms': the cost paragraph counts resources."""
    words = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6}
    guide = deploy_doc.text()
    keys = re.search(r"(\w+) KMS keys \((\w+) with `sqs-managed`\)", guide)
    alarms = re.search(r"(\d+) alarms about", guide)
    assert keys and alarms

    def count(synth: Any, resource_type: str) -> int:
        return len(synth.template.find_resources(resource_type))

    assert words[keys.group(1)] == count(dev, "AWS::KMS::Key")
    assert words[keys.group(2)] == count(managed, "AWS::KMS::Key")
    assert (
        int(alarms.group(1))
        == count(dev, "AWS::CloudWatch::Alarm")
        == count(managed, "AWS::CloudWatch::Alarm")
    )


@pytest.mark.parametrize("variant", ["dev", "prod", "managed", "provisioned"])
def test_synthesis_reports_no_errors_or_warnings(variant: str, request: pytest.FixtureRequest) -> None:
    synth = request.getfixturevalue(variant)
    annotations = Annotations.from_stack(synth.stack)
    annotations.has_no_error("*", Match.any_value())
    annotations.has_no_warning("*", Match.any_value())


@pytest.mark.parametrize("variant", ["dev", "prod", "managed", "provisioned"])
def test_template_passes_cfn_lint(variant: str, request: pytest.FixtureRequest) -> None:
    from cfnlint import api as cfnlint_api

    synth = request.getfixturevalue(variant)
    config = cfnlint_api.ManualArgs(
        # Every region the environment matrix deploys to: each region's own resource specification
        # (what exists there) costs nothing more than one.
        regions=list(REGIONS),
        # W3005: CDK adds DependsOn next to an implicit GetAtt dependency on purpose (ordering of
        # the role's policy); harmless and not ours to change.
        ignore_checks=["W3005"],
    )
    matches = cfnlint_api.lint(json.dumps(synth.template.to_json()), config=config)
    assert not matches, "\n".join(str(m) for m in matches)
