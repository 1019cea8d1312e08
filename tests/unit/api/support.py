"""A client for the API handler and builders for API tests (state set up the way a user would)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from herald.dev.local.api_server import proxy_event
from herald.dev.local.lambda_context import LocalContext
from herald.domain import clock, ids
from herald.domain.models import Attempt, Notification, NotificationStatus
from herald.handlers import api
from herald.logic.services import Services

ADMIN = "admin-key"
P1_KEY = "p1-key"
P2_KEY = "p2-key"
P12_KEY = "p1-p2-key"
ANALYSIS = {"id": "0c2ed19d", "status": "SUCCEEDED", "pipeline": {"code": "CopyToolDev"}}


@dataclass
class Reply:
    status: int
    body: Any
    headers: dict[str, str] = field(default_factory=dict)


class Client:
    """Calls the real Lambda handler with API Gateway proxy events, as API Gateway would."""

    def __init__(self, key: str | None) -> None:
        self.key = key

    def request(
        self,
        method: str,
        path: str,
        body: Any = None,
        raw: bytes | None = None,
        content_type: str = "application/json",
    ) -> Reply:
        headers = {"Content-Type": content_type}
        if self.key:
            headers["X-API-Key"] = self.key
        data = raw if raw is not None else (json.dumps(body).encode() if body is not None else b"")
        result = api.handler(proxy_event(method, path, headers, data), LocalContext("api"))
        text = result.get("body") or ""
        is_json = "json" in _headers(result).get("Content-Type", "")
        merged = _headers(result)
        return Reply(result["statusCode"], json.loads(text) if text and is_json else text or None, merged)

    def call(self, method: str, path: str, body: Any = None, **kwargs: Any) -> tuple[int, Any]:
        reply = self.request(method, path, body, **kwargs)
        return reply.status, reply.body


def _headers(result: dict[str, Any]) -> dict[str, str]:
    headers = dict(result.get("headers") or {})
    for key, values in (result.get("multiValueHeaders") or {}).items():
        headers[key] = ", ".join(values)
    return headers


def channel(client: Client, address: str = "http://127.0.0.1:9000/hook", **fields: Any) -> dict[str, Any]:
    status, body = client.call(
        "POST", "/api/notificationChannels", {"type": "HTTP", "address": address, **fields}
    )
    assert status == 201, body
    return body


def subscription(
    client: Client, project: str, channel_id: str, code: str = "ICA_EXEC_002", **fields: Any
) -> dict[str, Any]:
    status, body = client.call(
        "POST",
        f"/api/projects/{project}/notificationSubscriptions",
        {"eventCode": code, "notificationChannelId": channel_id, **fields},
    )
    assert status == 201, body
    return body


def event(
    client: Client, project: str, payload: dict[str, Any] | None = None, code: str = "ICA_EXEC_002"
) -> str:
    """Posts an event; by default a new analysis each time (one analysis's success is one event)."""
    body = {"eventCode": code, "payload": payload or {**ANALYSIS, "id": ids.new_id()}}
    status, body = client.call("POST", f"/api/projects/{project}/events", body)
    assert status == 202, body
    return str(body["id"])


def notification(
    services: Services,
    event_id: str,
    sub: dict[str, Any],
    status: NotificationStatus = NotificationStatus.FAILED,
    http_statuses: tuple[int, ...] = (500, 500, 500),
    created_at: str | None = None,
    held_back: bool = False,
) -> Notification:
    """A routed notification with failed attempts, ending in `status` (as the deliver function
    leaves it); `held_back`: then held back by its channel's circuit (listed open, no attempt)."""
    stored = services.events.get(event_id)
    assert stored is not None
    stamp = created_at or clock.utc_iso()
    n = Notification(
        id=ids.notification_id_for(event_id, sub["id"]),
        eventId=event_id,
        subscriptionId=sub["id"],
        projectId=sub["projectId"],
        channelId=sub["notificationChannelId"],
        createdAt=stamp,
        updatedAt=stamp,
    )
    services.notifications.create_if_new(n, stored)
    services.events.mark_routed(event_id)
    for i, code in enumerate(http_statuses):
        last = i == len(http_statuses) - 1
        attempt = Attempt(
            at=clock.utc_iso(), durationMs=3, success=False, httpStatus=code, error=f"HTTP {code}"
        )
        now_status = status if last else NotificationStatus.RETRYABLE
        services.notifications.record_attempt(
            event_id, sub["id"], attempt, now_status, attempt.at, created_at=stamp
        )
    current = services.notifications.get(event_id, sub["id"])
    assert current is not None
    if held_back:
        assert services.notifications.hold_open(current)
    return current


def failed_notification(
    services: Services, client: Client, project: str, sub: dict[str, Any], **kwargs: Any
) -> Notification:
    return notification(services, event(client, project), sub, **kwargs)


def wsgi_app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    """The API handler as a WSGI app, for tools that drive one (schemathesis)."""
    from urllib.parse import quote

    path = environ.get("PATH_INFO", "/").encode("latin-1").decode("utf-8", errors="replace")
    query = environ.get("QUERY_STRING", "")
    headers = {
        key[5:].replace("_", "-").title(): value for key, value in environ.items() if key.startswith("HTTP_")
    }
    if environ.get("CONTENT_TYPE"):
        headers["Content-Type"] = environ["CONTENT_TYPE"]
    length = int(environ.get("CONTENT_LENGTH") or 0)
    body = environ["wsgi.input"].read(length) if length else b""
    raw_path = quote(path) + (f"?{query}" if query else "")
    proxy = proxy_event(environ["REQUEST_METHOD"], raw_path, headers, body)
    proxy["path"] = proxy["requestContext"]["path"] = path  # API Gateway hands over the decoded path
    result = api.handler(proxy, LocalContext("api"))
    text = result.get("body") or ""
    import base64

    data = base64.b64decode(text) if result.get("isBase64Encoded") else text.encode()
    reason = {200: "OK"}.get(result["statusCode"], "Status")
    start_response(f"{result['statusCode']} {reason}", list(_headers(result).items()))
    return [data]
