"""Payload versions: what an Analysis event looks like to a V3 and to a V4 subscriber.

ICA's seed: both versions guarantee the final state (SUCCEEDED, FAILED, FAILED_FINAL, ABORTED);
V3 can have REQUESTED - IN_PROGRESS - SUCCEEDED, V4 REQUESTED - QUEUED - INITIALIZING -
PREPARING_INPUTS - IN_PROGRESS - GENERATING_OUTPUTS - SUCCEEDED. Events are stored in the full
(V4) vocabulary. A V3 subscriber sees only the states V3 has: the V4-only intermediate states are
not shown to it at all (so a status-change subscriber gets REQUESTED, IN_PROGRESS once, then the
final state, never IN_PROGRESS repeated for states it has no name for).
"""

from __future__ import annotations

from typing import Any

from herald.domain.catalog import ANALYSIS_CODES

# What a subscriber without a version gets, and what a delivery says it is: the full vocabulary
# events are stored in (ICA's current payload version).
DEFAULT_VERSION = "V4"
V3_STATUSES = frozenset({"REQUESTED", "IN_PROGRESS", "SUCCEEDED", "FAILED", "FAILED_FINAL", "ABORTED"})
V4_ONLY_STATUSES = frozenset({"QUEUED", "INITIALIZING", "PREPARING_INPUTS", "GENERATING_OUTPUTS"})


def delivered_version(subscription_version: str | None, event_version: str | None) -> str:
    """The `payloadVersion` a delivery carries: the subscriber's, else the version the producer
    posted the event in, else V4 (the payload as stored, every state)."""
    return subscription_version or event_version or DEFAULT_VERSION


def view(event_code: str, payload: dict[str, Any], version: str | None) -> dict[str, Any] | None:
    """The payload as a subscriber of `version` sees it, or None if that version has no such event."""
    if version != "V3" or event_code not in ANALYSIS_CODES:
        return payload
    status = payload.get("status")
    if isinstance(status, str) and status in V4_ONLY_STATUSES:
        return None
    return payload
