"""Herald's own events: the one way Herald publishes an event it produced itself.

Internal events (`emit`) are made by Herald from what it already holds:
- derived events (`derive`, called by herald.logic.accept when it stores an event): a final
  analysis status change (ICA_EXEC_028) implies the specific event;
- transfer events (herald.logic.transfers, from routing and the scheduled function): ICA_DATA_002
  when a transfer reports success, ICA_DATA_025 when it stalls;
- operational events (herald.logic.operational): `herald.*`, raised by delivery, endpoint health,
  routing's filter quarantine and the dead-letter consumer's notices.

External events come in through herald.logic.accept (`accept.accept`): what someone outside posts
— the API's events, custom events (a client's own code and content, posted through the API), the
bridge's queue and topic (also when the reprocess function gives a bridged message one more try:
it is still the producer's message) and One Codex's webhooks.

Why two ways in: an external event is the caller's. Its payload is checked against Herald's
bounds, its id is the caller's idempotency id (the same id for a different event is refused), the
caller is told when and why a post was a duplicate, and it may imply derived events. An internal
event is Herald's: its payload is Herald's own or one already accepted, and it is identified by
the occurrence it reports (a key Herald derives: this transfer's stall, this channel's opening),
so emitting it again is the same occurrence, never a conflict. Both end the same way: stored once,
then queued for routing (`queue_for_routing`).

Derived events (ICA seed: subscribers to ICA_EXEC_002 and to ICA_EXEC_028 are both notified when an
analysis succeeds). When ICA_EXEC_028 reaches a final state, Herald also emits the specific event:
ICA_EXEC_002 for SUCCEEDED, ICA_EXEC_001 for FAILED and FAILED_FINAL, ICA_EXEC_027 for ABORTED,
each its own event with its own id and `derivedFrom` naming the original. The seed has no
status-change code for workflow sessions or base jobs, so nothing is derived for them. A specific
analysis event is identified by (code, analysis id, status) whoever sends it (`analysis_fact`), so
a derived event and the same one posted by a platform are one event.
"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from herald.adapters.queues import QueueSendError
from herald.domain import catalog, clock, ids
from herald.domain.messages import RouteEvent
from herald.domain.models import Event
from herald.logic.services import Services

STATUS_CHANGE_CODE = "ICA_EXEC_028"
# Final analysis states → the specific event each implies.
ANALYSIS_OUTCOME_CODES = {
    "SUCCEEDED": "ICA_EXEC_002",
    "FAILED": "ICA_EXEC_001",
    "FAILED_FINAL": "ICA_EXEC_001",
    "ABORTED": "ICA_EXEC_027",
}
SPECIFIC_ANALYSIS_CODES = frozenset(ANALYSIS_OUTCOME_CODES.values())


class NotQueuedError(RuntimeError):
    """The event is stored, but the events queue did not take it: it is marked unqueued, and the
    scheduled function's sweep queues it within minutes."""

    def __init__(self, event_id: str) -> None:
        super().__init__(f"event {event_id} is stored but could not be queued")
        self.event_id = event_id


def emit(
    services: Services,
    project_id: str,
    code: str,
    payload: dict[str, Any],
    *,
    key: str | None,
    description: str | None = None,
    timestamp: str | None = None,
    payload_version: str | None = None,
    derived_from: str | None = None,
) -> Event:
    """Store Herald's own event once per occurrence and queue it for routing; returns the stored
    event. `key` names the occurrence within the project; a specific analysis event is named by
    its analysis fact instead (`key=None` for derived events). Raises NotQueuedError."""
    known = catalog.lookup(code)
    event = new_event(
        project_id,
        code,
        payload,
        key,
        description=description or (known.description if known else code),
        timestamp=timestamp,
        payload_version=payload_version,
        derived_from=derived_from,
    )
    stored, created = services.events.put_if_new(event)
    if created or not stored.routed:  # emitted before but never queued: queued now
        queue_for_routing(services, stored.id, stored.projectId)
    return stored


def derive(services: Services, event: Event) -> None:
    """Emit the specific event a final analysis status change implies (idempotent)."""
    if event.eventCode != STATUS_CHANGE_CODE:
        return
    code = ANALYSIS_OUTCOME_CODES.get(str(event.payload.get("status")))
    if code is None or not isinstance(event.payload.get("id"), str):
        return
    emit(
        services,
        event.projectId,
        code,
        event.payload,
        key=None,
        payload_version=event.payloadVersion,
        timestamp=event.timestamp,
        derived_from=event.id,
    )


def analysis_fact(event_code: str, payload: dict[str, Any]) -> tuple[str, str, str] | None:
    """(code, analysis id, status) for a specific analysis event: its identity, whoever sends it."""
    analysis_id, status = payload.get("id"), payload.get("status")
    if event_code in SPECIFIC_ANALYSIS_CODES and isinstance(analysis_id, str) and isinstance(status, str):
        return event_code, analysis_id, status
    return None


def new_event(
    project_id: str,
    code: str,
    payload: dict[str, Any],
    key: str | None,
    *,
    description: str | None = None,
    timestamp: str | None = None,
    payload_version: str | None = None,
    derived_from: str | None = None,
) -> Event:
    """The event as it will be stored, its id following the identity rules: the analysis fact for
    a specific analysis event, else `key` (an idempotency id), else a new id."""
    now = clock.now()
    fact = analysis_fact(code, payload)
    if fact:
        event_id = ids.event_id_for(project_id, ":".join(fact))  # "code:analysis id:status"
        correlation_id = key or event_id
    elif key:
        event_id = ids.event_id_for(project_id, key)
        correlation_id = key
    else:
        event_id = correlation_id = ids.new_id()
    return Event(
        id=event_id,
        projectId=project_id,
        eventCode=code,
        description=description or code,
        payload=payload,
        correlationId=correlation_id,
        timestamp=timestamp or clock.utc_iso(now),
        createdAt=now,
        payloadVersion=payload_version,
        derivedFrom=derived_from,
    )


def queue_for_routing(
    services: Services, event_id: str, project_id: str, *, already_marked: bool = False
) -> None:
    """Queue a stored event for routing: the one way an event reaches the events queue.

    Storing comes first, so an event SQS refuses is never lost: it is marked unqueued (visible as
    failed, never silently pending) and NotQueuedError is raised; the sweep
    (`accept.requeue_unqueued`) or the same event posted again queues it. The sweep passes
    `already_marked`: a refusal then leaves the event's mark as it is, so the event keeps its place
    (oldest first) and is tried again at the next sweep rather than after a new grace period.
    """
    try:
        services.queues.send(services.queues.events_url, [RouteEvent(eventId=event_id, projectId=project_id)])
    except (QueueSendError, ClientError, BotoCoreError) as exc:
        if not already_marked:
            services.events.mark_unqueued(
                event_id,
                project_id,
                f"could not be queued for routing ({type(exc).__name__}); Herald queues it again "
                "within minutes, or post it again with the same id",
                clock.now(),
            )
        raise NotQueuedError(event_id) from exc
