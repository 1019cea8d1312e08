"""Synthesis helpers for the infra tests: few synths (jsii is slow), bundling skipped by default.

Four configurations cover every branch of the infrastructure, each synthesized once per worker
(the modules that use them share the `infra_synth` xdist group, so `-n 2 --dist loadgroup` puts
them on one worker): `dev` (cdk.json defaults), `prod` (producers, consumers, alarm e-mail, SES
sender, prod retention, endpoint-health settings), `managed` (SSE-SQS ingest) and `provisioned`
(a provisioned, auto-scaled table; broadcast off and a routing budget). Each synth runs cdk-nag
exactly as app.py does and keeps its validation report.

The same four configurations are also synthesized with a concrete account in several regions of
every partition (`environments`), as the CDK CLI runs app.py for a user with credentials: ARNs then
come out literal (`arn:aws:...`, `arn:aws-cn:...`), and that is where a hand-spelled acknowledgment
or ARN breaks (issue 14). One app per region holds the four stacks, named as app.py names them.

Test modules here have `infra` in their names and this folder has no __init__.py: a package named
`tests/infra` would shadow the real `infra` package, and bare names would clash with tests/unit.
"""

from __future__ import annotations

import os

# Before aws_cdk starts its Node process: quiet Node 20 support nags (jsii reads both).
os.environ.setdefault("JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION", "1")
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
import fcntl
import json
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk.assertions import Template

from infra import nag
from infra.config import HeraldConfig, cdk_json_context
from infra.stack import HeraldStack

REPO_ROOT = Path(__file__).resolve().parents[2]
SYNTH_GROUP = "infra_synth"
ICA = "079623148045"
PRODUCER = "111111111111"
CONSUMER = "222222222222"
PROD_SCHEDULE = (1, 2, 3)
PROD_DISABLE_AFTER_SECONDS = 86400
PROD_OVERRIDES: dict[str, Any] = {
    "herald:stage": "prod",
    "herald:retrySchedule": ",".join(map(str, PROD_SCHEDULE)),
    "herald:sesSender": "Herald <noreply@example.org>",
    "herald:apiThrottleRate": "10",
    "herald:apiThrottleBurst": "20",
    "herald:deliverMaxConcurrency": "5",
    "herald:producerAccountIds": f"{ICA},{PRODUCER}",
    "herald:consumerAccountIds": CONSUMER,
    "herald:alarmEmail": "ops@example.org",
    "herald:stallAfterSeconds": "300",
    "herald:ingestDefaultProject": "proj-1",
    "herald:logLevel": "debug",
    "herald:circuitFailureRate": "0.5",
    "herald:circuitCooldownSeconds": "30",
    "herald:disableAfterSeconds": str(PROD_DISABLE_AFTER_SECONDS),
}
MANAGED_OVERRIDES: dict[str, Any] = {
    "herald:ingestEncryption": "sqs-managed",
    "herald:producerAccountIds": ICA,
}
# Capacity bounds that differ from the defaults and from each other, as `-c` passes them (strings).
PROVISIONED_READ = (2, 300)
PROVISIONED_WRITE = (4, 2500)
PROVISIONED_ROUTING_BUDGET = "3.5"
PROVISIONED_OVERRIDES: dict[str, Any] = {
    "herald:tableBillingMode": "provisioned",
    "herald:tableMinReadCapacity": str(PROVISIONED_READ[0]),
    "herald:tableMaxReadCapacity": str(PROVISIONED_READ[1]),
    "herald:tableMinWriteCapacity": str(PROVISIONED_WRITE[0]),
    "herald:tableMaxWriteCapacity": str(PROVISIONED_WRITE[1]),
    "herald:broadcast": "false",
    "herald:routingBudgetSeconds": PROVISIONED_ROUTING_BUDGET,
}


