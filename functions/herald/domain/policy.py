"""Resource policies users add to their SQS/SNS targets so Herald may deliver to them.

`herald policy sqs|sns --arn ARN [--account ID]` prints the filled-in policy (cli.py wires it to
`cli_main`). The templates' source is inside the package (`herald/policy_templates/`), so the CLI
works from a wheel as well as a checkout; `make policies` copies them to the repository's
`policies/`, beside the other templates users apply.

Like ICA's own instructions, the principal is Herald's account root; given Herald's deliver role
(the stack's `DeliverRoleArn` output), the policy is narrowed to that role with `aws:PrincipalArn`
rather than naming the role as principal, which would break silently if the role were re-created.
"""

from __future__ import annotations

import json
import re
import sys
from importlib import resources
from string import Template
from typing import Any, Literal, TextIO, cast

Kind = Literal["sqs", "sns"]

TEMPLATES = {"sqs": "target-sqs-queue-policy.json", "sns": "target-sns-topic-policy.json"}
# The placeholder each template uses for the target's ARN.
TARGET_PLACEHOLDER = {"sqs": "QueueArn", "sns": "TopicArn"}
SERVICE_NAMES = {"sqs": "an SQS queue", "sns": "an SNS topic"}
PARTITIONS = ("aws", "aws-cn", "aws-us-gov", "aws-iso", "aws-iso-b", "aws-iso-e", "aws-iso-f", "aws-eusc")
ROLE_PLACEHOLDER = "HeraldDeliverRoleArn"

_ACCOUNT = re.compile(r"^\d{12}$")
_REGION = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d+$")
# Queue names: 1-80 of letters, digits, '-' and '_' (a FIFO queue's name ends in .fifo).
_QUEUE_NAME = re.compile(r"^[A-Za-z0-9_-]{1,75}(\.fifo)?$|^[A-Za-z0-9_-]{1,80}$")
# Topic names: 1-256 of the same (FIFO topics end in .fifo).
_TOPIC_NAME = re.compile(r"^[A-Za-z0-9_-]{1,251}(\.fifo)?$|^[A-Za-z0-9_-]{1,256}$")
_QUEUE_URL = re.compile(r"^https://sqs\.([a-z0-9-]+)\.amazonaws\.com(?:\.cn)?/(\d{12})/([^/?#]+)/?$")
_ROLE_ARN = re.compile(r"^arn:(?P<partition>[a-z-]+):iam::(?P<account>\d{12}):role/[\w+=,.@/-]{1,512}$")


def render_policy(kind: Kind, arn: str, account_id: str, role_arn: str | None = None) -> dict[str, Any]:
    """The resource policy for target `arn` that lets Herald (account `account_id`) deliver.

    `role_arn` (Herald's deliver role) narrows the grant from the whole account to that role.
    Raises ValueError naming what is wrong with the kind, the ARN, the account or the role.
    """
    if kind not in TEMPLATES:
        raise ValueError(f"kind must be 'sqs' or 'sns', got {kind!r}")
    partition = validate_target_arn(kind, arn)
    if not isinstance(account_id, str) or not _ACCOUNT.match(account_id):
        raise ValueError(f"Herald's account id must be 12 digits, got {account_id!r}")
    if role_arn is not None:
        _validate_role(role_arn, account_id, partition)

    values = {
        "Partition": partition,
        "HeraldAccountId": account_id,
        TARGET_PLACEHOLDER[kind]: arn,
        # Every value is validated above: no quote or backslash can reach the JSON text.
        ROLE_PLACEHOLDER: role_arn or "",
    }
    policy: dict[str, Any] = json.loads(Template(template_text(kind)).substitute(values))
    if role_arn is None:
        for statement in policy["Statement"]:
            _drop_role_condition(statement)
    return policy


