"""docs/deploy.md, run as written: every command of the guide, taken from its own text.

- Set-up (`make install`, `source .venv/bin/activate`, `npm ci`) and `npx aws-cdk synth`: run for
  real at the repository root, as the guide says, with the CLI version the repository pins. No
  credentials exist here, so the environment the CLI would resolve from them is given the way the
  CLI itself passes it on: the region from `AWS_REGION` (the CLI turns it into CDK_DEFAULT_REGION)
  and the account as CDK_DEFAULT_ACCOUNT (the CLI leaves it in place when it finds no credentials,
  where a user's STS identity would fill it in). Telemetry is off, `CI` keeps the CLI from fetching
  notices and the AWS configuration is empty: nothing reaches AWS. This is the synthesis issue 14
  saw fail (cdk-nag, the real arm64 bundle, a concrete environment).
- `python app.py`: run after it, in the same `cdk.out/` (the bundle is reused, not rebuilt).
- `npx aws-cdk --version`: run; it must print the pinned version.
- `npx aws-cdk deploy|diff|destroy ...`: they need AWS once synthesis is done, and synthesis is what
  can fail offline: each command's `-c` context is synthesized through app.py with a concrete
  account and region, cdk-nag included.
- `npx aws-cdk bootstrap aws://<account-id>/<region>`: needs AWS; the environment it names is the
  one the synthesized stack requires.
- `aws ...`: need AWS; run as written by bash with a stand-in `aws` that records its arguments,
  which are checked against the AWS CLI's service models (botocore) and parsed where they are JSON.
  The `herald policy` and `python3 -c` commands around them run for real.
- `herald keys create ... --direct --table <TableName>`: run against moto, in the table layout
  Herald's stack creates.
A command of the guide that none of these claims fails test_every_command_of_the_guide_is_tested.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import boto3
import botocore.session
import pytest
from conftest import ACCOUNT, REPO_ROOT, read_violations, shared_once
from deploy_doc import (
    argv,
    bash_blocks,
    cdk_commands,
    commands,
    context_of,
    fill,
    inline_commands,
    section_block,
)

import app as herald_app
from infra import bundling
from infra import functions as fns
from infra.config import HeraldConfig, cdk_json_context

# The real bundle (pip, ~15 s) and the CLI: one group, beside the synth groups.
pytestmark = pytest.mark.xdist_group(name="infra_bundle")

REGION = "eu-west-1"
SETUP = "What you need"
SYNTH = "See what would be deployed"
# Values for the guide's placeholders (what a user copies from the outputs or their accounts).
PLACEHOLDERS = {
    "<account-id>": ACCOUNT,
    "<region>": REGION,
    "<HeraldAccountId>": ACCOUNT,
    "<TableName>": "Herald-prod-StorageTableB43FDCE7-1ABCDEF",
    "<ApiUrl>": f"https://abc123.execute-api.{REGION}.amazonaws.com/prod/",
    "<the key printed once>": "hk_example",
    "<queue URL>": f"https://sqs.{REGION}.amazonaws.com/222222222222/my-queue",
    "<topic ARN>": f"arn:aws:sns:{REGION}:222222222222:my-topic",
    "<OneCodexSecretArn>": f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:herald-onecodex-AbCdEf",
    "<the secret One Codex shows>": "one-codex-signing-secret",
    "<project>": "lab-1",
    "<BroadcastTopicArn>": f"arn:aws:sns:{REGION}:{ACCOUNT}:Herald-prod-BroadcastTopic",
    "<consumer-account>": "333333333333",
    "<queue>": "consumer-queue",
}
PACKAGE_DIR = bundling.FUNCTIONS_DIR / bundling.PACKAGE


# --- running the guide's commands -------------------------------------------------------------------


def _base_env(tmp: Path) -> dict[str, str]:
    """The user's shell, minus anything AWS or make would add, and with nothing to reach AWS with."""
    drop = ("AWS_", "CDK_", "MAKE", "MFLAGS", "VIRTUAL_ENV")
    env = {k: v for k, v in os.environ.items() if not k.startswith(drop)}
    empty = tmp / "aws-config"
    empty.write_text("")
    env.update(
        AWS_CONFIG_FILE=str(empty),
        AWS_SHARED_CREDENTIALS_FILE=str(empty),
        AWS_EC2_METADATA_DISABLED="true",
        # The CDK CLI: no telemetry, and (as in any CI) no notices fetched from the internet.
        CDK_DISABLE_CLI_TELEMETRY="true",
        CI="true",
        # `npm ci` from the cache `make test` has just filled (no registry traffic from a test).
        npm_config_offline="true",
        JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION="1",
        JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION="20",
    )
    return env


