"""policies/: valid IAM JSON; target templates grant one action on one resource; the ingest and
broadcast templates are exactly what the CDK stack creates (so users who build their own get the
same rules)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from string import Template
from typing import Any

import pytest
from conftest import CONSUMER, ICA, PRODUCER, SYNTH_GROUP
from infra_helpers import key_policy, queue_policy, topic_policy

from infra import functions as fns

pytestmark = pytest.mark.xdist_group(name=SYNTH_GROUP)

VALUES = {
    "Partition": "aws",
    "Region": "eu-west-1",
    "HeraldAccountId": "111111111111",
    "HeraldDeliverRoleArn": "arn:aws:iam::111111111111:role/Herald-prod-FunctionsDeliverRole",
    "QueueArn": "arn:aws:sqs:eu-west-1:222222222222:my-queue",
    "TopicArn": "arn:aws:sns:eu-west-1:222222222222:my-topic",
    "ProducerAccountId": "079623148045",
    "ConsumerAccountId": "333333333333",
    "IngestQueueArn": "arn:aws:sqs:eu-west-1:111111111111:Herald-prod-BridgeIngestQueue-x",
    "IngestDlqArn": "arn:aws:sqs:eu-west-1:111111111111:Herald-prod-BridgeIngestDlq-x",
    "IngestTopicArn": "arn:aws:sns:eu-west-1:111111111111:Herald-prod-BridgeIngestTopic-x",
    "IngestKeyArn": "arn:aws:kms:eu-west-1:111111111111:key/1234abcd-12ab-34cd-56ef-1234567890ab",
    "BroadcastTopicArn": "arn:aws:sns:eu-west-1:111111111111:Herald-prod-BroadcastTopic-x",
}
TARGETS = ("target-sqs-queue-policy.json", "target-sns-topic-policy.json")
STATEMENT_KEYS = {"Sid", "Effect", "Principal", "Action", "Resource", "Condition"}
ARN = re.compile(r"^arn:aws:[a-z0-9-]+:[a-z0-9-]*:\d{12}:.+$|^arn:aws:iam::\d{12}:(root|role/.+)$")


def templates(repo_root: Path) -> list[Path]:
    return sorted((repo_root / "policies").glob("*.json"))


def fill(path: Path) -> Any:
    return json.loads(Template(path.read_text()).substitute(VALUES))


def statements_of(document: Any) -> list[dict[str, Any]]:
    return document.get("Statement", [document])


def test_every_template_is_valid_iam_json(repo_root: Path) -> None:
    assert len(templates(repo_root)) == 9
    for path in templates(repo_root):
        placeholders = set(re.findall(r"\$\{(\w+)\}", path.read_text()))
        assert placeholders <= set(VALUES), f"{path.name}: undocumented placeholders"
        for placeholder in placeholders:
            assert f"`{placeholder}`" in (repo_root / "policies" / "README.md").read_text(), placeholder
        document = fill(path)
        assert "${" not in json.dumps(document), path.name
        if "Statement" in document:
            assert document["Version"] == "2012-10-17", path.name
        for statement in statements_of(document):
            assert set(statement) <= STATEMENT_KEYS, path.name
            assert statement["Effect"] in ("Allow", "Deny"), path.name
            assert {"Action", "Resource"} <= set(statement), path.name
            for action in (
                statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
            ):
                assert re.match(r"^[a-z0-9-]+:[A-Za-z*]+$", action), f"{path.name}: {action}"
            for resource in (
                statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
            ):
                assert resource == "*" or ARN.match(resource), f"{path.name}: {resource}"


@pytest.mark.parametrize(
    ("name", "action", "resource"),
    [
        ("target-sqs-queue-policy.json", "sqs:SendMessage", VALUES["QueueArn"]),
        ("target-sns-topic-policy.json", "sns:Publish", VALUES["TopicArn"]),
    ],
)
def test_target_policies_grant_exactly_one_action_on_one_resource(
    repo_root: Path, name: str, action: str, resource: str
) -> None:
    policy = fill(repo_root / "policies" / name)
    [statement] = policy["Statement"]
    assert statement["Effect"] == "Allow"
    assert statement["Action"] == action
    assert statement["Resource"] == resource
    assert statement["Principal"] == {"AWS": f"arn:aws:iam::{VALUES['HeraldAccountId']}:root"}
    assert statement["Condition"] == {"ArnEquals": {"aws:PrincipalArn": VALUES["HeraldDeliverRoleArn"]}}


def test_target_policies_match_what_deliver_may_do(dev: Any) -> None:
    """Herald's side of the grant: the deliver role asks for exactly these two actions."""
    from infra_helpers import role_statements

    statements = {s.get("Sid"): s for s in role_statements(dev, fns.DELIVER)}
    assert statements["SendToTargetQueues"]["Action"] == "sqs:SendMessage"
    assert statements["PublishToTargetTopics"]["Action"] == "sns:Publish"


