"""Events: platform ingest (ICA's path) and the events API (One Codex's `/v1/events`).

`GET /v1/events` lists newest first with a cursor; `since`/`until` bound the time an event was
triggered (accepted), so a consumer can poll for what it missed: remember the newest
`triggered_at` seen, ask again with `since` a little before it, and skip ids already handled.
"""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools.event_handler.openapi.params import Body, Query

from herald.api.context import principal, services
from herald.api.errors import about, invalid, not_found
from herald.api.params import DEFAULT_LIMIT, Cursor, EventId, Limit, ProjectId, parse_time
from herald.api.resolver import new_router
from herald.api.schemas import EventAccepted, EventIn, EventList, EventOut, NotificationOut
from herald.api.tenancy import check_project
from herald.api.views import accepted_out, responses
from herald.domain import clock, jsontext, limits, versions
from herald.domain.models import (
    EVENT_CODE_PATTERN,
    Event,
    Notification,
    NotificationStatus,
)
from herald.logic import accept
from herald.names import PROJECT_ID_PATTERN

router = new_router()
TAG = ["Events"]


# Shown in place of what an event stored before the depth bound holds deeper than it: such an
# event must not make a list answer 500 (pydantic's serializer gives up at ~254 levels).
TOO_DEEP_MARKER = f"(nested deeper than {limits.MAX_PAYLOAD_DEPTH} levels: not shown)"


def shown_payload(payload: dict[str, Any]) -> dict[str, Any]:
    if not jsontext.nests_deeper_than(payload, limits.MAX_PAYLOAD_DEPTH):
        return payload
    capped: dict[str, Any] = jsontext.cap_depth(payload, limits.MAX_PAYLOAD_DEPTH, TOO_DEEP_MARKER)
    return capped


def event_out(event: Event, notifications: list[Notification] | None = None) -> EventOut:
    return EventOut(
        uri=f"/v1/events/{event.id}",
        id=event.id,
        status=event.status,
        api_version="v1",
        event_type=event.eventCode,
        triggered_at=event.timestamp,
        eventCode=event.eventCode,
        projectId=event.projectId,
        correlationId=event.correlationId,
        description=event.description,
        timestamp=event.timestamp,
        payloadVersion=versions.delivered_version(None, event.payloadVersion),
        derivedFrom=event.derivedFrom,
        payload=shown_payload(event.payload),
        error=event.routingError,
        notifications=None
        if notifications is None
        else [NotificationOut.model_validate(n.model_dump()) for n in notifications],
    )


@router.post(
    "/api/projects/<project_id>/events",
    status_code=202,
    summary="Ingest a platform event",
    description="Stored once per `id` (idempotency: the same id is the same event; reused with "
    "different content: 409), then routed to the project's subscriptions. ICA_EXEC_001, 002 and 027 "
    "are one event per analysis id and status, whatever their `id`. A post recognised as an event "
    "Herald already holds is answered `created: false` with `duplicateOf` saying which event and "
    "by which rule; nothing new is stored or delivered.",
    tags=TAG,
    responses=responses(400, 404, 409, 413, success=202, description="Accepted"),
)
def post_event(project_id: ProjectId, body: Annotated[EventIn, Body()]) -> EventAccepted:
    check_project(project_id)
    with about("payload", accept.PayloadRefusedError), about("id", accept.EventConflictError):
        accepted = accept.accept(
            services(),
            project_id,
            body.eventCode,
            body.payload,
            client_id=body.id,
            description=body.description,
            payload_version=body.payloadVersion,
        )
    return accepted_out(accepted)


@router.get(
    "/v1/events",
    summary="List events, newest first",
    description="Within the retention period (30 days by default). A key that is not admin sees only "
    "its projects' events and must name `project` if it has several. A page may hold fewer than "
    "`limit` items while `nextCursor` is set: follow it until it is null.",
    tags=TAG,
    responses=responses(400, 404),
)
def list_events(
    project: Annotated[
        str | None, Query(pattern=PROJECT_ID_PATTERN, description="Only this project.")
    ] = None,
    event_type: Annotated[
        str | None, Query(pattern=EVENT_CODE_PATTERN, description="Only this event code / type.")
    ] = None,
    status: Annotated[NotificationStatus | None, Query(description="Only events with this status.")] = None,
    since: Annotated[
        str | None,
        Query(
            max_length=64,
            description="RFC 3339: triggered at or after this time.",
            json_schema_extra={"format": "date-time"},
        ),
    ] = None,
    until: Annotated[
        str | None,
        Query(
            max_length=64,
            description="RFC 3339: triggered at or before this time.",
            json_schema_extra={"format": "date-time"},
        ),
    ] = None,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> EventList:
    key = principal()
    if project is None and not key.admin:
        if len(key.projects) != 1:
            raise invalid("project", "required for a key with several projects")
        project = key.projects[0]
    if project is not None:
        check_project(project)
    since_ts = parse_time("since", since) if since is not None else None
    until_ts = parse_time("until", until) if until is not None else None
    page = services().events.list_page(
        project,
        limit,
        cursor,
        since=since_ts,
        until=until_ts,
        event_code=event_type,
        status=status,
        now=clock.now(),
    )
    return EventList(items=[event_out(e) for e in page.items], nextCursor=page.cursor)


@router.get(
    "/v1/events/<event_id>",
    summary="Get an event with its notifications and every attempt",
    tags=TAG,
    responses=responses(400, 404),
)
def get_event(event_id: EventId) -> EventOut:
    event, notifications = services().events.get_with_notifications(event_id)
    if event is None or not principal().can_access(event.projectId):
        raise not_found(f"event {event_id}")
    return event_out(event, notifications)
