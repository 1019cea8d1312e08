"""Bounds before work at the API: JSON depth and width at every entrance, bodies on every route
(public ones included), odd bytes anywhere, and stored data that predates the bounds.

Each bound is a named constant in `herald.domain.limits`; each refusal is a 4xx naming the problem.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from herald.api import app as api_app
from herald.domain import clock, ids, jsontext, limits
from herald.domain.models import Event
from herald.logic import accept, bridge, dead_letters
from herald.logic.services import Services
from tests.unit.api.support import ADMIN, Client, channel, event, subscription


def nested(depth: int, leaf: Any = 1) -> Any:
    """{"a": {"a": … leaf}} with `depth` objects."""
    node = leaf
    for _ in range(depth):
        node = {"a": node}
    return node


def nested_arrays(depth: int) -> Any:
    node: Any = 0
    for _ in range(depth):
        node = [node]
    return node


PAYLOAD_AT_THE_BOUND = nested(limits.MAX_PAYLOAD_DEPTH)
PAYLOAD_ONE_TOO_DEEP = nested(limits.MAX_PAYLOAD_DEPTH + 1)


# --- depth and width: every entrance ------------------------------------------------------------
def test_a_payload_nesting_up_to_the_bound_is_accepted_and_read_back_whole(admin: Client) -> None:
    status, accepted = admin.call(
        "POST", "/api/projects/p1/events", {"eventCode": "ICA_EXEC_002", "payload": PAYLOAD_AT_THE_BOUND}
    )
    assert status == 202, accepted
    status, shown = admin.call("GET", f"/v1/events/{accepted['id']}")
    assert (status, shown["payload"]) == (200, PAYLOAD_AT_THE_BOUND)


# (method, path, body): every route that takes a body, each with something too deep in it.
def _too_deep_bodies(channel_id: str, sub_id: str) -> list[tuple[str, str, Any]]:
    deep = nested(limits.MAX_JSON_DEPTH)  # inside a body: one level more than the bound
    return [
        ("POST", "/api/projects/p1/events", {"eventCode": "ICA_EXEC_002", "payload": PAYLOAD_ONE_TOO_DEEP}),
        ("POST", "/api/projects/p1/events", {"eventCode": "ICA_EXEC_002", "payload": nested(253)}),  # the probe's
        ("POST", "/api/projects/p1/events", {"eventCode": "ICA_EXEC_002", "payload": {"l": nested_arrays(40)}}),
        ("POST", "/api/projects/p1/customEvents", {"code": "QC_FAILED", "content": PAYLOAD_ONE_TOO_DEEP}),
        ("POST", "/api/notificationChannels", {"type": "HTTP", "address": "http://x/h", "x": deep}),
        ("PATCH", f"/api/notificationChannels/{channel_id}", {"enabled": True, "x": deep}),
        ("PUT", f"/api/notificationChannels/{channel_id}", {"type": "HTTP", "address": "http://x/h", "x": deep}),
        ("POST", "/api/projects/p1/notificationSubscriptions", {"eventCode": "*", "x": deep}),
        ("PATCH", f"/api/projects/p1/notificationSubscriptions/{sub_id}", {"x": deep}),
        ("POST", "/api/projects/p1/customNotificationSubscriptions", {"eventCode": "QC", "x": deep}),
        ("POST", f"/api/projects/p1/notificationSubscriptions/{sub_id}/failedNotifications:reprocess", {"x": deep}),
        ("POST", "/api/keys", {"projects": ["p1"], "x": deep}),
    ]  # fmt: skip


def test_too_deep_json_is_refused_at_every_route_that_takes_a_body(admin: Client) -> None:
    ch = channel(admin, projects=["p1"])
    sub = subscription(admin, "p1", ch["id"])
    for method, path, body in _too_deep_bodies(ch["id"], sub["id"]):
        status, resp = admin.call(method, path, body)
        assert status == 400, (method, path, resp)
        assert "nested too deeply" in resp["error"]["message"], (method, path)
        assert f"more than {limits.MAX_JSON_DEPTH} levels" in resp["error"]["message"]
    assert admin.call("GET", "/v1/events?project=p1")[1]["items"] == []


@pytest.mark.parametrize(
    ("payload", "where"),
    [
        pytest.param({"items": list(range(limits.MAX_JSON_MEMBERS + 1))}, "$['payload']['items']", id="array"),
        pytest.param({f"k{i}": i for i in range(limits.MAX_JSON_MEMBERS + 1)}, "$['payload']", id="object"),
        pytest.param({"a": [{"b": [0] * (limits.MAX_JSON_MEMBERS + 5)}]}, "$['payload']['a'][0]['b']",
                     id="nested-array"),
    ],
)  # fmt: skip
def test_an_object_or_array_wider_than_the_bound_is_refused_naming_where(
    admin: Client, payload: dict[str, Any], where: str
) -> None:
    status, resp = admin.call(
        "POST", "/api/projects/p1/events", {"eventCode": "ICA_EXEC_002", "payload": payload}
    )
    assert status == 400
    assert resp["error"]["message"].startswith(
        f"the request body is not valid JSON as Herald takes it: {where} has "
    )
    assert f"at most {limits.MAX_JSON_MEMBERS}" in resp["error"]["message"]


def test_the_width_bound_holds_wherever_the_payload_comes_from(services: Services) -> None:
    wide = {"items": [0] * (limits.MAX_JSON_MEMBERS + 1)}
    with pytest.raises(accept.PayloadShapeError, match=r"\$\['items'\] has 10001 members"):
        accept.accept_event(services, "p1", "ICA_EXEC_002", wide)
    with pytest.raises(accept.PayloadShapeError, match="nested too deeply"):
        accept.accept_event(services, "p1", "ICA_EXEC_028", PAYLOAD_ONE_TOO_DEEP)


@pytest.mark.parametrize(
    "envelope",
    [
        pytest.param({"correlationId": "c1", "eventCode": "ICA_EXEC_002", "payload": PAYLOAD_ONE_TOO_DEEP},
                     id="payload-too-deep"),
        pytest.param({"correlationId": "c2", "eventCode": "ICA_EXEC_002", "payload": {"a": nested_arrays(300)}},
                     id="arrays-300-deep"),
        pytest.param({"correlationId": "c3", "eventCode": "ICA_EXEC_002",
                      "payload": {"a": list(range(limits.MAX_JSON_MEMBERS + 1))}}, id="too-wide"),
        pytest.param({"Type": "Notification", "Message": json.dumps(
            {"correlationId": "c4", "eventCode": "ICA_EXEC_002", "payload": PAYLOAD_ONE_TOO_DEEP})},
            id="inside-an-sns-wrapper"),
    ],
)  # fmt: skip
def test_bridged_messages_over_the_bounds_are_refused_then_quarantined_as_text(
    services: Services, envelope: dict[str, Any]
) -> None:
    body = json.dumps(envelope)
    with pytest.raises(bridge.BridgeError, match=r"nested too deeply|members"):
        bridge.ingest_message(services, body)
    assert dead_letters.settle(services, body) == "quarantined"
    quarantined = services.events.list_page(dead_letters.QUARANTINE_PROJECT, 10, None, now=clock.now())
    assert [e.payload["body"] for e in quarantined.items] == [body]


# --- data stored before the bounds: never a 500, for anyone -------------------------------------
@pytest.fixture
def stored_deep_event(keys: Services) -> Iterator[Event]:
    """An event nested 300 levels deep, stored as it could be before the bound existed."""
    now = clock.now()
    deep = Event(
        id=ids.new_id(),
        projectId="p1",
        eventCode="ICA_EXEC_002",
        description="legacy",
        payload={"id": "deep", "tree": nested(300)},
        correlationId="c",
        timestamp=clock.utc_iso(now),
        createdAt=now,
    )
    keys.events.put_if_new(deep)
    yield deep


def test_an_event_stored_too_deep_is_shown_cut_at_the_bound_not_a_500(
    admin: Client, p1: Client, stored_deep_event: Event
) -> None:
    other = event(admin, "p1")
    for client, path in [
        (admin, f"/v1/events/{stored_deep_event.id}"),
        (p1, f"/v1/events/{stored_deep_event.id}"),
    ]:
        status, shown = client.call("GET", path)
        assert status == 200, shown
        assert shown["payload"]["id"] == "deep"
        assert not jsontext.nests_deeper_than(shown["payload"], limits.MAX_PAYLOAD_DEPTH)
        assert json.dumps(shown["payload"]).count(json.dumps(api_app.events.TOO_DEEP_MARKER)) == 1
    for client, path in [(admin, "/v1/events"), (admin, "/v1/events?project=p1"), (p1, "/v1/events")]:
        status, listed = client.call("GET", path)
        assert status == 200, (path, listed)
        assert {e["id"] for e in listed["items"]} >= {stored_deep_event.id, other}


# --- bodies on every route, before anything reads them ------------------------------------------
def _every_route() -> list[tuple[str, str]]:
    """Every (method, path) the API serves, documented or not, with path parameters filled in."""
    routes = []
    for route in api_app.app.routes():
        path = route.path.replace("<project_id>", "p1")
        for name in ("channel_id", "subscription_id", "notification_id", "event_id", "key_id"):
            path = path.replace(f"<{name}>", "x1")
        routes.append((route.method, path))
    return sorted(set(routes))


EVERY_ROUTE = _every_route()
OVERSIZED = b'{"a": "' + b"x" * limits.MAX_BODY_BYTES + b'"}'


@pytest.fixture
def nothing_parsed(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Records any attempt to parse a body or authenticate: a refused body must come first."""
    calls: list[str] = []
    real_loads = jsontext.loads

    def loads(text: Any, *args: Any, **kwargs: Any) -> Any:
        calls.append("parsed")
        return real_loads(text, *args, **kwargs)

    monkeypatch.setattr(jsontext, "loads", loads)
    monkeypatch.setattr(api_app.auth, "authenticate", lambda *a: calls.append("authenticated"))
    return calls


