"""Failed notifications: list, get, reprocess one or all since a time, delete; history kept."""

from __future__ import annotations

import json
from typing import Any

import pytest

from herald.adapters.queues import QueueSendError
from herald.dev.local.resources import LocalResources
from herald.domain.models import NotificationStatus
from herald.logic import failed_notifications
from herald.logic.services import Services
from tests.unit.api.support import Client, channel, event, failed_notification, notification, subscription


@pytest.fixture
def sub(admin: Client) -> dict[str, Any]:
    return subscription(admin, "p1", channel(admin)["id"])


def _base(sub: dict[str, Any]) -> str:
    return f"/api/projects/p1/notificationSubscriptions/{sub['id']}/failedNotifications"


def _queued(services: Services, resources: LocalResources) -> list[dict[str, Any]]:
    sqs = services.queues.sqs
    messages = sqs.receive_message(QueueUrl=resources.deliveries_queue_url, MaxNumberOfMessages=10)
    return [json.loads(m["Body"]) for m in messages.get("Messages", [])]


def test_only_failed_notifications_are_listed(admin: Client, keys: Services, sub: dict) -> None:
    failed = failed_notification(keys, admin, "p1", sub)
    notification(keys, event(admin, "p1"), sub, status=NotificationStatus.RETRYABLE, http_statuses=(500,))
    notification(
        keys, event(admin, "p1"), sub, status=NotificationStatus.PENDING, http_statuses=(), held_back=True
    )
    status, listed = admin.call("GET", _base(sub))
    assert status == 200
    assert [n["id"] for n in listed["items"]] == [failed.id]
    [item] = listed["items"]
    assert item["status"] == "failed" and [a["httpStatus"] for a in item["attempts"]] == [500, 500, 500]


def test_failed_notifications_are_listed_newest_first_a_page_at_a_time(
    admin: Client, keys: Services, sub: dict
) -> None:
    made = [
        failed_notification(keys, admin, "p1", sub, created_at=f"2030-01-0{day}T00:00:00.000Z").id
        for day in range(1, 6)
    ]
    _, first = admin.call("GET", f"{_base(sub)}?limit=2")
    _, second = admin.call("GET", f"{_base(sub)}?limit=2&cursor={first['nextCursor']}")
    _, third = admin.call("GET", f"{_base(sub)}?limit=2&cursor={second['nextCursor']}")
    seen = [n["id"] for page in (first, second, third) for n in page["items"]]
    assert seen == list(reversed(made))
    assert third["nextCursor"] is None


def test_one_failed_notification_is_readable_by_id(admin: Client, keys: Services, sub: dict) -> None:
    failed = failed_notification(keys, admin, "p1", sub)
    status, fetched = admin.call("GET", f"{_base(sub)}/{failed.id}")
    assert (status, fetched["id"], fetched["eventId"]) == (200, failed.id, failed.eventId)


def test_reprocess_starts_a_new_cycle_and_keeps_the_old_attempts(
    admin: Client, keys: Services, resources: LocalResources, sub: dict
) -> None:
    failed = failed_notification(keys, admin, "p1", sub)
    _queued(keys, resources)  # the routing message of the event, not under test

    status, body = admin.call("POST", f"{_base(sub)}/{failed.id}:reprocess")

    assert status == 202
    assert (body["status"], body["cycle"], body["attempts"], body["lastError"]) == ("pending", 2, [], None)
    [previous] = body["previousCycles"]
    assert (previous["cycle"], previous["status"], previous["lastError"]) == (1, "failed", "HTTP 500")
    assert [a["httpStatus"] for a in previous["attempts"]] == [500, 500, 500]
    assert _queued(keys, resources) == [
        {
            "kind": "delivery",
            "eventId": failed.eventId,
            "subscriptionId": sub["id"],
            "notificationId": failed.id,
        }
    ]
    _, shown = admin.call("GET", f"/v1/events/{failed.eventId}")
    assert shown["status"] == "pending"
    assert shown["notifications"][0]["previousCycles"] == body["previousCycles"]
    assert admin.call("GET", _base(sub))[1]["items"] == []


def test_a_reprocessed_notification_delivered_later_shows_both_cycles(
    admin: Client, keys: Services, sub: dict
) -> None:
    from herald.domain.models import Attempt

    failed = failed_notification(keys, admin, "p1", sub)
    admin.call("POST", f"{_base(sub)}/{failed.id}:reprocess")
    ok = Attempt(at="2030-01-01T00:00:00.000Z", durationMs=4, success=True, httpStatus=200)
    keys.notifications.record_attempt(failed.eventId, sub["id"], ok, NotificationStatus.SUCCESS, ok.at)

    _, shown = admin.call("GET", f"/v1/events/{failed.eventId}")
    [n] = shown["notifications"]
    assert (shown["status"], n["status"], n["cycle"]) == ("success", "success", 2)
    assert [a["httpStatus"] for a in n["attempts"]] == [200]
    assert [a["httpStatus"] for a in n["previousCycles"][0]["attempts"]] == [500, 500, 500]


