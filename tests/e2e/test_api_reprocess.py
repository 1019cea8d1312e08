"""Failed notifications end to end: a receiver that fails until told, then reprocess to success."""

from __future__ import annotations

import pytest

from tests.conftest import Receiver
from tests.e2e.conftest import Herald

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]


def _subscribe(herald: Herald, project: str, address: str) -> dict:
    status, channel = herald.call("POST", "/api/notificationChannels", {"type": "HTTP", "address": address})
    assert status == 201, channel
    body = {"eventCode": "ICA_CUSTOM_1", "notificationChannelId": channel["id"]}
    status, sub = herald.call("POST", f"/api/projects/{project}/customNotificationSubscriptions", body)
    assert status == 201, sub
    return sub


def _failed_event(herald: Herald, project: str, receiver: Receiver, content: dict) -> dict:
    status, _ = herald.call(
        "POST", f"/api/projects/{project}/customEvents", {"code": "ICA_CUSTOM_1", "content": content}
    )
    assert status == 204
    _, listed = herald.call("GET", f"/v1/events?project={project}&event_type=ICA_CUSTOM_1&limit=100")
    [event] = [e for e in listed["items"] if e["payload"] == content]
    return herald.event_when(event["id"], "failed")


def test_a_failed_notification_reprocessed_is_delivered_with_its_history_kept(
    herald: Herald, project: str, receiver: Receiver
) -> None:
    receiver.statuses = [500, 500, 500]  # every attempt of the first cycle fails
    sub = _subscribe(herald, project, receiver.url)
    failed = _failed_event(herald, project, receiver, {"metric": "Q30", "value": 71})
    base = f"/api/projects/{project}/notificationSubscriptions/{sub['id']}/failedNotifications"
    _, listed = herald.call("GET", base)
    [notification] = listed["items"]
    assert notification["eventId"] == failed["id"]

    status, restarted = herald.call("POST", f"{base}/{notification['id']}:reprocess")

    assert (status, restarted["cycle"]) == (202, 2)
    event = herald.event_when(failed["id"], "success")
    [delivered] = event["notifications"]
    assert (delivered["status"], delivered["cycle"]) == ("success", 2)
    assert [a["httpStatus"] for a in delivered["attempts"]] == [200]
    [first_cycle] = delivered["previousCycles"]
    assert [a["httpStatus"] for a in first_cycle["attempts"]] == [500, 500, 500]
    assert len(receiver.requests) == 4
    assert len({r["headers"]["webhook-id"] for r in receiver.requests}) == 1  # the same notification
    assert herald.call("GET", base)[1]["items"] == []


def test_failed_notifications_block_the_subscription_until_deleted_or_reprocessed(
    herald: Herald, project: str, receiver: Receiver
) -> None:
    receiver.statuses = [500] * 6
    sub = _subscribe(herald, project, receiver.url)
    first = _failed_event(herald, project, receiver, {"n": 1})
    _failed_event(herald, project, receiver, {"n": 2})
    subscription = f"/api/projects/{project}/notificationSubscriptions/{sub['id']}"
    status, refused = herald.call("DELETE", subscription)
    assert status == 409 and "2 failed" in refused["error"]["message"]

    _, page = herald.call("GET", f"{subscription}/failedNotifications")
    to_delete = next(n for n in page["items"] if n["eventId"] == first["id"])
    assert herald.call("DELETE", f"{subscription}/failedNotifications/{to_delete['id']}")[0] == 204
    status, recovered = herald.call(
        "POST", f"{subscription}/failedNotifications:reprocess", {"since": "2000-01-01T00:00:00Z"}
    )
    assert (status, recovered["reprocessed"], recovered["more"]) == (202, 1, False)
    herald.wait_for(
        lambda: herald.call("DELETE", subscription)[0] == 204, what="the subscription to be deletable"
    )