@pytest.mark.parametrize(("method", "path"), EVERY_ROUTE, ids=[f"{m} {p}" for m, p in EVERY_ROUTE])
@pytest.mark.parametrize("key", [ADMIN, None], ids=["admin", "no-key"])
def test_an_oversized_body_is_413_on_every_route_before_it_is_parsed(
    keys: Services, nothing_parsed: list[str], method: str, path: str, key: str | None
) -> None:
    status, resp = Client(key).call(method, path, raw=OVERSIZED)
    assert (status, resp["error"]) == (413, {"code": "payload_too_large", "message": limits.BODY_TOO_LARGE})
    assert nothing_parsed == []


@pytest.mark.parametrize(
    ("method", "path"), [("POST", "/health"), ("POST", "/openapi.json"), ("DELETE", "/swagger")]
)
def test_a_body_to_a_route_that_has_no_such_method_is_405_without_being_parsed(
    keys: Services, nothing_parsed: list[str], method: str, path: str
) -> None:
    status, resp = Client(None).call(method, path, raw=b'{"a": ' + b"[" * 5000)
    assert (status, resp["error"]["code"]) == (405, "method_not_allowed")
    assert nothing_parsed == []


# --- odd bytes on every route --------------------------------------------------------------------
ODD_BODIES = [
    b"\xff\xfe\xfd",  # not UTF-8 at all
    b"\xc3\x28",  # a broken two-byte sequence
    b'{"a": "\xed\xa0\x80"}',  # an encoded surrogate (invalid UTF-8)
    b"\xef\xbb\xbf{}",  # a byte order mark
    b"\x00\x00\x00{",  # NULs (UTF-32 sniffing)
    b'{"x": 1}\xff',  # trailing garbage
    b"\xfe\xff\x00{\x00}",  # UTF-16 with a BOM
    '{"é": "\u2028"}'.encode("latin-1", "replace"),  # Latin-1, not UTF-8
]


