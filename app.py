#!/usr/bin/env python3
"""CDK entry point: `npx aws-cdk synth` (via cdk.json) or `python app.py` from the repo root.

Synthesis runs cdk-nag's AwsSolutions rules (infra/nag.py): an unacknowledged error fails it.
"""

from __future__ import annotations

import os
from pathlib import Path

import aws_cdk as cdk

from infra import nag
from infra.config import HeraldConfig, cdk_json_context
from infra.stack import HeraldStack

ROOT = Path(__file__).resolve().parent


def main() -> cdk.App:
    # Run by the CLI, the context (cdk.json and -c) arrives through the environment and overrides
    # what is passed here; run directly, cdk.json's context is all there is, and we pick an outdir.
    app = cdk.App(
        context=cdk_json_context(ROOT / "cdk.json"),
        outdir=None if os.environ.get("CDK_OUTDIR") else str(ROOT / "cdk.out"),
    )
    build(app)
    app.synth()
    return app


def build(app: cdk.App) -> HeraldStack:
    """The deployment the app's context describes: Herald's stack, checked by cdk-nag."""
    config = HeraldConfig.from_context(app.node)
    stack = HeraldStack(
        app,
        stack_name(config),
        config=config,
        description=f"Herald event notifications ({config.stage})",
        # Environment-agnostic unless the CLI resolved an account/region from the profile.
        env=cdk.Environment(
            account=os.environ.get("CDK_DEFAULT_ACCOUNT"), region=os.environ.get("CDK_DEFAULT_REGION")
        ),
        # Deleting a prod stack by accident would orphan retained data behind a failed rollback.
        termination_protection=config.is_prod,
    )
    nag.add_checks(app)
    return stack


def stack_name(config: HeraldConfig) -> str:
    return f"Herald-{config.stage}"


if __name__ == "__main__":
    main()
