"""The HTTP API through the real Lambda handler (API Gateway proxy events), moto behind it."""

from __future__ import annotations

import json
from typing import Any

import pytest

from herald.api import auth
from herald.handlers import api
from herald.local.api_server import proxy_event
from herald.local.lambda_context import LocalContext
from herald.services import Services

ADMIN = "admin-key"
P1_KEY = "p1-key"


class Client:
    def __init__(self, key: str | None) -> None:
        self.key = key

    def call(
        self,
        method: str,
        path: str,
        body: Any = None,
        raw: bytes | None = None,
        content_type: str = "application/json",
    ) -> tuple[int, Any]:
        headers = {"Content-Type": content_type}
        if self.key:
            headers["X-API-Key"] = self.key
        data = raw if raw is not None else (json.dumps(body).encode() if body is not None else b"")
        result = api.handler(proxy_event(method, path, headers, data), LocalContext("api"))
        return result["statusCode"], json.loads(result["body"]) if result.get("body") else None


@pytest.fixture
def admin(services: Services) -> Client:
    auth.register_key(services.store, ADMIN, projects=[], admin=True)
    auth.register_key(services.store, P1_KEY, projects=["p1"], admin=False)
    return Client(ADMIN)


def _channel(client: Client, address: str = "http://127.0.0.1:9000/hook") -> dict[str, Any]:
    status, body = client.call("POST", "/api/notificationChannels", {"type": "HTTP", "address": address})
    assert status == 201, body
    return body


def test_missing_key_is_401_with_a_json_error(admin: Client) -> None:
    status, body = Client(None).call("GET", "/api/notificationChannels")
    assert status == 401
    assert body == {"error": {"code": "unauthorized", "message": "missing X-API-Key header"}}


def test_unknown_key_is_401(admin: Client) -> None:
    status, body = Client("nope").call("GET", "/api/notificationChannels")
    assert (status, body["error"]["message"]) == (401, "the API key is not valid")


def test_created_channel_shows_its_secret_once(admin: Client) -> None:
    created = _channel(admin)
    assert set(created) >= {"id", "type", "address", "awsRegion", "enabled", "secret"}
    assert created["secret"].startswith("whsec_")
    status, fetched = admin.call("GET", f"/api/notificationChannels/{created['id']}")
    assert status == 200 and "secret" not in fetched
    _, listed = admin.call("GET", "/api/notificationChannels")
    assert all("secret" not in c for c in listed["items"])


@pytest.mark.parametrize(
    ("body", "field", "fragment"),
    [
        ({"type": "HTTP", "address": "ftp://x"}, None, "must be an http(s) URL"),
        ({"type": "SMS", "address": "x"}, "type", "Input should be"),
        ({"type": "SNS", "address": "not-an-arn"}, None, "SNS topic ARN"),
        ({"type": "MAIL", "address": "nobody"}, None, "e-mail address"),
        ({"address": "http://x"}, "type", "is required"),
        ({"type": "HTTP", "address": "http://x", "colour": "red"}, "colour", "not a recognised field"),
    ],
    ids=["http-scheme", "unknown-type", "sns-arn", "mail-address", "missing-type", "unknown-field"],
)
def test_bad_channel_is_400_naming_the_problem(
    admin: Client, body: dict, field: str | None, fragment: str
) -> None:
    status, resp = admin.call("POST", "/api/notificationChannels", body)
    assert status == 400
    assert fragment in resp["error"]["message"]
    if field:
        assert resp["error"]["field"] == field


@pytest.mark.parametrize(
    "content_type",
    ["application/vnd.illumina.v3+json", "application/x-www-form-urlencoded", "text/plain"],
    ids=["ica-vendor-json", "curl-default-form", "text-plain"],
)
def test_json_body_is_accepted_whatever_the_content_type(admin: Client, content_type: str) -> None:
    status, _ = admin.call(
        "POST",
        "/api/notificationChannels",
        {"type": "HTTP", "address": "http://x/h"},
        content_type=content_type,
    )
    assert status == 201


def test_invalid_json_body_is_400(admin: Client) -> None:
    status, resp = admin.call("POST", "/api/notificationChannels", raw=b"{nope")
    assert (status, resp["error"]["message"]) == (400, "the request body is not valid JSON")


def test_subscription_is_created_with_ica_fields(admin: Client) -> None:
    ch = _channel(admin)
    status, sub = admin.call(
        "POST",
        "/api/projects/p1/notificationSubscriptions",
        {
            "eventCode": "ICA_EXEC_002",
            "notificationChannelId": ch["id"],
            "filterExpression": "[?($.status == 'SUCCEEDED')]",
        },
    )
    assert status == 201
    assert sub["eventCode"] == "ICA_EXEC_002" and sub["enabled"] is True and sub["projectId"] == "p1"
    status, fetched = admin.call("GET", f"/api/projects/p1/notificationSubscriptions/{sub['id']}")
    assert (status, fetched) == (200, sub)


