"""Resource policies users add to their SQS/SNS targets so Herald may deliver to them.

Rendering only: `herald policy sqs|sns --arn ARN [--account ID]` (herald.dev.policy_cli) and the
API's `GET /api/targetPolicy` print what `render_policy` makes, each finding Herald's account with
herald.adapters.sts. The templates' source is inside the package (`herald/policy_templates/`), so
the CLI works from a wheel as well as a checkout; `make policies` copies them to the repository's
`policies/`, beside the other templates users apply.

Like ICA's own instructions, the principal is Herald's account root; given Herald's deliver role
(the stack's `DeliverRoleArn` output), the policy is narrowed to that role with `aws:PrincipalArn`
rather than naming the role as principal, which would break silently if the role were re-created.
"""

from __future__ import annotations

import json
import re
from importlib import resources
from string import Template
from typing import Any, Literal

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


class PolicyInputError(ValueError):
    """What was given cannot make a policy: the message names the kind, ARN, account or role and why."""


def render_policy(kind: Kind, arn: str, account_id: str, role_arn: str | None = None) -> dict[str, Any]:
    """The resource policy for target `arn` that lets Herald (account `account_id`) deliver.

    `role_arn` (Herald's deliver role) narrows the grant from the whole account to that role.
    Raises PolicyInputError naming what is wrong with the kind, the ARN, the account or the role.
    """
    if kind not in TEMPLATES:
        raise PolicyInputError(f"kind must be 'sqs' or 'sns', got {kind!r}")
    partition = validate_target_arn(kind, arn)
    if not isinstance(account_id, str) or not _ACCOUNT.match(account_id):
        raise PolicyInputError(f"Herald's account id must be 12 digits, got {account_id!r}")
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
    """Check `arn` names a queue (sqs) or a topic (sns); returns its partition (else PolicyInputError)."""
    what = SERVICE_NAMES[kind]
    example = f"arn:aws:{kind}:<region>:<account>:<name>"
    if not isinstance(arn, str) or not arn.strip():
        raise PolicyInputError(f"the ARN is empty: expected {what} ARN ({example})")
    arn = arn.strip()
    url = _QUEUE_URL.match(arn)
    if url:
        region, account, name = url.groups()
        hint = f"; its ARN is arn:aws:sqs:{region}:{account}:{name}" if kind == "sqs" else ""
        raise PolicyInputError(f"{arn!r} is a queue URL, not an ARN{hint}")
    if not arn.startswith("arn:"):
        raise PolicyInputError(f"{arn!r} is not an ARN: expected {what} ARN ({example})")
    parts = arn.split(":", 5)
    if len(parts) != 6:
        raise PolicyInputError(f"{arn!r} is a malformed ARN: expected {example}")
    _, partition, service, region, account, resource = parts
    if partition not in PARTITIONS:
        raise PolicyInputError(
            f"{arn!r}: unknown partition {partition!r} (expected one of {', '.join(PARTITIONS)})"
        )
    if service != kind:
        named = f"an {service.upper()} ARN" if service else "an ARN without a service"
        raise PolicyInputError(
            f"wrong service: expected {what} ARN (arn:{partition}:{kind}:...), got {named}: {arn!r}"
        )
    if not _REGION.match(region):
        raise PolicyInputError(f"{arn!r}: malformed region {region!r} (expected e.g. eu-west-1)")
    if not _ACCOUNT.match(account):
        raise PolicyInputError(f"{arn!r}: malformed account {account!r} (expected 12 digits)")
    if kind == "sns" and ":" in resource:
        raise PolicyInputError(
            f"{arn!r} looks like a subscription ARN: pass the topic's ARN (without the id)"
        )
    pattern, limit = (_QUEUE_NAME, 80) if kind == "sqs" else (_TOPIC_NAME, 256)
    if not pattern.match(resource):
        raise PolicyInputError(
            f"{arn!r}: malformed {kind.upper()} name {resource!r} "
            f"(1-{limit} letters, digits, '-' or '_', optionally ending in .fifo)"
        )
    return partition


def template_text(kind: Kind) -> str:
    return (resources.files("herald") / "policy_templates" / TEMPLATES[kind]).read_text(encoding="utf-8")


def _validate_role(role_arn: str, account_id: str, partition: str) -> None:
    match = _ROLE_ARN.match(role_arn) if isinstance(role_arn, str) else None
    if not match:
        raise PolicyInputError(f"{role_arn!r} is not an IAM role ARN (arn:aws:iam::<account>:role/<name>)")
    if match["account"] != account_id:
        raise PolicyInputError(
            f"role {role_arn!r} is in account {match['account']}, not Herald's account {account_id}"
        )
    if match["partition"] != partition:
        raise PolicyInputError(
            f"role {role_arn!r} is in partition {match['partition']}, the target in {partition}"
        )


def _drop_role_condition(statement: dict[str, Any]) -> None:
    conditions = statement.get("Condition", {})
    arn_equals = conditions.get("ArnEquals", {})
    arn_equals.pop("aws:PrincipalArn", None)
    if "ArnEquals" in conditions and not arn_equals:
        del conditions["ArnEquals"]
    if "Condition" in statement and not conditions:
        del statement["Condition"]
