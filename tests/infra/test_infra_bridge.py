"""The bridge and its neighbours: ingest queue/topic/key, broadcast topic, secrets, stall schedule.

`dev` has no producer accounts (only the deploying account may write), `prod` has ICA's account
and one more, `managed` runs the ingest path on SSE-SQS for producers that cannot use KMS.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from conftest import CONSUMER, ICA, PRODUCER, SYNTH_GROUP
from infra_helpers import (
    OWN_ACCOUNT_ROOT,
    account_root,
    allows,
    arn,
    as_list,
    by_sid,
    key_policy,
    queue_policy,
    ref,
    role_statements,
    topic_policy,
)

from herald import names
from infra import broadcast as broadcast_module
from infra import functions as fns
from infra import ingest as ingest_module
from infra.secrets import CHANNEL_CONTEXT_CONDITIONS, CHANNEL_CONTEXT_KEY

pytestmark = pytest.mark.xdist_group(name=SYNTH_GROUP)

SNS_SERVICE = {"Service": "sns.amazonaws.com"}


def from_topic(synth: Any) -> dict[str, Any]:
    return {
        "ArnEquals": {"aws:SourceArn": ref(synth.logical_id(synth.stack.ingest.topic))},
        "StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}},
    }


def allowed_principals(statements: list[dict[str, Any]]) -> list[Any]:
    principals: list[Any] = []
    for statement in statements:
        if statement["Effect"] == "Allow":
            principal = statement["Principal"]
            principals += as_list(principal.get("AWS", [])) + as_list(principal.get("Service", []))
    return principals


# --- ingest queue and DLQ -----------------------------------------------------------------------


@pytest.mark.parametrize("variant", ["dev", "prod"])
def test_ingest_queues_use_the_dedicated_ingest_key(variant: str, request: pytest.FixtureRequest) -> None:
    synth = request.getfixturevalue(variant)
    bridge = synth.stack.ingest
    key = arn(synth.logical_id(bridge.key))
    assert key != arn(synth.logical_id(synth.stack.storage.key))
    for queue in (bridge.queue, bridge.dlq):
        assert synth.resource(queue)["Properties"]["KmsMasterKeyId"] == key
    assert synth.resource(bridge.topic)["Properties"]["KmsMasterKeyId"] == key


def test_ingest_redrive_matches_the_retry_design(dev: Any) -> None:
    bridge = dev.stack.ingest
    assert dev.resource(bridge.queue)["Properties"]["RedrivePolicy"] == {
        "deadLetterTargetArn": arn(dev.logical_id(bridge.dlq)),
        "maxReceiveCount": names.INGEST_MAX_RECEIVE_COUNT,
    }
    assert dev.resource(bridge.queue)["Properties"]["MessageRetentionPeriod"] == 14 * 24 * 3600


@pytest.mark.parametrize("variant", ["dev", "prod", "managed"])
def test_ingest_queues_are_tls_only(variant: str, request: pytest.FixtureRequest) -> None:
    synth = request.getfixturevalue(variant)
    for queue in (synth.stack.ingest.queue, synth.stack.ingest.dlq):
        assert {
            "Effect": "Deny",
            "Action": "sqs:*",
            "Principal": {"AWS": "*"},
            "Condition": {"Bool": {"aws:SecureTransport": "false"}},
            "Resource": arn(synth.logical_id(queue)),
        } in queue_policy(synth, queue)


def test_without_producers_only_the_deploying_account_may_send(dev: Any) -> None:
    queue = dev.stack.ingest.queue
    statements = queue_policy(dev, queue)
    send = by_sid(statements, ingest_module.SID_PRODUCERS_SEND)
    assert send == {
        "Sid": ingest_module.SID_PRODUCERS_SEND,
        "Effect": "Allow",
        "Principal": {"AWS": OWN_ACCOUNT_ROOT},
        "Action": "sqs:SendMessage",
        "Resource": arn(dev.logical_id(queue)),
    }
    assert sorted(map(json.dumps, allowed_principals(statements))) == sorted(
        map(json.dumps, [OWN_ACCOUNT_ROOT, "sns.amazonaws.com"])
    )


def test_producer_accounts_and_nobody_else_may_send(prod: Any) -> None:
    queue = prod.stack.ingest.queue
    statements = queue_policy(prod, queue)
    send = by_sid(statements, ingest_module.SID_PRODUCERS_SEND)
    assert send["Principal"] == {"AWS": [account_root(ICA), account_root(PRODUCER)]}
    assert send["Action"] == "sqs:SendMessage"
    assert send["Resource"] == arn(prod.logical_id(queue))
    # Allowed: the two producers and the ingest topic (as the SNS service), nothing else.
    assert sorted(map(json.dumps, allowed_principals(statements))) == sorted(
        map(json.dumps, [account_root(ICA), account_root(PRODUCER), "sns.amazonaws.com"])
    )
    assert all(s["Action"] == "sqs:SendMessage" for s in statements if s["Effect"] == "Allow")


@pytest.mark.parametrize("variant", ["dev", "prod", "managed"])
def test_only_the_ingest_topic_delivers_into_the_queues(variant: str, request: pytest.FixtureRequest) -> None:
    """Confused deputy: the SNS service may send only for Herald's ingest topic in this account."""
    synth = request.getfixturevalue(variant)
    for queue in (synth.stack.ingest.queue, synth.stack.ingest.dlq):
        statement = by_sid(queue_policy(synth, queue), ingest_module.SID_TOPIC_SEND)
        assert statement == {
            "Sid": ingest_module.SID_TOPIC_SEND,
            "Effect": "Allow",
            "Principal": SNS_SERVICE,
            "Action": "sqs:SendMessage",
            "Resource": arn(synth.logical_id(queue)),
            "Condition": from_topic(synth),
        }


