"""cdk-nag (AwsSolutions, v3 policy validation): no unacknowledged finding, each acknowledgment on
one resource with a reason, and proof that the pack really runs."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_iam as iam
from aws_cdk import aws_sqs as sqs
from conftest import SYNTH_GROUP, read_violations
from infra_helpers import stale_acknowledgments

from infra import nag

pytestmark = pytest.mark.xdist_group(name=SYNTH_GROUP)

# Every acknowledgment Herald makes, by rule: changing this list is a reviewed decision.
EXPECTED_RULES = {
    "AwsSolutions-APIG2",
    "AwsSolutions-APIG3",
    "AwsSolutions-APIG4",
    "AwsSolutions-COG4",
    "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs]",
    "AwsSolutions-IAM5[Action::kms:GenerateDataKey*]",
    "AwsSolutions-IAM5[Action::kms:ReEncrypt*]",
    "AwsSolutions-IAM5[Resource::*]",
    "AwsSolutions-IAM5[Resource::<StorageTableB43FDCE7.Arn>/index/*]",
    "AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:sqs:*:*:*]",
    "AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:sns:*:*:*]",
    "AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:kms:*:*:key/*]",
    "AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:ses:<AWS::Region>:<AWS::AccountId>:identity/*]",
    "AwsSolutions-L1",
    "AwsSolutions-SMG4",
}


@pytest.mark.parametrize("variant", ["dev", "prod", "managed", "provisioned"])
def test_no_unacknowledged_findings(variant: str, request: pytest.FixtureRequest) -> None:
    synth = request.getfixturevalue(variant)
    assert synth.violations == [], "\n".join(map(str, synth.violations))


@pytest.mark.parametrize("variant", ["dev", "prod", "managed", "provisioned"])
def test_every_acknowledgment_names_a_finding_of_the_template(
    variant: str, request: pytest.FixtureRequest
) -> None:
    """An acknowledgment that matches no finding is spelled for another environment (issue 14)."""
    assert stale_acknowledgments(request.getfixturevalue(variant).template.to_json()) == []


def _wildcard_policy_synth(env: cdk.Environment, *, acknowledged: bool) -> list[tuple[str, str, str]]:
    """A policy on `arn:<partition>:sqs:*:*:*` and a regional ARN, synthesized in `env`."""
    outdir = tempfile.mkdtemp(prefix="herald-nag-env-")
    app = cdk.App(outdir=outdir)
    stack = cdk.Stack(app, "Wildcards", env=env)
    queues = stack.format_arn(service="sqs", region="*", account="*", resource="*")
    identities = stack.format_arn(service="ses", resource="identity", resource_name="*")
    policy = iam.ManagedPolicy(
        stack,
        "Policy",
        statements=[
            iam.PolicyStatement(actions=["sqs:SendMessage", "ses:SendEmail"], resources=[queues, identities])
        ],
    )
    if acknowledged:
        for resource in (queues, identities):
            nag.acknowledge_resource(
                policy, "AwsSolutions-IAM5", resource, "a test of the spelling, nothing more"
            )
    nag.add_checks(app)
    try:
        app.synth()
    except RuntimeError as exc:
        assert "ValidationFailed" in str(exc)
    return read_violations(Path(outdir))


ENVIRONMENTS = {
    "agnostic": cdk.Environment(),
    "account-only": cdk.Environment(account="111122223333"),
    # What the CLI passes when it finds no credentials: the profile's region (or us-east-1) only.
    "region-only": cdk.Environment(region="us-east-1"),
    "eu-west-1": cdk.Environment(account="111122223333", region="eu-west-1"),
    "cn-north-1": cdk.Environment(account="111122223333", region="cn-north-1"),
    "us-gov-west-1": cdk.Environment(account="111122223333", region="us-gov-west-1"),
}


@pytest.mark.parametrize("environment", list(ENVIRONMENTS))
def test_acknowledge_resource_matches_the_finding_in_any_environment(environment: str) -> None:
    env = ENVIRONMENTS[environment]
    unacknowledged = {rule for _, rule, _ in _wildcard_policy_synth(env, acknowledged=False)}
    # The finding is spelled differently in each environment ...
    assert len(unacknowledged) == 2 and all(
        r.startswith("AwsSolutions-IAM5[Resource::arn:") for r in unacknowledged
    )
    if env.region:
        assert any(f":ses:{env.region}:" in rule for rule in unacknowledged), unacknowledged
    # ... and the acknowledgment, built from the same value, follows it.
    assert _wildcard_policy_synth(env, acknowledged=True) == []


def test_the_pack_really_runs() -> None:
    """A canary: an unencrypted, non-TLS queue without a DLQ fails synthesis with its findings."""
    outdir = tempfile.mkdtemp(prefix="herald-nag-canary-")
    app = cdk.App(outdir=outdir)
    stack = cdk.Stack(app, "Canary")
    sqs.Queue(stack, "Plain", encryption=sqs.QueueEncryption.UNENCRYPTED)
    nag.add_checks(app)
    with pytest.raises(RuntimeError, match="ValidationFailed"):
        app.synth()
    rules = {rule for _, rule, _ in read_violations(Path(outdir))}
    assert {"AwsSolutions-SQS2", "AwsSolutions-SQS3", "AwsSolutions-SQS4"} <= rules


def _acknowledged(synth: Any) -> dict[str, list[dict[str, str]]]:
    """Logical id -> the acknowledgments written into its Metadata (cdk_nag.rules_to_suppress)."""
    found = {}
    for logical_id, resource in synth.template.to_json()["Resources"].items():
        rules = resource.get("Metadata", {}).get("cdk_nag", {}).get("rules_to_suppress")
        if rules:
            found[logical_id] = rules
    return found


@pytest.mark.parametrize("variant", ["dev", "prod", "provisioned"])
def test_acknowledgments_are_per_resource_with_reasons(variant: str, request: pytest.FixtureRequest) -> None:
    synth = request.getfixturevalue(variant)
    acknowledged = _acknowledged(synth)
    resources = synth.template.to_json()["Resources"]
    rules = set()
    for logical_id, entries in acknowledged.items():
        for entry in entries:
            rules.add(entry["id"])
            assert len(entry["reason"]) >= 40, f"{logical_id} {entry['id']}: say why"
        rule_ids = [e["id"] for e in entries]
        assert len(rule_ids) == len(set(rule_ids)), logical_id
        # Each rule on the resource type it is about.
        for rule in rule_ids:
            resource_type = resources[logical_id]["Type"]
            expected = {
                "AwsSolutions-L1": {"AWS::Lambda::Function"},
                "AwsSolutions-SMG4": {"AWS::SecretsManager::Secret"},
                "AwsSolutions-APIG2": {"AWS::ApiGateway::RestApi"},
                "AwsSolutions-APIG3": {"AWS::ApiGateway::Stage"},
                "AwsSolutions-APIG4": {"AWS::ApiGateway::Method"},
                "AwsSolutions-COG4": {"AWS::ApiGateway::Method"},
            }.get(rule.split("[")[0], {"AWS::IAM::Policy", "AWS::IAM::Role"})
            assert resource_type in expected, f"{logical_id} ({resource_type}) acknowledges {rule}"
    assert rules == EXPECTED_RULES
    # Nothing acknowledged at stack level.
    assert not synth.stack.node.metadata or all(
        m.type != cdk.Validations.ACKNOWLEDGED_RULES_METADATA_KEY for m in synth.stack.node.metadata
    )


def test_wildcard_target_rights_are_acknowledged_on_the_deliver_targets_policy_only(dev: Any) -> None:
    acknowledged = _acknowledged(dev)
    targets = dev.logical_id(dev.stack.functions.deliver_targets_policy)
    holders = [lid for lid, entries in acknowledged.items() if any(":sqs:*:*:*" in e["id"] for e in entries)]
    assert holders == [targets]
    assert "Resource::*]" not in json.dumps(acknowledged[targets]), "X-Ray's wildcard is not here"


def test_acknowledge_needs_a_reason_and_a_rule_of_the_pack() -> None:
    queue = sqs.Queue(cdk.Stack(cdk.App(), "S"), "Q")
    with pytest.raises(ValueError, match="needs a reason"):
        nag.acknowledge(queue, "AwsSolutions-SQS3", " ")
    with pytest.raises(ValueError, match="AwsSolutions"):
        nag.acknowledge(queue, "HIPAA.Security-SQS3", "because")
