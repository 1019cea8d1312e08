"""Herald's HTTP API: one Powertools REST resolver, routes in one module per resource.

ICA's paths for configuration (`/api/...`), One Codex's for events (`/v1/events`). Every request
but `/health`, `/openapi.json` and `/swagger` carries `X-API-Key`. Errors, whatever raised them,
leave in one shape: `{"error": {"code", "message", "field"?}}`; an unknown path is 404, a known
path with another method 405 (with `Allow`), and anything unexpected a 500 without details (the
log has them).
"""

from __future__ import annotations

import base64
import copy
import json
import re
from functools import lru_cache
from pathlib import Path as FilePath
from typing import Any
from urllib.parse import unquote

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types
from aws_lambda_powertools.event_handler.exceptions import ServiceError
from aws_lambda_powertools.event_handler.middlewares import NextMiddleware
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError
from botocore.exceptions import BotoCoreError, ClientError

from herald.api import auth, console_static
from herald.api.common import services, set_principal
from herald.api.errors import ApiError, describe_validation, error_response
from herald.api.routes import (
    apikeys,
    catalog,
    channels,
    console,
    custom,
    events,
    failed,
    inbound,
    subscriptions,
)
from herald.api.schemas import HealthOut
from herald.domain import jsontext, limits
from herald.logic import accept, console_sessions

logger = Logger(child=True)

MAX_BODY_BYTES = limits.MAX_BODY_BYTES  # on every route, public ones included (see `resolve`)
OPENAPI_PATH, SWAGGER_PATH = "/openapi.json", "/swagger"
# The One Codex webhook authenticates by its HMAC signature: One Codex sends no API key.
PUBLIC_PATHS = {"/health", OPENAPI_PATH, SWAGGER_PATH, catalog.WEBHOOK_PATH}
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
API_TITLE = "Herald"
API_VERSION = "1.0.0"
API_DESCRIPTION = (
    "Event notifications for genomics platforms: channels, subscriptions (event code + JsonPath "
    "filter), custom events, failed notifications and API keys with ICA's paths; events with One "
    "Codex's. Send the API key in the `X-API-Key` header. Errors are "
    '`{"error": {"code", "message", "field"?}}`.'
)

app = APIGatewayRestResolver(enable_validation=True)


# --- authentication and errors -----------------------------------------------------------------
# Authentication runs before the resolver (see `resolve`): Powertools validates a request before
# any middleware, and an unauthenticated caller must get 401, not a validation error.
def _gate(event: dict[str, Any]) -> Response | None:
    """Check a request before routing: the API key, then the body's encoding. None: go on."""
    set_principal(None)
    console.set_session(None)
    if event.get("path") in PUBLIC_PATHS:
        return None
    body = event.get("body") or ""
    presented = _header(event, "X-API-Key")
    key = auth.authenticate(services().api_keys, presented)
    bearer = None if presented else console_sessions.bearer(_header(event, "Authorization"))
    if bearer is not None:  # a console session: the access of the key that opened it
        session = console_sessions.authenticate(console.console_store(), bearer)
        if session is None:
            return error_response(
                401, "unauthorized", "the console session has expired or ended; sign in again"
            )
        key = session.key
        console.set_session(session)
    elif key is None and not presented and event.get("path") == console.SESSIONS_PATH:
        return None  # a one-time link's exchange carries no credentials (the route checks the link)
    if key is None:
        message = "missing X-API-Key header" if not presented else "the API key is not valid"
        return error_response(401, "unauthorized", message)
    if body and event.get("isBase64Encoded") and not _utf8(body):
        return error_response(400, "invalid_request", "the request body is not valid JSON (not UTF-8 text)")
    set_principal(key)
    return None


def _header(event: dict[str, Any], name: str) -> str | None:
    wanted = name.lower()
    for key, value in (event.get("headers") or {}).items():
        if key.lower() == wanted and value:
            return str(value)
    for key, values in (event.get("multiValueHeaders") or {}).items():
        if key.lower() == wanted and values:
            return str(values[-1])
    return None


