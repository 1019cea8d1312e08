"""What every route needs: the caller's key, the services, tenancy checks and response helpers."""

from __future__ import annotations

import re
from contextvars import ContextVar
from datetime import UTC, datetime, timedelta, timezone
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Path, Query

from herald.api.errors import ApiError, invalid, not_found
from herald.api.schemas import ID_PATTERN, PROJECT_ID_PATTERN, ChannelOut, ErrorOut
from herald.dal.codec import InvalidCursorError
from herald.domain import clock
from herald.domain.models import ApiKey, Channel
from herald.logic.services import Services, get_services

_principal: ContextVar[ApiKey | None] = ContextVar("herald_principal", default=None)

# Path and query parameters, with the constraints the OpenAPI document shows.
ProjectId = Annotated[str, Path(pattern=PROJECT_ID_PATTERN, description="The project's id.")]
ChannelId = Annotated[str, Path(pattern=ID_PATTERN, description="The channel's id.")]
SubscriptionId = Annotated[str, Path(pattern=ID_PATTERN, description="The subscription's id.")]
NotificationId = Annotated[str, Path(pattern=ID_PATTERN, description="The notification's id (ntf_…).")]
EventId = Annotated[str, Path(pattern=ID_PATTERN, description="The event's id.")]
KeyId = Annotated[str, Path(pattern=ID_PATTERN, description="The key's id (keyId).")]
WebhookId = Annotated[str, Path(pattern=ID_PATTERN, description="The inbound webhook's id.")]
Limit = Annotated[int, Query(ge=1, le=100, description="Page size, 1 to 100.")]
Cursor = Annotated[
    str | None, Query(min_length=1, max_length=2048, description="`nextCursor` of the previous page.")
]

DEFAULT_LIMIT = 20


def services() -> Services:
    return get_services()


def set_principal(key: ApiKey | None) -> None:
    _principal.set(key)


def principal() -> ApiKey:
    key = _principal.get()
    if key is None:  # the gate in `app.resolve` sets it before every non-public route
        raise ApiError(401, "unauthorized", "missing X-API-Key header")
    return key


def check_project(project_id: str) -> None:
    if not principal().can_access(project_id):
        # 404, not 403: a key never learns that another project exists.
        raise not_found(f"project {project_id}")


# --- the tenancy rule ----------------------------------------------------------------------------
# Reading is project-scoped: a key sees what one of its projects has (anything else is 404).
# Changing needs more: a key may change an object only if it covers EVERY project the object
# serves (or is admin). A project's own objects (subscriptions, their notifications, custom
# events, inbound webhooks, events) serve that project alone, so `check_project` is the rule for
# them; a channel serves its projects and those of every subscription delivering through it, so a
# key for one of them cannot redirect, disable, rotate or delete what the others rely on.
def may_change(key: ApiKey, served: set[str]) -> bool:
    return key.admin or (bool(served) and served <= set(key.projects))


def check_may_change(what: str, served: set[str]) -> None:
    """403 when the key sees the object (it has one of its projects) but does not cover them all."""
    if not may_change(principal(), served):
        raise ApiError(
            403,
            "forbidden",
            f"{what} also serves projects this key does not cover; only a key covering every project it "
            "serves, or an admin key, may change it",
        )


def can_see_channel(key: ApiKey, channel: Channel) -> bool:
    """Admin keys see every channel; other keys those of their projects (never project-less ones)."""
    return key.admin or bool(set(channel.projects) & set(key.projects))


def visible_channel(channel_id: str) -> Channel | None:
    channel = services().channels.get(channel_id)
    if channel is None or not can_see_channel(principal(), channel):
        return None
    return channel


def channel_out(channel: Channel, now: float) -> ChannelOut:
    key = principal()
    expires = channel.previousSecretExpiresAt
    return ChannelOut(
        id=channel.id,
        type=channel.type,
        address=channel.address,
        awsRegion=channel.awsRegion,
        enabled=channel.enabled,
        timeoutSeconds=channel.timeoutSeconds,
        format=channel.format,
        # Never name a project the key has no access to.
        projects=list(channel.projects) if key.admin else sorted(set(channel.projects) & set(key.projects)),
        createdAt=channel.createdAt,
        previousSecretExpiresAt=_iso(expires)
        if channel.previousSecret and expires and expires > now
        else None,
        rateLimitPerSecond=channel.rateLimitPerSecond,
        disabledReason=channel.disabledReason,
        disabledAt=channel.disabledAt,
    )


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


_RFC3339 = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?(?:([Zz])|([+-])(\d{2}):(\d{2}))$"
)


def parse_time(field: str, value: str) -> float:
    """An RFC 3339 time (the zone is required; `Z` is UTC) as epoch seconds.

    Leap seconds (`:60`) count as `:59`, digits past microseconds are dropped, and year 0000 is
    read as year 1: all valid RFC 3339, none representable by `datetime` as such.
    """
    match = _RFC3339.match(value)
    if not match:
        raise invalid(field, "must be an RFC 3339 time with a zone, such as 2025-01-31T12:00:00Z")
    year, month, day, hour, minute, second = (int(g) for g in match.groups()[:6])
    fraction, zulu, sign, off_h, off_m = match.groups()[6:]
    micro = int((fraction or "0")[:6].ljust(6, "0"))
    offset = timedelta(0) if zulu else timedelta(hours=int(off_h), minutes=int(off_m))
    if sign == "-":
        offset = -offset
    try:
        moment = datetime(
            max(year, 1), month, day, hour, minute, min(second, 59), micro, tzinfo=timezone(offset)
        )
    except ValueError as exc:
        raise invalid(field, f"not a valid time ({exc})") from None
    return moment.timestamp()


def sortable_utc(ts: float) -> str:
    """Epoch seconds as the store's time text (UTC, milliseconds), clamped to years 1970-9999."""
    return clock.utc_iso(min(max(ts, 0.0), 253402300799.999))


def cursor_error(_: InvalidCursorError) -> ApiError:
    return invalid("cursor", "not a cursor this API returned for this list")


def no_content() -> Response[Any]:
    return Response(status_code=204, content_type=None, body=None)


def responses(*statuses: int, success: int = 200, description: str = "Success") -> dict[int, dict[str, Any]]:
    """OpenAPI responses for a route: its success (the return model's schema) and its errors."""
    texts = {
        400: "Invalid request: the message names the field",
        404: "Not found (or not visible to this key)",
        409: "Conflict with the resource's current state",
        401: "Missing, invalid or stale credentials (API key or signature)",
        403: "The key sees the object but does not cover every project it serves",
        413: "Payload too large",
        503: "A dependency is unavailable; retry",
    }
    out: dict[int, dict[str, Any]] = {success: {"description": description}}
    for status in statuses:
        out[status] = {
            "description": texts.get(status, "Error"),
            "content": {"application/json": {"model": ErrorOut}},
        }
    return out
