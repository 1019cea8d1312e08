"""A One Codex receiver, written from One Codex's documentation alone, verifies Herald's deliveries.

The receiver below knows only what One Codex tells its webhook users (seeds 001/002: the timestamp
of the POST is in the `X-OneCodex-Signature` header; "Checking Signatures",
developer.onecodex.com/api-reference/checking-webhook-signatures): the header holds `t=<unix
timestamp>` and `v1=<signature>` separated by a space; the signed payload is the timestamp, a
`.`, and the request body; the signature is an HMAC with SHA-256 of it, keyed with the webhook
secret; compare the expected signature with the received one. It has never heard of Herald,
Standard Webhooks, `whsec_` or base64: it is given the secret exactly as Herald showed it.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from standardwebhooks import Webhook

from herald import signing
from tests.conftest import serving
from tests.e2e.conftest import Herald

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]


def onecodex_documented_check(header: str | None, raw_body: bytes, secret: str) -> bool:
    """The four steps of One Codex's "Checking Signatures", and nothing else."""
    if header is None:
        return False
    # 1. The timestamp and the signature, from the header's two space-separated parts.
    timestamp_part, signature_part = header.split(" ")[0], header.split(" ")[1]
    if not (timestamp_part.startswith("t=") and signature_part.startswith("v1=")):
        return False
    timestamp, received = int(timestamp_part.split("=")[1]), signature_part.split("=")[1]
    # 2. The signed payload: the timestamp and the raw request body, joined with a ".".
    signed_payload = f"{timestamp}.{raw_body.decode()}"
    # 3. The expected signature: HMAC-SHA256 keyed with the webhook secret.
    expected = hmac.new(secret.encode(), signed_payload.encode(), hashlib.sha256).hexdigest()
    # 4. Do they match?
    return hmac.compare_digest(expected, received)


@dataclass
class OneCodexReceiver:
    url: str = ""
    secret: str = ""
    deliveries: list[tuple[dict[str, str], bytes, bool]] = field(default_factory=list)


@pytest.fixture
def onecodex_receiver() -> Iterator[OneCodexReceiver]:
    """Answers 200 to a delivery whose signature checks out, 401 to any other."""
    rec = OneCodexReceiver()
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            valid = onecodex_documented_check(self.headers.get("X-OneCodex-Signature"), raw, rec.secret)
            with lock:
                rec.deliveries.append((dict(self.headers.items()), raw, valid))
            self.send_response(200 if valid else 401)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    with serving(server, "onecodex-receiver") as url:
        rec.url = url
        yield rec


def _subscribe(herald: Herald, project: str, url: str) -> tuple[str, str]:
    code, channel = herald.call("POST", "/api/notificationChannels", {"type": "HTTP", "address": url})
    assert code == 201, channel
    code, sub = herald.call(
        "POST",
        f"/api/projects/{project}/notificationSubscriptions",
        {"eventCode": "analysis.succeeded", "notificationChannelId": channel["id"], "format": "onecodex"},
    )
    assert code == 201, sub
    return channel["id"], channel["secret"]


def _post(herald: Herald, project: str, analysis: str) -> str:
    code, accepted = herald.call(
        "POST",
        f"/api/projects/{project}/events",
        {
            "eventCode": "analysis.succeeded",
            "payload": {"$uri": f"/api/v1/analyses/{analysis}", "success": True},
        },
    )
    assert code == 202, accepted
    return str(accepted["id"])


def test_a_receiver_written_from_onecodex_docs_verifies_a_onecodex_format_delivery(
    herald: Herald, project: str, onecodex_receiver: OneCodexReceiver
) -> None:
    _, secret = _subscribe(herald, project, onecodex_receiver.url)
    onecodex_receiver.secret = secret  # exactly as Herald showed it: whsec_…

    event_id = _post(herald, project, "an-1")
    herald.event_when(event_id, "success")  # the receiver answered 200: it verified the delivery

    [(headers, raw, valid)] = onecodex_receiver.deliveries
    assert valid
    body = json.loads(raw)
    assert (body["api_version"], body["event_type"], body["object_type"]) == (
        "v1",
        "analysis.succeeded",
        "analysis",
    )
    # The same delivery still verifies as Standard Webhooks specifies (the standardwebhooks package).
    assert Webhook(secret).verify(raw, headers) == body


def test_after_a_rotation_the_onecodex_receiver_verifies_with_the_new_secret_and_herald_s_verify_with_either(
    herald: Herald, project: str, onecodex_receiver: OneCodexReceiver
) -> None:
    channel_id, old = _subscribe(herald, project, onecodex_receiver.url)
    code, rotated = herald.call("POST", f"/api/notificationChannels/{channel_id}:rotateSecret")
    assert code == 200, rotated
    new = rotated["secret"]
    onecodex_receiver.secret = new  # switched at rotation, as the README says for such receivers

    event_id = _post(herald, project, "an-2")
    herald.event_when(event_id, "success")

    [(headers, raw, valid)] = onecodex_receiver.deliveries
    assert valid
    assert len(headers["X-OneCodex-Signature"].split(" ")) == 3  # t=, then a v1= per secret
    # Receivers that compare every signature accept either secret during the overlap.
    assert (
        signing.verify(raw, headers, old)
        == signing.verify(raw, headers, new)
        == "standard-webhooks, onecodex"
    )
    Webhook(old).verify(raw, headers)
    Webhook(new).verify(raw, headers)


def test_a_receiver_holding_another_secret_refuses_the_delivery(
    herald: Herald, project: str, onecodex_receiver: OneCodexReceiver
) -> None:
    _subscribe(herald, project, onecodex_receiver.url)
    onecodex_receiver.secret = signing.generate_secret()  # not this channel's
    _post(herald, project, "an-3")
    herald.wait_for(lambda: onecodex_receiver.deliveries, what="a delivery")
    assert onecodex_receiver.deliveries[0][2] is False
