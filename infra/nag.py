"""cdk-nag (v3, CDK policy validation): the AwsSolutions pack and Herald's acknowledgments.

cdk-nag v3 is a CDK policy-validation plugin: `app.synth()` raises when an unacknowledged error
remains, and writes every finding to `validation-report.json` in the cloud assembly. An
acknowledgment (`Validations.of(construct).acknowledge(...)`) covers the construct it is attached
to and everything below it, so Herald attaches each one to the single CloudFormation resource that
needs it (the L1, or the one policy), never to a stack or a whole construct tree, and always with
the reason next to the resource that needs it.
"""

from __future__ import annotations

from aws_cdk import Acknowledgment as _Acknowledgment
from aws_cdk import Stack, Validations
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


def resource_token(construct: IConstruct) -> str:
    """How cdk-nag spells a resource's ARN in finding ids: `<LogicalId.Arn>`."""
    default = construct.node.default_child
    assert default is not None, f"{construct.node.path} has no CloudFormation resource"
    logical_id = Stack.of(construct).resolve(Stack.of(construct).get_logical_id(default))  # type: ignore[arg-type]
    return f"<{logical_id}.Arn>"


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
