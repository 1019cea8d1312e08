"""What every delivery target returns: the outcome of one attempt."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Outcome:
    success: bool
    duration_ms: int
    http_status: int | None = None
    error: str | None = None
    response_excerpt: str | None = None
    # Seconds a receiver asked us to wait (Retry-After on 429/503).
    retry_after: int | None = None
    # False when retrying cannot help (e.g. the payload is too large for the target).
    retryable: bool = True
