"""Channels change, notifications follow: a notification is delivered through its subscription's
channel as it is at send time, so moving a subscription (and then deleting the old channel, as the
delete guard advises) strands nothing, and reprocessing delivers where the subscription points now.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from herald.domain.messages import DeliverNotification
from herald.domain.models import NotificationStatus
from herald.logic import accept, delivery, routing
from herald.logic.services import Services
from herald.targets.http import run
from tests.conftest import Receiver, running_receiver
from tests.unit.api.support import ANALYSIS, Client, channel, failed_notification, subscription

PENDING = 20


@pytest.fixture
def old_receiver() -> Iterator[Receiver]:
    with running_receiver() as rec:
        yield rec


@pytest.fixture
def new_receiver() -> Iterator[Receiver]:
    with running_receiver() as rec:
        yield rec


def _queued(services: Services) -> list[tuple[DeliverNotification, str]]:
    """Every delivery message waiting (taken off the queue), with its receipt handle."""
    sqs, url = services.queues.sqs, services.queues.deliveries_url
    out = []
    while messages := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", []):
        for m in messages:
            out.append((DeliverNotification.model_validate_json(m["Body"]), m["ReceiptHandle"]))
            sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
    return out


def _deliver_all(services: Services, receive_count: int = 1) -> list[delivery.Decision]:
    return [run(delivery.deliver(services, m, receive_count)) for m, _ in _queued(services)]


def _events(services: Services, project: str, n: int) -> list[str]:
    ids = []
    for i in range(n):
        event, _ = accept.accept_event(services, project, "ICA_EXEC_002", {**ANALYSIS, "id": f"a{i}"})
        routing.route_event(services, event.id)
        ids.append(event.id)
    return ids


def _notifications(services: Services, event_ids: list[str]) -> list[tuple[str, str]]:
    out = []
    for event_id in event_ids:
        _, [n] = services.events.get_with_notifications(event_id, consistent=True)
        out.append((n.status.value, n.channelId))
    return out


@pytest.fixture
def moved(admin: Client, keys: Services, old_receiver: Receiver, new_receiver: Receiver) -> dict[str, str]:
    """A subscription on channel C1 with 20 pending notifications, then moved to channel C2."""
    c1 = channel(admin, old_receiver.url, projects=["p1"])
    c2 = channel(admin, new_receiver.url, projects=["p1"])
    sub = subscription(admin, "p1", c1["id"])
    events = _events(keys, "p1", PENDING)
    path = f"/api/projects/p1/notificationSubscriptions/{sub['id']}"
    assert admin.call("PATCH", path, {"notificationChannelId": c2["id"]})[0] == 200
    return {"c1": c1["id"], "c2": c2["id"], "sub": sub["id"], "events": ",".join(events)}


def test_following_the_delete_guards_advice_strands_no_pending_notification(
    admin: Client, keys: Services, moved: dict[str, str], old_receiver: Receiver, new_receiver: Receiver
) -> None:
    status, _ = admin.call("DELETE", f"/api/notificationChannels/{moved['c1']}")
    assert status == 204

    decisions = _deliver_all(keys)

    assert [d.outcome for d in decisions] == ["delivered"] * PENDING
    assert len(new_receiver.requests) == PENDING and old_receiver.requests == []
    events = moved["events"].split(",")
    assert _notifications(keys, events) == [("success", moved["c2"])] * PENDING


def test_the_guard_still_refuses_while_a_subscription_uses_the_channel(
    admin: Client, moved: dict[str, str]
) -> None:
    status, resp = admin.call("DELETE", f"/api/notificationChannels/{moved['c2']}")
    assert (
        status == 409
        and "move them to another channel (PATCH notificationChannelId)" in resp["error"]["message"]
    )


def test_a_retrying_notification_takes_its_next_attempt_to_the_new_channel(
    admin: Client, keys: Services, old_receiver: Receiver, new_receiver: Receiver
) -> None:
    old_receiver.statuses = [500]
    c1 = channel(admin, old_receiver.url, projects=["p1"])
    c2 = channel(admin, new_receiver.url, projects=["p1"])
    sub = subscription(admin, "p1", c1["id"])
    [event_id] = _events(keys, "p1", 1)
    [(message, _)] = _queued(keys)
    assert run(delivery.deliver(keys, message, 1)).outcome == "retry"
    admin.call(
        "PATCH",
        f"/api/projects/p1/notificationSubscriptions/{sub['id']}",
        {"notificationChannelId": c2["id"]},
    )
    assert admin.call("DELETE", f"/api/notificationChannels/{c1['id']}")[0] == 204

    assert run(delivery.deliver(keys, message, 2)).outcome == "delivered"

    _, [n] = keys.events.get_with_notifications(event_id, consistent=True)
    assert (n.status, n.channelId, len(n.attempts)) == (NotificationStatus.SUCCESS, c2["id"], 2)
    assert (len(old_receiver.requests), len(new_receiver.requests)) == (1, 1)


def _failed_on_c1(
    admin: Client, keys: Services, old_receiver: Receiver, n: int
) -> tuple[dict, dict, list[str]]:
    """A subscription on C1 with n notifications that failed for good there."""
    c1 = channel(admin, old_receiver.url, projects=["p1"])
    sub = subscription(admin, "p1", c1["id"])
    events = [failed_notification(keys, admin, "p1", sub).eventId for _ in range(n)]
    assert _notifications(keys, events) == [("failed", c1["id"])] * n
    return c1, sub, events


def test_bulk_reprocess_after_a_move_delivers_to_the_new_channel_and_then_the_subscription_can_go(
    admin: Client, keys: Services, old_receiver: Receiver, new_receiver: Receiver
) -> None:
    c1, sub, events = _failed_on_c1(admin, keys, old_receiver, 5)
    c2 = channel(admin, new_receiver.url, projects=["p1"])
    base = f"/api/projects/p1/notificationSubscriptions/{sub['id']}"
    admin.call("PATCH", base, {"notificationChannelId": c2["id"]})
    assert admin.call("DELETE", f"/api/notificationChannels/{c1['id']}")[0] == 204

    status, resp = admin.call(
        "POST", f"{base}/failedNotifications:reprocess", {"since": "2000-01-01T00:00:00Z"}
    )
    assert (status, resp["reprocessed"]) == (202, 5)
    assert {c for _, c in _notifications(keys, events)} == {c2["id"]}  # shown where it will go, at once
    assert [d.outcome for d in _deliver_all(keys)] == ["delivered"] * 5

    assert len(new_receiver.requests) == 5
    assert _notifications(keys, events) == [("success", c2["id"])] * 5
    assert admin.call("DELETE", base)[0] == 204  # nothing left to clear by hand


def test_reprocessing_one_notification_after_a_move_delivers_it_to_the_new_channel(
    admin: Client, keys: Services, old_receiver: Receiver, new_receiver: Receiver
) -> None:
    _, sub, [event_id] = _failed_on_c1(admin, keys, old_receiver, 1)
    c2 = channel(admin, new_receiver.url, projects=["p1"])
    base = f"/api/projects/p1/notificationSubscriptions/{sub['id']}"
    admin.call("PATCH", base, {"notificationChannelId": c2["id"]})
    _, [n] = keys.events.get_with_notifications(event_id)

    status, shown = admin.call("POST", f"{base}/failedNotifications/{n.id}:reprocess")

    assert (status, shown["channelId"], shown["status"]) == (202, c2["id"], "pending")
    assert [d.outcome for d in _deliver_all(keys)] == ["delivered"]
    assert len(new_receiver.requests) == 1


def test_notifications_failed_by_a_disabled_channel_reach_the_channel_they_were_moved_to(
    admin: Client, keys: Services, old_receiver: Receiver, new_receiver: Receiver
) -> None:
    c1 = channel(admin, old_receiver.url, projects=["p1"])
    sub = subscription(admin, "p1", c1["id"])
    events = _events(keys, "p1", 3)
    admin.call("PATCH", f"/api/notificationChannels/{c1['id']}", {"enabled": False})
    assert [d.outcome for d in _deliver_all(keys)] == ["failed"] * 3
    c2 = channel(admin, new_receiver.url, projects=["p1"])
    base = f"/api/projects/p1/notificationSubscriptions/{sub['id']}"
    admin.call("PATCH", base, {"notificationChannelId": c2["id"]})
    assert admin.call("DELETE", f"/api/notificationChannels/{c1['id']}")[0] == 204

    admin.call("POST", f"{base}/failedNotifications:reprocess", {"since": "2000-01-01T00:00:00Z"})

    assert [d.outcome for d in _deliver_all(keys)] == ["delivered"] * 3
    assert _notifications(keys, events) == [("success", c2["id"])] * 3
    assert old_receiver.requests == []
