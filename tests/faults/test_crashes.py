"""Handlers that crash mid-batch: the rest of the batch goes on, the crashed record is retried, and
a record that keeps crashing ends in its dead-letter queue and is marked failed there.

In-process (moto); the queues are driven like Lambda's event source mappings (`world.pump`).
"""

from __future__ import annotations

from typing import Any

import pytest

from herald.domain.messages import DeliverNotification, RouteEvent
from herald.domain.models import NotificationStatus
from herald.logic import accept, delivery, routing
from tests.faults.conftest import World
from tests.faults.support import FaultReceiver
from tests.unit.builders import ANALYSIS, channel, subscription

# A batch whose every record failed publishes no metrics, and Powertools says so.
pytestmark = pytest.mark.filterwarnings("ignore:No application metrics to publish:UserWarning")


class Crash(RuntimeError):
    pass


def _fan_out(world: World, url: str, subscribers: int = 3) -> tuple[str, list[Any]]:
    """One event, `subscribers` subscriptions (each its own channel), routed: the deliveries queue
    holds one message per notification."""
    subs = [subscription(world.services, channel(world.services, url).id) for _ in range(subscribers)]
    event, _ = accept.accept_event(world.services, "p1", "ICA_EXEC_002", ANALYSIS)
    assert world.pump.once("filter") == 1
    return event.id, subs


def _notifications(world: World, event_id: str) -> dict[str, Any]:
    event, notifications = world.services.events.get_with_notifications(event_id, consistent=True)
    assert event is not None
    return {"event": event, **{n.subscriptionId: n for n in notifications}}


