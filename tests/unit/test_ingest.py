"""Accepting events: stored once per idempotency id, queued for routing."""

from __future__ import annotations

import json
import time

import pytest

from herald.dal import layout
from herald.domain import clock
from herald.logic import accept, routing
from herald.logic.services import Services
from tests.unit.builders import ANALYSIS


def _queued(services: Services) -> list[dict]:
    sqs = services.queues.sqs
    msgs = sqs.receive_message(QueueUrl=services.queues.events_url, MaxNumberOfMessages=10).get(
        "Messages", []
    )
    return [json.loads(m["Body"]) for m in msgs]


def test_accepted_event_is_stored_pending_and_queued(services: Services) -> None:
    event, created = accept.accept_event(services, "p1", "ICA_EXEC_002", ANALYSIS)
    assert created
    stored = services.events.get(event.id)
    assert stored is not None and stored.payload == ANALYSIS and stored.status == "pending"
    assert _queued(services) == [{"kind": "event", "eventId": event.id, "projectId": "p1"}]


def test_same_client_id_returns_the_same_event_once(services: Services) -> None:
    first, created1 = accept.accept_event(services, "p1", "ICA_EXEC_002", ANALYSIS, client_id="abc")
    services.events.mark_routed(first.id)
    second, created2 = accept.accept_event(services, "p1", "ICA_EXEC_002", ANALYSIS, client_id="abc")
    assert (created1, created2) == (True, False)
    assert second.id == first.id
    assert second.correlationId == "abc"
    assert len(_queued(services)) == 1


def test_same_client_id_in_another_project_is_another_event(services: Services) -> None:
    a, _ = accept.accept_event(services, "p1", "ICA_EXEC_002", ANALYSIS, client_id="abc")
    b, created = accept.accept_event(services, "p2", "ICA_EXEC_002", ANALYSIS, client_id="abc")
    assert created and a.id != b.id


def test_reused_client_id_with_different_content_is_a_conflict(services: Services) -> None:
    accept.accept_event(services, "p1", "ICA_DATA_108", {"id": "fil.1"}, client_id="abc")
    with pytest.raises(accept.EventConflictError, match="already used for a different event"):
        accept.accept_event(services, "p1", "ICA_DATA_108", {"id": "fil.2"}, client_id="abc")


def test_unrouted_duplicate_is_queued_again(services: Services) -> None:
    accept.accept_event(services, "p1", "ICA_EXEC_002", ANALYSIS, client_id="abc")
    accept.accept_event(services, "p1", "ICA_EXEC_002", ANALYSIS, client_id="abc")
    assert len(_queued(services)) == 2


def test_oversized_payload_is_refused_before_storing(services: Services) -> None:
    with pytest.raises(accept.PayloadTooLargeError, match="limit is 262144"):
        accept.accept_event(services, "p1", "ICA_EXEC_002", {"blob": "x" * 300_000})


def test_event_expires_after_the_retention_period(services: Services) -> None:
    event, _ = accept.accept_event(services, "p1", "ICA_EXEC_002", ANALYSIS)
    item = services.table.get(layout.event(event.id))
    assert item is not None
    assert item["expiresAt"] == int(event.createdAt) + 30 * 86400


