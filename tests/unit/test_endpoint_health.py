"""Endpoint health around each delivery: circuit breaking, pauses, disabling, operational events."""

from __future__ import annotations

import pytest

from herald import names
from herald.dal.channel_health import HealthStore
from herald.dev.local.resources import LocalResources
from herald.domain import clock, ids
from herald.domain.circuit import CircuitState
from herald.domain.messages import DeliverNotification, RouteEvent
from herald.domain.models import Channel, NotificationStatus
from herald.domain.settings import get_settings, reset_settings
from herald.logic import accept, delivery, endpoint_health, lifecycle, operational, routing
from herald.logic.services import Services, build_services
from herald.targets.http import run
from tests.conftest import Receiver
from tests.unit.builders import ANALYSIS, channel, subscription

T0 = 1_800_000_000.0


class FakeClock:
    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.now = T0
        monkeypatch.setattr(clock, "now", lambda: self.now)

    def advance(self, seconds: float) -> None:
        self.now += seconds
        endpoint_health.forget()  # the per-process cache would hide the change for a second


@pytest.fixture
def fake_clock(monkeypatch: pytest.MonkeyPatch) -> FakeClock:
    return FakeClock(monkeypatch)


@pytest.fixture
def svc(resources: LocalResources, monkeypatch: pytest.MonkeyPatch) -> Services:
    """Small thresholds: 3 failures in a row open a circuit, 60 s cool-down, disabled after 1 h."""
    services = _reconfigured(
        monkeypatch,
        {
            names.ENV_CIRCUIT_CONSECUTIVE_FAILURES: "3",
            names.ENV_CIRCUIT_MIN_ATTEMPTS: "10",
            names.ENV_CIRCUIT_FAILURE_RATE: "0.7",
            names.ENV_CIRCUIT_COOLDOWN_SECONDS: "60",
            names.ENV_DISABLE_AFTER_SECONDS: "3600",
            names.ENV_RETRY_SCHEDULE: "0,0,0,0,0,0,0,0,0",
        },
    )
    _watch_operations(services)
    return services


def _reconfigured(monkeypatch: pytest.MonkeyPatch, env: dict[str, str]) -> Services:
    """Services on the same table and queues, with these settings changed."""
    for var, value in env.items():
        monkeypatch.setenv(var, value)
    reset_settings()
    return build_services(get_settings())


def _watch_operations(services: Services, project: str = "p1") -> None:
    """Project p1 subscribes a channel of its own to Herald's operational events."""
    ops = channel(services, "http://127.0.0.1:9/ops")
    for code in operational.CODES:
        subscription(services, ops.id, project=project, code=code)


def _notify(
    services: Services, ch: Channel, n: int = 1, code: str = "ICA_EXEC_002"
) -> list[DeliverNotification]:
    """`n` events to a subscription of `ch`; the delivery messages routing queued for them."""
    if not any(s.notificationChannelId == ch.id for s in services.subscriptions.list_all("p1")):
        subscription(services, ch.id, code=code)
    messages = []
    for i in range(n):
        event, _ = accept.accept_event(services, "p1", code, {**ANALYSIS, "id": f"a{i}-{ids.new_id()}"})
        routing.route_event(services, event.id)
    sqs = services.queues.sqs
    while len(messages) < n:
        got = sqs.receive_message(QueueUrl=services.queues.deliveries_url, MaxNumberOfMessages=10)
        batch = got.get("Messages", [])
        assert batch, "routing queued fewer deliveries than events"
        messages += [DeliverNotification.model_validate_json(m["Body"]) for m in batch]
    return messages


def _deliver(services: Services, message: DeliverNotification) -> delivery.Decision:
    return run(delivery.deliver(services, message, receive_count=1))


def _health(services: Services, ch: Channel) -> object:
    return services.channel_health.get(ch.id, consistent=True)


def _operational_events(services: Services, code: str) -> list[dict]:
    """Payloads of the operational events of `code` queued for routing."""
    found = []
    sqs = services.queues.sqs
    while True:
        got = sqs.receive_message(QueueUrl=services.queues.events_url, MaxNumberOfMessages=10)
        batch = got.get("Messages", [])
        if not batch:
            return found
        for m in batch:
            event = services.events.get(RouteEvent.model_validate_json(m["Body"]).eventId)
            if event and event.eventCode == code:
                found.append(event.payload)


def _open_circuit(services: Services, receiver: Receiver) -> tuple[Channel, list[DeliverNotification]]:
    receiver.statuses = [500] * 3
    ch = channel(services, receiver.url)
    messages = _notify(services, ch, 4)
    for m in messages[:3]:
        assert _deliver(services, m).outcome == "retry"
    return ch, messages