def _cli_env(env: dict[str, str]) -> dict[str, str]:
    """What the CDK CLI resolves for a user with credentials for ACCOUNT and region REGION."""
    return {**env, "AWS_REGION": REGION, "CDK_DEFAULT_ACCOUNT": ACCOUNT}


def _bash(
    script: str, env: dict[str, str], cwd: Path = REPO_ROOT, timeout: int = 900
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", "-c", f"set -euo pipefail\n{script}"],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


@dataclass
class Run:
    command: str
    returncode: int
    stdout: str
    stderr: str
    seconds: float
    manifest: dict[str, Any]
    template: dict[str, Any]
    violations: list[tuple[str, str, str]]
    # Modification time of each bundle directory in cdk.out after the command.
    bundles: dict[str, float]


def _run_guide(tmp: Path) -> dict[str, dict[str, Any]]:
    """The set-up block, then each command of the synth block, in order, at the repository root."""
    env = _base_env(tmp)
    setup = section_block(SETUP)
    started = time.monotonic()
    result = _bash(setup.text, env)
    runs = {"setup": Run(setup.text, result.returncode, result.stdout, result.stderr, 0, {}, {}, [], {})}
    runs["setup"].seconds = time.monotonic() - started
    if result.returncode != 0:
        return {name: vars(run) for name, run in runs.items()}
    activate = next(c for c in setup.commands if "activate" in c)
    cdk_out = REPO_ROOT / "cdk.out"
    for command in section_block(SYNTH).commands:
        words = argv(command)
        run_env = _cli_env(env) if words[:2] == ["npx", "aws-cdk"] else env
        started = time.monotonic()
        result = _bash(f"{activate}\n{command}", run_env)
        seconds = time.monotonic() - started
        ok = result.returncode == 0
        runs[" ".join(words)] = Run(
            command,
            result.returncode,
            result.stdout,
            result.stderr,
            seconds,
            json.loads((cdk_out / "manifest.json").read_text()) if ok else {},
            json.loads((cdk_out / "Herald-dev.template.json").read_text()) if ok else {},
            read_violations(cdk_out),
            {p.name: p.stat().st_mtime for p in cdk_out.glob("asset.*") if p.is_dir()},
        )
    print("\n" + "; ".join(f"{name}: {run.seconds:.1f} s" for name, run in runs.items()))
    return {name: vars(run) for name, run in runs.items()}


@pytest.fixture(scope="module")
def guide_synth(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Run]:
    """The guide's set-up and synth commands, run once per session (they share cdk.out)."""
    tmp = tmp_path_factory.mktemp("guide")
    runs = {
        name: Run(**run)
        for name, run in shared_once(tmp_path_factory, "guide", lambda: _run_guide(tmp)).items()
    }
    setup = runs["setup"]
    assert setup.returncode == 0, (
        "the guide's set-up failed (its `npm ci` installs from the npm cache only: `make test` fills "
        f"it first):\n{setup.stdout[-2000:]}\n{setup.stderr[-4000:]}"
    )
    return runs


def _run(runs: dict[str, Run], words: str) -> Run:
    assert words in runs, f"docs/deploy.md's '{SYNTH}' block no longer runs `{words}`: {list(runs)}"
    run = runs[words]
    assert run.returncode == 0, f"`{words}` failed:\n{run.stdout[-2000:]}\n{run.stderr[-6000:]}"
    return run


@pytest.mark.bundling
def test_npx_aws_cdk_synth_passes_with_the_environment_the_cli_resolves(guide_synth: dict[str, Run]) -> None:
    run = _run(guide_synth, "npx aws-cdk synth")
    # (Under CI=true the CLI writes its messages to stdout.)
    assert "Synthesis finished with errors" not in run.stdout + run.stderr
    assert run.violations == []
    artifact = run.manifest["artifacts"]["Herald-dev"]
    assert artifact["environment"] == f"aws://{ACCOUNT}/{REGION}"
    # The literal ARNs of a concrete environment, acknowledged in the same spelling (issue 14).
    text = json.dumps(run.template)
    assert f"AwsSolutions-IAM5[Resource::arn:aws:ses:{REGION}:{ACCOUNT}:identity/*]" in text
    assert f"cdk-hnb659fds-assets-{ACCOUNT}-{REGION}" in text


@pytest.mark.bundling
def test_python_app_py_synthesizes_the_environment_agnostic_stack(guide_synth: dict[str, Run]) -> None:
    run = _run(guide_synth, "python app.py")
    assert run.manifest["artifacts"]["Herald-dev"]["environment"] == "aws://unknown-account/unknown-region"
    assert run.violations == []
    # The bundle `npx aws-cdk synth` built is reused (same asset hash), not built again.
    cli_bundles = guide_synth["npx aws-cdk synth"].bundles
    assert cli_bundles and {name: run.bundles.get(name) for name in cli_bundles} == cli_bundles


@pytest.mark.bundling
def test_the_pinned_cdk_cli_runs_and_supports_the_cdk_library(
    guide_synth: dict[str, Run], tmp_path: Path
) -> None:
    package = json.loads((REPO_ROOT / "package.json").read_text())
    pinned = package["devDependencies"]["aws-cdk"]
    assert re.fullmatch(r"\d+\.\d+\.\d+", pinned), "pin an exact version, not a range"
    lock = json.loads((REPO_ROOT / "package-lock.json").read_text())
    locked = lock["packages"]["node_modules/aws-cdk"]
    assert locked["version"] == pinned
    # The tarball and its hash: `npm ci` installs exactly it (and can, offline, from the npm cache).
    assert locked["resolved"].endswith(f"/aws-cdk-{pinned}.tgz") and locked["integrity"].startswith("sha512-")
    [version_command] = [c for c in inline_commands() if argv(c) == ["npx", "aws-cdk", "--version"]]
    setup = section_block(SETUP)
    activate = next(c for c in setup.commands if "activate" in c)
    result = _bash(f"{activate}\n{version_command}", _base_env(tmp_path))
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"{pinned} "), result.stdout
    # aws-cdk-lib (within pyproject's range) says which CLI its cloud assembly needs.
    needed = guide_synth["npx aws-cdk synth"].manifest["minimumCliVersion"]
    assert _version(pinned) >= _version(needed), f"aws-cdk-lib needs CLI {needed}, package.json pins {pinned}"


