"""Custom events: post with the project's own code (204), subscribe to it, codes recorded."""

from __future__ import annotations

import pytest

from herald.logic.routing import route_event
from herald.logic.services import Services
from tests.unit.api.support import Client, channel, subscription

EVENTS = "/api/projects/p1/customEvents"
CUSTOM_SUBS = "/api/projects/p1/customNotificationSubscriptions"
METRIC = {"metric_name": "Q30", "metric_value": "71.2", "threshold": "75", "sample_name": "S1"}


def _custom_subscription(client: Client, code: str = "ICA_CUSTOM_123", **fields: object) -> dict:
    status, sub = client.call(
        "POST", CUSTOM_SUBS, {"eventCode": code, "notificationChannelId": channel(client)["id"], **fields}
    )
    assert status == 201, sub
    return sub


def test_posting_a_custom_event_is_204_and_ingests_its_content(admin: Client) -> None:
    assert admin.call("POST", EVENTS, {"code": "ICA_CUSTOM_123", "content": METRIC}) == (204, None)
    _, listed = admin.call("GET", "/v1/events?project=p1")
    [event] = listed["items"]
    assert (event["event_type"], event["payload"], event["projectId"]) == ("ICA_CUSTOM_123", METRIC, "p1")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"code": "X" * 21, "content": {}}, "code"),
        ({"code": "", "content": {}}, "code"),
        ({"code": "ICA CUSTOM", "content": {}}, "code"),
        ({"code": "_LEADING", "content": {}}, "code"),
        ({"code": "ICA_CUSTOM_1", "content": "text"}, "content"),
        ({"code": "ICA_CUSTOM_1"}, "content"),
        ({"content": {}}, "code"),
    ],
    ids=["21-chars", "empty", "space", "leading-underscore", "content-not-object", "no-content", "no-code"],
)
def test_bad_custom_event_is_400_naming_the_field(admin: Client, body: dict, field: str) -> None:
    status, resp = admin.call("POST", EVENTS, body)
    assert (status, resp["error"]["field"]) == (400, field)


@pytest.mark.parametrize("code", ["A", "ICA_CUSTOM_123", "qc.metric-failed", "12345678901234567890"])
def test_codes_of_1_to_20_letters_digits_and_underscore_dot_dash_are_accepted(
    admin: Client, code: str
) -> None:
    assert admin.call("POST", EVENTS, {"code": code, "content": {}})[0] == 204


def test_custom_subscription_is_flagged_custom(admin: Client) -> None:
    sub = _custom_subscription(admin)
    assert (sub["custom"], sub["eventCode"], sub["projectId"]) == (True, "ICA_CUSTOM_123", "p1")
    _, fetched = admin.call("GET", f"{CUSTOM_SUBS}/{sub['id']}")
    assert fetched == sub


def test_custom_subscription_needs_a_code_not_a_wildcard(admin: Client) -> None:
    status, resp = admin.call("POST", CUSTOM_SUBS, {"eventCode": "*", "notificationChannelId": "c"})
    assert (status, resp["error"]["field"]) == (400, "eventCode")


def test_custom_subscriptions_list_only_custom_ones(admin: Client) -> None:
    custom = _custom_subscription(admin)
    regular = subscription(admin, "p1", channel(admin)["id"])
    _, customs = admin.call("GET", CUSTOM_SUBS)
    assert [s["id"] for s in customs["items"]] == [custom["id"]]
    _, everything = admin.call("GET", "/api/projects/p1/notificationSubscriptions")
    assert {s["id"] for s in everything["items"]} == {custom["id"], regular["id"]}
    assert admin.call("GET", f"{CUSTOM_SUBS}/{regular['id']}")[0] == 404


def test_posting_the_same_code_again_goes_through_the_same_subscription(
    admin: Client, keys: Services
) -> None:
    sub = _custom_subscription(admin)
    for value in ("71.2", "70.1"):
        admin.call("POST", EVENTS, {"code": "ICA_CUSTOM_123", "content": {**METRIC, "metric_value": value}})
    _, listed = admin.call("GET", "/v1/events?project=p1")
    assert len(listed["items"]) == 2
    for event in listed["items"]:
        assert route_event(keys, event["id"]) == 1
        _, shown = admin.call("GET", event["$uri"])
        assert [n["subscriptionId"] for n in shown["notifications"]] == [sub["id"]]


def test_codes_posted_or_subscribed_to_are_recorded_once(admin: Client) -> None:
    _custom_subscription(admin, "QC_FAILED")
    for _ in range(2):
        admin.call("POST", EVENTS, {"code": "ICA_CUSTOM_123", "content": {}})
    admin.call("POST", EVENTS, {"code": "QC_FAILED", "content": {}})
    _, codes = admin.call("GET", EVENTS)
    assert sorted(c["code"] for c in codes["items"]) == ["ICA_CUSTOM_123", "QC_FAILED"]
    assert {c["projectId"] for c in codes["items"]} == {"p1"}


def test_custom_event_over_256_kib_is_413(admin: Client) -> None:
    status, resp = admin.call("POST", EVENTS, {"code": "BIG", "content": {"blob": "x" * 300_000}})
    assert (status, resp["error"]["field"]) == (413, "content")
