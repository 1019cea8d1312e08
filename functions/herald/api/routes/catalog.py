"""The event catalog (`GET /api/eventCodes`) and the One Codex webhook endpoint."""

from __future__ import annotations

import base64
from typing import Annotated, Any

from aws_lambda_powertools.event_handler.openapi.params import Query
from pydantic import BaseModel, Field

from herald.api.context import principal, services
from herald.api.errors import about
from herald.api.resolver import new_router
from herald.api.schemas import EventAccepted
from herald.api.tenancy import check_project
from herald.api.views import accepted_out, responses
from herald.domain import catalog
from herald.logic import accept, onecodex, sample_events
from herald.names import ONECODEX_WEBHOOK_PATH, PROJECT_ID_PATTERN

router = new_router()


class EventCodeOut(BaseModel):
    code: str
    description: str
    details: str
    payloadType: str
    objectType: str
    platform: str
    examplePayload: dict[str, Any] = Field(description="An example of this event's payload.")


class EventCodeList(BaseModel):
    items: list[EventCodeOut]
    customCodes: list[str]


@router.get(
    "/api/eventCodes",
    summary="The event catalog",
    description="Every event code Herald knows (ICA's, One Codex's and Herald's own), and with `project` "
    "that project's custom codes. A subscription's eventCode must be one of them or `*`.",
    tags=["Catalog"],
    responses=responses(400, 404),
)
def list_event_codes(
    project: Annotated[
        str | None, Query(pattern=PROJECT_ID_PATTERN, description="Include its custom codes.")
    ] = None,
) -> EventCodeList:
    principal()
    custom: list[str] = []
    if project is not None:
        check_project(project)
        cursor: str | None = None
        while True:
            page = services().custom_codes.list_page(project, 100, cursor)
            custom.extend(c.code for c in page.items)
            cursor = page.cursor
            if not cursor:
                break
        custom.sort()
    items = [
        EventCodeOut(
            code=e.code,
            description=e.description,
            details=e.details,
            payloadType=e.payload_type,
            objectType=e.object_type,
            platform=e.platform,
            examplePayload=sample_events.example_payload(e.code),
        )
        for e in (*catalog.ICA_EVENTS, *catalog.ONECODEX_EVENTS, *catalog.HERALD_EVENTS)
    ]
    return EventCodeList(items=items, customCodes=custom)


@router.post(
    ONECODEX_WEBHOOK_PATH,
    status_code=202,
    summary="One Codex webhooks in",
    description="Authenticated by its `X-OneCodex-Signature` (HMAC-SHA256 of `t.body`), not by an API key. "
    "`project` names the project (default: HERALD_ONECODEX_PROJECT, else HERALD_INGEST_DEFAULT_PROJECT, else "
    "`onecodex`), and only that project's secrets verify it: those of its inbound webhooks "
    "(`POST /api/projects/{p}/inboundWebhooks`), and HERALD_ONECODEX_SECRET for the one project it is "
    "configured for. A bad, stale (> 5 min) or other project's signature is 401 and nothing is stored. The "
    "event's code is the payload's `event_type`, its payload the `object`. A retried delivery (the same "
    "event_type, object and triggered_at) is answered `created: false` with `duplicateOf` naming the stored event.",
    tags=["Bridge"],
    responses=responses(400, 401, 409, 413, success=202, description="Accepted"),
)
def onecodex_webhook(
    project: Annotated[
        str | None, Query(pattern=PROJECT_ID_PATTERN, description="Project of the events.")
    ] = None,
) -> EventAccepted:
    # The signed bytes as they came: never decoded to text before the signature is checked.
    current = router.current_event
    raw = base64.b64decode(current.body or "") if current.is_base64_encoded else (current.body or "").encode()
    header = current.headers.get(onecodex.SIGNATURE_HEADER)
    # The payload is the webhook's `object`, inside a body the signature covers: named, not a field.
    with about("object", accept.PayloadRefusedError, reported=False):
        accepted = onecodex.accept_webhook(services(), raw, header, project)
    return accepted_out(accepted)
