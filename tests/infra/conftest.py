"""Synthesis helpers for the infra tests: few synths (jsii is slow), bundling skipped by default.

Test modules here have `infra` in their names and this folder has no __init__.py: a package named
`tests/infra` would shadow the real `infra` package, and bare names would clash with tests/unit.
"""

from __future__ import annotations

import os

# Before aws_cdk starts its Node process: quiet Node 20 support nags (jsii reads both).
os.environ.setdefault("JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION", "1")
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk.assertions import Template

from infra.config import HeraldConfig, cdk_json_context
from infra.stack import HeraldStack

REPO_ROOT = Path(__file__).resolve().parents[2]


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

    def logical_id(self, construct: Any) -> str:
        """Logical id of an L2 construct's CloudFormation resource."""
        return self.stack.get_logical_id(construct.node.default_child)

    def function(self, handler: str) -> tuple[str, dict[str, Any]]:
        found = self.template.find_resources("AWS::Lambda::Function", {"Properties": {"Handler": handler}})
        assert len(found) == 1, f"expected one function with handler {handler}, found {list(found)}"
        return next(iter(found.items()))


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return REPO_ROOT


@pytest.fixture(scope="session")
def synthesize() -> Callable[..., Synth]:
    """For module-scoped fixtures: `synthesize({"herald:stage": "prod"})`."""
    return synth


def synth(overrides: Mapping[str, Any] | None = None) -> Synth:
    """The stack as `cdk synth` builds it (cdk.json context and feature flags), minus bundling."""
    context = {**cdk_json_context(REPO_ROOT / "cdk.json"), **(overrides or {})}
    # No stack is bundled: the asset is the bare `functions/` directory, as CDK documents.
    context["aws:cdk:bundling-stacks"] = []
    app = cdk.App(context=context)
    stack = HeraldStack(app, "HeraldTest", config=HeraldConfig.from_context(app.node))
    return Synth(stack=stack, template=Template.from_stack(stack))
