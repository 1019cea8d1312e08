"""HeraldStack's template, property by property (two synths: the dev defaults and a prod variant)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from aws_cdk.assertions import Annotations, Match

from herald import names
from infra import functions as fns
from infra.config import QUEUE_RETENTION_SECONDS
from infra.messaging import VISIBILITY_FACTOR, deliveries_max_age_seconds
from infra.stack import (
    OUTPUT_API_URL,
    OUTPUT_DELIVER_ROLE_ARN,
    OUTPUT_DELIVERIES_QUEUE_URL,
    OUTPUT_EVENTS_QUEUE_URL,
    OUTPUT_TABLE_NAME,
)

# One xdist worker runs this module, so `make test -n 2` still synthesizes each variant once.
pytestmark = pytest.mark.xdist_group(name="infra_stack")

PROD_SCHEDULE = (1, 2, 3)
PROD_OVERRIDES = {
    "herald:stage": "prod",
    "herald:retrySchedule": ",".join(map(str, PROD_SCHEDULE)),
    "herald:sesSender": "Herald <noreply@example.org>",
    "herald:apiThrottleRate": "10",
    "herald:apiThrottleBurst": "20",
    "herald:deliverMaxConcurrency": "5",
}
ALL_SPECS = (fns.API, fns.FILTER, fns.DELIVER, fns.REPROCESS)


@pytest.fixture(scope="module")
def dev(synthesize: Any) -> Any:
    return synthesize()


@pytest.fixture(scope="module")
def prod(synthesize: Any) -> Any:
    return synthesize(PROD_OVERRIDES)


def ref(logical_id: str) -> dict[str, str]:
    return {"Ref": logical_id}


def arn(logical_id: str) -> dict[str, list[str]]:
    return {"Fn::GetAtt": [logical_id, "Arn"]}


def resource(synth: Any, construct: Any) -> dict[str, Any]:
    return synth.template.to_json()["Resources"][synth.logical_id(construct)]


def role_statements(synth: Any, spec: fns.FunctionSpec) -> list[dict[str, Any]]:
    """Every IAM statement attached to the function's role, whichever policy holds it."""
    _, function = synth.function(spec.handler)
    role_id = function["Properties"]["Role"]["Fn::GetAtt"][0]
    statements = []
    for policy in synth.template.find_resources("AWS::IAM::Policy").values():
        if ref(role_id) in policy["Properties"]["Roles"]:
            statements += policy["Properties"]["PolicyDocument"]["Statement"]
    return statements


def allows(statements: list[dict[str, Any]], action: str, target: Any) -> bool:
    def as_list(value: Any) -> list[Any]:
        return value if isinstance(value, list) else [value]

    return any(
        s["Effect"] == "Allow" and action in as_list(s["Action"]) and target in as_list(s["Resource"])
        for s in statements
    )


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


def test_key_rotates(dev: Any) -> None:
    assert resource(dev, dev.stack.storage.key)["Properties"]["EnableKeyRotation"] is True


def test_dev_table_and_key_are_destroyed_with_the_stack(dev: Any) -> None:
    for construct in (dev.stack.storage.table, dev.stack.storage.key):
        assert resource(dev, construct)["DeletionPolicy"] == "Delete"


def test_prod_table_and_key_are_retained_and_protected(prod: Any) -> None:
    for construct in (prod.stack.storage.table, prod.stack.storage.key):
        assert resource(prod, construct)["DeletionPolicy"] == "Retain"
        assert resource(prod, construct)["UpdateReplacePolicy"] == "Retain"
    assert resource(prod, prod.stack.storage.table)["Properties"]["DeletionProtectionEnabled"] is True


# --- messaging ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("pair", "expected_receive_count"),
    [
        ("events", names.EVENTS_MAX_RECEIVE_COUNT),
        ("deliveries", names.max_receive_count(names.DEFAULT_RETRY_SCHEDULE)),
    ],
)
def test_redrive_policies(dev: Any, pair: str, expected_receive_count: int) -> None:
    queues = getattr(dev.stack.messaging, pair)
    redrive = resource(dev, queues.queue)["Properties"]["RedrivePolicy"]
    assert redrive == {
        "deadLetterTargetArn": arn(dev.logical_id(queues.dlq)),
        "maxReceiveCount": expected_receive_count,
    }


