"""Target resource policies rendered from the packaged templates (herald.domain.policy)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from herald.domain import policy

HERALD = "111111111111"
ROLE = f"arn:aws:iam::{HERALD}:role/Herald-prod-FunctionsDeliverRole1234-ABCD"
QUEUE = "arn:aws:sqs:eu-west-1:222222222222:my-queue"
TOPIC = "arn:aws:sns:eu-west-1:222222222222:my-topic"
REPO = Path(__file__).resolve().parents[2]


def test_sqs_policy_for_the_herald_account() -> None:
    assert policy.render_policy("sqs", QUEUE, HERALD) == {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "AllowHeraldDelivery",
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{HERALD}:root"},
                "Action": "sqs:SendMessage",
                "Resource": QUEUE,
            }
        ],
    }


def test_sns_policy_pinned_to_the_deliver_role() -> None:
    rendered = policy.render_policy("sns", TOPIC, HERALD, role_arn=ROLE)
    [statement] = rendered["Statement"]
    assert statement["Principal"] == {"AWS": f"arn:aws:iam::{HERALD}:root"}
    assert statement["Action"] == "sns:Publish"
    assert statement["Resource"] == TOPIC
    assert statement["Condition"] == {"ArnEquals": {"aws:PrincipalArn": ROLE}}


@pytest.mark.parametrize("kind", ["sqs", "sns"])
def test_one_action_on_one_resource(kind: policy.Kind) -> None:
    arn = QUEUE if kind == "sqs" else TOPIC
    for role in (None, ROLE):
        [statement] = policy.render_policy(kind, arn, HERALD, role)["Statement"]
        assert isinstance(statement["Action"], str) and isinstance(statement["Resource"], str)
        assert "${" not in json.dumps(statement)


def test_partition_follows_the_target() -> None:
    arn = "arn:aws-cn:sqs:cn-north-1:222222222222:q"
    [statement] = policy.render_policy("sqs", arn, HERALD)["Statement"]
    assert statement["Principal"] == {"AWS": f"arn:aws-cn:iam::{HERALD}:root"}


def test_fifo_and_long_names_are_accepted() -> None:
    policy.render_policy("sqs", "arn:aws:sqs:us-gov-west-1:222222222222:orders.fifo", HERALD)
    policy.render_policy("sqs", "arn:aws:sqs:eu-west-1:222222222222:" + "q" * 80, HERALD)
    policy.render_policy("sns", "arn:aws:sns:ap-southeast-5:222222222222:" + "t" * 256, HERALD)


@pytest.mark.parametrize(
    ("kind", "arn", "message"),
    [
        ("sqs", TOPIC, r"wrong service: expected an SQS queue ARN .* got an SNS ARN"),
        ("sns", QUEUE, r"wrong service: expected an SNS topic ARN .* got an SQS ARN"),
        ("sqs", "arn:aws:s3:::bucket", r"wrong service: expected an SQS queue ARN"),
        ("sqs", "", r"the ARN is empty"),
        ("sqs", "my-queue", r"is not an ARN"),
        ("sqs", "arn:aws:sqs:eu-west-1:222222222222", r"malformed ARN"),
        ("sqs", "arn:aws:sqs:eu-west-1:2222:q", r"malformed account '2222'"),
        ("sqs", "arn:aws:sqs:EU:222222222222:q", r"malformed region 'EU'"),
        ("sqs", "arn:aws:sqs:eu-west-1:222222222222:bad name", r"malformed SQS name 'bad name'"),
        ("sqs", "arn:aws:sqs:eu-west-1:222222222222:" + "q" * 81, r"malformed SQS name"),
        ("sqs", 'arn:aws:sqs:eu-west-1:222222222222:a"b', r"malformed SQS name"),
        ("sqs", "arn:nope:sqs:eu-west-1:222222222222:q", r"unknown partition 'nope'"),
        ("sns", TOPIC + ":8a21d249-4329-4871-acc6-7be709c6ea7f", r"subscription ARN"),
        (
            "sqs",
            "https://sqs.eu-west-1.amazonaws.com/222222222222/my-queue",
            r"is a queue URL, not an ARN; its ARN is arn:aws:sqs:eu-west-1:222222222222:my-queue",
        ),
        ("sqs", None, r"the ARN is empty"),
    ],
)
def test_bad_arns_are_named(kind: policy.Kind, arn: str, message: str) -> None:
    with pytest.raises(policy.PolicyInputError, match=message):
        policy.render_policy(kind, arn, HERALD)


def test_bad_kind_account_and_role() -> None:
    with pytest.raises(policy.PolicyInputError, match="kind must be 'sqs' or 'sns'"):
        policy.render_policy("lambda", QUEUE, HERALD)  # type: ignore[arg-type]
    with pytest.raises(policy.PolicyInputError, match="must be 12 digits"):
        policy.render_policy("sqs", QUEUE, "12345")
    with pytest.raises(policy.PolicyInputError, match="not an IAM role ARN"):
        policy.render_policy("sqs", QUEUE, HERALD, role_arn="Herald-deliver")
    with pytest.raises(policy.PolicyInputError, match="is in account 333333333333, not Herald's account"):
        policy.render_policy("sqs", QUEUE, HERALD, role_arn="arn:aws:iam::333333333333:role/x")
    with pytest.raises(policy.PolicyInputError, match="partition aws-cn"):
        policy.render_policy("sqs", QUEUE, HERALD, role_arn=f"arn:aws-cn:iam::{HERALD}:role/x")


def test_the_repository_policies_are_written_from_the_packaged_templates() -> None:
    packaged = sorted((REPO / "functions" / "herald" / "policy_templates").glob("*.json"))
    assert [p.name for p in packaged] == sorted(policy.TEMPLATES.values())
    for path in packaged:
        written = (REPO / "policies" / path.name).read_bytes()
        assert written == path.read_bytes(), f"policies/{path.name} is out of date: run `make policies`"