def _version(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in text.split("."))


@pytest.mark.bundling
def test_bootstrap_names_the_environment_the_stack_requires(guide_synth: dict[str, Run]) -> None:
    [bootstrap] = cdk_commands("bootstrap")
    environment = fill(" ".join(bootstrap[3:]), PLACEHOLDERS)
    assert environment == guide_synth["npx aws-cdk synth"].manifest["artifacts"]["Herald-dev"]["environment"]


@pytest.mark.bundling
def test_the_bundle_is_the_package_and_its_arm64_wheels(guide_synth: dict[str, Run]) -> None:
    """The asset `npx aws-cdk synth` bundled, as Lambda (python3.12, arm64) will run it."""
    run = _run(guide_synth, "npx aws-cdk synth")
    keys = {
        r["Properties"]["Code"]["S3Key"]
        for r in run.template["Resources"].values()
        if r["Type"] == "AWS::Lambda::Function"
    }
    assert len(keys) == 1, "every function must share the one code asset"
    asset = REPO_ROOT / "cdk.out" / f"asset.{keys.pop().removesuffix('.zip')}"
    assert asset.is_dir()

    herald = asset / "herald"
    assert (herald / "names.py").is_file()
    for spec in fns.ALL_SPECS:
        module = spec.handler.rpartition(".")[0]
        if (PACKAGE_DIR / "handlers" / f"{module.rpartition('.')[2]}.py").exists():
            assert (asset / Path(*module.split("."))).with_suffix(".py").is_file(), spec.handler
    assert sorted(p.name for p in (herald / "policy_templates").glob("*.json")) == sorted(
        p.name for p in (PACKAGE_DIR / "policy_templates").glob("*.json")
    )
    for entry in bundling.LOCAL_ONLY:
        assert not (herald / entry).exists(), f"{entry} is local-only"
    carried = {p.relative_to(herald) for p in herald.rglob("*.py") if "__pycache__" not in p.parts}
    package = {
        p.relative_to(PACKAGE_DIR)
        for p in PACKAGE_DIR.rglob("*.py")
        if "__pycache__" not in p.parts and p.relative_to(PACKAGE_DIR).parts[0] not in bundling.LOCAL_ONLY
    }
    assert carried == package, "the asset is the whole package but its dev/ layer"
    for name in ("aws_cdk", "constructs", "boto3", "botocore", "moto"):
        assert not (asset / name).exists(), f"{name} must not be bundled"
    for requirement in bundling.runtime_requirements():
        dist = re.sub(
            r"[-_.]+", "_", re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)", requirement).group(1)
        ).lower()  # type: ignore[union-attr]
        assert [p for p in asset.glob("*.dist-info") if p.name.lower().startswith(f"{dist}-")], dist
    native = list((asset / "pydantic_core").glob("*.so"))
    assert native and all("aarch64" in so.name and "cpython-312" in so.name for so in native), native
    assert not list(asset.rglob("__pycache__"))
    assert not list(asset.rglob("*.egg-info"))
    size = sum(f.stat().st_size for f in asset.rglob("*") if f.is_file())
    # Lambda's limit for unzipped code is 250 MB.
    assert size < 60 * 1024 * 1024
    print(f"\nbundle: {size / 1e6:.1f} MB unzipped")