def test_event_that_cannot_be_queued_is_failed_visibly_until_posted_again(
    services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    from herald.adapters.queues import QueueSendError

    real_send = services.queues.send

    def refuse(queue_url: str, messages: list) -> None:
        raise QueueSendError("1 message(s) not accepted by SQS (InternalError: try again)")

    monkeypatch.setattr(services.queues, "send", refuse)
    with pytest.raises(accept.IngestUnavailableError, match="retry with the same id"):
        accept.accept_event(services, "p1", "ICA_DATA_108", {"id": "f"}, client_id="c-1")
    [event] = services.events.list_page("p1", 10, None, now=time.time()).items
    assert event.status == "failed" and "could not be queued" in (event.routingError or "")

    monkeypatch.setattr(services.queues, "send", real_send)
    again, created = accept.accept_event(services, "p1", "ICA_DATA_108", {"id": "f"}, client_id="c-1")
    assert (again.id, created) == (event.id, False)
    routing.route_event(services, event.id)
    stored = services.events.get(event.id, consistent=True)
    assert (stored.status, stored.routingError) == ("success", None)


# --- the sweeper: events stored but not queued -----------------------------------------------------
def _unqueued(services: Services, monkeypatch: pytest.MonkeyPatch) -> str:
    """An event whose RouteEvent SQS refused (the API answered 503), posted without an id."""
    from herald.adapters.queues import QueueSendError

    def refuse(queue_url: str, messages: list) -> None:
        raise QueueSendError("1 message(s) not accepted by SQS (InternalError: try again)")

    with monkeypatch.context() as patch:
        patch.setattr(services.queues, "send", refuse)
        with pytest.raises(accept.IngestUnavailableError):
            accept.accept_event(services, "p1", "ICA_EXEC_002", ANALYSIS)
    [event] = services.events.list_page("p1", 10, None, now=time.time()).items
    return event.id


def _later(monkeypatch: pytest.MonkeyPatch, seconds: float) -> None:
    at = time.time() + seconds
    monkeypatch.setattr(clock, "now", lambda: at)


def test_the_sweep_queues_an_event_that_could_not_be_queued_and_it_reads_pending_again(
    services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    event_id = _unqueued(services, monkeypatch)
    _later(monkeypatch, accept.UNQUEUED_GRACE_SECONDS + 1)

    assert accept.requeue_unqueued(services) == 1

    assert _queued(services) == [{"kind": "event", "eventId": event_id, "projectId": "p1"}]
    stored = services.events.get(event_id, consistent=True)
    assert stored is not None and stored.status == "pending" and stored.routingError is None
    assert accept.requeue_unqueued(services) == 0  # queued once, then off the sweeper's list


def test_the_sweep_leaves_a_just_failed_event_to_the_producers_retry_for_a_minute(
    services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    _unqueued(services, monkeypatch)

    assert accept.requeue_unqueued(services) == 0
    assert _queued(services) == []


def test_while_sqs_still_refuses_the_event_stays_failed_and_waits_for_the_next_sweep(
    services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    from herald.adapters.queues import QueueSendError

    event_id = _unqueued(services, monkeypatch)
    _later(monkeypatch, accept.UNQUEUED_GRACE_SECONDS + 1)
    real_send = services.queues.send

    def refuse(queue_url: str, messages: list) -> None:
        raise QueueSendError("still down")

    monkeypatch.setattr(services.queues, "send", refuse)
    assert accept.requeue_unqueued(services) == 0
    assert services.events.get(event_id, consistent=True).status == "failed"  # type: ignore[union-attr]

    monkeypatch.setattr(services.queues, "send", real_send)
    assert accept.requeue_unqueued(services) == 1


def test_a_refused_sweep_leaves_the_events_first_failure_and_its_place_in_the_sweep(
    services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    from botocore.exceptions import EndpointConnectionError

    event_id = _unqueued(services, monkeypatch)
    first = services.events.get(event_id, consistent=True)
    assert first is not None and "QueueSendError" in (first.routingError or "")
    _later(monkeypatch, accept.UNQUEUED_GRACE_SECONDS + 1)

    def unreachable(queue_url: str, messages: list) -> None:
        raise EndpointConnectionError(endpoint_url="http://127.0.0.1:9")

    with monkeypatch.context() as patch:
        patch.setattr(services.queues, "send", unreachable)
        assert accept.requeue_unqueued(services) == 0

    stored = services.events.get(event_id, consistent=True)
    assert stored is not None and (stored.status, stored.routingError) == ("failed", first.routingError)
    listed = services.events.unqueued(clock.now() - accept.UNQUEUED_GRACE_SECONDS, accept.SWEEP_LIMIT)
    assert listed == [(event_id, "p1")]  # still due: the next sweep tries it again


def test_an_event_the_producer_reposted_and_got_routed_is_not_reopened_by_the_sweep(
    services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    event_id = _unqueued(services, monkeypatch)
    routing.route_event(services, event_id)  # e.g. queued by a repost with the same id
    _later(monkeypatch, accept.UNQUEUED_GRACE_SECONDS + 1)

    accept.requeue_unqueued(services)

    stored = services.events.get(event_id, consistent=True)
    assert stored is not None and stored.routed and stored.status == "success"
