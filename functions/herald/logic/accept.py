"""Accepting an event from outside: validate, store once, queue for routing, derive what it implies.

This is the entrance for external events only: the API's `POST .../events`, custom events, the
bridge's queue and topic, and One Codex's webhooks. Herald's own events (derived, transfer and
operational events) go out through herald.logic.emit, which says where the line runs and why.

A platform may post a specific analysis code (ICA_EXEC_002, _001, _027) itself too, which Herald
also derives from ICA_EXEC_028 (see herald.logic.emit). One analysis reaching one final state is
one fact, so such events are identified by (code, analysis id, status), whoever sends them:
whichever of the derived and the posted event arrives first is stored and delivered, and the other
is recognised as the same event (the API answers with the stored one), never delivered twice.

Whenever a post is recognised as an event Herald already holds, `accept` says which event and by
which rule (`Duplicate`), so every entrance can say it plainly: the API's 202 answers carry it as
`duplicateOf`, the bridge logs it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from aws_lambda_powertools import Logger

from herald.domain import clock, jsontext, limits
from herald.domain.models import DuplicateRule, Event
from herald.logic import emit
from herald.logic.services import Services

MAX_PAYLOAD_BYTES = limits.MAX_PAYLOAD_BYTES
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
    identity: Identity | None = None,
) -> Acceptance:
    """Store the event (once per identity) and queue it; says whether it is new and, if it is
    not, which stored event it was recognised as and why.

    `client_id` is the caller's idempotency id; `identity` says what kind of id it is (default:
    the API's `id`). Storing comes first: an event the API acknowledged is in the table even if
    queueing fails, and resending the same id queues an event that was stored but never routed.
    """
    try:  # the caller's payload, within Herald's bounds before anything is stored
        jsontext.check_shape(payload, limits.MAX_PAYLOAD_DEPTH, limits.MAX_JSON_MEMBERS)
    except jsontext.JsonTooComplex as exc:
        raise PayloadShapeError(f"payload {exc}") from None
    size = len(json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode())
    if size > MAX_PAYLOAD_BYTES:
        raise PayloadTooLargeError(f"payload is {size} bytes; the limit is {MAX_PAYLOAD_BYTES}")
    fact = emit.analysis_fact(event_code, payload)
    event = emit.new_event(
        project_id,
        event_code,
        payload,
        client_id,
        description=description,
        timestamp=timestamp,
        payload_version=payload_version,
    )
    stored, created = services.events.put_if_new(event)
    duplicate = None
    try:
        if not created:
            if not fact and (stored.eventCode, stored.payload) != (event.eventCode, event.payload):
                raise EventConflictError(
                    f"event id {client_id!r} was already used for a different event in this project"
                )
            duplicate = _duplicate(stored, fact, client_id, identity, requeued=not stored.routed)
        if created or not stored.routed:
            emit.queue_for_routing(services, stored.id, stored.projectId)
        emit.derive(services, stored)
    except emit.NotQueuedError as exc:
        # The event itself, or the event it implies: stored, and queued later (see emit).
        raise IngestUnavailableError(
            f"event {exc.event_id} is stored but could not be queued; retry with the same id"
        ) from exc
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
            emit.queue_for_routing(services, event_id, project_id, already_marked=True)
        except emit.NotQueuedError as exc:
            logger.warning(
                "an unqueued event could not be queued yet", event_id=event_id, error=str(exc.__cause__)
            )
            break
        services.events.requeued(event_id)
        queued += 1
    if queued:
        logger.info("unqueued events queued for routing", count=queued)
    return queued
