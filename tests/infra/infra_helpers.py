"""Template helpers shared by the infra test modules (CloudFormation intrinsics and IAM statements)."""

from __future__ import annotations

import json
from typing import Any

from infra import functions as fns
from infra import nag


def ref(logical_id: str) -> dict[str, str]:
    return {"Ref": logical_id}


def arn(logical_id: str) -> dict[str, list[str]]:
    return {"Fn::GetAtt": [logical_id, "Arn"]}


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def account_root(account: str) -> dict[str, Any]:
    """How CDK renders `AccountPrincipal(account)`."""
    return {"Fn::Join": ["", ["arn:", {"Ref": "AWS::Partition"}, f":iam::{account}:root"]]}


OWN_ACCOUNT_ROOT = {
    "Fn::Join": ["", ["arn:", {"Ref": "AWS::Partition"}, ":iam::", {"Ref": "AWS::AccountId"}, ":root"]]
}


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
    return any(
        s["Effect"] == "Allow" and action in as_list(s["Action"]) and target in as_list(s["Resource"])
        for s in statements
    )


def grants(statements: list[dict[str, Any]], action: str) -> list[dict[str, Any]]:
    """The Allow statements that name `action` (exactly, not through a wildcard)."""
    return [s for s in statements if s["Effect"] == "Allow" and action in as_list(s["Action"])]


def mentions(statements: list[dict[str, Any]], text: str) -> bool:
    return text in json.dumps(statements)


def resource_policy(synth: Any, resource_type: str, target_key: str, target: Any) -> list[dict[str, Any]]:
    """Statements of the queue/topic policies that apply to `target` (a Ref or GetAtt)."""
    statements = []
    for policy in synth.template.find_resources(resource_type).values():
        if target in policy["Properties"][target_key]:
            statements += policy["Properties"]["PolicyDocument"]["Statement"]
    return statements


def queue_policy(synth: Any, queue: Any) -> list[dict[str, Any]]:
    return resource_policy(synth, "AWS::SQS::QueuePolicy", "Queues", ref(synth.logical_id(queue)))


def topic_policy(synth: Any, topic: Any) -> list[dict[str, Any]]:
    return resource_policy(synth, "AWS::SNS::TopicPolicy", "Topics", ref(synth.logical_id(topic)))


def key_policy(synth: Any, key: Any) -> list[dict[str, Any]]:
    return synth.resource(key)["Properties"]["KeyPolicy"]["Statement"]  # type: ignore[no-any-return]


def by_sid(statements: list[dict[str, Any]], sid: str) -> dict[str, Any]:
    found = [s for s in statements if s.get("Sid") == sid]
    assert len(found) == 1, f"expected one statement {sid}, found {len(found)}"
    return found[0]


# --- cdk-nag findings, computed from a template ---------------------------------------------------


def nag_acknowledgments(resource: dict[str, Any]) -> list[str]:
    """The finding ids acknowledged on one template resource (its Metadata.cdk_nag)."""
    entries = resource.get("Metadata", {}).get("cdk_nag", {}).get("rules_to_suppress", [])
    return [entry["id"] for entry in entries]


def granular_findings(resource: dict[str, Any]) -> set[str]:
    """The granular IAM4/IAM5 findings cdk-nag reports for one resource, spelled as it spells them.

    IAM5 (wildcards): `Action::<action>` and `Resource::<flattened resource>` of Allow statements
    whose value holds a `*`; IAM4: `Policy::<flattened ARN>` of each AWS managed policy attached.
    """
    properties = resource.get("Properties", {})
    findings = set()
    documents = [properties.get("PolicyDocument")] + [
        p.get("PolicyDocument") for p in properties.get("Policies", [])
    ]
    for document in filter(None, documents):
        for statement in as_list(document.get("Statement", [])):
            if statement.get("Effect") != "Allow":
                continue
            findings |= {f"AwsSolutions-IAM5[Action::{a}]" for a in as_list(statement["Action"]) if "*" in a}
            for value in as_list(statement.get("Resource", [])):
                flat = nag.flatten(value)
                if "*" in flat:
                    findings.add(f"AwsSolutions-IAM5[Resource::{flat}]")
    for arn_value in properties.get("ManagedPolicyArns", []):
        flat = nag.flatten(arn_value)
        if ":iam::aws:policy/" in flat:
            findings.add(f"AwsSolutions-IAM4[Policy::{flat}]")
    return findings


def stale_acknowledgments(template: dict[str, Any]) -> list[tuple[str, str]]:
    """(logical id, finding) for every granular acknowledgment no finding of its resource matches.

    An acknowledgment spelled for another environment (placeholders where the template holds
    literal ARNs, or `arn:aws:` in China) matches nothing: cdk-nag then fails on the real finding.
    """
    stale = []
    for logical_id, resource in template["Resources"].items():
        findings = granular_findings(resource)
        for acknowledged in nag_acknowledgments(resource):
            if "[" in acknowledged and acknowledged not in findings:
                stale.append((logical_id, acknowledged))
    return stale


def service_principals(template: dict[str, Any]) -> set[str]:
    """Every service principal the template names: policy `Principal.Service` and Lambda permissions."""
    found: set[str] = set()

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            principal = node.get("Principal")
            if isinstance(principal, dict) and "Service" in principal:
                found.update(nag.flatten(s) for s in as_list(principal["Service"]))
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(template["Resources"])
    for resource in template["Resources"].values():
        if resource["Type"] == "AWS::Lambda::Permission":
            found.add(nag.flatten(resource["Properties"]["Principal"]))
    return found


def condition_values(template: dict[str, Any], key: str) -> list[str]:
    """Every value (flattened) a policy condition on `key` compares with, anywhere in the template."""
    found: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for name, value in node.items():
                if name == key:
                    found.extend(nag.flatten(v) for v in as_list(value))
                else:
                    walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(template["Resources"])
    return found
