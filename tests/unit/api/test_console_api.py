"""The console's API: sessions and one-time links, open-notification counts, attempt series,
test events, and the console's static files with their security headers."""

from __future__ import annotations

import json
from typing import Any

import pytest

from herald.api import auth, console_static
from herald.dev.local.api_server import proxy_event
from herald.dev.local.lambda_context import LocalContext
from herald.dev.local.resources import LocalResources
from herald.domain import clock
from herald.domain.models import NotificationStatus
from herald.handlers import api
from herald.logic import console_sessions
from herald.logic.services import Services
from tests.unit.api.support import (
    Client,
    Reply,
    _headers,
    channel,
    event,
    failed_notification,
    notification,
    subscription,
)


class SessionClient(Client):
    """Sends `Authorization: Bearer <session token>` instead of an API key."""

    def __init__(self, token: str | None) -> None:
        super().__init__(None)
        self.token = token

    def request(self, method: str, path: str, body: Any = None, **_: Any) -> Reply:
        headers = {"Content-Type": "application/json"}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        data = json.dumps(body).encode() if body is not None else b""
        result = api.handler(proxy_event(method, path, headers, data), LocalContext("api"))
        text = result.get("body") or ""
        merged = _headers(result)
        return Reply(
            result["statusCode"],
            json.loads(text) if text and "json" in merged.get("Content-Type", "") else text,
            merged,
        )


@pytest.fixture(autouse=True)
def _fresh_sessions() -> Any:
    console_sessions.forget()
    yield
    console_sessions.forget()


def session_of(client: Client) -> SessionClient:
    status, body = client.call("POST", "/api/consoleSessions", {})
    assert status == 201, body
    assert body["token"].startswith("hrlds_")
    return SessionClient(body["token"])


def link_of(client: Client, **fields: Any) -> str:
    status, body = client.call("POST", "/api/consoleLinks", fields)
    assert status == 201, body
    url = body["url"]
    assert "/console/#link=hrldl_" in url
    return url.split("#link=", 1)[1]


# --- sessions: scope equals the key's ------------------------------------------------------------
def _scope_probe(admin: Client, keys: Services) -> list[str]:
    """Paths across projects and resources, admin-only ones included."""
    c1, c2 = channel(admin, projects=["p1"]), channel(admin, projects=["p2"])
    s1, s2 = subscription(admin, "p1", c1["id"]), subscription(admin, "p2", c2["id"])
    e1, e2 = event(admin, "p1"), event(admin, "p2")
    return [
        "/api/notificationChannels",
        f"/api/notificationChannels/{c1['id']}",
        f"/api/notificationChannels/{c2['id']}",
        f"/api/notificationChannels/{c2['id']}/health",
        f"/api/notificationChannels/{c1['id']}/stats",
        f"/api/notificationChannels/{c2['id']}/stats",
        "/api/projects/p1/notificationSubscriptions",
        "/api/projects/p2/notificationSubscriptions",
        f"/api/projects/p1/notificationSubscriptions/{s1['id']}/notificationCounts",
        f"/api/projects/p2/notificationSubscriptions/{s2['id']}/notificationCounts",
        f"/api/projects/p2/notificationSubscriptions/{s2['id']}/failedNotifications",
        f"/v1/events/{e1}",
        f"/v1/events/{e2}",
        "/v1/events?project=p1",
        "/v1/events?project=p2",
        "/api/keys",
        "/api/eventCodes?project=p2",
    ]


