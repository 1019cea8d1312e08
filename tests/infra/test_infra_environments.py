"""The template a real deploy gets: a concrete account and region, as the CDK CLI gives them.

The CLI resolves an account and region from the user's credentials and hands them to app.py
(CDK_DEFAULT_ACCOUNT / CDK_DEFAULT_REGION), so the stack is never environment-agnostic in a real
deploy: ARNs CDK can render literally come out as `arn:aws:...` (`arn:aws-cn:...` in China), the
bootstrap bucket is named, lookups would go to AWS. Each variant (every stage and documented option)
is synthesized in every region of conftest.REGIONS, and checked here for what differs from the
agnostic template the other modules test: cdk-nag, cfn-lint with that region's specification,
partitions in ARNs, service principals, `kms:ViaService`, lookups, conditions and the code asset.
"""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from conftest import ACCOUNT, REGIONS, REPO_ROOT, SYNTH_GROUP, VARIANTS, EnvironmentSynth, synth
from infra_helpers import condition_values, service_principals, stale_acknowledgments

# With the agnostic synths (two tests compare with them), on one worker.
pytestmark = pytest.mark.xdist_group(name=SYNTH_GROUP)

MATRIX = [(variant, region) for variant in VARIANTS for region in REGIONS]
REFERENCE_REGION = "eu-west-1"
# What Herald's stack lets AWS services do. CDK renders every service principal in the global form
# `<service>.amazonaws.com` in all partitions (region_info: "Service principals are now globally
# <SERVICE>.amazonaws.com"); a new one must be checked for its partition forms before it joins.
SERVICE_PRINCIPALS = {
    f"{service}.amazonaws.com" for service in ("lambda", "sns", "events", "apigateway", "cloudwatch")
}
# API Gateway names a deployment after a hash of the API's configuration, which holds the region.
_DEPLOYMENT_ID = re.compile(r"ApiRestApiDeployment[0-9A-F]{8}[0-9a-f]{32}")


Matrix = dict[tuple[str, str], EnvironmentSynth]


def _ids(params: list[tuple[str, str]]) -> list[str]:
    return [f"{variant}-{region}" for variant, region in params]


@pytest.mark.parametrize(("variant", "region"), MATRIX, ids=_ids(MATRIX))
def test_synthesis_with_a_concrete_environment_leaves_no_finding(
    variant: str, region: str, environment_matrix: Matrix
) -> None:
    synth = environment_matrix[(variant, region)]
    assert synth.environment == f"aws://{ACCOUNT}/{region}"
    assert synth.violations == [], "\n".join(map(str, synth.violations))


@pytest.mark.parametrize(("variant", "region"), MATRIX, ids=_ids(MATRIX))
def test_every_acknowledgment_names_a_finding_of_this_template(
    variant: str, region: str, environment_matrix: Matrix
) -> None:
    template = environment_matrix[(variant, region)].template
    assert stale_acknowledgments(template) == []
    # The wildcards on users' targets are acknowledged in the template's own spelling.
    partition = REGIONS[region]
    acknowledged = json.dumps(template)
    assert f"AwsSolutions-IAM5[Resource::arn:{partition}:sqs:*:*:*]" in acknowledged
    assert f"AwsSolutions-IAM5[Resource::arn:{partition}:ses:{region}:{ACCOUNT}:identity/*]" in acknowledged


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_a_region_without_an_account_synthesizes_too(variant: str) -> None:
    """What the CLI gives an app when it finds no credentials (`make synth` on a laptop): a region
    (the profile's, else us-east-1) and no account."""
    region_only = synth(VARIANTS[variant], env=cdk.Environment(region="us-east-1"))
    assert region_only.violations == []
    assert stale_acknowledgments(region_only.template.to_json()) == []


@pytest.mark.parametrize(("variant", "region"), MATRIX, ids=_ids(MATRIX))
def test_literal_arns_are_in_the_regions_partition(
    variant: str, region: str, environment_matrix: Matrix
) -> None:
    text = json.dumps(environment_matrix[(variant, region)].template)
    assert set(re.findall(r"\barn:(aws[a-z-]*):", text)) == {REGIONS[region]}


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_agnostic_templates_hold_no_literal_partition(variant: str, request: pytest.FixtureRequest) -> None:
    """Without an environment every ARN takes its partition from `AWS::Partition`."""
    text = json.dumps(request.getfixturevalue(variant).template.to_json())
    assert re.findall(r"\barn:(aws[a-z-]*):", text) == []
    assert '"arn:"' in text  # ARNs are there, joined with {"Ref": "AWS::Partition"}


@pytest.mark.parametrize(("variant", "region"), MATRIX, ids=_ids(MATRIX))
def test_service_principals_are_the_global_forms(
    variant: str, region: str, environment_matrix: Matrix
) -> None:
    principals = service_principals(environment_matrix[(variant, region)].template)
    assert principals <= SERVICE_PRINCIPALS, principals - SERVICE_PRINCIPALS
    assert {"lambda.amazonaws.com", "sns.amazonaws.com", "apigateway.amazonaws.com"} <= principals


@pytest.mark.parametrize(("variant", "region"), MATRIX, ids=_ids(MATRIX))
def test_kms_via_service_names_this_region_or_any(
    variant: str, region: str, environment_matrix: Matrix
) -> None:
    """A hard-coded region in `kms:ViaService` would silently refuse every producer elsewhere."""
    values = condition_values(environment_matrix[(variant, region)].template, "kms:ViaService")
    assert values, "the deliver role's target-key statement always has one"
    for value in values:
        assert re.fullmatch(rf"[a-z]+\.({re.escape(region)}|<AWS::Region>|\*)\.amazonaws\.com", value), value


