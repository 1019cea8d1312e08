"""What routes answer: the views several route modules share, and their OpenAPI responses."""

from __future__ import annotations

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse

from herald.api.schemas import (
    DuplicateOut,
    ErrorOut,
    EventAccepted,
    SubscriptionOut,
)
from herald.domain import clock
from herald.domain.models import Subscription
from herald.logic import accept

_ERROR_TEXTS = {
    400: "Invalid request: the message names the field",
    404: "Not found (or not visible to this key)",
    409: "Conflict with the resource's current state",
    401: "Missing, invalid or stale credentials (API key or signature)",
    403: "The key sees the object but does not cover every project it serves",
    413: "Payload too large",
    503: "A dependency is unavailable; retry",
}


def responses(*statuses: int, success: int = 200, description: str = "Success") -> dict[int, OpenAPIResponse]:
    """OpenAPI responses for a route: its success (the return model's schema) and its errors."""
    out: dict[int, OpenAPIResponse] = {success: {"description": description}}
    for status in statuses:
        out[status] = {
            "description": _ERROR_TEXTS.get(status, "Error"),
            "content": {"application/json": {"model": ErrorOut}},
        }
    return out


def no_content() -> Response[None]:
    return Response(status_code=204, content_type=None, body=None)


def subscription_out(sub: Subscription) -> SubscriptionOut:
    return SubscriptionOut.model_validate(sub.model_dump())


def accepted_out(accepted: accept.Acceptance) -> EventAccepted:
    """The 202 answer of every entrance that accepts events: the event, and if the post was
    recognised as one Herald already holds, which one and why (`duplicateOf`)."""
    event, duplicate = accepted.event, accepted.duplicate
    uri = f"/v1/events/{event.id}"
    return EventAccepted(
        id=event.id,
        uri=uri,
        status=event.status,
        created=accepted.created,
        duplicateOf=None
        if duplicate is None
        else DuplicateOut(
            id=event.id,
            uri=uri,
            rule=duplicate.rule,
            matched=duplicate.matched,
            acceptedAt=clock.utc_iso(event.createdAt),
            message=duplicate.message,
        ),
    )