def test_consecutive_failures_open_the_circuit(
    svc: Services, receiver: Receiver, fake_clock: FakeClock
) -> None:
    ch, _ = _open_circuit(svc, receiver)

    health = _health(svc, ch)

    assert (health.state, health.consecutiveFailures, health.openedAt) == (CircuitState.OPEN, 3, T0)


def test_an_open_circuit_defers_deliveries_without_sending_or_using_an_attempt(
    svc: Services, receiver: Receiver, fake_clock: FakeClock
) -> None:
    _, messages = _open_circuit(svc, receiver)

    decision = _deliver(svc, messages[3])

    assert (decision.outcome, decision.disposition) == (
        "deferred",
        lifecycle.resend_after(60, decision.disposition.reason),
    )
    assert "circuit is open" in decision.disposition.reason
    assert len(receiver.requests) == 3
    n = svc.notifications.get(messages[3].eventId, messages[3].subscriptionId)
    assert (n.status, n.attempts) == (NotificationStatus.PENDING, [])


def test_opening_the_circuit_emits_channel_failing_once(
    svc: Services, receiver: Receiver, fake_clock: FakeClock
) -> None:
    ch, messages = _open_circuit(svc, receiver)
    _deliver(svc, messages[3])  # deferred: no second event

    [payload] = _operational_events(svc, operational.CHANNEL_FAILING)

    assert payload["channelId"] == ch.id
    assert (payload["state"], payload["consecutiveFailures"], payload["lastError"]) == ("open", 3, "HTTP 500")
    assert "secret" not in payload