def _body_bytes(event: dict[str, Any]) -> int:
    """The body's size in bytes, without decoding it (base64: from its length)."""
    body = event.get("body") or ""
    if isinstance(body, bytes | bytearray):
        return len(body)
    if event.get("isBase64Encoded"):
        return len(body) * 3 // 4 - body[-2:].count("=")
    return len(body) if body.isascii() else len(body.encode("utf-8", "surrogatepass"))


def _utf8(encoded: str | bytes) -> bool:
    try:
        base64.b64decode(encoded).decode("utf-8")
    except (ValueError, UnicodeDecodeError):
        return False
    return True


def reject_unknown_query_parameters(app: APIGatewayRestResolver, next_middleware: NextMiddleware) -> Response:
    """A query parameter the route does not define is an error (`?projectId=` is not `?project=`)."""
    route = app.context.get("_route")
    params = app.current_event.multi_value_query_string_parameters or {}
    if route is not None and route.include_in_schema and params and route in _documented_routes():
        known = {param.alias for param in route.dependant.query_params}
        unknown = sorted(set(params) - known)
        if unknown:
            expected = ", ".join(sorted(known)) or "none"
            return error_response(
                400,
                "invalid_request",
                f"{unknown[0]}: not a query parameter of this route (it takes: {expected})",
                unknown[0],
            )
    return next_middleware(app)


@lru_cache(maxsize=1)
def _documented_routes() -> frozenset[Any]:
    return frozenset(r for r in app._static_routes + app._dynamic_routes if r.include_in_schema)


app.use(middlewares=[reject_unknown_query_parameters])


@app.exception_handler(ApiError)
def _api_error(exc: ApiError) -> Response:
    return error_response(exc.status, exc.code, exc.message, exc.field, exc.headers or None)


def _retry_later(message: str) -> Response:
    """503 with Retry-After: the request was not carried out, and trying again shortly is the remedy."""
    return error_response(503, "unavailable", message, headers={"Retry-After": "1"})


@app.exception_handler(accept.IngestUnavailableError)
def _unavailable(exc: accept.IngestUnavailableError) -> Response:
    return _retry_later(str(exc))


# AWS refusing for now (throttled, or unreachable after boto3's own retries): the request was not
# carried out, and trying again later is the remedy — 503 with Retry-After, never a 500.
_TRANSIENT_AWS_CODES = frozenset(
    {
        "ProvisionedThroughputExceededException",
        "ThrottlingException",
        "RequestLimitExceeded",
        "Throttling",
        "ServiceUnavailable",
        "InternalServerError",
        "TransactionConflictException",
    }
)


@app.exception_handler(ClientError)
def _aws_error(exc: ClientError) -> Response:
    code = exc.response.get("Error", {}).get("Code", "")
    if code not in _TRANSIENT_AWS_CODES:
        return _unexpected(exc)
    logger.warning("AWS refused a request for now", error_code=code, path=app.current_event.path)
    return _retry_later("Herald's storage is busy; retry shortly (idempotent with the same id)")


@app.exception_handler(BotoCoreError)
def _aws_unreachable(exc: BotoCoreError) -> Response:
    logger.warning("AWS unreachable", error=type(exc).__name__, path=app.current_event.path)
    return _retry_later("Herald's storage is unreachable; retry shortly")


@app.exception_handler(RequestValidationError)
def _validation_error(exc: RequestValidationError) -> Response:
    message, field = describe_validation(list(exc.errors()))
    return error_response(400, "invalid_request", message, field)


@app.exception_handler(ServiceError)
def _service_error(exc: ServiceError) -> Response:
    return error_response(exc.status_code, "error", exc.msg)


@app.exception_handler(Exception)
def _unexpected(exc: Exception) -> Response:
    # The one place that sees what nobody handled: logged in full, answered without details.
    logger.exception("unhandled error in the API", path=app.current_event.path)
    return _internal_error()


def _internal_error() -> Response:
    return error_response(500, "internal_error", "an unexpected error occurred; it has been logged")