# --- ingest topic and subscription --------------------------------------------------------------


def test_topic_is_subscribed_to_the_queue_with_the_sns_envelope(dev: Any) -> None:
    bridge = dev.stack.ingest
    subscription = dev.resource(bridge.subscription)
    assert subscription["Properties"] == {
        "TopicArn": ref(dev.logical_id(bridge.topic)),
        "Protocol": "sqs",
        "Endpoint": arn(dev.logical_id(bridge.queue)),
        "RawMessageDelivery": False,
        "RedrivePolicy": {"deadLetterTargetArn": arn(dev.logical_id(bridge.dlq))},
    }
    # Subscribed only once the queue policies (and the key) let the topic in.
    depends_on = set(subscription["DependsOn"])
    for queue in (bridge.queue, bridge.dlq):
        policy = queue.node.find_child("Policy")
        assert dev.logical_id(policy) in depends_on
    assert dev.logical_id(bridge.key) in depends_on


def test_topic_policy_producers_publish_over_tls_only(dev: Any, prod: Any) -> None:
    for synth, principals in ((dev, OWN_ACCOUNT_ROOT), (prod, [account_root(ICA), account_root(PRODUCER)])):
        topic = synth.stack.ingest.topic
        statements = topic_policy(synth, topic)
        assert by_sid(statements, ingest_module.SID_PRODUCERS_PUBLISH) == {
            "Sid": ingest_module.SID_PRODUCERS_PUBLISH,
            "Effect": "Allow",
            "Principal": {"AWS": principals},
            "Action": "sns:Publish",
            "Resource": ref(synth.logical_id(topic)),
        }
        deny = [s for s in statements if s["Effect"] == "Deny"]
        assert deny == [
            {
                "Sid": "AllowPublishThroughSSLOnly",
                "Effect": "Deny",
                "Principal": "*",
                "Action": "sns:Publish",
                "Resource": ref(synth.logical_id(topic)),
                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
            }
        ]
        assert len(statements) == 2


# --- ingest key ---------------------------------------------------------------------------------


def test_ingest_key_lets_producers_encrypt_only_through_sqs_and_sns(prod: Any) -> None:
    statement = by_sid(key_policy(prod, prod.stack.ingest.key), ingest_module.SID_PRODUCERS_KMS)
    assert statement["Principal"] == {"AWS": [account_root(ICA), account_root(PRODUCER)]}
    assert sorted(statement["Action"]) == ["kms:Decrypt", "kms:GenerateDataKey*"]
    via = statement["Condition"]["StringEquals"]["kms:ViaService"]
    assert via == [
        {"Fn::Join": ["", [f"{service}.", {"Ref": "AWS::Region"}, ".amazonaws.com"]]}
        for service in ("sqs", "sns")
    ]


