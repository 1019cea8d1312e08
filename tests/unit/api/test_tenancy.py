"""Tenancy: a key sees and changes only its projects' resources; everything else is 404."""

from __future__ import annotations

from typing import Any

import pytest

from herald.logic.services import Services
from tests.unit.api.support import P2_KEY, P12_KEY, Client, channel, event, failed_notification, subscription

# Every route that names a resource of project p2, as the key of project p1 would call it.
ROUTES_OF_P2: list[tuple[str, str, Any]] = [
    ("GET", "/api/notificationChannels/{channel}", None),
    ("PATCH", "/api/notificationChannels/{channel}", {"enabled": False}),
    ("PUT", "/api/notificationChannels/{channel}", {"type": "HTTP", "address": "https://evil.example/h"}),
    ("DELETE", "/api/notificationChannels/{channel}", None),
    ("POST", "/api/notificationChannels/{channel}:rotateSecret", None),
    ("GET", "/api/projects/p2/notificationSubscriptions", None),
    (
        "POST",
        "/api/projects/p2/notificationSubscriptions",
        {"eventCode": "*", "notificationChannelId": "{own}"},
    ),
    ("GET", "/api/projects/p2/notificationSubscriptions/{sub}", None),
    ("PATCH", "/api/projects/p2/notificationSubscriptions/{sub}", {"enabled": False}),
    ("DELETE", "/api/projects/p2/notificationSubscriptions/{sub}", None),
    ("POST", "/api/projects/p2/notificationSubscriptions/{sub}:enable", None),
    ("POST", "/api/projects/p2/notificationSubscriptions/{sub}:disable", None),
    ("GET", "/api/projects/p2/notificationSubscriptions/{sub}/failedNotifications", None),
    ("GET", "/api/projects/p2/notificationSubscriptions/{sub}/failedNotifications/{ntf}", None),
    ("POST", "/api/projects/p2/notificationSubscriptions/{sub}/failedNotifications/{ntf}:reprocess", None),
    ("DELETE", "/api/projects/p2/notificationSubscriptions/{sub}/failedNotifications/{ntf}", None),
    (
        "POST",
        "/api/projects/p2/notificationSubscriptions/{sub}/failedNotifications:reprocess",
        {"since": "2000-01-01T00:00:00Z"},
    ),
    ("POST", "/api/projects/p2/customEvents", {"code": "ICA_CUSTOM_1", "content": {}}),
    ("GET", "/api/projects/p2/customEvents", None),
    ("GET", "/api/projects/p2/customNotificationSubscriptions", None),
    (
        "POST",
        "/api/projects/p2/customNotificationSubscriptions",
        {"eventCode": "ICA_CUSTOM_1", "notificationChannelId": "{own}"},
    ),
    ("GET", "/api/projects/p2/customNotificationSubscriptions/{custom}", None),
    ("POST", "/api/projects/p2/events", {"eventCode": "ICA_EXEC_002", "payload": {}}),
    ("GET", "/v1/events?project=p2", None),
    ("GET", "/v1/events/{event}", None),
]


@pytest.fixture
def world(admin: Client, p1: Client, keys: Services) -> dict[str, str]:
    """Project p2's channel, subscriptions, failed notification and event; p1's own channel."""
    p2 = Client(P2_KEY)
    ch = channel(p2)
    sub = subscription(p2, "p2", ch["id"])
    ntf = failed_notification(keys, admin, "p2", sub)
    status, custom = p2.call(
        "POST",
        "/api/projects/p2/customNotificationSubscriptions",
        {"eventCode": "ICA_CUSTOM_1", "notificationChannelId": ch["id"]},
    )
    assert status == 201
    return {
        "channel": ch["id"],
        "sub": sub["id"],
        "ntf": ntf.id,
        "event": ntf.eventId,
        "custom": custom["id"],
        "own": channel(p1)["id"],
        "secret": ch["secret"],
    }


def _fill(template: Any, world: dict[str, str]) -> Any:
    if isinstance(template, str):
        return template.format(**world)
    if isinstance(template, dict):
        return {k: _fill(v, world) for k, v in template.items()}
    return template


@pytest.mark.parametrize(
    ("method", "path", "body"), ROUTES_OF_P2, ids=[f"{m} {p.split('?')[0]}" for m, p, _ in ROUTES_OF_P2]
)
def test_a_key_of_project_p1_gets_404_from_every_route_of_project_p2(
    p1: Client, world: dict[str, str], method: str, path: str, body: Any
) -> None:
    status, resp = p1.call(method, _fill(path, world), _fill(body, world))
    assert status == 404, resp
    assert resp["error"]["code"] == "not_found"


