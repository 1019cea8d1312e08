"""API function: API Gateway (REST, proxy) → Herald's HTTP API."""

from __future__ import annotations

from typing import Any

from herald.handlers.coldstart import frozen_imports

with frozen_imports():  # the cold start's imports, without garbage collections (see coldstart)
    from aws_lambda_powertools.logging import correlation_paths

    from herald.api.app import resolve
    from herald.handlers.observability import logger


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return resolve(event, context)