def test_a_mostly_failing_window_opens_the_circuit(
    svc: Services, receiver: Receiver, fake_clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    services = _reconfigured(monkeypatch, {names.ENV_CIRCUIT_CONSECUTIVE_FAILURES: "100"})
    receiver.statuses = [500, 500, 200] * 3 + [500]  # 7 of 10 fail, never 3 in a row
    ch = channel(services, receiver.url)
    messages = _notify(services, ch, 11)

    for m in messages[:10]:
        _deliver(services, m)

    health = _health(services, ch)
    assert (health.state, health.windowAttempts, health.windowFailures) == (CircuitState.OPEN, 10, 7)
    assert _deliver(services, messages[10]).outcome == "deferred"


def test_other_channels_are_untouched_by_an_open_circuit(
    svc: Services, receiver: Receiver, fake_clock: FakeClock
) -> None:
    _open_circuit(svc, receiver)
    healthy = channel(svc, receiver.url + "/other")
    sub = subscription(svc, healthy.id, code="ICA_EXEC_001")
    event, _ = accept.accept_event(svc, "p1", "ICA_EXEC_001", {**ANALYSIS, "status": "FAILED"})
    routing.route_event(svc, event.id)
    message = DeliverNotification(
        eventId=event.id, subscriptionId=sub.id, notificationId=ids.notification_id_for(event.id, sub.id)
    )

    assert _deliver(svc, message).outcome == "delivered"


def test_after_the_cool_down_one_probe_goes_and_its_success_closes_the_circuit(
    svc: Services, receiver: Receiver, fake_clock: FakeClock
) -> None:
    ch, messages = _open_circuit(svc, receiver)
    fake_clock.advance(61)

    decision = _deliver(svc, messages[3])

    assert decision.outcome == "delivered"
    health = _health(svc, ch)
    assert (health.state, health.consecutiveFailures, health.failingSince) == (CircuitState.CLOSED, 0, None)
    [payload] = _operational_events(svc, operational.CHANNEL_RECOVERED)
    assert (payload["channelId"], payload["state"]) == (ch.id, "closed")


def test_only_one_probe_goes_out_at_a_time(svc: Services, receiver: Receiver, fake_clock: FakeClock) -> None:
    ch, _ = _open_circuit(svc, receiver)
    fake_clock.advance(61)

    first, _ = endpoint_health.before_send(svc, ch, fake_clock.now)
    endpoint_health.forget()
    second, _ = endpoint_health.before_send(svc, ch, fake_clock.now)

    assert (first.go, first.probe) == (True, True)
    assert (second.go, second.reason) == (False, "a probe delivery is in flight")


def test_a_failed_probe_opens_the_circuit_for_another_cool_down(
    svc: Services, receiver: Receiver, fake_clock: FakeClock
) -> None:
    ch, messages = _open_circuit(svc, receiver)
    fake_clock.advance(61)
    receiver.statuses = [500]

    assert _deliver(svc, messages[3]).outcome == "retry"

    health = _health(svc, ch)
    assert (health.state, health.openedAt) == (CircuitState.OPEN, T0 + 61)


def test_a_healthy_channel_s_successes_write_no_health(
    svc: Services, receiver: Receiver, fake_clock: FakeClock
) -> None:
    ch = channel(svc, receiver.url)
    for m in _notify(svc, ch, 3):
        assert _deliver(svc, m).outcome == "delivered"

    assert _health(svc, ch) is None


def test_410_gone_disables_the_channel_and_fails_the_notification_at_once(
    svc: Services, receiver: Receiver, fake_clock: FakeClock
) -> None:
    receiver.statuses = [410]
    ch = channel(svc, receiver.url)
    first, _ = _notify(svc, ch, 2)

    decision = _deliver(svc, first)

    assert decision.outcome == "failed"
    stored = svc.channels.get(ch.id)
    assert (stored.enabled, stored.disabledReason) == (False, "the receiver answered 410 Gone")
    n = svc.notifications.get(first.eventId, first.subscriptionId)
    assert (n.status, [a.httpStatus for a in n.attempts]) == (NotificationStatus.FAILED, [410])
    [payload] = _operational_events(svc, operational.CHANNEL_DISABLED)
    assert (payload["channelId"], payload["reason"]) == (ch.id, "the receiver answered 410 Gone")


def test_deliveries_to_a_disabled_channel_are_kept_failed_without_an_attempt(
    svc: Services, receiver: Receiver, fake_clock: FakeClock
) -> None:
    receiver.statuses = [410]
    ch = channel(svc, receiver.url)
    first, second = _notify(svc, ch, 2)
    _deliver(svc, first)

    assert _deliver(svc, second).outcome == "failed"

    n = svc.notifications.get(second.eventId, second.subscriptionId)
    assert (n.status, n.attempts) == (NotificationStatus.FAILED, [])
    assert n.lastError == "the channel is disabled (the receiver answered 410 Gone)"
    assert len(receiver.requests) == 1


def test_a_channel_failing_every_attempt_for_the_disable_period_is_disabled(
    svc: Services, receiver: Receiver, fake_clock: FakeClock
) -> None:
    ch, messages = _open_circuit(svc, receiver)  # failing since T0
    fake_clock.advance(3600)  # the circuit's cool-down is long over: the next delivery probes
    receiver.statuses = [500]

    _deliver(svc, messages[3])

    stored = svc.channels.get(ch.id)
    assert stored.enabled is False
    assert stored.disabledReason.startswith("every delivery failed since ")
    [payload] = _operational_events(svc, operational.CHANNEL_DISABLED)
    assert payload["channelId"] == ch.id


def test_a_success_in_between_restarts_the_disable_period(
    svc: Services, receiver: Receiver, fake_clock: FakeClock
) -> None:
    receiver.statuses = [500, 200, 500]
    ch = channel(svc, receiver.url)
    messages = _notify(svc, ch, 3)
    _deliver(svc, messages[0])
    fake_clock.advance(1800)
    _deliver(svc, messages[1])
    fake_clock.advance(1800)

    _deliver(svc, messages[2])

    assert svc.channels.get(ch.id).enabled is True
    assert _health(svc, ch).failingSince == T0 + 3600


def test_retry_after_pauses_the_whole_channel(
    svc: Services, receiver: Receiver, fake_clock: FakeClock
) -> None:
    receiver.statuses, receiver.retry_after = [429], "30"
    ch = channel(svc, receiver.url)
    first, second = _notify(svc, ch, 2)

    assert _deliver(svc, first).outcome == "retry"
    decision = _deliver(svc, second)

    assert (decision.outcome, decision.disposition.seconds) == ("deferred", 30)
    assert "Retry-After" in decision.disposition.reason
    assert _health(svc, ch).state is CircuitState.CLOSED  # throttling is not failing
    fake_clock.advance(31)
    assert _deliver(svc, second).outcome == "delivered"


def test_the_last_failed_attempt_emits_notification_exhausted(
    svc: Services, receiver: Receiver, fake_clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    services = _reconfigured(
        monkeypatch, {names.ENV_RETRY_SCHEDULE: "0"}
    )  # the same table: p1 still watches operations
    receiver.statuses = [500, 503]
    ch = channel(services, receiver.url)
    [message] = _notify(services, ch, 1)

    decisions = [_deliver(services, message) for _ in range(2)]

    assert [d.outcome for d in decisions] == ["retry", "failed"]
    [payload] = _operational_events(services, operational.NOTIFICATION_EXHAUSTED)
    assert payload == {
        "notificationId": message.notificationId,
        "eventId": message.eventId,
        "eventCode": "ICA_EXEC_002",
        "subscriptionId": message.subscriptionId,
        "channelId": ch.id,
        "cycle": 1,
        "attempts": 2,
        "lastError": "HTTP 503",
    }


def test_no_exhausted_event_is_emitted_about_an_operational_event(
    svc: Services, receiver: Receiver, fake_clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    services = _reconfigured(monkeypatch, {names.ENV_RETRY_SCHEDULE: ""})
    receiver.statuses = [500]
    ch = channel(services, receiver.url)
    sub = subscription(services, ch.id, code=operational.CHANNEL_FAILING)
    event, _ = accept.accept_event(services, "p1", operational.CHANNEL_FAILING, {"channelId": "c"})
    _operational_events(services, "-")  # drain the routing message
    routing.route_event(services, event.id)
    message = DeliverNotification(
        eventId=event.id, subscriptionId=sub.id, notificationId=ids.notification_id_for(event.id, sub.id)
    )

    assert _deliver(services, message).outcome == "failed"
    assert _operational_events(services, operational.NOTIFICATION_EXHAUSTED) == []


def test_deferrals_do_not_advance_the_retry_schedule(
    svc: Services, receiver: Receiver, fake_clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    services = _reconfigured(monkeypatch, {names.ENV_RETRY_SCHEDULE: "7,9"})
    receiver.statuses, receiver.retry_after = [429, 500], "5"
    ch = channel(services, receiver.url)
    [message] = _notify(services, ch, 1)

    first = _deliver(services, message)  # attempt 1: 429, pauses the channel 5 s
    deferred = _deliver(services, message)  # held back: no attempt
    fake_clock.advance(6)
    second = _deliver(services, message)  # attempt 2: 500

    assert (first.outcome, first.disposition.seconds) == ("retry", 7)
    assert deferred.outcome == "deferred"
    assert (second.outcome, second.disposition.seconds) == ("retry", 9)
    n = services.notifications.get(message.eventId, message.subscriptionId)
    assert [a.httpStatus for a in n.attempts] == [429, 500]


def test_a_project_that_does_not_subscribe_gets_no_operational_events(
    resources: LocalResources, receiver: Receiver, fake_clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    services = _reconfigured(monkeypatch, {names.ENV_CIRCUIT_CONSECUTIVE_FAILURES: "3"})
    ch, _ = _open_circuit(services, receiver)

    assert _health(services, ch).state is CircuitState.OPEN
    assert _operational_events(services, operational.CHANNEL_FAILING) == []


def test_a_wildcard_subscription_does_not_receive_operational_events(
    svc: Services, receiver: Receiver
) -> None:
    everything = subscription(svc, channel(svc, receiver.url).id, code="*")
    event, _ = accept.accept_event(svc, "p1", operational.CHANNEL_FAILING, {"channelId": "c"})

    routing.route_event(svc, event.id)

    notified = {n.subscriptionId for n in svc.events.get_with_notifications(event.id)[1]}
    assert everything.id not in notified
    assert len(notified) == 1  # the project's own subscription to herald.channel.failing


def test_deliveries_held_back_by_a_long_open_circuit_stay_away_longer(
    svc: Services, receiver: Receiver, fake_clock: FakeClock
) -> None:
    ch, messages = _open_circuit(svc, receiver)  # failing since T0
    fake_clock.advance(3000)
    # Opened again just now (as after a failed probe): its cool-down has 60 s to run.
    assert svc.channel_health.open_circuit(ch.id, fake_clock.now, CircuitState.OPEN)
    endpoint_health.forget()

    decision = _deliver(svc, messages[3])

    # A quarter of the 3,000 s it has been failing (not the 60 s cool-down), at most 900 s.
    assert (decision.outcome, decision.disposition.seconds) == ("deferred", 750)


def test_a_health_update_that_fails_does_not_fail_the_recorded_delivery(
    svc: Services, receiver: Receiver, fake_clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    receiver.statuses = [500]
    ch = channel(svc, receiver.url)
    [message] = _notify(svc, ch, 1)

    def throttled(*args: object, **kwargs: object) -> None:
        raise RuntimeError("ProvisionedThroughputExceededException")

    monkeypatch.setattr(HealthStore, "record", throttled)
    decision = _deliver(svc, message)

    assert decision.outcome == "retry"  # not a crash that would send it again at once
    n = svc.notifications.get(message.eventId, message.subscriptionId)
    assert [a.httpStatus for a in n.attempts] == [500]
