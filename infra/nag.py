"""cdk-nag (v3, CDK policy validation): the AwsSolutions pack and Herald's acknowledgments.

cdk-nag v3 is a CDK policy-validation plugin: `app.synth()` raises when an unacknowledged error
remains, and writes every finding to `validation-report.json` in the cloud assembly. An
acknowledgment (`Validations.of(construct).acknowledge(...)`) covers the construct it is attached
to and everything below it, so Herald attaches each one to the single CloudFormation resource that
needs it (the L1, or the one policy), never to a stack or a whole construct tree, and always with
the reason next to the resource that needs it.

A granular finding (`AwsSolutions-IAM5[Resource::...]`) names the policy value the way cdk-nag
flattens it from the template, and that spelling depends on the environment: the same ARN reads
`arn:<AWS::Partition>:sqs:*:*:*` in an environment-agnostic stack, `arn:aws:sqs:*:*:*` once the CLI
gives the app an account and region, and `arn:aws-cn:sqs:*:*:*` in China. So an acknowledgment is
never spelled by hand: `acknowledge_resource` / `acknowledge_managed_policy` flatten the very value
the policy holds, in its stack, exactly as cdk-nag does (`finding`).
"""

from __future__ import annotations

import json
from typing import Any

from aws_cdk import Acknowledgment as _Acknowledgment
from aws_cdk import CfnResource, Stack, Validations
from cdk_nag import AwsSolutionsChecks
from constructs import Construct, IConstruct

PACK = "AwsSolutions"
# Written into each acknowledged resource's Metadata (`cdk_nag.rules_to_suppress`), so whoever
# deploys the template can read why a rule does not apply without opening the CDK code.
WRITE_TO_TEMPLATE = True


def add_checks(app: Construct) -> None:
    """Run the AwsSolutions rules on every stack of the app at synthesis."""
    Validations.of(app).add_plugins(
        AwsSolutionsChecks(app, verbose=True, write_suppressions_to_cloud_formation=WRITE_TO_TEMPLATE)
    )


def acknowledge(construct: IConstruct, rule: str, reason: str) -> None:
    """Acknowledge one rule (or one finding, `Rule[Finding]`) on one resource, with its reason."""
    if not reason.strip():
        raise ValueError(f"{rule}: an acknowledgment needs a reason")
    if not rule.startswith(f"{PACK}-"):
        raise ValueError(f"{rule}: expected an {PACK}-* rule id")
    Validations.of(construct).acknowledge(_Acknowledgment(id=rule, reason=reason))


def acknowledge_resource(construct: IConstruct, rule: str, resource: str, reason: str) -> None:
    """Acknowledge the finding of `rule` about one policy resource value (an ARN, tokens and all)."""
    acknowledge(construct, f"{rule}[Resource::{finding(construct, resource)}]", reason)


def acknowledge_managed_policy(role: IConstruct, policy_name: str, reason: str) -> None:
    """Acknowledge AwsSolutions-IAM4 for the AWS managed policy `policy_name` attached to `role`.

    The ARN is taken from the role's own resource, in whatever form CDK rendered it there.
    """
    resource = role.node.default_child
    assert isinstance(resource, CfnResource), f"{role.node.path} has no CloudFormation resource"
    attached = Stack.of(role).resolve(_managed_policy_arns(resource))
    matching = [arn for arn in attached if flatten(arn).endswith(f":policy/{policy_name}")]
    assert len(matching) == 1, f"{role.node.path}: {policy_name} is not attached"
    acknowledge(resource, f"AwsSolutions-IAM4[Policy::{flatten(matching[0])}]", reason)


def finding(scope: IConstruct, value: str) -> str:
    """How cdk-nag spells a policy value (an ARN, possibly with tokens) of `scope`'s stack in a finding.

    The value is resolved in its stack, as cdk-nag resolves the policy document, then flattened with
    the rules of cdk-nag's `flattenCfnReference`.
    """
    return flatten(Stack.of(scope).resolve(value))


def _managed_policy_arns(resource: CfnResource) -> list[Any]:
    arns = getattr(resource, "managed_policy_arns", None)
    assert arns is not None, f"{resource.node.path} has no managed policies"
    return list(arns)


def flatten(node: Any) -> str:
    """cdk-nag's flattenCfnReference: `Ref` -> `<X>`, `Fn::GetAtt` -> `<X.Attr>`, `Fn::Join` joined."""
    if node is None:
        return ""
    if isinstance(node, str):
        # Fn::Sub's `${X}` is spelled `<X>`.
        return node.replace("${", "<").replace("}", ">")
    if isinstance(node, dict):
        if "Fn::Join" in node:
            delimiter, items = node["Fn::Join"]
            return delimiter.join(flatten(item) for item in items)
        if "Fn::Sub" in node:
            return flatten(node["Fn::Sub"])
        if "Fn::GetAtt" in node:
            resource, attribute = node["Fn::GetAtt"]
            return f"<{flatten(resource)}.{flatten(attribute)}>"
        if "Fn::ImportValue" in node:
            return flatten(node["Fn::ImportValue"])
        if "Ref" in node:
            return f"<{flatten(node['Ref'])}>"
    # cdk-nag's fallback: JSON.stringify.
    return json.dumps(node, separators=(",", ":"))


# Reasons shared by several resources (one wording, so reviewers read it once).
REASON_XRAY = (
    "Lambda active tracing: xray:PutTraceSegments and xray:PutTelemetryRecords support no "
    "resource-level permissions, so CDK grants them on '*'."
)
REASON_KMS_ACTIONS = (
    "CDK's grant on one customer-managed key (the resource is that key's ARN): the '*' is in "
    "the action family (kms:GenerateDataKey*, kms:ReEncrypt*) SQS/SNS/DynamoDB use for SSE."
)
REASON_TABLE_INDEXES = (
    "Queries on the event store's global secondary indexes (gsi1, gsi2): '<table>/index/*' "
    "names only this table's indexes."
)
REASON_RUNTIME = (
    "Pinned to python3.12 together with the arm64 wheels the asset is built from "
    "(infra/bundling.py PYTHON_VERSION); moving to a newer runtime is a deliberate change of both, "
    "not something a linter should make implicitly. python3.12 is supported by Lambda until 2028."
)