@pytest.mark.parametrize("key_name", ["admin", "p1"])
def test_a_session_sees_exactly_what_its_key_sees(
    key_name: str, admin: Client, p1: Client, keys: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    frozen = clock.now()
    monkeypatch.setattr(clock, "now", lambda: frozen)  # time-ranged answers compare equal
    client = {"admin": admin, "p1": p1}[key_name]
    session = session_of(client)
    for path in _scope_probe(admin, keys):
        by_key, by_session = client.call("GET", path), session.call("GET", path)
        assert by_session == by_key, path


def test_a_session_changes_only_what_its_key_may(p1: Client, admin: Client) -> None:
    session = session_of(p1)
    c2 = channel(admin, projects=["p2"])
    status, _ = session.call("POST", "/api/projects/p2/events", {"eventCode": "ICA_EXEC_002", "payload": {}})
    assert status == 404
    status, _ = session.call("DELETE", f"/api/notificationChannels/{c2['id']}")
    assert status == 404
    status, _ = session.call("POST", "/api/keys", {"projects": ["p1"]})
    assert status == 404
    status, body = session.call(
        "POST", "/api/projects/p1/events", {"eventCode": "ICA_EXEC_002", "payload": {}}
    )
    assert status == 202, body


def test_current_session_names_the_key_and_its_end(p1: Client) -> None:
    session = session_of(p1)
    status, me = session.call("GET", "/api/consoleSessions/current")
    assert status == 200
    assert me["projects"] == ["p1"] and me["admin"] is False and me["name"] == "p1"
    assert me["expiresAt"] is not None
    status, me = p1.call("GET", "/api/consoleSessions/current")
    assert status == 200 and me["expiresAt"] is None


def test_a_session_expires_after_an_hour(p1: Client, monkeypatch: pytest.MonkeyPatch) -> None:
    session = session_of(p1)
    assert session.call("GET", "/api/notificationChannels")[0] == 200
    start = clock.now()
    monkeypatch.setattr(clock, "now", lambda: start + console_sessions.SESSION_SECONDS + 1)
    status, body = session.call("GET", "/api/notificationChannels")
    assert status == 401
    assert "expired" in body["error"]["message"]


def test_revoking_the_key_ends_its_sessions(admin: Client, keys: Services) -> None:
    status, created = admin.call("POST", "/api/keys", {"projects": ["p1"], "name": "temp"})
    assert status == 201
    session = session_of(Client(created["key"]))
    assert session.call("GET", "/api/notificationChannels")[0] == 200
    assert admin.call("DELETE", f"/api/keys/{created['keyId']}")[0] == 204
    console_sessions.forget()  # another instance's cache, or this one's after 30 s
    assert session.call("GET", "/api/notificationChannels")[0] == 401


def test_signing_out_ends_the_session(p1: Client) -> None:
    session = session_of(p1)
    assert session.call("DELETE", "/api/consoleSessions/current")[0] == 204
    assert session.call("GET", "/api/notificationChannels")[0] == 401


def test_a_forged_or_malformed_bearer_is_refused(keys: Services) -> None:
    for token in ("hrlds_forged", "not-a-session", "hrlds_" + "x" * 500):
        status, body = SessionClient(token).call("GET", "/api/notificationChannels")
        assert status == 401, token
        assert body["error"]["code"] == "unauthorized"


def test_a_session_cannot_make_links_or_sessions(p1: Client) -> None:
    session = session_of(p1)
    status, body = session.call("POST", "/api/consoleLinks", {})
    assert status == 403 and "API key" in body["error"]["message"]
    status, body = session.call("POST", "/api/consoleSessions", {})
    assert status == 403


def test_sessions_are_stored_as_hashes_only(p1: Client, keys: Services) -> None:
    session = session_of(p1)
    items = keys.table.ddb.scan(TableName=keys.table.name)["Items"]
    assert session.token not in json.dumps(items)


# --- one-time links --------------------------------------------------------------------------------
def test_a_link_opens_a_session_once(p1: Client, keys: Services) -> None:
    token = link_of(p1, project="p1")
    status, opened = SessionClient(None).call("POST", "/api/consoleSessions", {"link": token})
    assert status == 201, opened
    assert opened["project"] == "p1" and opened["projects"] == ["p1"]
    assert SessionClient(opened["token"]).call("GET", "/api/projects/p1/notificationSubscriptions")[0] == 200
    status, again = SessionClient(None).call("POST", "/api/consoleSessions", {"link": token})
    assert status == 401
    assert "already used" in again["error"]["message"]


def test_an_expired_link_is_refused(p1: Client, monkeypatch: pytest.MonkeyPatch) -> None:
    token = link_of(p1, expiresInSeconds=60)
    start = clock.now()
    monkeypatch.setattr(clock, "now", lambda: start + 61)
    status, body = SessionClient(None).call("POST", "/api/consoleSessions", {"link": token})
    assert status == 401 and "expired" in body["error"]["message"]


def test_a_link_for_another_project_is_not_made(p1: Client) -> None:
    status, _ = p1.call("POST", "/api/consoleLinks", {"project": "p2"})
    assert status == 404


def test_a_link_lifetime_is_bounded(p1: Client) -> None:
    for seconds in (0, 59, 3601):
        status, body = p1.call("POST", "/api/consoleLinks", {"expiresInSeconds": seconds})
        assert status == 400 and body["error"]["field"] == "expiresInSeconds"


def test_a_link_url_is_on_the_api_origin(p1: Client) -> None:
    status, body = p1.call("POST", "/api/consoleLinks", {})
    assert status == 201
    assert body["url"].startswith("http://") and "/console/#link=" in body["url"]


def test_no_credentials_and_no_link_is_unauthorized(keys: Services) -> None:
    status, body = SessionClient(None).call("POST", "/api/consoleSessions", {})
    assert status == 401 and "X-API-Key" in body["error"]["message"]
    status, _ = SessionClient(None).call("POST", "/api/consoleSessions", {"link": "hrldl_nope"})
    assert status == 401


def test_a_link_of_a_revoked_key_opens_nothing(admin: Client, keys: Services) -> None:
    status, created = admin.call("POST", "/api/keys", {"projects": ["p1"]})
    token = link_of(Client(created["key"]))
    admin.call("DELETE", f"/api/keys/{created['keyId']}")
    auth.clear_cache()
    status, body = SessionClient(None).call("POST", "/api/consoleSessions", {"link": token})
    assert status == 401 and "revoked" in body["error"]["message"]


# --- counts, stats, test events -------------------------------------------------------------------
def test_counts_name_each_open_status(admin: Client, keys: Services) -> None:
    sub = subscription(admin, "p1", channel(admin)["id"])
    failed_notification(keys, admin, "p1", sub)
    failed_notification(keys, admin, "p1", sub)
    notification(keys, event(admin, "p1"), sub, status=NotificationStatus.RETRYABLE, http_statuses=(500,))
    notification(
        keys, event(admin, "p1"), sub, status=NotificationStatus.PENDING, http_statuses=(), held_back=True
    )
    status, counts = admin.call(
        "GET", f"/api/projects/p1/notificationSubscriptions/{sub['id']}/notificationCounts"
    )
    assert status == 200
    assert (counts["pending"], counts["retryable"], counts["failed"]) == (1, 1, 2)
    assert counts["complete"] is True and counts["deletable"] is False


def test_counts_of_a_clean_subscription_allow_delete(admin: Client, keys: Services) -> None:
    sub = subscription(admin, "p1", channel(admin)["id"])
    status, counts = admin.call(
        "GET", f"/api/projects/p1/notificationSubscriptions/{sub['id']}/notificationCounts"
    )
    assert status == 200 and counts["deletable"] is True
    assert admin.call("DELETE", f"/api/projects/p1/notificationSubscriptions/{sub['id']}")[0] == 204


def test_stats_bucket_attempts_by_step_with_latency(admin: Client, keys: Services) -> None:
    ch = channel(admin)
    stats = keys.channel_stats
    now = clock.now()
    minute = now - now % 60
    for duration in (20, 30, 40):
        stats.count(ch["id"], minute - 120, True, duration)
    stats.count(ch["id"], minute - 120, False, 3000)
    stats.count(ch["id"], minute, False, 15)
    since = clock.utc_iso(minute - 600).replace(".000Z", "Z")
    status, body = admin.call("GET", f"/api/notificationChannels/{ch['id']}/stats?since={since}&step=60")
    assert status == 200, body
    assert body["step"] == 60
    points = {p["at"]: p for p in body["points"]}
    busy = points[clock.utc_iso(minute - 120)]
    assert (busy["succeeded"], busy["failed"]) == (3, 1)
    assert busy["meanLatencyMs"] == pytest.approx((20 + 30 + 40 + 3000) / 4, abs=0.1)
    assert busy["p95LatencyMs"] == 5000
    assert points[clock.utc_iso(minute)]["failed"] == 1
    quiet = [p for p in body["points"] if p["succeeded"] == p["failed"] == 0]
    assert quiet and all(p["meanLatencyMs"] is None for p in quiet)


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("step=7", "step"),
        ("since=2020-01-01T00:00:00Z", "since"),
        ("since=2999-01-01T00:00:00Z", "since"),
        ("since=yesterday", "since"),
        ("since=", "since"),
        ("until=", "until"),
        ("until=now", "until"),
    ],
)
def test_stats_ranges_are_bounded(admin: Client, query: str, field: str) -> None:
    ch = channel(admin)
    status, body = admin.call("GET", f"/api/notificationChannels/{ch['id']}/stats?{query}")
    assert status == 400
    assert body["error"]["field"] == field