def test_subscription_with_a_broken_filter_is_400_with_a_caret(admin: Client) -> None:
    ch = _channel(admin)
    status, resp = admin.call(
        "POST",
        "/api/projects/p1/notificationSubscriptions",
        {
            "eventCode": "ICA_EXEC_002",
            "notificationChannelId": ch["id"],
            "filterExpression": "[?($.status == )]",
        },
    )
    assert status == 400
    assert resp["error"]["field"] == "filterExpression"
    assert "^" in resp["error"]["message"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"eventCode": "X" * 21, "notificationChannelId": "c"}, "eventCode"),
        ({"eventCode": "ICA_EXEC_002", "notificationChannelId": "no-such"}, "notificationChannelId"),
        (
            {"eventCode": "ICA_EXEC_002", "notificationChannelId": "c", "filterExpression": "x" * 2001},
            "filterExpression",
        ),
    ],
    ids=["code-over-20-chars", "unknown-channel", "filter-over-2000-chars"],
)
def test_bad_subscription_is_400_naming_the_field(admin: Client, body: dict, field: str) -> None:
    status, resp = admin.call("POST", "/api/projects/p1/notificationSubscriptions", body)
    assert (status, resp["error"]["field"]) == (400, field)


def test_wildcard_event_code_is_accepted(admin: Client) -> None:
    ch = _channel(admin)
    status, _ = admin.call(
        "POST",
        "/api/projects/p1/notificationSubscriptions",
        {"eventCode": "*", "notificationChannelId": ch["id"]},
    )
    assert status == 201


def test_posted_event_is_202_with_id_and_uri_then_readable(admin: Client) -> None:
    status, accepted = admin.call(
        "POST", "/api/projects/p1/events", {"eventCode": "ICA_EXEC_002", "payload": {"status": "SUCCEEDED"}}
    )
    assert status == 202
    assert accepted["$uri"] == f"/v1/events/{accepted['id']}"
    status, event = admin.call("GET", accepted["$uri"])
    assert status == 200
    assert (event["status"], event["payload"], event["event_type"]) == (
        "pending",
        {"status": "SUCCEEDED"},
        "ICA_EXEC_002",
    )
    assert event["notifications"] == []


def test_event_with_the_same_id_twice_is_one_event(admin: Client) -> None:
    body = {"eventCode": "ICA_EXEC_002", "payload": {"a": 1}, "id": "client-1"}
    _, first = admin.call("POST", "/api/projects/p1/events", body)
    _, second = admin.call("POST", "/api/projects/p1/events", body)
    assert first["id"] == second["id"]
    assert (first["created"], second["created"]) == (True, False)


def test_event_id_reused_with_other_content_is_409(admin: Client) -> None:
    admin.call(
        "POST", "/api/projects/p1/events", {"eventCode": "ICA_EXEC_002", "payload": {"a": 1}, "id": "x"}
    )
    status, resp = admin.call(
        "POST", "/api/projects/p1/events", {"eventCode": "ICA_EXEC_002", "payload": {"a": 2}, "id": "x"}
    )
    assert (status, resp["error"]["code"]) == (409, "conflict")


def test_payload_must_be_an_object(admin: Client) -> None:
    status, resp = admin.call(
        "POST", "/api/projects/p1/events", {"eventCode": "ICA_EXEC_002", "payload": [1]}
    )
    assert (status, resp["error"]["field"]) == (400, "payload")


def test_oversized_body_is_413(admin: Client) -> None:
    body = {"eventCode": "ICA_EXEC_002", "payload": {"blob": "x" * 600_000}}
    status, resp = admin.call("POST", "/api/projects/p1/events", body)
    assert (status, resp["error"]["code"]) == (413, "payload_too_large")


def test_events_list_newest_first_with_cursor(admin: Client) -> None:
    ids = []
    for i in range(3):
        _, accepted = admin.call(
            "POST", "/api/projects/p1/events", {"eventCode": "ICA_EXEC_002", "payload": {"i": i}}
        )
        ids.append(accepted["id"])
    _, page1 = admin.call("GET", "/v1/events?project=p1&limit=2")
    _, page2 = admin.call("GET", f"/v1/events?project=p1&limit=2&cursor={page1['nextCursor']}")
    seen = [e["id"] for e in page1["items"] + page2["items"]]
    assert seen == list(reversed(ids))


def test_admin_lists_all_projects_events_without_a_filter(admin: Client) -> None:
    admin.call("POST", "/api/projects/p1/events", {"eventCode": "ICA_EXEC_002", "payload": {}})
    admin.call("POST", "/api/projects/p2/events", {"eventCode": "ICA_EXEC_002", "payload": {}})
    _, listed = admin.call("GET", "/v1/events")
    assert {e["projectId"] for e in listed["items"]} == {"p1", "p2"}


def test_bad_cursor_is_400(admin: Client) -> None:
    status, resp = admin.call("GET", "/v1/events?project=p1&cursor=garbage")
    assert (status, resp["error"]["field"]) == (400, "cursor")


def test_key_of_one_project_cannot_see_another(admin: Client) -> None:
    _, accepted = admin.call("POST", "/api/projects/p2/events", {"eventCode": "ICA_EXEC_002", "payload": {}})
    p1 = Client(P1_KEY)
    assert p1.call("GET", accepted["$uri"])[0] == 404
    assert p1.call("GET", "/api/projects/p2/notificationSubscriptions")[0] == 404
    assert p1.call("POST", "/api/projects/p2/events", {"eventCode": "ICA_EXEC_002", "payload": {}})[0] == 404
    assert p1.call("GET", "/v1/events?project=p2")[0] == 404


def test_unknown_route_is_404_json(admin: Client) -> None:
    status, resp = admin.call("GET", "/api/nothing-here")
    assert (status, resp["error"]["code"]) == (404, "not_found")