def test_default_deliveries_receive_count_is_one_per_attempt() -> None:
    # The first attempt plus one per scheduled retry: 1 + 7.
    assert names.max_receive_count(names.DEFAULT_RETRY_SCHEDULE) == 8


def test_receive_count_follows_the_configured_schedule(prod: Any) -> None:
    redrive = resource(prod, prod.stack.messaging.deliveries.queue)["Properties"]["RedrivePolicy"]
    assert redrive["maxReceiveCount"] == names.max_receive_count(PROD_SCHEDULE) == 4


def test_queues_are_kms_encrypted_retained_14_days_and_tls_only(dev: Any) -> None:
    messaging = dev.stack.messaging
    key_arn = arn(dev.logical_id(dev.stack.storage.key))
    policies = dev.template.find_resources("AWS::SQS::QueuePolicy").values()
    for queue in (messaging.events.queue, messaging.events.dlq, *messaging.dlqs, messaging.deliveries.queue):
        queue_id = dev.logical_id(queue)
        props = resource(dev, queue)["Properties"]
        assert props["KmsMasterKeyId"] == key_arn
        assert props["MessageRetentionPeriod"] == QUEUE_RETENTION_SECONDS == 14 * 24 * 3600
        deny_plain_http = {
            "Effect": "Deny",
            "Action": "sqs:*",
            "Principal": {"AWS": "*"},
            "Condition": {"Bool": {"aws:SecureTransport": "false"}},
            "Resource": arn(queue_id),
        }
        assert any(
            ref(queue_id) in p["Properties"]["Queues"]
            and deny_plain_http in p["Properties"]["PolicyDocument"]["Statement"]
            for p in policies
        ), f"{queue_id} has no TLS-only policy"


def test_visibility_timeouts_cover_six_consumer_timeouts(dev: Any) -> None:
    messaging = dev.stack.messaging
    for queue, consumer in (
        (messaging.events.queue, fns.FILTER),
        (messaging.deliveries.queue, fns.DELIVER),
        (messaging.events.dlq, fns.REPROCESS),
        (messaging.deliveries.dlq, fns.REPROCESS),
    ):
        visibility = resource(dev, queue)["Properties"]["VisibilityTimeout"]
        assert visibility >= VISIBILITY_FACTOR * consumer.timeout_seconds


def test_retry_delays_fit_sqs_visibility_and_retention() -> None:
    assert max(names.DEFAULT_RETRY_SCHEDULE) <= names.SQS_MAX_VISIBILITY_SECONDS
    assert sum(names.DEFAULT_RETRY_SCHEDULE) < QUEUE_RETENTION_SECONDS


def test_alarms_on_queue_age_and_dlq_depth(dev: Any) -> None:
    messaging = dev.stack.messaging
    alarms = dev.template.find_resources("AWS::CloudWatch::Alarm").values()

    def queue_name(queue: Any) -> dict[str, Any]:
        return {"Fn::GetAtt": [dev.logical_id(queue), "QueueName"]}

    for queue, threshold in (
        (messaging.events.queue, 900),
        (messaging.deliveries.queue, deliveries_max_age_seconds(names.DEFAULT_RETRY_SCHEDULE)),
    ):
        assert any(
            a["Properties"].get("MetricName") == "ApproximateAgeOfOldestMessage"
            and a["Properties"]["Dimensions"] == [{"Name": "QueueName", "Value": queue_name(queue)}]
            and a["Properties"]["Threshold"] == threshold
            for a in alarms
        ), f"no age alarm for {dev.logical_id(queue)}"
    for dlq in messaging.dlqs:
        depth = [
            a["Properties"]
            for a in alarms
            if json.dumps(queue_name(dlq)) in json.dumps(a["Properties"].get("Metrics", []))
            and "ApproximateNumberOfMessagesVisible" in json.dumps(a["Properties"]["Metrics"])
        ]
        assert depth, f"no depth alarm for {dev.logical_id(dlq)}"
        assert depth[0]["Threshold"] == 1
        assert depth[0]["ComparisonOperator"] == "GreaterThanOrEqualToThreshold"


# --- functions ----------------------------------------------------------------------------------