@pytest.mark.parametrize(
    ("variant", "region"),
    [(v, r) for v, r in MATRIX if r != REFERENCE_REGION],
    ids=_ids([(v, r) for v, r in MATRIX if r != REFERENCE_REGION]),
)
def test_templates_differ_between_regions_only_in_names(
    variant: str, region: str, environment_matrix: Matrix
) -> None:
    """Nothing is decided by region: no region facts, no per-region branches, no other resources.

    Once the region's name and partition are written the same, the template is the reference
    region's, but for API Gateway's deployment id (a hash over a configuration holding the region).
    """

    def normalized(synth: EnvironmentSynth) -> dict[str, Any]:
        text = json.dumps(synth.template)
        text = text.replace(synth.region, "<region>").replace(f"arn:{synth.partition}:", "arn:<partition>:")
        return json.loads(_DEPLOYMENT_ID.sub("ApiRestApiDeployment<hash>", text))  # type: ignore[no-any-return]

    assert normalized(environment_matrix[(variant, region)]) == normalized(
        environment_matrix[(variant, REFERENCE_REGION)]
    )


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_nothing_is_looked_up_or_left_to_a_region_condition(
    variant: str, request: pytest.FixtureRequest, environment_matrix: Matrix
) -> None:
    """Lookups (`from_lookup`, context providers) need credentials and break `cdk synth` offline;
    conditions and mappings on the region would make the agnostic template a different deploy."""
    agnostic = request.getfixturevalue(variant).template.to_json()
    for region in REGIONS:
        synth = environment_matrix[(variant, region)]
        assert synth.missing_context == [], f"{region}: the app asked for context it would look up"
        for template in (agnostic, synth.template):
            text = json.dumps(template)
            assert "Conditions" not in template and "Mappings" not in template
            assert "Fn::If" not in text and "Fn::FindInMap" not in text


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_one_code_asset_for_every_region_from_its_bootstrap_bucket(
    variant: str, environment_matrix: Matrix
) -> None:
    keys = set()
    for region in REGIONS:
        functions = [
            r
            for r in environment_matrix[(variant, region)].template["Resources"].values()
            if r["Type"] == "AWS::Lambda::Function"
        ]
        assert functions
        for function in functions:
            code = function["Properties"]["Code"]
            # The default synthesizer's asset bucket, created by `cdk bootstrap` in this account/region.
            assert code["S3Bucket"] == f"cdk-hnb659fds-assets-{ACCOUNT}-{region}"
            keys.add(code["S3Key"])
    assert len(keys) == 1, "the bundle must not depend on the region"


@pytest.mark.parametrize("variant", list(VARIANTS))
@pytest.mark.parametrize("partition", sorted(set(REGIONS.values())))
def test_template_passes_cfn_lint_for_the_partitions_regions(
    variant: str, partition: str, environment_matrix: Matrix
) -> None:
    """cfn-lint with each region's own resource specification (what exists there, and how)."""
    from cfnlint import api as cfnlint_api

    regions = [region for region, p in REGIONS.items() if p == partition]
    # The templates of one partition's regions differ only in names (tested above): lint one of
    # them against every region's specification.
    template = environment_matrix[(variant, regions[0])].template
    config = cfnlint_api.ManualArgs(regions=regions, ignore_checks=["W3005"])
    matches = cfnlint_api.lint(json.dumps(template), config=config)
    assert not matches, "\n".join(str(m) for m in matches)


# --- hand-built ARNs in the source ----------------------------------------------------------------


def _arn_literals(path: Path) -> list[tuple[int, str]]:
    """Strings in code (not docstrings) that start an ARN, with what follows `arn:`."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef)
        and node.body
        and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
    }
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.JoinedStr):
            for index, part in enumerate(node.values):
                if isinstance(part, ast.Constant) and str(part.value).endswith("arn:"):
                    following = node.values[index + 1] if index + 1 < len(node.values) else None
                    rest = ast.unparse(following) if following is not None else ""
                    found.append((node.lineno, rest))
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings:
            for match in re.finditer(r"\barn:([^:\s]*):", node.value):
                found.append((node.lineno, match.group(1)))
    return found


def test_arns_built_by_hand_take_the_partition_from_the_stack() -> None:
    sources = [*sorted((REPO_ROOT / "infra").glob("*.py")), REPO_ROOT / "app.py"]
    offenders = []
    for path in sources:
        for line, partition in _arn_literals(path):
            if "PARTITION" not in partition and "partition" not in partition:
                offenders.append(f"{path.relative_to(REPO_ROOT)}:{line}: arn:{partition}:")
    assert offenders == [], "use Aws.PARTITION or Stack.of(...).partition (or format_arn):\n" + "\n".join(
        offenders
    )


def test_the_source_scan_finds_a_hard_coded_partition(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text(
        '"""Docs may say arn:aws:sqs:..."""\n'
        'a = "arn:aws:sqs:*:*:*"\n'
        'b = f"arn:aws:ses:{region}:{account}:identity/*"\n'
        'c = f"arn:{Aws.PARTITION}:cloudwatch:{Aws.REGION}"\n'
    )
    assert sorted(_arn_literals(sample)) == [(2, "aws"), (3, "aws"), (4, "{Aws.PARTITION}")]