@pytest.mark.parametrize(("method", "path"), EVERY_ROUTE, ids=[f"{m} {p}" for m, p in EVERY_ROUTE])
def test_odd_bytes_never_make_any_route_answer_5xx(keys: Services, method: str, path: str) -> None:
    for key in (ADMIN, None):
        for raw in ODD_BODIES:
            status, resp = Client(key).call(method, path, raw=raw)
            assert 400 <= status < 500, (key, raw, status, resp)
            assert set(resp["error"]) >= {"code", "message"}


@pytest.mark.parametrize(
    "path",
    ["/v1/events/%ff%fe", "/api/projects/%c0%af/events", "/api/projects/p%00/events", "/api/keys/%ed%a0%80",
     "/api/notificationChannels/%e2%80%a8", "/webhooks/onecodex%ff"],
)  # fmt: skip
def test_odd_bytes_in_a_path_are_4xx(admin: Client, path: str) -> None:
    status, resp = admin.call("GET", path)
    assert 400 <= status < 500, resp


@pytest.mark.parametrize("timeout", [5e-324, 1e-130, 0.0009, 1e300])
def test_a_number_dynamodb_cannot_store_is_400_not_500(admin: Client, timeout: float) -> None:
    """Found by the fuzzer: 5e-324 s passed `> 0` and failed the DynamoDB write (numbers go down to 1E-130)."""
    body = {"type": "HTTP", "address": "https://hooks.example.com/h", "timeoutSeconds": timeout}
    status, resp = admin.call("POST", "/api/notificationChannels", body)
    assert (status, resp["error"]["field"]) == (400, "timeoutSeconds")
    ch = channel(admin, projects=["p1"])
    assert admin.call("PUT", f"/api/notificationChannels/{ch['id']}", body)[0] == 400
    assert admin.call("PATCH", f"/api/notificationChannels/{ch['id']}", {"timeoutSeconds": timeout})[0] == 400
    assert channel(admin, timeoutSeconds=0.001)["timeoutSeconds"] == 0.001


@pytest.mark.parametrize(
    ("field", "value"),
    [("enabled", 0), ("enabled", "true"), ("rateLimitPerSecond", "5"), ("rateLimitPerSecond", 5.0),
     ("timeoutSeconds", "0.5")],
)  # fmt: skip
def test_a_body_value_of_another_json_type_than_documented_is_400(
    admin: Client, field: str, value: Any
) -> None:
    """Found by the fuzzer: `"enabled": 0` was taken for false though the spec says boolean."""
    body = {"type": "HTTP", "address": "https://hooks.example.com/h", field: value}
    status, resp = admin.call("POST", "/api/notificationChannels", body)
    assert (status, resp["error"]["field"]) == (400, field)