def test_a_delivered_attempt_is_counted_in_its_channels_stats(keys: Services) -> None:
    from herald.logic import delivery
    from herald.targets.base import Outcome

    class Prepared:
        channel = type("C", (), {"id": "chan-1"})()

    delivery._count_towards_stats(keys, Prepared(), Outcome(success=True, duration_ms=12))  # type: ignore[arg-type]
    now = clock.now()
    [point] = keys.channel_stats.series("chan-1", now - 1, now, 60)[-1:]
    assert point.succeeded == 1


def _queued(services: Services, resources: LocalResources) -> list[dict[str, Any]]:
    messages = services.queues.sqs.receive_message(
        QueueUrl=resources.deliveries_queue_url, MaxNumberOfMessages=10
    )
    return [json.loads(m["Body"]) for m in messages.get("Messages", [])]


def test_a_test_event_goes_to_its_subscription_only(
    admin: Client, keys: Services, resources: LocalResources
) -> None:
    ch = channel(admin)
    sub = subscription(admin, "p1", ch["id"], filterExpression="[?($.status == 'NEVER')]")
    other = subscription(admin, "p1", ch["id"])
    status, sent = admin.call(
        "POST", f"/api/projects/p1/notificationSubscriptions/{sub['id']}:sendTestEvent", {}
    )
    assert status == 202, sent
    assert sent["eventCode"] == "ICA_EXEC_002"
    status, stored = admin.call("GET", sent["$uri"])
    assert status == 200
    assert stored["description"].startswith("Test:")
    assert stored["payload"]["pipeline"]["code"] == "CopyToolDev"  # the catalog's example
    assert [n["subscriptionId"] for n in stored["notifications"]] == [sub["id"]]
    assert [m["subscriptionId"] for m in _queued(keys, resources)] == [sub["id"]]
    assert other["id"] != sub["id"]


