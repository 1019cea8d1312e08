"""Time comes through this seam so tests can control it."""

from __future__ import annotations

import time
from datetime import UTC, datetime


def now() -> float:
    return time.time()


def monotonic() -> float:
    """Seconds on a clock that never goes back, for measuring how long work took."""
    return time.monotonic()


def utc_iso(ts: float | None = None) -> str:
    """RFC 3339 / ISO 8601 in UTC with milliseconds, as ICA's `timestamp`: 2022-10-06T07:51:09.128Z."""
    moment = datetime.fromtimestamp(now() if ts is None else ts, tz=UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