def test_kms_statement_is_limited_to_sqs_and_sns(repo_root: Path) -> None:
    statement = fill(repo_root / "policies" / "target-kms-key-policy-statement.json")
    assert statement["Condition"]["StringLike"]["kms:ViaService"] == [
        "sqs.*.amazonaws.com",
        "sns.*.amazonaws.com",
    ]
    assert statement["Condition"]["ArnEquals"]["aws:PrincipalArn"] == VALUES["HeraldDeliverRoleArn"]


def test_producer_iam_policy_names_only_the_ingest_key(repo_root: Path) -> None:
    [statement] = fill(repo_root / "policies" / "producer-kms-iam-policy.json")["Statement"]
    assert statement["Resource"] == VALUES["IngestKeyArn"]
    assert sorted(statement["Action"]) == ["kms:Decrypt", "kms:GenerateDataKey*"]


# --- templates mirror the stack -----------------------------------------------------------------


def _resolver(synth: Any) -> dict[str, str]:
    s = synth.stack
    return {
        json.dumps({"Ref": "AWS::Partition"}): "${Partition}",
        json.dumps({"Ref": "AWS::AccountId"}): "${HeraldAccountId}",
        json.dumps({"Ref": "AWS::Region"}): "${Region}",
        json.dumps({"Fn::GetAtt": [synth.logical_id(s.ingest.queue), "Arn"]}): "${IngestQueueArn}",
        json.dumps({"Fn::GetAtt": [synth.logical_id(s.ingest.dlq), "Arn"]}): "${IngestDlqArn}",
        json.dumps({"Ref": synth.logical_id(s.ingest.topic)}): "${IngestTopicArn}",
        json.dumps({"Ref": synth.logical_id(s.broadcast.topic)}): "${BroadcastTopicArn}",
    }


def _resolve(value: Any, known: dict[str, str]) -> Any:
    """CloudFormation intrinsics back to the templates' ${Placeholders}; accounts to their role."""
    if isinstance(value, dict):
        if json.dumps(value) in known:
            return known[json.dumps(value)]
        if set(value) == {"Fn::Join"}:
            separator, parts = value["Fn::Join"]
            return separator.join(_resolve(part, known) for part in parts)
        assert not any(k.startswith("Fn::") or k == "Ref" for k in value), f"unresolved {value}"
        return {k: _resolve(v, known) for k, v in value.items()}
    if isinstance(value, list):
        return [_resolve(v, known) for v in value]
    if isinstance(value, str):
        for account, placeholder in ((ICA, "ProducerAccountId"), (PRODUCER, "ProducerAccountId")):
            value = value.replace(f":{account}:", f":${{{placeholder}}}:")
        return value.replace(f":{CONSUMER}:", ":${ConsumerAccountId}:")
    return value


def _normal(statements: list[dict[str, Any]]) -> list[str]:
    """Order-insensitive form: lists sorted and de-duplicated (several producers → one line)."""

    def norm(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: norm(v) for k, v in value.items()}
        if isinstance(value, list):
            items = sorted({json.dumps(norm(v), sort_keys=True) for v in value})
            return [json.loads(i) for i in items]
        return value

    def principal_list(statement: dict[str, Any]) -> dict[str, Any]:
        principal = statement.get("Principal")
        if (
            isinstance(principal, dict)
            and isinstance(principal.get("AWS"), str)
            and "AccountId}:root" in principal["AWS"]
            and "HeraldAccountId" not in principal["AWS"]
        ):
            statement = {**statement, "Principal": {**principal, "AWS": [principal["AWS"]]}}
        return statement

    return sorted(json.dumps(norm(principal_list(s)), sort_keys=True) for s in statements)


@pytest.mark.parametrize(
    ("name", "policy_of"),
    [
        ("ingest-sqs-queue-policy.json", lambda s: queue_policy(s, s.stack.ingest.queue)),
        ("ingest-sqs-dlq-policy.json", lambda s: queue_policy(s, s.stack.ingest.dlq)),
        ("ingest-sns-topic-policy.json", lambda s: topic_policy(s, s.stack.ingest.topic)),
        ("ingest-kms-key-policy.json", lambda s: key_policy(s, s.stack.ingest.key)),
        ("broadcast-sns-topic-policy.json", lambda s: topic_policy(s, s.stack.broadcast.topic)),
    ],
)
def test_template_mirrors_the_stack(repo_root: Path, prod: Any, name: str, policy_of: Any) -> None:
    template = json.loads((repo_root / "policies" / name).read_text())
    synthesized = _resolve(policy_of(prod), _resolver(prod))
    assert _normal(template["Statement"]) == _normal(synthesized), name
