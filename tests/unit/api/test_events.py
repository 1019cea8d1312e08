"""Platform ingest and the events API: newest first, filters, time range, retention, cursors."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from herald.domain import clock
from herald.domain.models import NotificationStatus
from herald.logic.services import Services
from tests.unit.api.support import Client, channel, event, failed_notification, subscription

DAY = 86400.0
NOW = 1_900_000_000.0  # 2030-03-17


@pytest.fixture
def at(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[float]]:
    """The clock, settable: `at[0] = t` makes it `t` for events posted next."""
    moment = [NOW]
    monkeypatch.setattr(clock, "now", lambda: moment[0])
    yield moment


def _ids(reply: dict) -> list[str]:
    return [e["id"] for e in reply["items"]]


def test_posted_event_is_202_with_id_and_uri_then_readable(admin: Client) -> None:
    status, accepted = admin.call(
        "POST", "/api/projects/p1/events", {"eventCode": "ICA_EXEC_028", "payload": {"status": "RUNNING"}}
    )
    assert status == 202
    assert accepted["$uri"] == f"/v1/events/{accepted['id']}"
    status, shown = admin.call("GET", accepted["$uri"])
    assert status == 200
    assert (shown["status"], shown["payload"], shown["event_type"], shown["api_version"]) == (
        "pending",
        {"status": "RUNNING"},
        "ICA_EXEC_028",
        "v1",
    )
    assert shown["triggered_at"] == shown["timestamp"]
    assert shown["notifications"] == []
    assert shown["payloadVersion"] == "V4"  # posted without one: the stored payload is V4's


def test_an_event_posted_with_a_payload_version_shows_it(admin: Client) -> None:
    _, accepted = admin.call(
        "POST",
        "/api/projects/p1/events",
        {"eventCode": "ICA_EXEC_028", "payload": {"status": "IN_PROGRESS"}, "payloadVersion": "V3"},
    )
    assert admin.call("GET", accepted["$uri"])[1]["payloadVersion"] == "V3"


def test_event_with_the_same_id_twice_is_one_event(admin: Client) -> None:
    body = {"eventCode": "ICA_DATA_104", "payload": {"a": 1}, "id": "client-1"}
    _, first = admin.call("POST", "/api/projects/p1/events", body)
    _, second = admin.call("POST", "/api/projects/p1/events", body)
    assert first["id"] == second["id"]
    assert (first["created"], second["created"]) == (True, False)


def test_a_new_event_says_it_is_no_duplicate(admin: Client) -> None:
    _, accepted = admin.call("POST", "/api/projects/p1/events", {"eventCode": "ICA_DATA_104", "payload": {}})
    assert (accepted["created"], accepted["duplicateOf"]) == (True, None)


def test_a_repeated_id_is_answered_with_the_event_it_is_and_the_idempotency_rule(admin: Client) -> None:
    body = {"eventCode": "ICA_DATA_104", "payload": {"a": 1}, "id": "client-7"}
    _, first = admin.call("POST", "/api/projects/p1/events", body)
    status, again = admin.call("POST", "/api/projects/p1/events", body)
    assert status == 202
    duplicate = again["duplicateOf"]
    assert (duplicate["id"], duplicate["$uri"]) == (first["id"], first["$uri"])
    assert (duplicate["rule"], duplicate["matched"]) == ("idempotency_id", "client-7")
    assert duplicate["acceptedAt"].endswith("Z")
    assert f"recognised as event {first['id']}" in duplicate["message"]
    assert "the id 'client-7' was already used in project p1" in duplicate["message"]


def test_the_same_analysis_state_with_a_new_id_is_answered_with_the_analysis_rule(admin: Client) -> None:
    analysis = {"id": "a1", "status": "SUCCEEDED"}
    _, first = admin.call(
        "POST", "/api/projects/p1/events", {"eventCode": "ICA_EXEC_002", "payload": analysis, "id": "run-1"}
    )
    _, again = admin.call(
        "POST", "/api/projects/p1/events", {"eventCode": "ICA_EXEC_002", "payload": analysis, "id": "run-2"}
    )
    assert (again["created"], again["id"]) == (False, first["id"])
    duplicate = again["duplicateOf"]
    assert (duplicate["rule"], duplicate["matched"]) == ("analysis_state", "ICA_EXEC_002 a1 SUCCEEDED")
    assert "whatever its id" in duplicate["message"]
    assert "this post's id 'run-2' differs from that event's correlationId 'run-1'" in duplicate["message"]
    assert "A new analysis id or status makes a new event" in duplicate["message"]


def test_a_posted_outcome_already_derived_from_a_status_change_names_the_derivation(admin: Client) -> None:
    _, change = admin.call(
        "POST",
        "/api/projects/p1/events",
        {"eventCode": "ICA_EXEC_028", "payload": {"id": "a9", "status": "SUCCEEDED"}},
    )
    _, posted = admin.call(
        "POST",
        "/api/projects/p1/events",
        {"eventCode": "ICA_EXEC_002", "payload": {"id": "a9", "status": "SUCCEEDED"}},
    )
    assert posted["duplicateOf"]["rule"] == "analysis_state"
    assert f"derived from event {change['id']}" in posted["duplicateOf"]["message"]


def test_a_new_analysis_id_is_a_new_event(admin: Client) -> None:
    for analysis_id in ("a1", "a2"):
        _, accepted = admin.call(
            "POST",
            "/api/projects/p1/events",
            {"eventCode": "ICA_EXEC_002", "payload": {"id": analysis_id, "status": "SUCCEEDED"}},
        )
        assert (accepted["created"], accepted["duplicateOf"]) == (True, None)


def test_event_id_reused_with_other_content_is_409(admin: Client) -> None:
    admin.call(
        "POST", "/api/projects/p1/events", {"eventCode": "ICA_DATA_104", "payload": {"a": 1}, "id": "x"}
    )
    status, resp = admin.call(
        "POST", "/api/projects/p1/events", {"eventCode": "ICA_DATA_104", "payload": {"a": 2}, "id": "x"}
    )
    assert (status, resp["error"]["code"]) == (409, "conflict")


def test_payload_must_be_an_object(admin: Client) -> None:
    status, resp = admin.call(
        "POST", "/api/projects/p1/events", {"eventCode": "ICA_EXEC_002", "payload": [1]}
    )
    assert (status, resp["error"]["field"]) == (400, "payload")


def test_events_are_listed_newest_first_a_page_at_a_time(admin: Client, at: list[float]) -> None:
    ids = []
    for i in range(3):
        at[0] = NOW + i
        ids.append(event(admin, "p1"))
    _, page1 = admin.call("GET", "/v1/events?project=p1&limit=2")
    _, page2 = admin.call("GET", f"/v1/events?project=p1&limit=2&cursor={page1['nextCursor']}")
    assert _ids(page1) + _ids(page2) == list(reversed(ids))
    assert page2["nextCursor"] is None


def test_admin_lists_every_projects_events_across_days(admin: Client, at: list[float]) -> None:
    made = []
    for day, project in enumerate(["p1", "p2", "p1"]):
        at[0] = NOW - 2 * DAY + day * DAY
        made.append(event(admin, project))
    seen, cursor = [], None
    while True:
        _, page = admin.call("GET", "/v1/events?limit=2" + (f"&cursor={cursor}" if cursor else ""))
        seen += _ids(page)
        cursor = page["nextCursor"]
        if not cursor:
            break
    assert seen == list(reversed(made))


@pytest.mark.parametrize("query", ["", "project=p1"], ids=["all-projects", "one-project"])
def test_since_and_until_bound_the_time_triggered(admin: Client, at: list[float], query: str) -> None:
    ids = {}
    for hour in (1, 2, 3):
        at[0] = NOW + hour * 3600
        ids[hour] = event(admin, "p1")
    since, until = clock.utc_iso(NOW + 2 * 3600), clock.utc_iso(NOW + 2.5 * 3600)
    _, listed = admin.call("GET", f"/v1/events?{query}&since={since}&until={until}")
    assert _ids(listed) == [ids[2]]


def test_polling_with_since_returns_only_what_is_new(admin: Client, at: list[float]) -> None:
    at[0] = NOW
    event(admin, "p1")
    _, first = admin.call("GET", "/v1/events?project=p1")
    newest = first["items"][0]["triggered_at"]
    at[0] = NOW + 60
    later = event(admin, "p1")
    _, polled = admin.call("GET", f"/v1/events?project=p1&since={newest}")
    assert _ids(polled) == [later, first["items"][0]["id"]]  # since is inclusive: de-duplicate by id


def test_events_are_filtered_by_event_type_and_status(admin: Client, keys: Services) -> None:
    sub = subscription(admin, "p1", channel(admin)["id"])
    failed = failed_notification(keys, admin, "p1", sub)
    other = event(admin, "p1", {"status": "RUNNING"}, code="ICA_EXEC_028")
    _, by_type = admin.call("GET", "/v1/events?project=p1&event_type=ICA_EXEC_028")
    _, by_status = admin.call("GET", "/v1/events?project=p1&status=failed")
    assert _ids(by_type) == [other]
    assert _ids(by_status) == [failed.eventId]
    assert by_status["items"][0]["status"] == NotificationStatus.FAILED.value


def test_events_older_than_the_retention_period_are_not_listed(admin: Client, at: list[float]) -> None:
    at[0] = NOW - 31 * DAY
    event(admin, "p1")
    at[0] = NOW
    recent = event(admin, "p1")
    for query in ("project=p1", ""):
        _, listed = admin.call("GET", f"/v1/events?{query}")
        assert _ids(listed) == [recent], query


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("since=yesterday", "since"),
        ("since=", "since"),
        ("until=2030-01-01T00:00:00", "until"),
        ("until=", "until"),
        ("status=lost", "status"),
        ("event_type=not%20a%20code", "event_type"),
        ("cursor=garbage", "cursor"),
        ("limit=0", "limit"),
    ],
)
def test_bad_event_query_is_400_naming_the_parameter(admin: Client, query: str, field: str) -> None:
    status, resp = admin.call("GET", f"/v1/events?project=p1&{query}")
    assert (status, resp["error"]["field"]) == (400, field)


def test_a_cursor_of_one_project_is_refused_for_another(admin: Client) -> None:
    for _ in range(2):
        event(admin, "p1")
    _, page = admin.call("GET", "/v1/events?project=p1&limit=1")
    status, resp = admin.call("GET", f"/v1/events?project=p2&limit=1&cursor={page['nextCursor']}")
    assert (status, resp["error"]["field"]) == (400, "cursor")


def test_a_key_of_one_project_lists_its_events_without_naming_it(p1: Client, admin: Client) -> None:
    mine = event(admin, "p1")
    event(admin, "p2")
    _, listed = p1.call("GET", "/v1/events")
    assert _ids(listed) == [mine]


def test_an_analysis_id_with_colons_is_named_whole_in_the_duplicate_answer(admin: Client) -> None:
    body = {"eventCode": "ICA_EXEC_001", "payload": {"id": "run:7:b", "status": "FAILED"}}
    admin.call("POST", "/api/projects/p1/events", body)
    _, again = admin.call("POST", "/api/projects/p1/events", body)
    assert again["duplicateOf"]["matched"] == "ICA_EXEC_001 run:7:b FAILED"
    assert "for analysis 'run:7:b' reaching FAILED" in again["duplicateOf"]["message"]