VARIANTS: dict[str, dict[str, Any]] = {
    "dev": {},
    "prod": PROD_OVERRIDES,
    "managed": MANAGED_OVERRIDES,
    "provisioned": PROVISIONED_OVERRIDES,
}
# The account the CLI would resolve from a user's credentials (any 12 digits; AWS's example one).
ACCOUNT = "111122223333"
# Region -> partition. Commercial regions on three continents, an opt-in region (af-south-1), and
# one region of each other partition Herald documents (China, GovCloud).
REGIONS: dict[str, str] = {
    "us-east-1": "aws",
    "eu-west-1": "aws",
    "ap-southeast-2": "aws",
    "af-south-1": "aws",
    "cn-north-1": "aws-cn",
    "us-gov-west-1": "aws-us-gov",
}


@dataclass
class EnvironmentSynth:
    """One variant's stack synthesized with a concrete account and region, as the CLI runs app.py."""

    variant: str
    region: str
    # The environment the cloud assembly asks for: `aws://<account>/<region>`.
    environment: str
    template: dict[str, Any]
    violations: list[tuple[str, str, str]]
    # Context the app asked for and did not have (lookups): what the CLI would go to AWS for.
    missing_context: list[Any]

    @property
    def partition(self) -> str:
        return REGIONS[self.region]


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "bundling: really bundles the Lambda asset with pip (network)")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if here in item.path.parents:
            item.add_marker(pytest.mark.infra)


@dataclass
class Synth:
    stack: HeraldStack
    template: Template
    # cdk-nag findings left after acknowledgments: (severity, rule, construct path).
    violations: list[tuple[str, str, str]] = field(default_factory=list)

    def logical_id(self, construct: Any) -> str:
        """Logical id of an L2 construct's CloudFormation resource (or of an L1 itself)."""
        element = construct if isinstance(construct, cdk.CfnElement) else construct.node.default_child
        return self.stack.resolve(self.stack.get_logical_id(element))  # type: ignore[no-any-return]

    def resource(self, construct: Any) -> dict[str, Any]:
        return self.template.to_json()["Resources"][self.logical_id(construct)]  # type: ignore[no-any-return]

    def function(self, handler: str) -> tuple[str, dict[str, Any]]:
        found = self.template.find_resources("AWS::Lambda::Function", {"Properties": {"Handler": handler}})
        assert len(found) == 1, f"expected one function with handler {handler}, found {list(found)}"
        return next(iter(found.items()))


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return REPO_ROOT


@pytest.fixture(scope="session")
def synthesize() -> Callable[..., Synth]:
    """For one-off configurations: `synthesize({"herald:stage": "prod"})` (not cached)."""
    return synth


@pytest.fixture(scope="session")
def dev() -> Synth:
    return cached_synth(())


@pytest.fixture(scope="session")
def prod() -> Synth:
    return cached_synth(tuple(PROD_OVERRIDES.items()))


@pytest.fixture(scope="session")
def managed() -> Synth:
    return cached_synth(tuple(MANAGED_OVERRIDES.items()))


@pytest.fixture(scope="session")
def provisioned() -> Synth:
    return cached_synth(tuple(PROVISIONED_OVERRIDES.items()))


@cache
def cached_synth(overrides: tuple[tuple[str, Any], ...]) -> Synth:
    return synth(dict(overrides))


def synth(overrides: Mapping[str, Any] | None = None, env: cdk.Environment | None = None) -> Synth:
    """The stack as `cdk synth` builds it (cdk.json context, feature flags, cdk-nag), minus bundling.

    Environment-agnostic unless `env` is given.
    """
    context = {**cdk_json_context(REPO_ROOT / "cdk.json"), **(overrides or {})}
    # No stack is bundled: the asset is the bare `functions/` directory, as CDK documents.
    context["aws:cdk:bundling-stacks"] = []
    outdir = tempfile.mkdtemp(prefix="herald-synth-")
    app = cdk.App(context=context, outdir=outdir)
    stack = HeraldStack(app, "HeraldTest", config=HeraldConfig.from_context(app.node), env=env)
    nag.add_checks(app)
    try:
        app.synth()
    except RuntimeError as exc:
        # Validation failed (an unacknowledged cdk-nag error): the templates are written, and the
        # nag test reports the findings; every other test still gets its template.
        if "ValidationFailed" not in str(exc):
            raise
        template = json.loads((Path(outdir) / stack.template_file).read_text())
        return Synth(stack, Template.from_json(template), read_violations(Path(outdir)))
    return Synth(stack, Template.from_stack(stack), read_violations(Path(outdir)))


