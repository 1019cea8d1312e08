"""The OpenAPI document Powertools generates from the routes, in the API's own error vocabulary,
with links from each created resource to what can be done with it; and Swagger UI over it."""

from __future__ import annotations

import copy
import json
from functools import lru_cache
from pathlib import Path
from typing import Any

from aws_lambda_powertools.utilities.data_classes.common import BaseProxyEvent

from herald.api.context import base_path
from herald.api.resolver import HeraldResolver

OPENAPI_PATH, SWAGGER_PATH = "/openapi.json", "/swagger"
API_TITLE = "Herald"
API_VERSION = "1.0.0"
API_DESCRIPTION = (
    "Event notifications for genomics platforms: channels, subscriptions (event code + JsonPath "
    "filter), custom events, failed notifications and API keys with ICA's paths; events with One "
    "Codex's. Send the API key in the `X-API-Key` header. Errors are "
    '`{"error": {"code", "message", "field"?}}`.'
)


@lru_cache(maxsize=1)
def document(app: HeraldResolver, public_paths: frozenset[str]) -> dict[str, Any]:
    """The spec Powertools generates from the routes, in the API's own error vocabulary."""
    # Powertools' OpenAPI models (~50 ms of pydantic classes) serve only this document: imported
    # here, on the first request for it, not on every cold start.
    from aws_lambda_powertools.event_handler.openapi.models import APIKey, APIKeyIn, HTTPBearer

    schema = app.get_openapi_schema(
        title=API_TITLE,
        version=API_VERSION,
        description=API_DESCRIPTION,
        security_schemes={
            "ApiKey": APIKey(name="X-API-Key", in_=APIKeyIn.header),
            "ConsoleSession": HTTPBearer(bearerFormat="hrlds_… (POST /api/consoleSessions)"),
        },
        security=[{"ApiKey": []}, {"ConsoleSession": []}],
    )
    doc: dict[str, Any] = json.loads(schema.model_dump_json(by_alias=True, exclude_none=True))
    error = {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorOut"}}}}
    names = {(r.method.lower(), r.openapi_path): r.func.__name__ for r in app.documented_routes()}
    for path, operations in doc.get("paths", {}).items():
        for method, operation in operations.items():
            operation["operationId"] = names.get((method, path), operation.get("operationId"))
            answers = operation.setdefault("responses", {})
            answers.pop("422", None)  # validation failures are 400 here
            if "204" in answers:
                answers["204"].pop("content", None)
            if path in public_paths:
                operation["security"] = []
                continue
            answers.setdefault("401", {"description": "Missing or invalid API key", **error})
            if operation.get("parameters") or "requestBody" in operation:
                answers.setdefault("400", {"description": "Invalid request", **error})
            if "requestBody" in operation:
                answers.setdefault("413", {"description": "Body over 512 KiB", **error})
    schemas = doc.get("components", {}).get("schemas", {})
    for unused in ("HTTPValidationError", "ValidationError"):
        schemas.pop(unused, None)
    _add_links(doc)
    return doc


# What a created resource leads to (OpenAPI links: clients and schemathesis' stateful tests follow
# them from a create to the operations on the new resource).
_PROJECT = "$request.path.project_id"
_LINKS: dict[str, tuple[dict[str, str], tuple[str, ...]]] = {
    "create_channel": (
        {"channel_id": "$response.body#/id"},
        (
            "get_channel",
            "get_channel_health",
            "patch_channel",
            "put_channel",
            "delete_channel",
            "rotate_secret",
        ),
    ),
    "patch_channel": ({"channel_id": "$response.body#/id"}, ("get_channel", "get_channel_health")),
    "put_channel": ({"channel_id": "$response.body#/id"}, ("get_channel", "get_channel_health")),
    "create_subscription": (
        {"project_id": _PROJECT, "subscription_id": "$response.body#/id"},
        (
            "get_subscription",
            "patch_subscription",
            "enable_subscription",
            "disable_subscription",
            "delete_subscription",
            "list_failed",
            "reprocess_since",
            "notification_counts",
            "send_test_event",
        ),
    ),
    # A listed failed notification: what can be done with it.
    "list_failed": (
        {
            "project_id": _PROJECT,
            "subscription_id": "$request.path.subscription_id",
            "notification_id": "$response.body#/items/0/id",
        },
        ("get_failed", "delete_failed", "reprocess_failed"),
    ),
    "create_custom_subscription": (
        {"project_id": _PROJECT, "subscription_id": "$response.body#/id"},
        ("get_custom_subscription", "get_subscription", "delete_subscription"),
    ),
    "post_event": ({"event_id": "$response.body#/id"}, ("get_event",)),
    "create_key": ({"key_id": "$response.body#/keyId"}, ("revoke_key",)),
    "create_inbound_webhook": (
        {"project_id": _PROJECT, "webhook_id": "$response.body#/id"},
        ("get_inbound_webhook", "delete_inbound_webhook"),
    ),
}


# A created channel can be subscribed to: links that also fill in the target's request body. The
# project is the caller's to choose (one of the channel's projects, or any for an admin key's
# project-less channel), so the link leaves it out rather than naming `projects/0`, which a
# project-less channel does not have.
_BODY_LINKS: dict[str, dict[str, tuple[dict[str, str], dict[str, str]]]] = {
    "create_channel": {
        "create_subscription": ({}, {"eventCode": "*", "notificationChannelId": "$response.body#/id"}),
    },
}


def _add_links(doc: dict[str, Any]) -> None:
    for operations in doc.get("paths", {}).values():
        for operation in operations.values():
            name = operation.get("operationId", "")
            links: dict[str, Any] = {}
            if name in _LINKS:
                parameters, targets = _LINKS[name]
                links.update(
                    {target: {"operationId": target, "parameters": dict(parameters)} for target in targets}
                )
            for target, (parameters, body) in _BODY_LINKS.get(name, {}).items():
                links[target] = {
                    "operationId": target,
                    "parameters": dict(parameters),
                    "requestBody": dict(body),
                }
            if links:
                success = next(code for code in operation["responses"] if code.startswith("2"))
                operation["responses"][success]["links"] = links


def for_request(app: HeraldResolver, public_paths: frozenset[str], event: BaseProxyEvent) -> str:
    """The document as JSON, its server the API's base as this request reached it."""
    doc = copy.copy(document(app, public_paths))
    doc["servers"] = [{"url": base_path(event) or "/"}]
    return json.dumps(doc)


@lru_cache(maxsize=1)
def _swagger_assets() -> tuple[str, str]:
    import aws_lambda_powertools.event_handler.openapi.swagger_ui as ui

    folder = Path(ui.__file__).parent
    return (
        (folder / "swagger-ui-bundle.min.js").read_text(encoding="utf-8"),
        (folder / "swagger-ui.min.css").read_text(encoding="utf-8"),
    )


def swagger_page(spec: str) -> str:
    """Swagger UI over `spec` (the document's JSON), its assets inlined (no CDN)."""
    from aws_lambda_powertools.event_handler.openapi.swagger_ui import generate_swagger_html

    js, css = _swagger_assets()
    return generate_swagger_html(spec.replace("</", "<\\/"), js, css, "", None, persist_authorization=False)