def test_nothing_of_project_p2_changed_after_every_route_was_tried(
    p1: Client, world: dict[str, str], keys: Services
) -> None:
    for method, path, body in ROUTES_OF_P2:
        p1.call(method, _fill(path, world), _fill(body, world))
    p2 = Client(P2_KEY)
    status, sub = p2.call("GET", f"/api/projects/p2/notificationSubscriptions/{world['sub']}")
    assert status == 200 and sub["enabled"] is True
    stored = keys.channels.get(world["channel"])
    assert stored is not None and stored.enabled
    assert keys.secrets.open(stored.secret, stored.id) == world["secret"]
    _, failed = p2.call(
        "GET", f"/api/projects/p2/notificationSubscriptions/{world['sub']}/failedNotifications"
    )
    assert [n["id"] for n in failed["items"]] == [world["ntf"]]
    assert [e["projectId"] for e in p2.call("GET", "/v1/events")[1]["items"]] == ["p2"]


def test_another_projects_channels_are_not_listed(p1: Client, world: dict[str, str]) -> None:
    _, listed = p1.call("GET", "/api/notificationChannels")
    assert [c["id"] for c in listed["items"]] == [world["own"]]


def test_a_key_cannot_subscribe_with_a_channel_it_cannot_see(p1: Client, world: dict[str, str]) -> None:
    status, resp = p1.call(
        "POST",
        "/api/projects/p1/notificationSubscriptions",
        {"eventCode": "*", "notificationChannelId": world["channel"]},
    )
    assert (status, resp["error"]["field"]) == (400, "notificationChannelId")


def test_a_channel_made_with_an_admin_key_is_visible_to_admin_keys_only(admin: Client, p1: Client) -> None:
    ch = channel(admin)
    assert ch["projects"] == []
    assert p1.call("GET", f"/api/notificationChannels/{ch['id']}")[0] == 404
    assert ch["id"] not in [c["id"] for c in p1.call("GET", "/api/notificationChannels")[1]["items"]]
    status, _ = p1.call(
        "POST",
        "/api/projects/p1/notificationSubscriptions",
        {"eventCode": "*", "notificationChannelId": ch["id"]},
    )
    assert status == 400
    assert admin.call("GET", f"/api/notificationChannels/{ch['id']}")[0] == 200


def test_an_admin_can_give_a_channel_to_projects(admin: Client, p1: Client) -> None:
    ch = channel(admin, projects=["p1"])
    assert p1.call("GET", f"/api/notificationChannels/{ch['id']}")[0] == 200
    subscription(p1, "p1", ch["id"])


def test_a_key_cannot_give_its_channel_to_a_project_it_does_not_have(p1: Client) -> None:
    status, resp = p1.call(
        "POST", "/api/notificationChannels", {"type": "HTTP", "address": "http://x/h", "projects": ["p2"]}
    )
    assert (status, resp["error"]["field"]) == (400, "projects")
    ch = channel(p1)
    status, resp = p1.call("PATCH", f"/api/notificationChannels/{ch['id']}", {"projects": ["p1", "p2"]})
    assert (status, resp["error"]["field"]) == (400, "projects")


def test_a_channel_shared_by_two_projects_shows_each_key_only_its_own(admin: Client) -> None:
    ch = channel(Client(P12_KEY))
    assert ch["projects"] == ["p1", "p2"]
    _, seen_by_p2 = Client(P2_KEY).call("GET", f"/api/notificationChannels/{ch['id']}")
    assert seen_by_p2["projects"] == ["p2"]
    assert admin.call("GET", f"/api/notificationChannels/{ch['id']}")[1]["projects"] == ["p1", "p2"]


def test_an_admin_key_may_ingest_events_for_any_project(admin: Client) -> None:
    assert event(admin, "any-project-at-all")


def test_events_of_an_unknown_project_and_of_another_project_look_the_same(p1: Client, admin: Client) -> None:
    event(admin, "p2")
    other = p1.call("GET", "/v1/events?project=p2")
    unknown = p1.call("GET", "/v1/events?project=p9")
    assert other[0] == unknown[0] == 404
    assert other[1]["error"]["message"].replace("p2", "p9") == unknown[1]["error"]["message"]