# --- deploy, diff, destroy: their synthesis, with a concrete environment -------------------------------

CLI_COMMANDS = [words for verb in ("deploy", "diff", "destroy") for words in cdk_commands(verb)]


@pytest.mark.parametrize("words", CLI_COMMANDS, ids=[" ".join(w[2:]) for w in CLI_COMMANDS])
def test_each_documented_deploy_synthesizes_for_a_real_environment(
    words: list[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    context = context_of(words)
    assert all(key.startswith("herald:") for key in context), context
    monkeypatch.setenv("CDK_DEFAULT_ACCOUNT", ACCOUNT)
    monkeypatch.setenv("CDK_DEFAULT_REGION", REGION)
    app = cdk.App(
        context={**cdk_json_context(REPO_ROOT / "cdk.json"), **context, "aws:cdk:bundling-stacks": []},
        outdir=str(tmp_path),
    )
    stack = herald_app.build(app)
    app.synth()  # raises on an unacknowledged cdk-nag finding
    assert read_violations(tmp_path) == []
    config = HeraldConfig.from_context(app.node)
    assert stack.stack_name == herald_app.stack_name(config) == f"Herald-{context.get('herald:stage', 'dev')}"
    assert (stack.account, stack.region) == (ACCOUNT, REGION)


# --- the AWS CLI commands, recorded -------------------------------------------------------------------

_RECORDER = """#!{python}
import json, os, sys
files = {{}}
for arg in sys.argv[1:]:
    if arg.startswith("file://"):
        with open(arg[len("file://"):]) as f:
            files[arg] = f.read()
with open(os.environ["AWS_RECORD"], "a") as out:
    out.write(json.dumps({{"argv": sys.argv[1:], "files": files}}) + "\\n")
"""
# CLI options that are not the kebab-case of their parameter's name.
CLI_ALIASES = {("sns", "subscribe", "notification-endpoint"): "Endpoint"}


@pytest.fixture(scope="module")
def recorded_aws_calls(tmp_path_factory: pytest.TempPathFactory) -> list[dict[str, Any]]:
    """Every block with an `aws` command, run as written (placeholders filled), `aws` recorded."""
    tmp = tmp_path_factory.mktemp("aws")
    bin_dir = tmp / "bin"
    bin_dir.mkdir()
    recorder = bin_dir / "aws"
    recorder.write_text(_RECORDER.format(python=sys.executable))
    recorder.chmod(0o755)
    record = tmp / "calls.jsonl"
    env = _base_env(tmp)
    env.update(PATH=f"{bin_dir}:{Path(sys.executable).parent}:{env['PATH']}", AWS_RECORD=str(record))
    scripts = [block.text for block in bash_blocks() if any(argv(c)[0] == "aws" for c in block.commands)]
    scripts += [c for c in inline_commands() if argv(c)[0] == "aws"]
    for index, script in enumerate(scripts):
        workdir = tmp / f"block{index}"
        workdir.mkdir()
        result = _bash(fill(script, PLACEHOLDERS), env, cwd=workdir, timeout=120)
        assert result.returncode == 0, f"{script}\n{result.stderr}"
    return [json.loads(line) for line in record.read_text().splitlines()]


def _call(calls: list[dict[str, Any]], service: str, operation: str) -> dict[str, Any]:
    found = [c for c in calls if c["argv"][:2] == [service, operation]]
    assert len(found) == 1, f"expected one `aws {service} {operation}` in the guide, found {len(found)}"
    return found[0]


def _options(words: list[str]) -> dict[str, str | None]:
    options: dict[str, str | None] = {}
    for index, word in enumerate(words):
        if word.startswith("--"):
            following = words[index + 1] if index + 1 < len(words) else None
            options[word[2:]] = None if following is None or following.startswith("--") else following
    return options


def test_every_aws_command_is_an_operation_of_the_aws_cli_with_its_parameters(
    recorded_aws_calls: list[dict[str, Any]],
) -> None:
    session = botocore.session.get_session()
    assert recorded_aws_calls
    for call in recorded_aws_calls:
        service, operation, *rest = call["argv"]
        model = session.get_service_model(service).operation_model(
            "".join(part.capitalize() for part in operation.split("-"))
        )
        members = model.input_shape.members if model.input_shape else {}
        given = set()
        for option in _options(rest):
            name = CLI_ALIASES.get((service, operation, option))
            if name is None:
                bare = option.removeprefix("no-")
                name = "".join(part.capitalize() for part in bare.split("-"))
                name = next((m for m in members if m.lower() == name.lower()), name)
            assert name in members, f"aws {service} {operation}: --{option} is not a parameter"
            given.add(name)
        required = set(model.input_shape.required_members) if model.input_shape else set()
        assert required <= given, f"aws {service} {operation}: missing {required - given}"


def _value(call: dict[str, Any], option: str) -> str:
    value = _options(call["argv"])[option]
    assert value is not None
    return call["files"].get(value, value)


def test_the_queue_policy_command_sets_the_policy_herald_prints(
    recorded_aws_calls: list[dict[str, Any]],
) -> None:
    call = _call(recorded_aws_calls, "sqs", "set-queue-attributes")
    attributes = json.loads(_value(call, "attributes"))
    assert set(attributes) == {"Policy"}
    policy = json.loads(attributes["Policy"])
    statement = json.dumps(policy["Statement"])
    assert "arn:aws:sqs:eu-west-1:222222222222:my-queue" in statement and ACCOUNT in statement
    assert _value(call, "queue-url") == PLACEHOLDERS["<queue URL>"]


def test_the_topic_policy_command_sets_the_policy_herald_prints(
    recorded_aws_calls: list[dict[str, Any]],
) -> None:
    call = _call(recorded_aws_calls, "sns", "set-topic-attributes")
    assert _value(call, "attribute-name") == "Policy"
    statement = json.dumps(json.loads(_value(call, "attribute-value"))["Statement"])
    assert "arn:aws:sns:eu-west-1:222222222222:my-topic" in statement and ACCOUNT in statement


def test_the_broadcast_subscription_filters_by_event_code(recorded_aws_calls: list[dict[str, Any]]) -> None:
    call = _call(recorded_aws_calls, "sns", "subscribe")
    attributes = json.loads(_value(call, "attributes"))
    assert json.loads(attributes["FilterPolicy"]) == {"eventCode": ["ICA_EXEC_002"]}
    assert attributes["RawMessageDelivery"] == "true"
    assert _value(call, "notification-endpoint").startswith(f"arn:aws:sqs:{REGION}:")


def test_the_termination_protection_command_names_the_prod_stack(
    recorded_aws_calls: list[dict[str, Any]],
) -> None:
    call = _call(recorded_aws_calls, "cloudformation", "update-termination-protection")
    prod = HeraldConfig.from_mapping({"herald:stage": "prod"})
    assert _value(call, "stack-name") == herald_app.stack_name(prod)
    assert "--no-enable-termination-protection" in call["argv"]


def test_the_one_codex_secret_command_stores_the_secret_as_given(
    recorded_aws_calls: list[dict[str, Any]],
) -> None:
    call = _call(recorded_aws_calls, "secretsmanager", "put-secret-value")
    assert _value(call, "secret-string") == PLACEHOLDERS["<the secret One Codex shows>"]
    _call(recorded_aws_calls, "sts", "get-caller-identity")


# --- the first API key, against moto -------------------------------------------------------------------


@pytest.fixture
def moto_table(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    from moto import mock_aws

    from herald.dev.local.resources import create_table

    for name in [k for k in os.environ if k.startswith("AWS_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    from herald.adapters import aws

    # Herald caches its boto3 clients per process: none made outside this moto (or region) may serve.
    aws.reset_clients()
    try:
        with mock_aws():
            table = PLACEHOLDERS["<TableName>"]
            create_table(boto3.client("dynamodb"), table)
            yield table
    finally:
        aws.reset_clients()


def test_the_first_admin_key_is_written_into_the_table(
    moto_table: str, capsys: pytest.CaptureFixture[str]
) -> None:
    from herald.dev import cli

    [command] = [c for c in section_block("First API key").commands if argv(c)[0] == "herald"]
    words = argv(fill(command, PLACEHOLDERS))
    assert cli.main(words[1:]) == 0
    created = json.loads(capsys.readouterr().out)
    assert created["key"] and created["admin"] is True
    items = boto3.client("dynamodb").scan(TableName=moto_table)["Items"]
    assert len(items) == 1 and created["key"] not in json.dumps(items), "stored hashed, once"


# --- the guide's own consistency ---------------------------------------------------------------------


def test_the_guide_asks_for_what_the_repository_needs() -> None:
    guide = (REPO_ROOT / "docs" / "deploy.md").read_text()
    readme = (REPO_ROOT / "README.md").read_text()
    node = re.search(r"Node(?:\.js)? (\d+)\+", guide)
    assert node and f"Node {node.group(1)}+" in readme, (
        "docs/deploy.md and README.md ask for one Node version"
    )
    package = json.loads((REPO_ROOT / "package.json").read_text())
    assert package["engines"]["node"] == f">={node.group(1)}"
    for tool in re.findall(
        r"\b(jq|docker|yq|curl)\b", " ".join(c for b in bash_blocks() for c in b.commands)
    ):
        assert tool in guide.split("## Bootstrap")[0], f"{tool} is used but not listed under 'What you need'"


def _claims(command: str) -> str | None:
    """Which test runs a command of the guide (None: nothing does)."""
    words = argv(command)
    setup = [argv(c) for c in section_block(SETUP).commands]
    synth = [argv(c) for c in section_block(SYNTH).commands]
    if words in setup:
        return "guide_synth (set-up)"
    if words in synth:
        return "guide_synth"
    if words == ["npx", "aws-cdk", "--version"]:
        return "test_the_pinned_cdk_cli_runs_and_supports_the_cdk_library"
    if words[:2] == ["npx", "aws-cdk"] and len(words) >= 3:
        verb = words[2]
        if verb == "bootstrap":
            return "test_bootstrap_names_the_environment_the_stack_requires (needs AWS)"
        if verb in ("deploy", "diff", "destroy"):
            return "test_each_documented_deploy_synthesizes_for_a_real_environment (needs AWS)"
    if words[0] == "aws":
        return "recorded_aws_calls (needs AWS)"
    if words[:2] == ["herald", "policy"] or words[:2] == ["python3", "-c"]:
        return "recorded_aws_calls (run for real)"
    if words[:3] == ["herald", "keys", "create"]:
        return "test_the_first_admin_key_is_written_into_the_table (moto)"
    if words[0] == "curl":
        return "tests/e2e/test_deploy_guide_inbound_webhook.py (herald dev)"
    if words[0] == "export":
        return "shell: sets variables only"
    return None


def test_every_command_of_the_guide_is_tested() -> None:
    commands = [c for block in bash_blocks() for c in block.commands]
    # Inline mentions that name the tool, not a command: `npx aws-cdk` (the CLI) and cdk.json's app.
    inline = [c for c in inline_commands() if c not in ("npx aws-cdk",)]
    unclaimed = [c for c in commands + inline if _claims(fill(c, PLACEHOLDERS)) is None]
    assert unclaimed == [], "docs/deploy.md has commands no test runs:\n" + "\n".join(unclaimed)


def test_the_guide_runs_from_a_clean_repository_root() -> None:
    """What the guide runs from the root is ignored by git, so a test run leaves the tree clean."""
    ignored = (REPO_ROOT / ".gitignore").read_text().split()
    assert {"cdk.out/", "node_modules/", ".venv/"} <= set(ignored)
    assert shutil.which("npm") and shutil.which("node"), "Node.js 20+ with npm is a prerequisite"


def test_the_readme_deploys_with_commands_of_the_guide() -> None:
    """README.md's deploy block is a short form of the guide: each command is one the guide runs
    (and so one a test here claims), never a variant of its own."""
    readme = (REPO_ROOT / "README.md").read_text()
    section = readme.split("## Deploy to AWS", 1)[1]
    block = re.search(r"```sh\n(.*?)```", section, re.S)
    assert block, "README.md has no deploy block"
    guide = [argv(c) for b in bash_blocks() for c in b.commands]
    for command in commands(block.group(1)):
        assert argv(command) in guide, f"README.md's `{command}` is not a command of docs/deploy.md"
