"""app.py: one stack per stage, named after it, nag attached, prod protected from deletion."""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
import pytest
from conftest import REPO_ROOT, SYNTH_GROUP

import app as herald_app
from infra.config import cdk_json_context

pytestmark = pytest.mark.xdist_group(name=SYNTH_GROUP)


def _app(**context: Any) -> cdk.App:
    return cdk.App(
        context={**cdk_json_context(REPO_ROOT / "cdk.json"), "aws:cdk:bundling-stacks": [], **context}
    )


@pytest.mark.parametrize(("stage", "protected"), [("dev", False), ("prod", True), ("qa", False)])
def test_one_stack_per_stage(stage: str, protected: bool) -> None:
    app = _app(**{"herald:stage": stage})
    stack = herald_app.build(app)
    assert stack.stack_name == f"Herald-{stage}"
    assert stack.termination_protection is protected
    assert [c.node.id for c in app.node.children if isinstance(c, cdk.Stack)] == [f"Herald-{stage}"]


def test_resources_are_tagged_with_service_and_stage(dev: Any) -> None:
    # With @aws-cdk/core:explicitStackTags, Tags.of(stack) tags the resources, not the stack.
    for construct in (dev.stack.storage.table, dev.stack.ingest.queue, dev.stack.functions.api):
        tags = {t["Key"]: t["Value"] for t in dev.resource(construct)["Properties"]["Tags"]}
        assert {"service": "herald", "stage": "dev"}.items() <= tags.items(), construct.node.path


def test_bad_context_stops_before_any_resource_is_built() -> None:
    app = _app(**{"herald:retentionDays": "thirty"})
    with pytest.raises(ValueError, match="herald:retentionDays"):
        herald_app.build(app)
    assert not app.node.children


def test_the_environment_the_cli_resolves_is_the_stacks(monkeypatch: pytest.MonkeyPatch) -> None:
    """The CLI passes the account and region of the user's credentials as CDK_DEFAULT_*."""
    monkeypatch.setenv("CDK_DEFAULT_ACCOUNT", "111122223333")
    monkeypatch.setenv("CDK_DEFAULT_REGION", "ap-southeast-2")
    stack = herald_app.build(_app())
    assert (stack.account, stack.region) == ("111122223333", "ap-southeast-2")


def test_without_an_environment_the_stack_is_environment_agnostic(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CDK_DEFAULT_ACCOUNT", raising=False)
    monkeypatch.delenv("CDK_DEFAULT_REGION", raising=False)
    stack = herald_app.build(_app())
    assert cdk.Token.is_unresolved(stack.account) and cdk.Token.is_unresolved(stack.region)
