"""Template helpers shared by the infra test modules (CloudFormation intrinsics and IAM statements)."""

from __future__ import annotations

import json
from typing import Any

from infra import functions as fns


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
