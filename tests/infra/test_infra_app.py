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
