"""boto3 clients, created once per process and reused (connection pools survive invocations).

Endpoints come from the standard AWS configuration: in Lambda the real services; under
`herald dev` the environment points `AWS_ENDPOINT_URL` at the local moto server.
"""

from __future__ import annotations

from functools import cache
from typing import Any

import boto3
from botocore.config import Config

# Adaptive retries ride out throttling; generous pools serve the concurrent deliver batch.
_CONFIG = Config(retries={"max_attempts": 5, "mode": "adaptive"}, max_pool_connections=50)


@cache
def client(service: str, region: str | None = None) -> Any:
    # boto3's stubs type a client by its service's literal name; callers here name the service.
    session: Any = boto3.session.Session()
    return session.client(service, region_name=region, config=_CONFIG)


def reset_clients() -> None:
    client.cache_clear()
