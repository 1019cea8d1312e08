"""`herald policy sqs|sns --arn ARN [--account ID]` (herald.dev.policy_cli): the policy on stdout, or
exit 2 and a message naming the problem on stderr."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from moto import mock_aws

from herald.dev import cli, policy_cli
from herald.domain import policy

HERALD = "111111111111"
QUEUE = "arn:aws:sqs:eu-west-1:222222222222:my-queue"
TOPIC = "arn:aws:sns:eu-west-1:222222222222:my-topic"


def test_cli_prints_the_policy_with_an_explicit_account() -> None:
    out, err = io.StringIO(), io.StringIO()
    assert policy_cli.print_policy("sqs", QUEUE, HERALD, out=out, err=err) == 0
    assert json.loads(out.getvalue()) == policy.render_policy("sqs", QUEUE, HERALD)
    assert err.getvalue() == ""


def test_cli_reads_the_account_from_the_credentials() -> None:
    out, err = io.StringIO(), io.StringIO()
    with mock_aws():
        assert policy_cli.print_policy("sns", TOPIC, None, out=out, err=err) == 0
    [statement] = json.loads(out.getvalue())["Statement"]
    assert statement["Principal"] == {"AWS": "arn:aws:iam::123456789012:root"}  # moto's account


def test_cli_without_credentials_asks_for_the_account(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    for variable in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    out, err = io.StringIO(), io.StringIO()
    assert policy_cli.print_policy("sqs", QUEUE, None, out=out, err=err) == 2
    assert out.getvalue() == ""
    assert "pass --account" in err.getvalue()


@pytest.mark.parametrize(
    ("kind", "arn", "message"),
    [("sqs", TOPIC, "wrong service"), ("queue", QUEUE, "must be 'sqs' or 'sns'"), ("sns", "x", "not an ARN")],
)
def test_cli_rejects_bad_input_with_exit_2(kind: str, arn: str, message: str) -> None:
    out, err = io.StringIO(), io.StringIO()
    assert policy_cli.print_policy(kind, arn, HERALD, out=out, err=err) == 2
    assert out.getvalue() == ""
    assert err.getvalue().startswith("herald policy: ") and message in err.getvalue()


def test_cli_defaults_to_the_current_streams(capsys: pytest.CaptureFixture[str]) -> None:
    assert policy_cli.print_policy("sqs", QUEUE, HERALD) == 0
    assert json.loads(capsys.readouterr().out)["Statement"][0]["Resource"] == QUEUE


def test_herald_policy_is_a_command_of_the_herald_cli(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["policy", "sns", "--arn", TOPIC, "--account", HERALD]) == 0
    assert json.loads(capsys.readouterr().out) == policy.render_policy("sns", TOPIC, HERALD)
