"""Endpoint health through `herald dev`: receivers that fail, recover, go away, and are paced.

Its own `herald dev` with small thresholds: 3 failures in a row open a circuit for 2 s, attempts
1 s apart (three in all), and a channel failing every attempt for 6 s is disabled.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import pytest

from tests.conftest import Receiver
from tests.e2e.conftest import Herald, launched_herald

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]

REFUSED = "http://127.0.0.1:1/hook"  # nothing listens there
ANALYSIS = {"status": "SUCCEEDED", "pipeline": {"code": "CopyToolDev"}}
DISABLE_AFTER = 6


@pytest.fixture(scope="module")
def herald(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Herald]:
    env = {
        "HERALD_CIRCUIT_CONSECUTIVE_FAILURES": "3",
        "HERALD_CIRCUIT_COOLDOWN_SECONDS": "2",
        "HERALD_DISABLE_AFTER_SECONDS": str(DISABLE_AFTER),
    }
    with launched_herald(tmp_path_factory.mktemp("herald-health"), "1,1", env) as instance:
        yield instance


def _channel(herald: Herald, project: str, address: str, **fields: Any) -> str:
    status, body = herald.call(
        "POST",
        "/api/notificationChannels",
        {"type": "HTTP", "address": address, "projects": [project], **fields},
    )
    assert status == 201, body
    return body["id"]


def _subscribe(
    herald: Herald, project: str, channel_id: str, code: str = "ICA_EXEC_002", **fields: Any
) -> str:
    status, body = herald.call(
        "POST",
        f"/api/projects/{project}/notificationSubscriptions",
        {"eventCode": code, "notificationChannelId": channel_id, **fields},
    )
    assert status == 201, body
    return body["id"]


def _post(herald: Herald, project: str, analysis_id: str) -> str:
    status, body = herald.call(
        "POST",
        f"/api/projects/{project}/events",
        {"eventCode": "ICA_EXEC_002", "payload": {**ANALYSIS, "id": analysis_id}},
    )
    assert status == 202, body
    return body["id"]


def _codes(receiver: Receiver) -> list[str]:
    return [json.loads(r["body"])["eventCode"] for r in receiver.requests]


def _health(herald: Herald, channel_id: str) -> dict[str, Any]:
    status, body = herald.call("GET", f"/api/notificationChannels/{channel_id}/health")
    assert status == 200, body
    return body


def _watch_operations(herald: Herald, project: str, receiver: Receiver) -> None:
    ops = _channel(herald, project, receiver.url)
    for code in (
        "herald.channel.failing",
        "herald.channel.recovered",
        "herald.channel.disabled",
        "herald.notification.exhausted",
    ):
        _subscribe(herald, project, ops, code=code)


def test_a_dead_endpoint_s_circuit_opens_and_the_project_hears_of_it(
    herald: Herald, project: str, other_receiver: Receiver
) -> None:
    _watch_operations(herald, project, other_receiver)
    dead = _channel(herald, project, REFUSED)
    _subscribe(herald, project, dead)

    event_id = _post(herald, project, "a-dead-1")

    herald.event_when(event_id, "failed", timeout=30)
    herald.wait_for(lambda: "herald.channel.failing" in _codes(other_receiver), 30, "herald.channel.failing")
    failing = next(json.loads(r["body"]) for r in other_receiver.requests if b"channel.failing" in r["body"])
    assert (failing["projectId"], failing["payload"]["channelId"]) == (project, dead)
    assert failing["payload"]["consecutiveFailures"] == 3
    assert _health(herald, dead)["state"] in ("open", "half-open")
    herald.wait_for(lambda: "herald.notification.exhausted" in _codes(other_receiver), 30, "exhausted")


def test_a_recovered_endpoint_closes_its_circuit_and_says_so(
    herald: Herald, project: str, receiver: Receiver, other_receiver: Receiver
) -> None:
    _watch_operations(herald, project, other_receiver)
    receiver.statuses = [500, 500, 500]
    flaky = _channel(herald, project, receiver.url)
    _subscribe(herald, project, flaky)
    first = _post(herald, project, "a-flaky-1")
    herald.event_when(first, "failed", timeout=30)
    herald.wait_for(lambda: "herald.channel.failing" in _codes(other_receiver), 30, "herald.channel.failing")

    second = _post(herald, project, "a-flaky-2")  # held back until the cool-down, then the probe

    event = herald.event_when(second, "success", timeout=30)
    assert [a["httpStatus"] for a in event["notifications"][0]["attempts"]] == [200]
    herald.wait_for(
        lambda: "herald.channel.recovered" in _codes(other_receiver), 30, "herald.channel.recovered"
    )
    health = _health(herald, flaky)
    assert (health["state"], health["consecutiveFailures"]) == ("closed", 0)


def test_410_gone_disables_the_channel_at_once(
    herald: Herald, project: str, receiver: Receiver, other_receiver: Receiver
) -> None:
    _watch_operations(herald, project, other_receiver)
    receiver.statuses = [410]
    gone = _channel(herald, project, receiver.url)
    _subscribe(herald, project, gone)

    event = herald.event_when(_post(herald, project, "a-gone-1"), "failed", timeout=30)

    assert [a["httpStatus"] for a in event["notifications"][0]["attempts"]] == [410]
    # The attempt is recorded first, the channel disabled right after it.
    channel = herald.wait_for(
        lambda: (c := herald.call("GET", f"/api/notificationChannels/{gone}")[1])["enabled"] is False and c,
        10,
        "the channel to be disabled",
    )
    assert channel["disabledReason"] == "the receiver answered 410 Gone"
    herald.wait_for(
        lambda: "herald.channel.disabled" in _codes(other_receiver), 30, "herald.channel.disabled"
    )
    # Later events are kept as failed without a request, reprocessable once it is enabled again.
    later = herald.event_when(_post(herald, project, "a-gone-2"), "failed", timeout=30)
    assert later["notifications"][0]["attempts"] == []
    assert len(receiver.requests) == 1


def test_an_ordered_subscription_keeps_event_order_through_a_failing_delivery(
    herald: Herald, project: str, receiver: Receiver
) -> None:
    receiver.statuses = [500, 500]  # the first event fails twice (1 s apart), then is delivered
    ch = _channel(herald, project, receiver.url)
    _subscribe(herald, project, ch, ordered=True)

    ids = [_post(herald, project, f"a-ordered-{i}") for i in range(5)]

    for event_id in ids:
        herald.event_when(event_id, "success", timeout=60)
    delivered = [json.loads(r["body"])["payload"]["id"] for r in receiver.requests]
    first_seen = list(dict.fromkeys(delivered))
    assert first_seen == [f"a-ordered-{i}" for i in range(5)]
    assert delivered[:3] == ["a-ordered-0"] * 3  # nothing overtook the failing one


def test_the_rate_limit_paces_a_burst(herald: Herald, project: str, receiver: Receiver) -> None:
    ch = _channel(herald, project, receiver.url, rateLimitPerSecond=4)
    _subscribe(herald, project, ch)

    ids = [_post(herald, project, f"a-paced-{i}") for i in range(12)]

    for event_id in ids:
        herald.event_when(event_id, "success", timeout=60)
    arrivals = sorted(r["at"] for r in receiver.requests)
    busiest = max(sum(1 for t in arrivals if start <= t < start + 1) for start in arrivals)
    # Slots are 1/4 s apart, so a sliding second holds at most N + 1 sends; one more for arrivals
    # that a loaded machine delays unevenly on their way to the receiver.
    assert busiest <= 4 + 2
    assert arrivals[-1] - arrivals[0] >= (12 - 1) / 4 - 1  # 12 at 4/s cannot leave faster


def test_retry_after_pauses_the_channel_and_its_deliveries_wait(
    herald: Herald, project: str, receiver: Receiver
) -> None:
    receiver.statuses, receiver.retry_after = [503], "3"
    ch = _channel(herald, project, receiver.url)
    _subscribe(herald, project, ch)
    first = _post(herald, project, "a-paused-1")
    herald.wait_for(lambda: receiver.requests, 30, "the first attempt")
    paused_at = receiver.requests[0]["at"]

    second = _post(herald, project, "a-paused-2")  # held back by the pause, no attempt used

    herald.event_when(first, "success", timeout=30)
    event = herald.event_when(second, "success", timeout=30)
    assert [a["httpStatus"] for a in event["notifications"][0]["attempts"]] == [200]
    assert min(r["at"] for r in receiver.requests[1:]) - paused_at >= 3 - 0.5
    assert _health(herald, ch)["state"] == "closed"  # asking for a slower pace is not failing


def test_a_channel_failing_every_attempt_for_the_disable_period_is_disabled(
    herald: Herald, project: str, other_receiver: Receiver
) -> None:
    _watch_operations(herald, project, other_receiver)
    dead = _channel(herald, project, REFUSED)
    _subscribe(herald, project, dead)
    herald.event_when(_post(herald, project, "a-down-1"), "failed", timeout=30)
    failing_since = time.monotonic() - 3  # its first attempt was at most ~3 s ago
    time.sleep(max(0.0, failing_since + DISABLE_AFTER + 1 - time.monotonic()))

    later = _post(herald, project, "a-down-2")  # its attempt (a probe) fails past the period

    herald.wait_for(
        lambda: "herald.channel.disabled" in _codes(other_receiver), 30, "herald.channel.disabled"
    )
    _, channel = herald.call("GET", f"/api/notificationChannels/{dead}")
    assert channel["enabled"] is False
    assert channel["disabledReason"].startswith("every delivery failed since ")
    herald.event_when(later, "failed", timeout=30)  # kept, failed, reprocessable


def test_after_successful_deliveries_health_says_attempts_are_not_counted_rather_than_zero(
    herald: Herald, project: str, receiver: Receiver
) -> None:
    channel_id = _channel(herald, project, receiver.url)
    _subscribe(herald, project, channel_id)
    for n in range(2):
        herald.event_when(_post(herald, project, f"healthy-{n}"), "success")

    _, health = herald.call("GET", f"/api/notificationChannels/{channel_id}/health")

    assert (health["state"], health["counting"], health["consecutiveFailures"]) == ("closed", False, 0)
    assert (health["windowAttempts"], health["lastSuccessAt"]) == (None, None)  # not known: not 0, not stale