def test_a_crash_while_recording_one_attempt_fails_only_that_record_which_is_retried(
    world: World, faulty: FaultReceiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    event_id, subs = _fan_out(world, faulty.url)
    victim = subs[1].id
    real_settle = delivery.record_attempt

    def settle(services: Any, message: DeliverNotification, *args: Any) -> Any:
        if message.subscriptionId == victim:
            raise Crash("injected crash while recording the attempt")
        return real_settle(services, message, *args)

    monkeypatch.setattr(delivery, "record_attempt", settle)
    assert world.pump.once("deliver") == 3

    [failed] = world.pump.failures("deliver")
    assert [DeliverNotification.model_validate_json(b).subscriptionId for b in failed] == [victim]
    state = _notifications(world, event_id)
    for sub in (subs[0], subs[2]):
        assert state[sub.id].status == NotificationStatus.SUCCESS
        assert len(state[sub.id].attempts) == 1
    # The crash came after the POST: the receiver has it, Herald has no record of the attempt.
    assert (state[victim].status, state[victim].attempts) == (NotificationStatus.PENDING, [])
    assert state["event"].status == NotificationStatus.PENDING

    monkeypatch.setattr(delivery, "record_attempt", real_settle)
    world.pump.drain()

    state = _notifications(world, event_id)
    assert state["event"].status == NotificationStatus.SUCCESS
    assert state[victim].status == NotificationStatus.SUCCESS
    assert [a.success for a in state[victim].attempts] == [True]
    counts = faulty.answered_ok()
    assert sorted(counts.values()) == [1, 1, 2]  # at least once: the crashed send is repeated
    assert counts[state[victim].id] == 2
    assert world.queue_depth(world.res.deliveries_queue_url) == 0


def test_a_record_that_crashes_before_sending_every_time_ends_failed_through_the_dlq(
    world: World, faulty: FaultReceiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    event_id, subs = _fan_out(world, faulty.url)
    victim = subs[0].id
    real_prepare = delivery.prepare

    def prepare(services: Any, message: DeliverNotification, *args: Any) -> Any:
        if message.subscriptionId == victim:
            raise Crash("injected crash before the send")
        return real_prepare(services, message, *args)

    monkeypatch.setattr(delivery, "prepare", prepare)
    world.pump.drain()

    # Three receives (maxReceiveCount = 3 attempts for schedule 0,0), then the DLQ and reprocess.
    crashed = [b for batch in world.pump.failures("deliver") for b in batch]
    assert len(crashed) == world.services.settings.max_attempts == 3
    state = _notifications(world, event_id)
    assert state[victim].status == NotificationStatus.FAILED
    assert state[victim].attempts == []
    assert state[victim].lastError is not None
    assert state[victim].lastError.startswith("retries exhausted: no attempt could be made (") and state[
        victim
    ].lastError.endswith(" tries of the deliver function failed)")
    for sub in subs[1:]:
        assert state[sub.id].status == NotificationStatus.SUCCESS
    assert state["event"].status == NotificationStatus.FAILED
    assert state[victim].id not in faulty.answered_ok()  # never sent
    assert len(faulty.requests) == 2
    for url in (world.res.deliveries_queue_url, world.res.deliveries_dlq_url):
        assert world.queue_depth(url) == 0


def test_a_crash_after_the_send_every_time_ends_failed_although_the_receiver_has_it(
    world: World, faulty: FaultReceiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The limit of at-least-once: Herald cannot know a send it could not record. The notification
    ends failed (visible, reprocessable), and the receiver saw it once per try."""
    event_id, subs = _fan_out(world, faulty.url, subscribers=2)
    victim = subs[0].id
    real_settle = delivery.record_attempt

    def settle(services: Any, message: DeliverNotification, *args: Any) -> Any:
        if message.subscriptionId == victim:
            raise Crash("injected crash while recording the attempt")
        return real_settle(services, message, *args)

    monkeypatch.setattr(delivery, "record_attempt", settle)
    world.pump.drain()

    state = _notifications(world, event_id)
    assert state[victim].status == NotificationStatus.FAILED
    assert state[subs[1].id].status == NotificationStatus.SUCCESS
    assert faulty.answered_ok()[state[victim].id] == 3


def test_a_routing_crash_for_one_event_leaves_the_others_of_the_batch_routed(
    world: World, faulty: FaultReceiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    for project in ("p1", "p2", "p3"):
        subscription(world.services, channel(world.services, faulty.url).id, project=project)
    events = {
        p: accept.accept_event(world.services, p, "ICA_EXEC_002", ANALYSIS)[0].id for p in ("p1", "p2", "p3")
    }
    real_route = routing.route_event
    crashes = {"left": 1}

    def route(services: Any, event_id: str, *args: Any) -> int:
        if event_id == events["p2"] and crashes["left"]:
            crashes["left"] -= 1
            raise Crash("injected crash while routing")
        return real_route(services, event_id, *args)

    monkeypatch.setattr(routing, "route_event", route)
    assert world.pump.once("filter") == 3

    [failed] = world.pump.failures("filter")
    assert [RouteEvent.model_validate_json(b).eventId for b in failed] == [events["p2"]]
    assert world.services.events.get(events["p2"], consistent=True).status == NotificationStatus.PENDING

    world.pump.drain()

    for event_id in events.values():
        assert world.services.events.get(event_id, consistent=True).status == NotificationStatus.SUCCESS
    assert sorted(faulty.answered_ok().values()) == [1, 1, 1]


def test_an_event_whose_routing_crashes_every_time_ends_failed_through_the_dlq(
    world: World, faulty: FaultReceiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    subscription(world.services, channel(world.services, faulty.url).id)
    event, _ = accept.accept_event(world.services, "p1", "ICA_EXEC_002", ANALYSIS)

    def route(services: Any, event_id: str, lookup: Any = None) -> int:
        raise Crash("injected crash while routing")

    monkeypatch.setattr(routing, "route_event", route)
    world.pump.drain()

    assert sum(len(b) for b in world.pump.failures("filter")) == 5  # EVENTS_MAX_RECEIVE_COUNT
    stored = world.services.events.get(event.id, consistent=True)
    assert stored.status == NotificationStatus.FAILED
    assert stored.routingError is not None
    assert stored.routingError.startswith("routing failed ")
    assert stored.routingError.endswith(" times; see the filter function's logs")
    assert faulty.requests == []
    status = world.services.events.get_with_notifications(event.id)[1]
    assert status == []


def test_the_dead_letter_reason_counts_the_tries_that_were_made(
    world: World, faulty: FaultReceiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    event_id, subs = _fan_out(world, faulty.url, subscribers=1)

    def prepare(services: Any, message: DeliverNotification, *args: Any) -> Any:
        raise Crash("injected crash before the send")

    monkeypatch.setattr(delivery, "prepare", prepare)
    world.pump.drain()

    assert sum(len(b) for b in world.pump.failures("deliver")) == 3
    assert _notifications(world, event_id)[subs[0].id].lastError == (
        "retries exhausted: no attempt could be made (3 tries of the deliver function failed)"
    )


def test_the_routing_failure_reason_counts_the_routings_that_were_tried(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    event, _ = accept.accept_event(world.services, "p1", "ICA_EXEC_002", ANALYSIS)

    def route(services: Any, event_id: str, lookup: Any = None) -> int:
        raise Crash("injected crash while routing")

    monkeypatch.setattr(routing, "route_event", route)
    world.pump.drain()

    assert sum(len(b) for b in world.pump.failures("filter")) == 5
    stored = world.services.events.get(event.id, consistent=True)
    assert stored.routingError == "routing failed 5 times; see the filter function's logs"
