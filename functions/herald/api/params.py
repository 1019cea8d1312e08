"""Path and query parameters, with the constraints the OpenAPI document shows, and the times
they carry (RFC 3339, read one way for every route)."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Path, Query

from herald.api.errors import invalid
from herald.api.schemas import ID_PATTERN
from herald.domain import clock
from herald.names import PROJECT_ID_PATTERN

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