def validate_target_arn(kind: Kind, arn: str) -> str:
    """Check `arn` names a queue (sqs) or a topic (sns); returns its partition."""
    what = SERVICE_NAMES[kind]
    example = f"arn:aws:{kind}:<region>:<account>:<name>"
    if not isinstance(arn, str) or not arn.strip():
        raise ValueError(f"the ARN is empty: expected {what} ARN ({example})")
    arn = arn.strip()
    url = _QUEUE_URL.match(arn)
    if url:
        region, account, name = url.groups()
        hint = f"; its ARN is arn:aws:sqs:{region}:{account}:{name}" if kind == "sqs" else ""
        raise ValueError(f"{arn!r} is a queue URL, not an ARN{hint}")
    if not arn.startswith("arn:"):
        raise ValueError(f"{arn!r} is not an ARN: expected {what} ARN ({example})")
    parts = arn.split(":", 5)
    if len(parts) != 6:
        raise ValueError(f"{arn!r} is a malformed ARN: expected {example}")
    _, partition, service, region, account, resource = parts
    if partition not in PARTITIONS:
        raise ValueError(
            f"{arn!r}: unknown partition {partition!r} (expected one of {', '.join(PARTITIONS)})"
        )
    if service != kind:
        named = f"an {service.upper()} ARN" if service else "an ARN without a service"
        raise ValueError(
            f"wrong service: expected {what} ARN (arn:{partition}:{kind}:...), got {named}: {arn!r}"
        )
    if not _REGION.match(region):
        raise ValueError(f"{arn!r}: malformed region {region!r} (expected e.g. eu-west-1)")
    if not _ACCOUNT.match(account):
        raise ValueError(f"{arn!r}: malformed account {account!r} (expected 12 digits)")
    if kind == "sns" and ":" in resource:
        raise ValueError(f"{arn!r} looks like a subscription ARN: pass the topic's ARN (without the id)")
    pattern, limit = (_QUEUE_NAME, 80) if kind == "sqs" else (_TOPIC_NAME, 256)
    if not pattern.match(resource):
        raise ValueError(
            f"{arn!r}: malformed {kind.upper()} name {resource!r} "
            f"(1-{limit} letters, digits, '-' or '_', optionally ending in .fifo)"
        )
    return partition


def template_text(kind: Kind) -> str:
    return (resources.files("herald") / "policy_templates" / TEMPLATES[kind]).read_text(encoding="utf-8")


def _validate_role(role_arn: str, account_id: str, partition: str) -> None:
    match = _ROLE_ARN.match(role_arn) if isinstance(role_arn, str) else None
    if not match:
        raise ValueError(f"{role_arn!r} is not an IAM role ARN (arn:aws:iam::<account>:role/<name>)")
    if match["account"] != account_id:
        raise ValueError(
            f"role {role_arn!r} is in account {match['account']}, not Herald's account {account_id}"
        )
    if match["partition"] != partition:
        raise ValueError(f"role {role_arn!r} is in partition {match['partition']}, the target in {partition}")


def _drop_role_condition(statement: dict[str, Any]) -> None:
    conditions = statement.get("Condition", {})
    arn_equals = conditions.get("ArnEquals", {})
    arn_equals.pop("aws:PrincipalArn", None)
    if "ArnEquals" in conditions and not arn_equals:
        del conditions["ArnEquals"]
    if "Condition" in statement and not conditions:
        del statement["Condition"]


class CredentialsUnavailable(RuntimeError):
    """No working AWS credentials to ask STS which account Herald runs in."""


def caller_account_id() -> str:
    """The account of the current AWS credentials (`sts get-caller-identity`)."""
    try:
        import boto3
        from botocore.config import Config
        from botocore.exceptions import BotoCoreError, ClientError
    except ImportError as exc:  # pragma: no cover - boto3 is a dependency
        raise CredentialsUnavailable(f"boto3 is not available ({exc})") from None
    try:
        session = boto3.session.Session()
        client = session.client(
            "sts",
            region_name=session.region_name or "us-east-1",
            config=Config(connect_timeout=5, read_timeout=5, retries={"max_attempts": 2}),
        )
        return str(client.get_caller_identity()["Account"])
    except (BotoCoreError, ClientError) as exc:
        raise CredentialsUnavailable(str(exc)) from None


def cli_main(
    kind: str, arn: str, account: str | None, out: TextIO | None = None, err: TextIO | None = None
) -> int:
    """`herald policy sqs|sns --arn ARN [--account ID]`: print the policy (0) or say why not (2).

    `out`/`err` default to sys.stdout/sys.stderr at call time (so captured streams work).
    """
    out = out if out is not None else sys.stdout
    err = err if err is not None else sys.stderr
    if kind not in TEMPLATES:
        print(f"herald policy: the target kind must be 'sqs' or 'sns', got {kind!r}", file=err)
        return 2
    if account is None:
        try:
            account = caller_account_id()
        except CredentialsUnavailable as exc:
            print(
                "herald policy: cannot tell Herald's AWS account from your credentials "
                f"({exc}); pass --account <12-digit id> (the stack's HeraldAccountId output)",
                file=err,
            )
            return 2
    try:
        policy = render_policy(cast(Kind, kind), arn, account)  # a Kind: checked against TEMPLATES above
    except ValueError as exc:
        print(f"herald policy: {exc}", file=err)
        return 2
    json.dump(policy, out, indent=2)
    out.write("\n")
    return 0
