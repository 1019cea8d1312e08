"""Authentication, the error shape, unknown routes and methods, body limits, unexpected failures."""

from __future__ import annotations

import pytest

from herald.logic.services import Services
from tests.unit.api.support import Client


def test_missing_key_is_401_with_a_json_error(admin: Client) -> None:
    status, body = Client(None).call("GET", "/api/notificationChannels")
    assert status == 401
    assert body == {"error": {"code": "unauthorized", "message": "missing X-API-Key header"}}


def test_unknown_key_is_401(admin: Client) -> None:
    status, body = Client("nope").call("GET", "/api/notificationChannels")
    assert (status, body["error"]["message"]) == (401, "the API key is not valid")


def test_health_needs_no_key(admin: Client) -> None:
    assert Client(None).call("GET", "/health") == (200, {"status": "ok"})


def test_unknown_route_is_404_json(admin: Client) -> None:
    status, resp = admin.call("GET", "/api/nothing-here")
    assert (status, resp["error"]["code"]) == (404, "not_found")


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("PUT", "/api/notificationChannels", "GET, POST"),
        ("POST", "/api/notificationChannels/c1", "DELETE, GET, PATCH, PUT"),
        ("GET", "/api/notificationChannels/c1:rotateSecret", "POST"),
        ("PATCH", "/api/projects/p1/notificationSubscriptions/s1:enable", "POST"),
        ("DELETE", "/api/projects/p1/events", "POST"),
        ("POST", "/v1/events", "GET"),
        ("PATCH", "/api/keys", "GET, POST"),
        ("POST", "/health", "GET"),
    ],
    ids=["channels", "channel", "rotate-secret", "enable", "ingest", "events", "keys", "health"],
)
def test_wrong_method_on_a_known_path_is_405_with_allow(
    admin: Client, method: str, path: str, allowed: str
) -> None:
    reply = admin.request(method, path)
    assert reply.status == 405
    assert reply.headers["Allow"] == allowed
    assert reply.body["error"]["code"] == "method_not_allowed"


def test_invalid_json_body_is_400(admin: Client) -> None:
    status, resp = admin.call("POST", "/api/notificationChannels", raw=b"{nope")
    assert (status, resp["error"]["message"]) == (
        400,
        "the request body is not valid JSON: Expecting property name enclosed in double quotes",
    )


def test_missing_body_is_400(admin: Client) -> None:
    status, resp = admin.call("POST", "/api/notificationChannels")
    assert (status, resp["error"]["message"]) == (400, "a JSON request body is required")


def test_body_that_is_not_an_object_is_400(admin: Client) -> None:
    status, resp = admin.call("POST", "/api/notificationChannels", [1, 2])
    assert status == 400 and resp["error"]["code"] == "invalid_request"


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


def test_oversized_body_is_413(admin: Client) -> None:
    body = {"eventCode": "ICA_EXEC_002", "payload": {"blob": "x" * 600_000}}
    status, resp = admin.call("POST", "/api/projects/p1/events", body)
    assert (status, resp["error"]["code"]) == (413, "payload_too_large")


@pytest.mark.parametrize("limit", ["0", "101", "ten"])
def test_limit_outside_1_to_100_is_400_naming_limit(admin: Client, limit: str) -> None:
    status, resp = admin.call("GET", f"/api/notificationChannels?limit={limit}")
    assert (status, resp["error"]["field"]) == (400, "limit")


def test_unexpected_failure_is_a_500_json_error_without_details(
    admin: Client, keys: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    def explode(*args: object, **kwargs: object) -> None:
        raise RuntimeError("secret internals /var/task/herald/store.py")

    monkeypatch.setattr(type(keys.channels), "list_page", explode)
    status, body = admin.call("GET", "/api/notificationChannels")
    assert status == 500
    assert body == {
        "error": {"code": "internal_error", "message": "an unexpected error occurred; it has been logged"}
    }


def test_a_query_parameter_the_route_does_not_take_is_400_naming_it(admin: Client) -> None:
    status, resp = admin.call("GET", "/v1/events?projectId=p1")
    assert (status, resp["error"]["field"]) == (400, "projectId")
    assert "it takes: cursor, event_type, limit, project, since, status, until" in resp["error"]["message"]


def test_a_request_without_a_key_is_401_before_its_body_is_judged(admin: Client) -> None:
    status, resp = Client(None).call("POST", "/api/notificationChannels", raw=b"{not json")
    assert (status, resp["error"]["code"]) == (401, "unauthorized")


def test_a_body_that_is_not_utf8_is_400(admin: Client) -> None:
    status, resp = admin.call("POST", "/api/notificationChannels", raw=b"\xff\xfe{}")
    assert status == 400 and "not UTF-8" in resp["error"]["message"]


def test_percent_encoded_paths_are_decoded_before_routing(admin: Client) -> None:
    assert admin.call("GET", "/api/projects/urn%3Aproject%3A1/notificationSubscriptions")[0] == 200


@pytest.mark.parametrize("path", ["/v1/events/%0A", "/v1/events%0A", "/health%00"])
def test_a_path_with_control_characters_is_404(admin: Client, path: str) -> None:
    assert admin.call("GET", path)[0] == 404


@pytest.mark.parametrize("code", ["ProvisionedThroughputExceededException", "ThrottlingException"])
def test_storage_throttled_at_ingest_is_503_with_retry_after(
    admin: Client, keys: Services, monkeypatch: pytest.MonkeyPatch, code: str
) -> None:
    from botocore.exceptions import ClientError

    def throttled(*args: object, **kwargs: object) -> None:
        raise ClientError({"Error": {"Code": code, "Message": "slow down"}}, "PutItem")

    monkeypatch.setattr(type(keys.events), "put_if_new", throttled)
    reply = admin.request(
        "POST", "/api/projects/p1/events", {"eventCode": "ICA_EXEC_002", "payload": {"id": "a"}}
    )
    assert (reply.status, reply.body["error"]["code"]) == (503, "unavailable")
    assert reply.headers.get("Retry-After") == "1"


def test_an_aws_error_that_retrying_cannot_fix_is_still_a_500(
    admin: Client, keys: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    from botocore.exceptions import ClientError

    def denied(*args: object, **kwargs: object) -> None:
        raise ClientError({"Error": {"Code": "AccessDeniedException", "Message": "no"}}, "Query")

    monkeypatch.setattr(type(keys.channels), "list_page", denied)
    status, body = admin.call("GET", "/api/notificationChannels")
    assert (status, body["error"]["code"]) == (500, "internal_error")
