"""The event catalog (`GET /api/eventCodes`) and the One Codex webhook endpoint."""

from __future__ import annotations

import base64
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Query
from pydantic import BaseModel, Field

from herald.api.common import check_project, principal, responses, services
from herald.api.errors import ApiError
from herald.api.routes.events import accepted_out
from herald.api.schemas import PROJECT_ID_PATTERN, EventAccepted
from herald.domain import catalog
from herald.logic import accept, onecodex, sample_events

router = Router()
WEBHOOK_PATH = "/webhooks/onecodex"


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
    WEBHOOK_PATH,
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
) -> Response[EventAccepted]:
    from herald.api.app import app

    # The signed bytes as they came: never decoded to text before the signature is checked.
    current = app.current_event
    raw = base64.b64decode(current.body or "") if current.is_base64_encoded else (current.body or "").encode()
    header = current.headers.get(onecodex.SIGNATURE_HEADER)
    try:
        accepted = onecodex.accept_webhook(services(), raw, header, project)
    except onecodex.WebhookRejected as exc:
        raise ApiError(401, "invalid_signature", str(exc)) from None
    except onecodex.WebhookInvalid as exc:
        raise ApiError(400, "invalid_request", str(exc)) from None
    except accept.PayloadTooLargeError as exc:
        raise ApiError(413, "payload_too_large", f"object: {exc}") from None
    except accept.PayloadShapeError as exc:
        raise ApiError(400, "invalid_request", f"object: {exc}") from None
    except accept.EventConflictError as exc:
        raise ApiError(409, "conflict", str(exc)) from None
    body = accepted_out(accepted).model_dump(mode="json", by_alias=True)
    return Response(202, content_types.APPLICATION_JSON, body)
