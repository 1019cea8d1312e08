"""Routes of Herald's HTTP API (ICA's paths for configuration, One Codex's for events)."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types
from aws_lambda_powertools.event_handler.middlewares import NextMiddleware
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError
from aws_lambda_powertools.event_handler.openapi.params import Body, Path, Query

from herald import clock, ingest, signing
from herald.api import auth
from herald.api.errors import ApiError, describe_validation, error_response, not_found
from herald.api.schemas import PROJECT_ID_PATTERN, ChannelIn, EventIn, SubscriptionIn
from herald.filters import FilterSyntaxError, compile_filter
from herald.models import ApiKey, Channel, Event, Notification, Subscription
from herald.services import Services, get_services
from herald.store import InvalidCursorError, decode_cursor, encode_cursor

# API Gateway accepts up to 10 MB; Herald's events are far smaller (payload limit 256 KiB).
MAX_BODY_BYTES = 512 * 1024
PUBLIC_PATHS = {"/health"}

app = APIGatewayRestResolver(enable_validation=True)
ProjectId = Annotated[str, Path(pattern=PROJECT_ID_PATTERN)]


def services() -> Services:
    return get_services()


def principal() -> ApiKey:
    return app.context["principal"]


def _json(status: int, body: dict[str, Any]) -> Response[dict[str, Any]]:
    return Response(status_code=status, content_type=content_types.APPLICATION_JSON, body=body)


# --- middleware and errors ----------------------------------------------------------------------
def authenticate(app: APIGatewayRestResolver, next_middleware: NextMiddleware) -> Response:
    if app.current_event.path in PUBLIC_PATHS:
        return next_middleware(app)
    body = app.current_event.body or ""
    if len(body.encode() if isinstance(body, str) else body) > MAX_BODY_BYTES:
        return error_response(
            413, "payload_too_large", f"request bodies are limited to {MAX_BODY_BYTES} bytes"
        )
    presented = app.current_event.headers.get("X-API-Key")
    key = auth.authenticate(services().store, presented)
    if key is None:
        message = "missing X-API-Key header" if not presented else "the API key is not valid"
        return error_response(401, "unauthorized", message)
    app.append_context(principal=key)
    return next_middleware(app)


def resolve(event: dict[str, Any], context: Any) -> dict[str, Any]:
    if event.get("body"):
        _treat_body_as_json(event)
    return app.resolve(event, context)


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


app.use(middlewares=[authenticate])


@app.exception_handler(ApiError)
def _api_error(exc: ApiError) -> Response:
    return error_response(exc.status, exc.code, exc.message, exc.field)


@app.exception_handler(RequestValidationError)
def _validation_error(exc: RequestValidationError) -> Response:
    message, field = describe_validation(list(exc.errors()))
    return error_response(400, "invalid_request", message, field)


@app.not_found
def _not_found(_: Exception) -> Response:
    return error_response(
        404, "not_found", f"no route for {app.current_event.http_method} {app.current_event.path}"
    )


# --- helpers ------------------------------------------------------------------------------------
def _check_project(project_id: str) -> None:
    if not principal().can_access(project_id):
        # 404, not 403: a key never learns that another project exists.
        raise not_found(f"project {project_id}")


def _visible_channel(channel_id: str) -> Channel | None:
    channel = services().store.get_channel(channel_id)
    if channel is None:
        return None
    key = principal()
    if key.admin or not channel.projects or set(channel.projects) & set(key.projects):
        return channel
    return None


def event_resource(event: Event, notifications: list[Notification] | None = None) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "$uri": f"/v1/events/{event.id}",
        "id": event.id,
        "status": event.status.value,
        "api_version": "v1",
        "event_type": event.eventCode,
        "eventCode": event.eventCode,
        "projectId": event.projectId,
        "correlationId": event.correlationId,
        "description": event.description,
        "timestamp": event.timestamp,
        "payloadVersion": event.payloadVersion,
        "payload": event.payload,
    }
    if event.routingError:
        resource["error"] = event.routingError
    if notifications is not None:
        resource["notifications"] = [n.public() for n in notifications]
    return resource


# --- routes -------------------------------------------------------------------------------------
@app.get("/health")
def health() -> dict[str, str]:
    return {"status": "ok"}


@app.post("/api/notificationChannels")
def create_channel(body: Annotated[ChannelIn, Body()]) -> Response[dict[str, Any]]:
    key = principal()
    channel = Channel(
        id=clock.new_id(),
        type=body.type,
        address=body.address,
        awsRegion=body.awsRegion,
        enabled=body.enabled,
        timeoutSeconds=body.timeoutSeconds,
        format=body.format,
        projects=[] if key.admin else list(key.projects),
        secret=signing.generate_secret(),
        createdAt=clock.utc_iso(),
    )
    services().store.put_channel(channel)
    # The only response that ever carries the signing secret.
    return _json(201, {**channel.public(), "secret": channel.secret})


@app.get("/api/notificationChannels")
def list_channels() -> dict[str, Any]:
    key = principal()
    items = [
        c.public()
        for c in services().store.list_channels()
        if key.admin or not c.projects or set(c.projects) & set(key.projects)
    ]
    return {"items": items, "totalItemCount": len(items)}


@app.get("/api/notificationChannels/<channel_id>")
def get_channel(channel_id: str) -> dict[str, Any]:
    channel = _visible_channel(channel_id)
    if channel is None:
        raise not_found(f"channel {channel_id}")
    return channel.public()


@app.post("/api/projects/<project_id>/notificationSubscriptions")
def create_subscription(
    project_id: ProjectId, body: Annotated[SubscriptionIn, Body()]
) -> Response[dict[str, Any]]:
    _check_project(project_id)
    if _visible_channel(body.notificationChannelId) is None:
        raise ApiError(
            400, "invalid_request", "notificationChannelId: no channel with this id", "notificationChannelId"
        )
    if body.filterExpression:
        try:
            compile_filter(body.filterExpression)
        except FilterSyntaxError as exc:
            raise ApiError(
                400, "invalid_filter", f"filterExpression: {exc}\n{exc.caret()}", "filterExpression"
            ) from None
    sub = Subscription(
        id=clock.new_id(),
        projectId=project_id,
        eventCode=body.eventCode,
        notificationChannelId=body.notificationChannelId,
        filterExpression=body.filterExpression or None,
        payloadVersion=body.payloadVersion,
        format=body.format,
        enabled=body.enabled,
        createdAt=clock.utc_iso(),
    )
    services().store.put_subscription(sub)
    return _json(201, sub.public())


@app.get("/api/projects/<project_id>/notificationSubscriptions")
def list_subscriptions(project_id: ProjectId) -> dict[str, Any]:
    _check_project(project_id)
    items = [s.public() for s in services().store.list_subscriptions(project_id)]
    return {"items": items, "totalItemCount": len(items)}


@app.get("/api/projects/<project_id>/notificationSubscriptions/<subscription_id>")
def get_subscription(project_id: ProjectId, subscription_id: str) -> dict[str, Any]:
    _check_project(project_id)
    sub = services().store.get_subscription(project_id, subscription_id)
    if sub is None:
        raise not_found(f"subscription {subscription_id}")
    return sub.public()


@app.post("/api/projects/<project_id>/events")
def post_event(project_id: ProjectId, body: Annotated[EventIn, Body()]) -> Response[dict[str, Any]]:
    _check_project(project_id)
    try:
        event, created = ingest.accept_event(
            services(),
            project_id,
            body.eventCode,
            body.payload,
            client_id=body.id,
            description=body.description,
            payload_version=body.payloadVersion,
        )
    except ingest.PayloadTooLargeError as exc:
        raise ApiError(413, "payload_too_large", f"payload: {exc}", "payload") from None
    except ingest.EventConflictError as exc:
        raise ApiError(409, "conflict", str(exc), "id") from None
    return _json(
        202,
        {"id": event.id, "$uri": f"/v1/events/{event.id}", "status": event.status.value, "created": created},
    )


@app.get("/v1/events")
def list_events(
    project: Annotated[str | None, Query(pattern=PROJECT_ID_PATTERN)] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    cursor: Annotated[str | None, Query(max_length=2048)] = None,
) -> dict[str, Any]:
    """Events newest first; a key that is not admin sees only its projects'."""
    key = principal()
    if project is None and not key.admin:
        if len(key.projects) != 1:
            raise ApiError(
                400, "invalid_request", "project: required for a key with several projects", "project"
            )
        project = key.projects[0]
    if project is not None:
        _check_project(project)
    try:
        state = json.loads(_unpack(cursor)) if cursor else {}
        start = decode_cursor(state.get("k")) if state else None
    except (InvalidCursorError, ValueError, AttributeError):
        raise ApiError(400, "invalid_request", "cursor: not a cursor this API returned", "cursor") from None
    store = services().store
    events: list[Event] = []
    if project is not None:
        events, last = store.list_events(project, None, limit, start)
        next_state = {"k": encode_cursor(last)} if last else None
    else:
        # Admin without a project: walk the day buckets back to the retention horizon.
        today = datetime.now(tz=UTC).date()
        day = state.get("d", today.isoformat())
        horizon = (today - timedelta(days=services().settings.retention_days)).isoformat()
        next_state = None
        while day >= horizon and len(events) < limit:
            page, last = store.list_events(None, day, limit - len(events), start)
            events.extend(page)
            if last:
                next_state = {"d": day, "k": encode_cursor(last)}
                break
            day = (datetime.fromisoformat(day).date() - timedelta(days=1)).isoformat()
            start = None
            next_state = {"d": day} if day >= horizon else None
    return {
        "items": [event_resource(e) for e in events],
        "nextCursor": _pack(json.dumps(next_state)) if next_state else None,
    }


@app.get("/v1/events/<event_id>")
def get_event(event_id: str) -> dict[str, Any]:
    event, notifications = services().store.get_event_with_notifications(event_id)
    if event is None or not principal().can_access(event.projectId):
        raise not_found(f"event {event_id}")
    return event_resource(event, notifications)


def _pack(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def _unpack(cursor: str) -> str:
    return base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