def test_reprocessing_a_notification_that_is_not_failed_is_409(
    admin: Client, keys: Services, sub: dict
) -> None:
    pending = notification(
        keys, event(admin, "p1"), sub, status=NotificationStatus.RETRYABLE, http_statuses=(500,)
    )
    status, resp = admin.call("POST", f"{_base(sub)}/{pending.id}:reprocess")
    assert status == 409
    assert "is retryable; only failed notifications" in resp["error"]["message"]


def test_reprocessing_twice_is_409_the_second_time(admin: Client, keys: Services, sub: dict) -> None:
    failed = failed_notification(keys, admin, "p1", sub)
    assert admin.call("POST", f"{_base(sub)}/{failed.id}:reprocess")[0] == 202
    assert admin.call("POST", f"{_base(sub)}/{failed.id}:reprocess")[0] == 409


def test_unknown_failed_notification_is_404(admin: Client, sub: dict) -> None:
    for method, suffix in [("GET", ""), ("DELETE", ""), ("POST", ":reprocess")]:
        status, resp = admin.call(method, f"{_base(sub)}/ntf_nope{suffix}")
        assert (status, resp["error"]["code"]) == (404, "not_found"), method


def test_when_the_queue_refuses_reprocess_is_503_and_the_notification_stays_failed(
    admin: Client, keys: Services, sub: dict, monkeypatch: pytest.MonkeyPatch
) -> None:
    failed = failed_notification(keys, admin, "p1", sub)

    def refuse(*args: object) -> None:
        raise QueueSendError("1 message(s) not accepted by SQS")

    monkeypatch.setattr(type(keys.queues), "send", refuse)
    status, resp = admin.call("POST", f"{_base(sub)}/{failed.id}:reprocess")
    assert (status, resp["error"]["code"]) == (503, "unavailable")
    current = keys.notifications.get(failed.eventId, sub["id"])
    assert current is not None and current.status == NotificationStatus.FAILED
    assert admin.call("GET", f"/v1/events/{failed.eventId}")[1]["status"] == "failed"


def test_deleting_a_failed_notification_recomputes_the_event_status(
    admin: Client, keys: Services, sub: dict
) -> None:
    failed = failed_notification(keys, admin, "p1", sub)
    assert admin.call("GET", f"/v1/events/{failed.eventId}")[1]["status"] == "failed"
    assert admin.call("DELETE", f"{_base(sub)}/{failed.id}") == (204, None)
    _, shown = admin.call("GET", f"/v1/events/{failed.eventId}")
    assert (shown["status"], shown["notifications"]) == ("success", [])
    assert admin.call("GET", _base(sub))[1]["items"] == []


def test_clearing_failed_notifications_lets_the_subscription_be_deleted(
    admin: Client, keys: Services, sub: dict
) -> None:
    first = failed_notification(keys, admin, "p1", sub)
    second = failed_notification(keys, admin, "p1", sub)
    subs = f"/api/projects/p1/notificationSubscriptions/{sub['id']}"
    assert admin.call("DELETE", subs)[0] == 409
    admin.call("DELETE", f"{_base(sub)}/{first.id}")
    admin.call("DELETE", f"{_base(sub)}/{second.id}")
    assert admin.call("DELETE", subs) == (204, None)


def test_deleting_a_notification_that_is_not_failed_is_409(admin: Client, keys: Services, sub: dict) -> None:
    pending = notification(
        keys, event(admin, "p1"), sub, status=NotificationStatus.PENDING, http_statuses=(), held_back=True
    )
    assert admin.call("DELETE", f"{_base(sub)}/{pending.id}")[0] == 409


def test_reprocess_since_restarts_only_failures_at_or_after_the_time(
    admin: Client, keys: Services, sub: dict
) -> None:
    old = failed_notification(keys, admin, "p1", sub, created_at="2030-01-01T00:00:00.000Z")
    new = failed_notification(keys, admin, "p1", sub, created_at="2030-01-02T00:00:00.000Z")
    status, body = admin.call("POST", f"{_base(sub)}:reprocess", {"since": "2030-01-01T12:00:00+00:00"})
    assert (status, body) == (202, {"reprocessed": 1, "notificationIds": [new.id], "more": False})
    assert [n["id"] for n in admin.call("GET", _base(sub))[1]["items"]] == [old.id]


def test_reprocess_since_works_in_batches(
    admin: Client, keys: Services, sub: dict, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(failed_notifications, "MAX_BULK", 2)
    for _ in range(3):
        failed_notification(keys, admin, "p1", sub)
    since = {"since": "2000-01-01T00:00:00Z"}
    _, first = admin.call("POST", f"{_base(sub)}:reprocess", since)
    _, second = admin.call("POST", f"{_base(sub)}:reprocess", since)
    assert (first["reprocessed"], first["more"]) == (2, True)
    assert (second["reprocessed"], second["more"]) == (1, False)


@pytest.mark.parametrize("since", ["yesterday", "2030-01-01T00:00:00", ""])
def test_reprocess_since_needs_an_rfc3339_time_with_a_zone(admin: Client, sub: dict, since: str) -> None:
    status, resp = admin.call("POST", f"{_base(sub)}:reprocess", {"since": since})
    assert (status, resp["error"]["field"]) == (400, "since")


def test_failed_notifications_of_an_unknown_subscription_are_404(admin: Client) -> None:
    status, _ = admin.call("GET", "/api/projects/p1/notificationSubscriptions/nope/failedNotifications")
    assert status == 404