def allowed_methods(path: str) -> list[str]:
    """Methods some route serves for this path (empty: the path is unknown)."""
    routes = app._static_routes + app._dynamic_routes
    return sorted({route.method for route in routes if route.rule.match(path)})


@app.not_found
def _not_found(_: Exception) -> Response:
    method, path = app.current_event.http_method, app.current_event.path
    allowed = allowed_methods(path)
    if allowed:
        return error_response(
            405,
            "method_not_allowed",
            f"{method} is not allowed on {path}; allowed: {', '.join(allowed)}",
            headers={"Allow": ", ".join(allowed)},
        )
    return error_response(404, "not_found", f"no route for {method} {path}")


# --- routes -------------------------------------------------------------------------------------
@app.get("/health", summary="Liveness (no key needed)", tags=["Service"])
def health() -> HealthOut:
    return HealthOut(status="ok")


for _router in (
    channels.router,
    subscriptions.router,
    console.router,
    failed.router,
    custom.router,
    events.router,
    apikeys.router,
    catalog.router,
    inbound.router,
):
    app.include_router(_router)

# `:` separates a resource from an action (`/{id}:rotateSecret`, Google's custom methods), so an
# id never contains one: `PUT …/{id}:rotateSecret` must find no route (405), not a PUT of the
# resource "{id}:rotateSecret". Project ids may contain `:` and are never the last segment.
# (Powertools' own segment pattern, with and without the colon.)
_SEGMENT = r"[-._~()'!*@,;=+&$%<> \[\]{}|^\w]+"
_PROJECT_SEGMENT = r"[-._~()'!*:@,;=+&$%<> \[\]{}|^\w]+"


def _strict_rule(path: str) -> re.Pattern[str]:
    def group(match: re.Match[str]) -> str:
        name = match.group(1)
        return f"(?P<{name}>{_PROJECT_SEGMENT if name == 'project_id' else _SEGMENT})"

    return re.compile("^" + re.sub(r"<(\w+)>", group, path) + r"\Z")


for _route in app._dynamic_routes:
    _route.rule = _strict_rule(_route.path)


# --- the OpenAPI document and Swagger UI --------------------------------------------------------
@lru_cache(maxsize=1)
def openapi_document() -> dict[str, Any]:
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
    names = {(r.method.lower(), r.openapi_path): r.func.__name__ for r in _documented_routes()}
    for path, operations in doc.get("paths", {}).items():
        for method, operation in operations.items():
            operation["operationId"] = names.get((method, path), operation.get("operationId"))
            answers = operation.setdefault("responses", {})
            answers.pop("422", None)  # validation failures are 400 here
            if "204" in answers:
                answers["204"].pop("content", None)
            if path in PUBLIC_PATHS:
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
        ),
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


