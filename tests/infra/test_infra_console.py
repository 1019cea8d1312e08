"""The web console deployed on the API's origin: ConsoleUrl, compression, the asset carries it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk.assertions import Annotations, Match
from conftest import SYNTH_GROUP

from infra import bundling
from infra import console as console_module
from infra import stack as stack_module

pytestmark = pytest.mark.xdist_group(name=SYNTH_GROUP)


def test_console_url_is_the_api_url_with_console(dev: Any) -> None:
    outputs = dev.template.to_json()["Outputs"]
    api = outputs[stack_module.OUTPUT_API_URL]["Value"]["Fn::Join"]
    console = outputs[stack_module.OUTPUT_CONSOLE_URL]["Value"]["Fn::Join"]
    assert console[1][:-1] == api[1][:-1]  # the same stage URL parts…
    assert console[1][-1] == api[1][-1] + "console/"  # …and then console/
    assert "console" in outputs[stack_module.OUTPUT_CONSOLE_URL]["Description"]


@pytest.mark.parametrize("variant", ["dev", "prod"])
def test_the_rest_api_compresses_responses(variant: str, request: pytest.FixtureRequest) -> None:
    synth = request.getfixturevalue(variant)
    synth.template.has_resource_properties(
        "AWS::ApiGateway::RestApi", {"MinimumCompressionSize": console_module.MIN_COMPRESSION_BYTES}
    )


def test_the_console_adds_no_resource_of_its_own(dev: Any) -> None:
    """Served by the api function through the `{proxy+}` integration: no bucket, no distribution."""
    resources = dev.template.to_json()["Resources"].values()
    kinds = {r["Type"] for r in resources}
    assert not kinds & {"AWS::S3::Bucket", "AWS::CloudFront::Distribution"}


def test_the_lambda_asset_carries_the_built_console() -> None:
    source = bundling.FUNCTIONS_DIR / bundling.PACKAGE
    carried = {p.relative_to(source).as_posix() for p in bundling._source_files(source)}
    assert "console_static/index.html" in carried, "run `make console` first (make test does)"
    assert any(name.startswith("console_static/assets/") and name.endswith(".js") for name in carried)


def test_an_unbuilt_console_is_a_synth_warning(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(console_module, "BUILT_INDEX", tmp_path / "missing.html")
    app = cdk.App()
    stack = cdk.Stack(app, "ConsoleOnly")
    api = cdk.aws_apigateway.RestApi(stack, "Api")
    api.root.add_method("GET")
    console_module.Console(stack, "Console", rest_api=api, api_url="https://example.invalid/prod/")
    Annotations.from_stack(stack).has_warning("*", Match.string_like_regexp("not built"))