@pytest.mark.parametrize("spec", ALL_SPECS, ids=lambda s: s.construct_id)
def test_function_runtime_and_settings(dev: Any, spec: fns.FunctionSpec) -> None:
    _, function = dev.function(spec.handler)
    props = function["Properties"]
    assert props["Runtime"] == "python3.12"
    assert props["Architectures"] == ["arm64"]
    assert props["TracingConfig"] == {"Mode": "Active"}
    assert props["Timeout"] == spec.timeout_seconds
    assert "LogGroup" in props["LoggingConfig"]


def test_function_timeouts() -> None:
    assert (fns.API.timeout_seconds, fns.FILTER.timeout_seconds) == (29, 60)
    assert (fns.DELIVER.timeout_seconds, fns.REPROCESS.timeout_seconds) == (120, 60)


@pytest.mark.parametrize("spec", ALL_SPECS, ids=lambda s: s.construct_id)
def test_function_environment(dev: Any, spec: fns.FunctionSpec) -> None:
    _, function = dev.function(spec.handler)
    variables = function["Properties"]["Environment"]["Variables"]
    assert variables == {
        names.ENV_TABLE_NAME: ref(dev.logical_id(dev.stack.storage.table)),
        names.ENV_EVENTS_QUEUE_URL: ref(dev.logical_id(dev.stack.messaging.events.queue)),
        names.ENV_DELIVERIES_QUEUE_URL: ref(dev.logical_id(dev.stack.messaging.deliveries.queue)),
        names.ENV_RETRY_SCHEDULE: ",".join(map(str, names.DEFAULT_RETRY_SCHEDULE)),
        names.ENV_RETENTION_DAYS: str(names.DEFAULT_RETENTION_DAYS),
        "POWERTOOLS_SERVICE_NAME": names.SERVICE_NAME,
        "POWERTOOLS_METRICS_NAMESPACE": names.METRICS_NAMESPACE,
        "LOG_LEVEL": "INFO",
    }


def test_prod_environment_carries_ses_sender_and_schedule(prod: Any) -> None:
    for spec in ALL_SPECS:
        variables = prod.function(spec.handler)[1]["Properties"]["Environment"]["Variables"]
        assert variables[names.ENV_SES_SENDER] == "Herald <noreply@example.org>"
        assert variables[names.ENV_RETRY_SCHEDULE] == "1,2,3"


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
    return next(iter(found.values()))["Properties"]


def test_filter_consumes_the_events_queue(dev: Any) -> None:
    mapping = _mapping(dev, fns.FILTER, dev.stack.messaging.events.queue)
    assert mapping["BatchSize"] == names.EVENTS_BATCH_SIZE
    assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]


def test_deliver_consumes_the_deliveries_queue_with_capped_concurrency(dev: Any, prod: Any) -> None:
    mapping = _mapping(dev, fns.DELIVER, dev.stack.messaging.deliveries.queue)
    assert mapping["BatchSize"] == names.DELIVERIES_BATCH_SIZE
    assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert mapping["ScalingConfig"] == {"MaximumConcurrency": 20}
    prod_mapping = _mapping(prod, fns.DELIVER, prod.stack.messaging.deliveries.queue)
    assert prod_mapping["ScalingConfig"] == {"MaximumConcurrency": 5}


def test_reprocess_consumes_both_dlqs(dev: Any) -> None:
    for dlq in dev.stack.messaging.dlqs:
        mapping = _mapping(dev, fns.REPROCESS, dlq)
        assert mapping["BatchSize"] == fns.DLQ_BATCH_SIZE == 10
        assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]


def test_only_the_api_has_no_queue_trigger(dev: Any) -> None:
    function_id, _ = dev.function(fns.API.handler)
    assert not dev.template.find_resources(
        "AWS::Lambda::EventSourceMapping", {"Properties": {"FunctionName": ref(function_id)}}
    )


# --- least privilege ----------------------------------------------------------------------------


def test_every_function_reads_and_writes_the_table(dev: Any) -> None:
    table = arn(dev.logical_id(dev.stack.storage.table))
    for spec in ALL_SPECS:
        statements = role_statements(dev, spec)
        assert allows(statements, "dynamodb:PutItem", table), spec.construct_id
        assert allows(statements, "dynamodb:Query", table), spec.construct_id