def test_a_test_event_to_every_code_names_its_code(admin: Client, keys: Services) -> None:
    sub = subscription(admin, "p1", channel(admin)["id"], code="*")
    base = f"/api/projects/p1/notificationSubscriptions/{sub['id']}:sendTestEvent"
    status, body = admin.call("POST", base, {})
    assert status == 400 and body["error"]["field"] == "eventCode"
    status, body = admin.call("POST", base, {"eventCode": "ICA_SMP_002", "payload": {"name": "<b>x</b>"}})
    assert status == 202, body
    assert admin.call("GET", body["$uri"])[1]["payload"] == {"name": "<b>x</b>"}


def test_a_test_event_of_another_code_is_refused(admin: Client, keys: Services) -> None:
    sub = subscription(admin, "p1", channel(admin)["id"], code="ICA_DATA_100")
    base = f"/api/projects/p1/notificationSubscriptions/{sub['id']}:sendTestEvent"
    assert admin.call("POST", base, {"eventCode": "ICA_DATA_108"})[0] == 202  # the wildcard reaches it
    status, body = admin.call("POST", base, {"eventCode": "ICA_EXEC_002"})
    assert status == 400 and body["error"]["field"] == "eventCode"


def test_a_test_event_to_another_projects_subscription_is_not_found(admin: Client, p1: Client) -> None:
    sub = subscription(admin, "p2", channel(admin, projects=["p2"])["id"])
    status, _ = p1.call("POST", f"/api/projects/p2/notificationSubscriptions/{sub['id']}:sendTestEvent", {})
    assert status == 404


