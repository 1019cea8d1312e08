"""Herald's HTTP API: one Powertools REST resolver, routes in one module per resource.

ICA's paths for configuration (`/api/...`), One Codex's for events (`/v1/events`). Every request
but `/health`, `/openapi.json`, `/swagger` and the One Codex webhook carries `X-API-Key` (or a
console session). Errors, whatever raised them, leave in one shape:
`{"error": {"code", "message", "field"?}}` (the table in `errors`); an unknown path is 404, a known
path with another method 405 (with `Allow`), and anything unexpected a 500 without details (the
log has them).

This module reads top to bottom as a request goes: the resolver; what runs before routing (the
request's bounds, then who is calling); the middleware; the routers; the error table.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types
from aws_lambda_powertools.event_handler.middlewares import NextMiddleware

from herald.api import auth, bounds, console_static, errors, openapi
from herald.api.context import console_store, services, set_caller
from herald.api.errors import ApiError
from herald.api.resolver import HeraldResolver
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
from herald.logic import console_sessions
from herald.names import ONECODEX_WEBHOOK_PATH

logger = Logger(child=True)

# The One Codex webhook authenticates by its HMAC signature: One Codex sends no API key.
PUBLIC_PATHS = frozenset({"/health", openapi.OPENAPI_PATH, openapi.SWAGGER_PATH, ONECODEX_WEBHOOK_PATH})

app = HeraldResolver(enable_validation=True)


# --- before routing: the request's bounds, then who is calling ------------------------------------
# Both run before the resolver: Powertools validates a request before any middleware, and an
# unauthenticated caller must get 401, not a validation error.
def resolve(event: dict[str, Any], context: Any) -> dict[str, Any]:
    try:
        # API Gateway's REST proxy hands over the path still percent-encoded: route on the text.
        path = event.get("path") or "/"
        if "%" in path:
            event["path"] = path = unquote(path)
        try:
            bounds.check_path(path)
            # Every route's body is bounded before anything reads it, unauthenticated routes' too.
            bounds.check_size(event)
            if event.get("body") and (event.get("httpMethod") or "").upper() not in app.allowed_methods(path):
                event["body"] = None  # no route takes it: 404 or 405, without parsing it
            if console_static.is_console_path(path):  # the web console's files: public, static
                return console_static.serve(event)
            _authenticate(event)
            if event.get("body"):
                if path != ONECODEX_WEBHOOK_PATH:  # signed bytes: verified first, parsed by its own rules
                    bounds.check_json(event)
                bounds.treat_body_as_json(event)
        except ApiError as refused:
            return _proxy_response(refused.response())
        return app.resolve(event, context)
    except Exception:  # the resolver's own machinery failed: still one error shape
        logger.exception("API request could not be resolved")
        return _proxy_response(errors.internal_error())


def _authenticate(event: dict[str, Any]) -> None:
    """Who is calling: the key of `X-API-Key`, or of the console session behind the bearer token."""
    set_caller(None)
    path = event.get("path")
    if path in PUBLIC_PATHS:
        return
    presented = _header(event, "X-API-Key")
    key = auth.authenticate(services().api_keys, presented)
    bearer = None if presented else console_sessions.bearer(_header(event, "Authorization"))
    session = None
    if bearer is not None:  # a console session: the access of the key that opened it
        session = console_sessions.authenticate(console_store(), bearer)
        if session is None:
            raise ApiError(401, "unauthorized", "the console session has expired or ended; sign in again")
        key = session.key
    elif key is None and not presented and path == console.SESSIONS_PATH:
        return  # a one-time link's exchange carries no credentials (the route checks the link)
    if key is None:
        message = "missing X-API-Key header" if not presented else "the API key is not valid"
        raise ApiError(401, "unauthorized", message)
    bounds.check_utf8(event)
    set_caller(key, session)


def _header(event: dict[str, Any], name: str) -> str | None:
    wanted = name.lower()
    for key, value in (event.get("headers") or {}).items():
        if key.lower() == wanted and value:
            return str(value)
    for key, values in (event.get("multiValueHeaders") or {}).items():
        if key.lower() == wanted and values:
            return str(values[-1])
    return None


def _proxy_response(response: Response[str]) -> dict[str, Any]:
    """An API Gateway (REST, proxy) answer for a response made outside the resolver."""
    headers = {"Content-Type": content_types.APPLICATION_JSON, **response.headers}
    return {
        "statusCode": response.status_code,
        "multiValueHeaders": {k: [v] for k, v in headers.items()},
        "body": response.body,
        "isBase64Encoded": False,
    }


# --- middleware ------------------------------------------------------------------------------------
def reject_unknown_query_parameters(
    resolver: APIGatewayRestResolver, next_middleware: NextMiddleware
) -> Response[Any]:
    """A query parameter the route does not define is an error (`?projectId=` is not `?project=`)."""
    route = app.matched_route()
    params = resolver.current_event.multi_value_query_string_parameters or {}
    if route is not None and params and route in app.documented_routes():
        known = {param.alias for param in route.dependant.query_params}
        unknown = sorted(set(params) - known)
        if unknown:
            expected = ", ".join(sorted(known)) or "none"
            raise errors.invalid(unknown[0], f"not a query parameter of this route (it takes: {expected})")
    return next_middleware(resolver)


app.use(middlewares=[reject_unknown_query_parameters])


# --- routes ----------------------------------------------------------------------------------------
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


@app.get(openapi.OPENAPI_PATH, include_in_schema=False)
def openapi_json() -> Response[str]:
    return Response(
        200, content_types.APPLICATION_JSON, openapi.for_request(app, PUBLIC_PATHS, app.current_event)
    )


@app.get(openapi.SWAGGER_PATH, include_in_schema=False)
def swagger() -> Response[str]:
    """Swagger UI over the same document (`?format=json` answers the document itself)."""
    spec = openapi.for_request(app, PUBLIC_PATHS, app.current_event)
    params = app.current_event.query_string_parameters or {}
    if params.get("format") == "json":
        return Response(200, content_types.APPLICATION_JSON, spec)
    return Response(200, "text/html", openapi.swagger_page(spec))


# --- errors ----------------------------------------------------------------------------------------
errors.install(app)


@app.not_found
def _not_found(_: Exception) -> Response[str]:
    method, path = app.current_event.http_method, app.current_event.path
    allowed = app.allowed_methods(path)
    if not allowed:
        return errors.no_route(method, path).response()
    return ApiError(
        405,
        "method_not_allowed",
        f"{method} is not allowed on {path}; allowed: {', '.join(allowed)}",
        headers={"Allow": ", ".join(allowed)},
    ).response()