def test_ingest_key_lets_sns_encrypt_for_this_account_only(dev: Any, prod: Any) -> None:
    for synth in (dev, prod):
        statement = by_sid(key_policy(synth, synth.stack.ingest.key), ingest_module.SID_TOPIC_KMS)
        assert statement["Principal"] == SNS_SERVICE
        assert sorted(statement["Action"]) == ["kms:Decrypt", "kms:GenerateDataKey*"]
        assert statement["Condition"] == {"StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}}


def test_ingest_key_without_producers_trusts_only_this_account(dev: Any) -> None:
    statements = key_policy(dev, dev.stack.ingest.key)
    assert not [s for s in statements if s.get("Sid") == ingest_module.SID_PRODUCERS_KMS]
    assert sorted(map(json.dumps, allowed_principals(statements))) == sorted(
        map(json.dumps, [OWN_ACCOUNT_ROOT, "sns.amazonaws.com"])
    )


def test_data_key_is_never_shared_with_producers(prod: Any) -> None:
    data_key = json.dumps(key_policy(prod, prod.stack.storage.key))
    assert ICA not in data_key and PRODUCER not in data_key


# --- SSE-SQS mode -------------------------------------------------------------------------------


def test_managed_mode_uses_sse_sqs_and_no_ingest_key(managed: Any) -> None:
    bridge = managed.stack.ingest
    assert bridge.key is None
    for queue in (bridge.queue, bridge.dlq):
        props = managed.resource(queue)["Properties"]
        assert props["SqsManagedSseEnabled"] is True
        assert "KmsMasterKeyId" not in props
    assert "KmsMasterKeyId" not in managed.resource(bridge.topic)["Properties"]
    keys = managed.template.find_resources("AWS::KMS::Key")
    assert set(keys) == {
        managed.logical_id(managed.stack.storage.key),
        managed.logical_id(managed.stack.secrets.key),
    }
    # Same access rules as in KMS mode.
    send = by_sid(queue_policy(managed, bridge.queue), ingest_module.SID_PRODUCERS_SEND)
    assert send["Principal"] == {"AWS": account_root(ICA)}
    assert "DependsOn" in managed.resource(bridge.subscription)


# --- broadcast ----------------------------------------------------------------------------------


def test_broadcast_topic_is_encrypted_and_tls_only(dev: Any) -> None:
    topic = dev.stack.broadcast.topic
    assert dev.resource(topic)["Properties"]["KmsMasterKeyId"] == arn(dev.logical_id(dev.stack.storage.key))
    statements = topic_policy(dev, topic)
    # No consumers configured: only the TLS rule; the owner account subscribes through IAM.
    assert [s["Sid"] for s in statements] == ["AllowPublishThroughSSLOnly"]


def test_consumer_accounts_may_subscribe_with_encrypted_protocols(prod: Any) -> None:
    topic = prod.stack.broadcast.topic
    statement = by_sid(topic_policy(prod, topic), broadcast_module.SID_CONSUMERS_SUBSCRIBE)
    assert statement == {
        "Sid": broadcast_module.SID_CONSUMERS_SUBSCRIBE,
        "Effect": "Allow",
        "Principal": {"AWS": account_root(CONSUMER)},
        "Action": "sns:Subscribe",
        "Resource": ref(prod.logical_id(topic)),
        "Condition": {"StringEquals": {"sns:Protocol": ["sqs", "lambda", "https", "firehose"]}},
    }


def test_filter_and_deliver_may_publish_to_the_broadcast_topic(dev: Any) -> None:
    topic = ref(dev.logical_id(dev.stack.broadcast.topic))
    for spec in fns.ALL_SPECS:
        assert allows(role_statements(dev, spec), "sns:Publish", topic) == (
            spec in (fns.FILTER, fns.DELIVER)
        ), spec.construct_id


def test_with_broadcast_off_only_deliver_may_publish_and_the_topic_stays(provisioned: Any) -> None:
    # herald:broadcast=false: the filter (the only publisher) loses the grant and the topic's ARN;
    # the topic, its policy and its output stay, so consumers' subscriptions and the ARN survive.
    topic = provisioned.stack.broadcast.topic
    topic_ref = ref(provisioned.logical_id(topic))
    for spec in fns.ALL_SPECS:
        assert allows(role_statements(provisioned, spec), "sns:Publish", topic_ref) == (
            spec is fns.DELIVER
        ), spec.construct_id
    assert [s["Sid"] for s in topic_policy(provisioned, topic)] == ["AllowPublishThroughSSLOnly"]
    assert provisioned.template.to_json()["Outputs"]["BroadcastTopicArn"]["Value"] == topic_ref


# --- secrets ------------------------------------------------------------------------------------


def _secrets_key_statements(synth: Any, spec: fns.FunctionSpec) -> list[dict[str, Any]]:
    key = arn(synth.logical_id(synth.stack.secrets.key))
    return [s for s in role_statements(synth, spec) if s["Effect"] == "Allow" and s["Resource"] == key]


def test_channel_secrets_key_grants_are_bound_to_the_channel_context(dev: Any) -> None:
    assert CHANNEL_CONTEXT_KEY == "herald:channel"
    expected_conditions = {
        "ForAllValues:StringEquals": {"kms:EncryptionContextKeys": ["herald:channel"]},
        "Null": {"kms:EncryptionContextKeys": "false"},
    }
    assert expected_conditions == CHANNEL_CONTEXT_CONDITIONS

    def channel_actions(spec: fns.FunctionSpec) -> set[str]:
        return {
            action
            for s in _secrets_key_statements(dev, spec)
            if s.get("Condition") == expected_conditions
            for action in as_list(s["Action"])
        }

    # The api seals (and may open) secrets; deliver only opens them.
    assert channel_actions(fns.API) == {"kms:Encrypt", "kms:GenerateDataKey", "kms:Decrypt"}
    assert channel_actions(fns.DELIVER) == {"kms:Decrypt"}
    # Every use of the key is either bound to a channel or goes through Secrets Manager (api).
    for spec in (fns.API, fns.DELIVER):
        for statement in _secrets_key_statements(dev, spec):
            assert statement["Condition"] == expected_conditions or (
                spec is fns.API
                and statement["Action"] == "kms:Decrypt"
                and "secretsmanager" in json.dumps(statement["Condition"]["StringEquals"]["kms:ViaService"])
            ), statement
    for spec in (fns.INGEST, fns.FILTER, fns.REPROCESS, fns.SCHEDULED):
        assert not _secrets_key_statements(dev, spec), spec.construct_id


def test_onecodex_secret_is_generated_encrypted_and_readable_by_the_api_only(dev: Any) -> None:
    secret = dev.stack.secrets.onecodex_secret
    props = dev.resource(secret)["Properties"]
    assert props["KmsKeyId"] == arn(dev.logical_id(dev.stack.secrets.key))
    assert props["GenerateSecretString"] == {"ExcludePunctuation": True, "PasswordLength": 64}
    secret_arn = ref(dev.logical_id(secret))
    for spec in fns.ALL_SPECS:
        assert allows(role_statements(dev, spec), "secretsmanager:GetSecretValue", secret_arn) == (
            spec is fns.API
        ), spec.construct_id


# --- stall detection schedule -------------------------------------------------------------------


def test_scheduled_function_runs_every_minute_without_retries(dev: Any) -> None:
    function_id, _ = dev.function(fns.SCHEDULED.handler)
    rule = dev.resource(dev.stack.functions.stall_schedule)["Properties"]
    assert rule["ScheduleExpression"] == "rate(1 minute)"
    assert rule["State"] == "ENABLED"
    [target] = rule["Targets"]
    assert target["Arn"] == arn(function_id)
    assert target["RetryPolicy"] == {"MaximumRetryAttempts": 0, "MaximumEventAgeInSeconds": 60}
    dev.template.has_resource_properties(
        "AWS::Lambda::EventInvokeConfig",
        {"FunctionName": ref(function_id), "MaximumRetryAttempts": 0, "MaximumEventAgeInSeconds": 60},
    )
    dev.template.has_resource_properties(
        "AWS::Lambda::Permission",
        {
            "Action": "lambda:InvokeFunction",
            "FunctionName": arn(function_id),
            "Principal": "events.amazonaws.com",
            "SourceArn": arn(dev.logical_id(dev.stack.functions.stall_schedule)),
        },
    )