def test_the_catalog_has_an_example_payload_per_code(p1: Client) -> None:
    status, body = p1.call("GET", "/api/eventCodes")
    assert status == 200
    assert all(isinstance(item["examplePayload"], dict) and item["examplePayload"] for item in body["items"])


# --- the console's files ---------------------------------------------------------------------------
@pytest.fixture
def built(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    (tmp_path / "assets").mkdir()
    (tmp_path / "index.html").write_text("<!doctype html><title>Herald</title>")
    (tmp_path / "assets" / "app-1a2b.js").write_text("console.log(1)")
    monkeypatch.setattr(console_static, "STATIC_DIR", tmp_path)
    console_static.built_files.cache_clear()
    yield tmp_path
    console_static.built_files.cache_clear()


def _get(path: str, method: str = "GET") -> Reply:
    return Client(None).request(method, path)


@pytest.mark.parametrize(
    "path",
    [
        "/console",
        "/console/",
        "/console/index.html",
        "/console/assets/app-1a2b.js",
        "/console/nope.js",
        "/console/../api/keys",
    ],
)
def test_every_console_answer_carries_the_csp(built: Any, path: str) -> None:
    reply = _get(path)
    csp = reply.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert reply.headers["X-Content-Type-Options"] == "nosniff"


def test_the_console_page_and_assets_are_served_without_a_key(built: Any) -> None:
    page = _get("/console/")
    assert page.status == 200 and page.headers["Content-Type"].startswith("text/html")
    assert page.headers["Cache-Control"] == "no-cache"
    asset = _get("/console/assets/app-1a2b.js")
    assert asset.status == 200 and asset.body == "console.log(1)"
    assert "immutable" in asset.headers["Cache-Control"]


def test_console_without_slash_redirects(built: Any) -> None:
    reply = _get("/console")
    assert reply.status == 308 and reply.headers["Location"] == "/console/"


def test_only_built_files_are_served(built: Any) -> None:
    for path in ("/console/../../etc/passwd", "/console/assets/../index.html.bak", "/console/x.py"):
        assert _get(path).status == 404, path
    assert _get("/console/", "POST").status == 405


def test_an_unbuilt_console_says_how_to_build_it(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(console_static, "STATIC_DIR", tmp_path / "missing")
    console_static.built_files.cache_clear()
    try:
        reply = _get("/console/")
    finally:
        console_static.built_files.cache_clear()
    assert reply.status == 503 and "make console" in reply.body
    assert "Content-Security-Policy" in reply.headers


# --- target policies ---------------------------------------------------------------------------------
def test_an_sqs_target_policy_is_the_cli_policy(p1: Client) -> None:
    from herald.domain import policy

    url = "https://sqs.eu-west-1.amazonaws.com/111122223333/my-target"
    status, body = p1.call("GET", f"/api/targetPolicy?type=SQS&address={url}")
    assert status == 200, body
    assert body["arn"] == "arn:aws:sqs:eu-west-1:111122223333:my-target"
    assert body["policy"] == policy.render_policy("sqs", body["arn"], body["accountId"])
    assert body["policy"]["Statement"][0]["Action"] == "sqs:SendMessage"


def test_a_local_queue_url_names_the_local_region(p1: Client) -> None:
    status, body = p1.call("GET", "/api/targetPolicy?type=SQS&address=http://127.0.0.1:5000/123456789012/q1")
    assert status == 200 and body["arn"] == "arn:aws:sqs:us-east-1:123456789012:q1"


@pytest.mark.parametrize(
    ("kind", "address"),
    [
        ("SNS", "https://sqs.eu-west-1.amazonaws.com/111122223333/q"),
        ("SQS", "ftp://x/1/q"),
        ("SNS", "arn:aws:sqs:eu-west-1:111122223333:q"),
    ],
)
def test_a_wrong_target_address_names_the_problem(p1: Client, kind: str, address: str) -> None:
    status, body = p1.call("GET", f"/api/targetPolicy?type={kind}&address={address}")
    assert status == 400 and body["error"]["field"] == "address"


@pytest.mark.parametrize(
    ("kind", "address"),
    [
        ("SNS", "arn:aws:sqs:eu-west-1:111122223333:q"),
        ("SQS", "arn:aws:sqs:eu-west-1:2222:q"),
        ("SNS", "arn:aws:sns:eu-west-1:111122223333:t:8a21d249-4329-4871-acc6-7be709c6ea7f"),
        ("SQS", "arn:nope:sqs:eu-west-1:111122223333:q"),
    ],
)
def test_a_target_address_the_policy_cannot_name_answers_400_with_the_policys_reason(
    p1: Client, kind: str, address: str
) -> None:
    from herald.domain import policy

    with pytest.raises(policy.PolicyInputError) as reason:
        policy.render_policy("sqs" if kind == "SQS" else "sns", address, "123456789012")
    status, body = p1.call("GET", f"/api/targetPolicy?type={kind}&address={address}")
    assert (status, body) == (
        400,
        {"error": {"code": "invalid_request", "message": f"address: {reason.value}", "field": "address"}},
    )


def test_a_target_policy_needs_credentials(keys: Services) -> None:
    assert (
        Client(None).call("GET", "/api/targetPolicy?type=SNS&address=arn:aws:sns:eu-west-1:111122223333:t")[0]
        == 401
    )


# --- filter checks -----------------------------------------------------------------------------------
def test_a_filter_check_shows_the_subscription_error_and_caret(p1: Client, admin: Client) -> None:
    expression = "[?($.status == 'SUCCEEDED')"
    status, checked = p1.call("POST", "/api/filters:check", {"filterExpression": expression})
    assert status == 200 and checked["valid"] is False
    assert checked["caret"].splitlines()[0] == expression and checked["caret"].endswith("^")
    status, refused = admin.call(
        "POST",
        "/api/projects/p1/notificationSubscriptions",
        {
            "eventCode": "ICA_EXEC_002",
            "notificationChannelId": channel(admin)["id"],
            "filterExpression": expression,
        },
    )
    assert status == 400 and checked["message"] in refused["error"]["message"]


def test_a_filter_check_matches_a_payload(p1: Client) -> None:
    body = {"filterExpression": "[?($.status == 'SUCCEEDED')]", "payload": {"status": "SUCCEEDED"}}
    assert p1.call("POST", "/api/filters:check", body) == (
        200,
        {
            "valid": True,
            "message": None,
            "caret": None,
            "position": None,
            "matched": True,
            "evaluationError": None,
        },
    )
    body["payload"] = {"status": "FAILED"}
    assert p1.call("POST", "/api/filters:check", body)[1]["matched"] is False


def test_a_filter_check_is_bounded(p1: Client) -> None:
    status, body = p1.call("POST", "/api/filters:check", {"filterExpression": "x" * 2001})
    assert status == 400 and body["error"]["field"] == "filterExpression"


def test_the_console_routes_are_in_the_readme_api_table() -> None:
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[3] / "README.md").read_text()
    api_section = readme.split("## API", 1)[1].split("### Polling", 1)[0]
    for route in (
        "POST /api/consoleLinks",
        "POST /api/consoleSessions",
        "/api/consoleSessions/current",
        "/notificationCounts",
        ":sendTestEvent",
        "/api/notificationChannels/{id}/stats",
        "POST /api/filters:check",
        "GET /api/targetPolicy",
    ):
        assert route in api_section, route
