"""Accepting an event: validate, store once, queue for routing, and derive what it implies.

Derived events (ICA seed: subscribers to ICA_EXEC_002 and to ICA_EXEC_028 are both notified when
an analysis succeeds). When an analysis status change (ICA_EXEC_028) reaches a final state, Herald
also emits the specific event: ICA_EXEC_002 for SUCCEEDED, ICA_EXEC_001 for FAILED and
FAILED_FINAL, ICA_EXEC_027 for ABORTED, each its own event with its own id and `derivedFrom`
naming the original. The seed has no status-change code for workflow sessions or base jobs, so
nothing is derived for them.

A platform may post the specific code itself too. One analysis reaching one final state is one
fact, so specific analysis events are identified by (code, analysis id, status), whoever sends
them: whichever of the derived and the posted event arrives first is stored and delivered, and the
other is recognised as the same event (the API answers with the stored one), never delivered twice.

Whenever a post is recognised as an event Herald already holds, `accept` says which event and by
which rule (`Duplicate`), so every entrance can say it plainly: the API's 202 answers carry it as
`duplicateOf`, the bridge logs it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from aws_lambda_powertools import Logger
from botocore.exceptions import BotoCoreError, ClientError

from herald.adapters.queues import QueueSendError
from herald.domain import catalog, clock, ids, jsontext, limits
from herald.domain.messages import RouteEvent
from herald.domain.models import DuplicateRule, Event
from herald.logic.services import Services

MAX_PAYLOAD_BYTES = limits.MAX_PAYLOAD_BYTES
STATUS_CHANGE_CODE = "ICA_EXEC_028"
# Final analysis states → the specific event each implies.
ANALYSIS_OUTCOME_CODES = {
    "SUCCEEDED": "ICA_EXEC_002",
    "FAILED": "ICA_EXEC_001",
    "FAILED_FINAL": "ICA_EXEC_001",
    "ABORTED": "ICA_EXEC_027",
}
_SPECIFIC_ANALYSIS_CODES = frozenset(ANALYSIS_OUTCOME_CODES.values())
# The sweeper leaves an event that could not be queued alone this long after the failure, and
# queues at most this many a run.
UNQUEUED_GRACE_SECONDS = 60
SWEEP_LIMIT = 100

logger = Logger(child=True)


@dataclass(frozen=True)
class Identity:
    """How the caller identifies the event: the rule its id follows, and the id said for people."""

    rule: DuplicateRule
    text: str


@dataclass(frozen=True)
class Duplicate:
    """The post was recognised as `event` (already stored): which rule matched, on what, and why."""

    rule: DuplicateRule
    matched: str
    message: str


@dataclass(frozen=True)
class Acceptance:
    event: Event  # the stored event: the new one, or the one this post was recognised as
    created: bool
    duplicate: Duplicate | None = None


class EventConflictError(Exception):
    """The idempotency id was used before for a different event."""


class PayloadRefusedError(ValueError):
    """The payload is over one of Herald's bounds (the message says which)."""


class PayloadTooLargeError(PayloadRefusedError):
    pass


class PayloadShapeError(PayloadRefusedError):
    """Nested deeper, or an object or array wider, than Herald accepts."""


class IngestUnavailableError(RuntimeError):
    """A dependency refused; the caller should retry (the API answers 503)."""


def accept_event(
    services: Services,
    project_id: str,
    event_code: str,
    payload: dict[str, Any],
    client_id: str | None = None,
    description: str | None = None,
    payload_version: str | None = None,
    timestamp: str | None = None,
    derived_from: str | None = None,
) -> tuple[Event, bool]:
    """`accept`, for callers that need only (event, newly created)."""
    accepted = accept(
        services,
        project_id,
        event_code,
        payload,
        client_id=client_id,
        description=description,
        payload_version=payload_version,
        timestamp=timestamp,
        derived_from=derived_from,
    )
    return accepted.event, accepted.created


def accept(
    services: Services,
    project_id: str,
    event_code: str,
    payload: dict[str, Any],
    client_id: str | None = None,
    description: str | None = None,
    payload_version: str | None = None,
    timestamp: str | None = None,
    derived_from: str | None = None,
    identity: Identity | None = None,
) -> Acceptance:
    """Store the event (once per identity) and queue it; says whether it is new and, if it is
    not, which stored event it was recognised as and why.

    `client_id` is the caller's idempotency id; `identity` says what kind of id it is (default:
    the API's `id`). Storing comes first: an event the API acknowledged is in the table even if
    queueing fails, and resending the same id queues an event that was stored but never routed.
    """
    try:  # every way in comes through here: the API, the bridge, webhooks, derived events
        jsontext.check_shape(payload, limits.MAX_PAYLOAD_DEPTH, limits.MAX_JSON_MEMBERS)
    except jsontext.JsonTooComplex as exc:
        raise PayloadShapeError(f"payload {exc}") from None
    size = len(json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode())
    if size > MAX_PAYLOAD_BYTES:
        raise PayloadTooLargeError(f"payload is {size} bytes; the limit is {MAX_PAYLOAD_BYTES}")
    now = clock.now()
    fact = _analysis_fact(event_code, payload)
    if fact:
        event_id = ids.event_id_for(project_id, ":".join(fact))  # "code:analysis id:status"
        correlation_id = client_id or event_id
    elif client_id:
        event_id = ids.event_id_for(project_id, client_id)
        correlation_id = client_id
    else:
        event_id = correlation_id = ids.new_id()
    event = Event(
        id=event_id,
        projectId=project_id,
        eventCode=event_code,
        description=description or event_code,
        payload=payload,
        correlationId=correlation_id,
        timestamp=timestamp or clock.utc_iso(now),
        createdAt=now,
        payloadVersion=payload_version,
        derivedFrom=derived_from,
    )
    stored, created = services.events.put_if_new(event)
    duplicate = None
    if not created:
        if not fact and (stored.eventCode, stored.payload) != (event.eventCode, event.payload):
            raise EventConflictError(
                f"event id {client_id!r} was already used for a different event in this project"
            )
        duplicate = _duplicate(stored, fact, client_id, identity, requeued=not stored.routed)
        if stored.routed:
            _derive(services, stored)
            return Acceptance(stored, False, duplicate)
    try:
        services.queues.send(
            services.queues.events_url, [RouteEvent(eventId=stored.id, projectId=project_id)]
        )
    except (QueueSendError, ClientError, BotoCoreError) as exc:
        # Stored but not queued: visible as failed, never silently pending. Posting the same event
        # again (same id; the bridge's redelivery does) queues it and clears the failure.
        services.events.mark_unqueued(
            stored.id,
            project_id,
            f"could not be queued for routing ({type(exc).__name__}); Herald queues it again "
            "within minutes, or post it again with the same id",
            clock.now(),
        )
        raise IngestUnavailableError(
            f"event {stored.id} is stored but could not be queued; retry with the same id"
        ) from exc
    _derive(services, stored)
    return Acceptance(stored, created, duplicate)


