"""The environment no test or benchmark may leave: fake AWS credentials, moto's region, quiet Powertools."""

from __future__ import annotations

import os
from pathlib import Path

FUNCTIONS_DIR = Path(__file__).resolve().parents[2] / "functions"


def use_fake_aws(log_level: str = "WARNING") -> None:
    """Before anything imports boto3: fake credentials and a region, and no endpoint leaking in."""
    os.environ.update(
        {
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_SESSION_TOKEN": "testing",
            "AWS_DEFAULT_REGION": "us-east-1",
            "POWERTOOLS_METRICS_DISABLED": "true",
            "POWERTOOLS_LOG_LEVEL": log_level,
            "POWERTOOLS_SERVICE_NAME": "herald",
            # Handlers run as in Lambda (Powertools keeps the async batch's event loop between calls).
            "LAMBDA_TASK_ROOT": str(FUNCTIONS_DIR),
        }
    )
    os.environ.pop("AWS_ENDPOINT_URL", None)
    os.environ.pop("AWS_PROFILE", None)
