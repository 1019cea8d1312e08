"""The resource-policy templates users apply to their targets: valid, filled, and matching Herald's grants."""

from __future__ import annotations

import json
import re
from pathlib import Path
from string import Template

import pytest

VALUES = {
    "Partition": "aws",
    "HeraldAccountId": "111111111111",
    "HeraldDeliverRoleArn": "arn:aws:iam::111111111111:role/Herald-prod-FunctionsDeliverServiceRole",
    "QueueArn": "arn:aws:sqs:eu-west-1:222222222222:my-queue",
    "TopicArn": "arn:aws:sns:eu-west-1:222222222222:my-topic",
}


def templates(repo_root: Path) -> list[Path]:
    return sorted((repo_root / "policies").glob("*.json"))


def fill(path: Path) -> object:
    return json.loads(Template(path.read_text()).substitute(VALUES))


def test_every_template_fills_into_valid_json(repo_root: Path) -> None:
    assert templates(repo_root)
    for path in templates(repo_root):
        filled = json.dumps(fill(path))
        assert "${" not in filled, path.name
        placeholders = set(re.findall(r"\$\{(\w+)\}", path.read_text()))
        assert placeholders <= set(VALUES), f"{path.name}: undocumented placeholders"
        assert "HeraldDeliverRoleArn" in placeholders, f"{path.name} must pin Herald's deliver role"


@pytest.mark.parametrize(
    ("name", "action", "resource"),
    [
        ("target-sqs-queue-policy.json", "sqs:SendMessage", VALUES["QueueArn"]),
        ("target-sns-topic-policy.json", "sns:Publish", VALUES["TopicArn"]),
    ],
)
def test_target_policies_grant_what_deliver_uses(
    repo_root: Path, name: str, action: str, resource: str
) -> None:
    policy = fill(repo_root / "policies" / name)
    assert isinstance(policy, dict)
    [statement] = policy["Statement"]
    assert statement["Effect"] == "Allow"
    assert statement["Action"] == action
    assert statement["Resource"] == resource
    assert statement["Condition"]["ArnEquals"]["aws:PrincipalArn"] == VALUES["HeraldDeliverRoleArn"]


def test_kms_statement_is_limited_to_sqs_and_sns(repo_root: Path) -> None:
    statement = fill(repo_root / "policies" / "target-kms-key-policy-statement.json")
    assert isinstance(statement, dict)
    assert statement["Condition"]["StringLike"]["kms:ViaService"] == [
        "sqs.*.amazonaws.com",
        "sns.*.amazonaws.com",
    ]
