"""Receivers that misbehave, end to end on `herald dev` (retry schedule 0,0: three attempts).

Each ends as documented: delivered with as many attempts as it took, or `failed` after three, with
the precise error of every attempt (herald.targets.http._describe) visible through the events API
and the failed-notifications list. The channel's `timeoutSeconds` is 0.5 s.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.faults.support import (
    HANG,
    HANG_SECONDS,
    RESET,
    SLOW,
    SLOW_SECONDS,
    Action,
    Dev,
    FaultReceiver,
    closed_port_url,
    fault_receiver,
)

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("faults-dev")]

TIMEOUT = 0.5
TIMED_OUT = "timed out after 0.5 s"
RESET_TEXT = "connection reset or closed by the receiver"
REFUSED = "connection refused or unreachable"


def _one_subscription(dev: Dev, project: str, url: str) -> tuple[dict[str, Any], dict[str, Any]]:
    channel = dev.channel(url, timeoutSeconds=TIMEOUT)
    return channel, dev.subscribe(project, channel["id"])


def _attempts(event: dict[str, Any]) -> list[tuple[int | None, str | None]]:
    [notification] = event["notifications"]
    return [(a.get("httpStatus"), a.get("error")) for a in notification["attempts"]]


# (receiver's answers in order, expected status, expected (httpStatus, error) per attempt)
CASES: dict[str, tuple[list[Action], str, list[tuple[int | None, str | None]]]] = {
    "hangs-past-the-timeout": ([HANG] * 3, "failed", [(None, TIMED_OUT)] * 3),
    "resets-the-connection": ([RESET] * 3, "failed", [(None, RESET_TEXT)] * 3),
    "answers-500": ([500] * 3, "failed", [(500, "HTTP 500")] * 3),
    "answers-slowly-within-the-timeout": ([SLOW], "success", [(200, None)]),
    "recovers-after-a-hang": ([HANG], "success", [(None, TIMED_OUT), (200, None)]),
    "recovers-after-a-reset-and-a-500": (
        [RESET, 503],
        "success",
        [(None, RESET_TEXT), (503, "HTTP 503"), (200, None)],
    ),
    "hang-reset-then-500-fails": (
        [HANG, RESET, 500],
        "failed",
        [(None, TIMED_OUT), (None, RESET_TEXT), (500, "HTTP 500")],
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_a_misbehaving_receiver_ends_as_documented(
    dev: Dev, project: str, faulty: FaultReceiver, case: str
) -> None:
    answers, status, expected = CASES[case]
    faulty.actions = list(answers)
    _, sub = _one_subscription(dev, project, faulty.url)

    event = dev.event_settled(dev.post_event(project, {"id": case, "status": "SUCCEEDED"}))

    assert event["status"] == status
    [notification] = event["notifications"]
    assert notification["status"] == status
    assert _attempts(event) == expected
    # The receiver saw exactly one request per recorded attempt, all with the same webhook-id.
    assert len(faulty.requests) == len(expected)
    assert {r.webhook_id for r in faulty.requests} == {notification["id"]}
    if case == "answers-slowly-within-the-timeout":
        assert notification["attempts"][0]["durationMs"] >= SLOW_SECONDS * 1000
    for attempt, (_, error) in zip(notification["attempts"], expected, strict=True):
        if error == TIMED_OUT:
            # Cut off by the timeout, not by the receiver giving up (it hangs for HANG_SECONDS).
            assert TIMEOUT * 1000 <= attempt["durationMs"] < HANG_SECONDS * 1000
    if status == "failed":
        assert notification["lastError"] == expected[-1][1]
        code, failed = dev.call(
            "GET", f"/api/projects/{project}/notificationSubscriptions/{sub['id']}/failedNotifications"
        )
        assert code == 200, failed
        [listed] = failed["items"]
        assert listed["id"] == notification["id"]
        assert [a.get("error") for a in listed["attempts"]] == [e for _, e in expected]


def test_a_receiver_that_is_gone_fails_with_refused_attempts_beside_one_that_hangs(
    dev: Dev, project: str, faulty: FaultReceiver
) -> None:
    """Two subscriptions of one event, two broken receivers: each records its own errors."""
    faulty.actions = [HANG] * 3
    _one_subscription(dev, project, faulty.url)
    _, gone = _one_subscription(dev, project, closed_port_url())

    event = dev.event_settled(dev.post_event(project, {"id": "two-broken", "status": "SUCCEEDED"}))

    assert event["status"] == "failed"
    errors = {
        n["subscriptionId"] == gone["id"]: [a["error"] for a in n["attempts"]] for n in event["notifications"]
    }
    assert errors == {True: [REFUSED] * 3, False: [TIMED_OUT] * 3}


def test_a_hanging_receiver_does_not_hold_back_a_healthy_one(
    dev: Dev, project: str, faulty: FaultReceiver
) -> None:
    faulty.actions = [HANG] * 3
    _one_subscription(dev, project, faulty.url)
    with fault_receiver() as healthy:
        _one_subscription(dev, project, healthy.url)
        event_id = dev.post_event(project, {"id": "one-hangs", "status": "SUCCEEDED"})
        dev.wait_for(lambda: healthy.requests, timeout=20, what="the healthy receiver's delivery")
        event = dev.event_settled(event_id)
    by_status = {n["status"]: n for n in event["notifications"]}
    assert sorted(by_status) == ["failed", "success"]
    # Herald's own clock, not the test's polling: the healthy delivery was made before the hanging
    # receiver's last attempt began, so it did not wait behind that receiver's retries.
    [delivered] = by_status["success"]["attempts"]
    hanging = by_status["failed"]["attempts"]
    assert len(hanging) == 3
    assert delivered["at"] < hanging[-1]["at"]
