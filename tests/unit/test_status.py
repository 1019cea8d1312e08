"""An event's status from its routing and notifications (One Codex's rule)."""

from __future__ import annotations

import pytest

from herald.domain.models import Event, Notification, NotificationStatus
from herald.domain.status import aggregate_status

S = NotificationStatus


def _event(**state: object) -> Event:
    return Event(
        id="e1",
        projectId="p1",
        eventCode="ICA_EXEC_002",
        description="",
        payload={},
        correlationId="c1",
        timestamp="2024-01-01T00:00:00.000Z",
        createdAt=0.0,
        **state,  # type: ignore[arg-type]
    )


def _notification(status: NotificationStatus, n: int) -> Notification:
    stamp = "2024-01-01T00:00:00.000Z"
    return Notification(
        id=f"n{n}", eventId="e1", subscriptionId=f"s{n}", projectId="p1", channelId="c1",
        createdAt=stamp, updatedAt=stamp, status=status,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("statuses", "expected"),
    [
        ((), S.SUCCESS),
        ((S.SUCCESS, S.SUCCESS), S.SUCCESS),
        ((S.SUCCESS, S.PENDING), S.PENDING),
        ((S.PENDING, S.RETRYABLE), S.RETRYABLE),
        ((S.RETRYABLE, S.FAILED, S.SUCCESS), S.FAILED),
    ],
)
def test_a_routed_event_takes_its_worst_notifications_status(
    statuses: tuple[NotificationStatus, ...], expected: NotificationStatus
) -> None:
    notifications = [_notification(s, n) for n, s in enumerate(statuses)]

    assert aggregate_status(_event(routed=True), notifications) == expected


def test_an_event_not_yet_routed_is_pending_whatever_its_notifications_say() -> None:
    assert aggregate_status(_event(), [_notification(S.FAILED, 0)]) == S.PENDING


def test_an_event_that_could_not_be_routed_is_failed() -> None:
    assert aggregate_status(_event(routed=True, routingError="boom"), []) == S.FAILED