def test_queue_grants_follow_the_data_flow(dev: Any) -> None:
    m = dev.stack.messaging
    events, deliveries = arn(dev.logical_id(m.events.queue)), arn(dev.logical_id(m.deliveries.queue))
    events_dlq, deliveries_dlq = arn(dev.logical_id(m.events.dlq)), arn(dev.logical_id(m.deliveries.dlq))

    api = role_statements(dev, fns.API)
    assert allows(api, "sqs:SendMessage", events)
    assert not allows(api, "sqs:SendMessage", deliveries)
    assert not allows(api, "sqs:ReceiveMessage", events)

    filter_ = role_statements(dev, fns.FILTER)
    assert allows(filter_, "sqs:ReceiveMessage", events)
    assert allows(filter_, "sqs:DeleteMessage", events)
    assert allows(filter_, "sqs:SendMessage", deliveries)
    assert not allows(filter_, "sqs:SendMessage", events)

    deliver = role_statements(dev, fns.DELIVER)
    assert allows(deliver, "sqs:ReceiveMessage", deliveries)
    assert allows(deliver, "sqs:ChangeMessageVisibility", deliveries)
    assert not allows(deliver, "sqs:ReceiveMessage", events)

    reprocess = role_statements(dev, fns.REPROCESS)
    for dlq in (events_dlq, deliveries_dlq):
        assert allows(reprocess, "sqs:ReceiveMessage", dlq)
        assert allows(reprocess, "sqs:DeleteMessage", dlq)
    assert not any("sqs:SendMessage" in json.dumps(s["Action"]) for s in reprocess)


def test_every_function_can_use_the_data_key(dev: Any) -> None:
    key = arn(dev.logical_id(dev.stack.storage.key))
    for spec in ALL_SPECS:
        assert allows(role_statements(dev, spec), "kms:Decrypt", key), spec.construct_id


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
    for spec in (fns.API, fns.FILTER, fns.REPROCESS):
        statements = role_statements(dev, spec)
        assert not allows(statements, "sqs:SendMessage", _any_arn("sqs")), spec.construct_id
        assert not any("sns:Publish" in json.dumps(s["Action"]) for s in statements), spec.construct_id


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
        "AWS::ApiGateway::RestApi", {"EndpointConfiguration": {"Types": ["REGIONAL"]}}
    )


# --- outputs and annotations --------------------------------------------------------------------


def test_outputs(dev: Any) -> None:
    outputs = dev.template.to_json()["Outputs"]
    assert outputs[OUTPUT_EVENTS_QUEUE_URL]["Value"] == ref(dev.logical_id(dev.stack.messaging.events.queue))
    assert outputs[OUTPUT_DELIVERIES_QUEUE_URL]["Value"] == ref(
        dev.logical_id(dev.stack.messaging.deliveries.queue)
    )
    assert outputs[OUTPUT_TABLE_NAME]["Value"] == ref(dev.logical_id(dev.stack.storage.table))
    assert dev.logical_id(dev.stack.api.rest_api) in json.dumps(outputs[OUTPUT_API_URL]["Value"])
    deliver_role = dev.function(fns.DELIVER.handler)[1]["Properties"]["Role"]
    assert outputs[OUTPUT_DELIVER_ROLE_ARN]["Value"] == deliver_role
    # The API's auto-generated endpoint output is replaced by ApiUrl.
    assert not [name for name in outputs if name.startswith("Api") and name != OUTPUT_API_URL]


def test_synthesis_reports_no_errors_or_warnings(dev: Any) -> None:
    annotations = Annotations.from_stack(dev.stack)
    annotations.has_no_error("*", Match.any_value())
    annotations.has_no_warning("*", Match.any_value())


def test_template_passes_cfn_lint(dev: Any) -> None:
    from cfnlint import api as cfnlint_api

    config = cfnlint_api.ManualArgs(
        regions=["us-east-1", "eu-west-1"],
        # W3005: CDK adds DependsOn next to an implicit GetAtt dependency on purpose (ordering of
        # the role's policy); harmless and not ours to change.
        ignore_checks=["W3005"],
    )
    matches = cfnlint_api.lint(json.dumps(dev.template.to_json()), config=config)
    assert not matches, "\n".join(str(m) for m in matches)