def environments() -> dict[tuple[str, str], EnvironmentSynth]:
    """Every variant in every region of REGIONS, each with the account ACCOUNT."""
    synths = {}
    base = cdk_json_context(REPO_ROOT / "cdk.json")
    for region in REGIONS:
        context = {**base, "aws:cdk:bundling-stacks": []}
        outdir = Path(tempfile.mkdtemp(prefix=f"herald-synth-{region}-"))
        app = cdk.App(context=context, outdir=str(outdir))
        stacks = {
            variant: HeraldStack(
                app,
                f"Herald-{variant}",
                config=HeraldConfig.from_mapping({**base, **overrides}),
                env=cdk.Environment(account=ACCOUNT, region=region),
            )
            for variant, overrides in VARIANTS.items()
        }
        nag.add_checks(app)
        try:
            app.synth()
        except RuntimeError as exc:
            # Reported per stack by the tests, like `synth` does.
            if "ValidationFailed" not in str(exc):
                raise
        violations = read_violations(outdir)
        manifest = json.loads((outdir / "manifest.json").read_text())
        for variant, stack in stacks.items():
            synths[(variant, region)] = EnvironmentSynth(
                variant=variant,
                region=region,
                environment=manifest["artifacts"][stack.artifact_id]["environment"],
                template=json.loads((outdir / stack.template_file).read_text()),
                violations=[v for v in violations if v[2].startswith(f"{stack.stack_name}/")],
                missing_context=manifest.get("missing", []),
            )
    return synths


@pytest.fixture(scope="session")
def environment_matrix(tmp_path_factory: pytest.TempPathFactory) -> dict[tuple[str, str], EnvironmentSynth]:
    """`environments()`, synthesized once per test session whichever xdist worker asks first."""
    shared = shared_once(tmp_path_factory, "environments", lambda: _jsonable(environments()))
    return {
        (entry["variant"], entry["region"]): EnvironmentSynth(
            **{**entry, "violations": [tuple(v) for v in entry["violations"]]}
        )
        for entry in shared
    }


def _jsonable(synths: dict[tuple[str, str], EnvironmentSynth]) -> list[dict[str, Any]]:
    return [vars(synth) for synth in synths.values()]


def shared_once(tmp_path_factory: pytest.TempPathFactory, name: str, produce: Callable[[], Any]) -> Any:
    """`produce()` once per test session, its JSON result shared by every xdist worker.

    The tests that need it are in one xdist group (kept on one worker by `--dist loadgroup`), but
    that relies on a pytest internal: should a group ever spread over workers again, the first
    worker (under a file lock) produces and the others read its result, instead of two of them
    writing cdk.out at once or synthesizing the matrix twice.
    """
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if worker is None:
        return json.loads(json.dumps(produce()))
    # The session's base directory, shared by its workers (each has its own subdirectory).
    root = tmp_path_factory.getbasetemp().parent
    result = root / f"{name}.json"
    with open(root / f"{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not result.is_file():
            result.write_text(json.dumps(produce()))
    return json.loads(result.read_text())


def read_violations(outdir: Path) -> list[tuple[str, str, str]]:
    report = outdir / "validation-report.json"
    if not report.exists():
        return []
    found = []
    for plugin in json.loads(report.read_text())["pluginReports"]:
        for violation in plugin["violations"]:
            for construct in violation["violatingConstructs"]:
                found.append((violation["severity"], violation["ruleName"], construct["constructPath"]))
    return found