def _duplicate(
    stored: Event,
    fact: tuple[str, str, str] | None,
    client_id: str | None,
    identity: Identity | None,
    requeued: bool,
) -> Duplicate:
    """Why a post is `stored`, in words a person posting it understands."""
    accepted = f"event {stored.id}, accepted {clock.utc_iso(stored.createdAt)}"
    if fact:
        code, analysis_id, status = fact
        matched = f"{code} {analysis_id} {status}"
        message = (
            f"recognised as {accepted}: {code} for analysis {analysis_id!r} reaching {status} is one "
            "event, whatever its id or whoever sends it (code + analysis id + status)"
        )
        if client_id and client_id != stored.correlationId:
            message += f"; this post's id {client_id!r} differs from that event's correlationId {stored.correlationId!r}"
        if stored.derivedFrom:
            message += f"; that event was derived from event {stored.derivedFrom}"
        rule = DuplicateRule.ANALYSIS_STATE
    else:
        rule = identity.rule if identity else DuplicateRule.IDEMPOTENCY_ID
        matched = identity.text if identity else str(client_id)
        why = {
            DuplicateRule.IDEMPOTENCY_ID: f"the id {matched!r} was already used in project "
            f"{stored.projectId} for this same event",
            DuplicateRule.CORRELATION_ID: f"the correlation id {matched!r} was already ingested "
            "(a redelivery)",
            DuplicateRule.ONECODEX_DELIVERY: f"One Codex's delivery of {matched} was already accepted "
            "(a retried delivery)",
        }.get(rule, f"{matched} was already accepted")
        message = f"recognised as {accepted}: {why}"
    message += ". Nothing new was stored or delivered"
    if requeued:
        message += "; it had not been queued for routing yet, and now is"
    if rule is DuplicateRule.ANALYSIS_STATE:
        message += ". A new analysis id or status makes a new event"
    elif rule is DuplicateRule.IDEMPOTENCY_ID:
        message += ". A new id makes a new event"
    return Duplicate(rule=rule, matched=matched, message=message + ".")


def requeue_unqueued(services: Services) -> int:
    """Queue the events that were stored but could not be queued (the scheduled function's sweep,
    every minute); returns how many were queued.

    An event waits `UNQUEUED_GRACE_SECONDS` first, so that a producer retrying with the same id
    queues it itself. Queueing one twice is harmless: routing a routed event does nothing. When
    SQS still refuses, the rest wait for the next run.
    """
    queued = 0
    for event_id, project_id in services.events.unqueued(clock.now() - UNQUEUED_GRACE_SECONDS, SWEEP_LIMIT):
        try:
            services.queues.send(
                services.queues.events_url, [RouteEvent(eventId=event_id, projectId=project_id)]
            )
        except (QueueSendError, ClientError, BotoCoreError) as exc:
            logger.warning("an unqueued event could not be queued yet", event_id=event_id, error=str(exc))
            break
        services.events.requeued(event_id)
        queued += 1
    if queued:
        logger.info("unqueued events queued for routing", count=queued)
    return queued


def _analysis_fact(event_code: str, payload: dict[str, Any]) -> tuple[str, str, str] | None:
    """(code, analysis id, status) for a specific analysis event: its identity, whoever sends it."""
    analysis_id, status = payload.get("id"), payload.get("status")
    if event_code in _SPECIFIC_ANALYSIS_CODES and isinstance(analysis_id, str) and isinstance(status, str):
        return event_code, analysis_id, status
    return None


def _derive(services: Services, event: Event) -> None:
    """Emit the specific event a final analysis status change implies (idempotent)."""
    if event.eventCode != STATUS_CHANGE_CODE:
        return
    code = ANALYSIS_OUTCOME_CODES.get(str(event.payload.get("status")))
    if code is None or not isinstance(event.payload.get("id"), str):
        return
    known = catalog.lookup(code)
    accept_event(
        services,
        event.projectId,
        code,
        event.payload,
        description=known.description if known else code,
        payload_version=event.payloadVersion,
        timestamp=event.timestamp,
        derived_from=event.id,
    )