# A created channel can be subscribed to by one of its projects: links that also fill in the
# target's request body.
_BODY_LINKS: dict[str, dict[str, tuple[dict[str, str], dict[str, str]]]] = {
    "create_channel": {
        "create_subscription": (
            {"project_id": "$response.body#/projects/0"},
            {"eventCode": "*", "notificationChannelId": "$response.body#/id"},
        ),
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


def _base_path() -> str:
    """The stage prefix of a REST API's default endpoint (none behind a custom domain or locally)."""
    context = app.current_event.request_context
    stage = context.stage
    if stage and stage != "$default" and (context.path or "").startswith(f"/{stage}"):
        return f"/{stage}"
    return ""


def _document_for_request() -> dict[str, Any]:
    doc = copy.copy(openapi_document())
    doc["servers"] = [{"url": _base_path() or "/"}]
    return doc


@app.get(OPENAPI_PATH, include_in_schema=False)
def openapi_json() -> Response[str]:
    return Response(200, content_types.APPLICATION_JSON, json.dumps(_document_for_request()))


@lru_cache(maxsize=1)
def _swagger_assets() -> tuple[str, str]:
    import aws_lambda_powertools.event_handler.openapi.swagger_ui as ui

    folder = FilePath(ui.__file__).parent
    return (
        (folder / "swagger-ui-bundle.min.js").read_text(encoding="utf-8"),
        (folder / "swagger-ui.min.css").read_text(encoding="utf-8"),
    )


@app.get(SWAGGER_PATH, include_in_schema=False)
def swagger() -> Response[str]:
    """Swagger UI over the same document (`?format=json` answers the document itself)."""
    spec = json.dumps(_document_for_request())
    params = app.current_event.query_string_parameters or {}
    if params.get("format") == "json":
        return Response(200, content_types.APPLICATION_JSON, spec)
    from aws_lambda_powertools.event_handler.openapi.swagger_ui import generate_swagger_html

    js, css = _swagger_assets()
    html = generate_swagger_html(spec.replace("</", "<\\/"), js, css, "", None, persist_authorization=False)
    return Response(200, "text/html", html)


# --- entry point --------------------------------------------------------------------------------
def resolve(event: dict[str, Any], context: Any) -> dict[str, Any]:
    try:
        # API Gateway's REST proxy hands over the path still percent-encoded: route on the text.
        path = event.get("path") or "/"
        if "%" in path:
            event["path"] = path = unquote(path)
        if _CONTROL.search(path):  # no route has one; and `$` would match before a final newline
            return _proxy_response(error_response(404, "not_found", "no route for this path"))
        # Every route's body is bounded before anything reads it, unauthenticated routes' too.
        if _body_bytes(event) > MAX_BODY_BYTES:
            return _proxy_response(error_response(413, "payload_too_large", limits.BODY_TOO_LARGE))
        if event.get("body") and (event.get("httpMethod") or "").upper() not in allowed_methods(path):
            event["body"] = None  # no route takes it: 404 or 405, without parsing it
        if console_static.is_console_path(path):  # the web console's files: public, static
            return console_static.serve(event)
        refused = _gate(event)
        if refused is not None:
            return _proxy_response(refused)
        if event.get("body"):
            refused = _strict_json(event)
            if refused is not None:
                return _proxy_response(refused)
            _treat_body_as_json(event)
        return app.resolve(event, context)
    except Exception:  # the resolver's own machinery failed: still one error shape
        logger.exception("API request could not be resolved")
        return _proxy_response(_internal_error())


def _proxy_response(response: Response) -> dict[str, Any]:
    """An API Gateway (REST, proxy) answer for a response made outside the resolver."""
    headers = {"Content-Type": content_types.APPLICATION_JSON, **response.headers}
    return {
        "statusCode": response.status_code,
        "multiValueHeaders": {k: [v] for k, v in headers.items()},
        "body": response.body,
        "isBase64Encoded": False,
    }


def _strict_json(event: dict[str, Any]) -> Response | None:
    """Refuse a body no receiver could parse (NaN, Infinity, lone surrogates…) before routing."""
    if event.get("path") == catalog.WEBHOOK_PATH:
        return None  # signed bytes: verified first, parsed by the webhook's own rules
    body = event["body"]
    try:
        jsontext.loads(base64.b64decode(body) if event.get("isBase64Encoded") else body)
    except jsontext.JsonTooComplex as exc:  # RFC 8259 lets a parser bound depth and size
        return error_response(
            400, "invalid_request", f"the request body is not valid JSON as Herald takes it: {exc}"
        )
    except jsontext.NotJson as exc:
        return error_response(400, "invalid_request", f"the request body is not valid JSON: {exc}")
    return None


def _treat_body_as_json(raw_event: dict[str, Any]) -> None:
    """Herald speaks only JSON: parse every body as JSON, whatever Content-Type says.

    ICA's clients send `application/vnd.illumina.v3+json` and curl defaults to form encoding;
    both would otherwise be refused before reaching the JSON parser, which names real problems.
    """
    headers = {k: v for k, v in (raw_event.get("headers") or {}).items() if k.lower() != "content-type"}
    headers["Content-Type"] = "application/json"
    raw_event["headers"] = headers
    multi = raw_event.get("multiValueHeaders")
    if multi:
        multi = {k: v for k, v in multi.items() if k.lower() != "content-type"}
        multi["Content-Type"] = ["application/json"]
        raw_event["multiValueHeaders"] = multi
