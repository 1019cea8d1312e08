"""Hostile input through the HTTP API of `herald dev` configured like a deployment (only public
HTTP targets): SSRF attempts, malformed and oversized bodies, and forged or replayed One Codex
webhooks. Each refusal is checked to the exact status, error code and message, and nothing is
stored.

What tests/unit/test_ssrf.py, tests/unit/api/test_channels.py, tests/unit/api/test_errors.py and
tests/e2e/test_bridge.py already cover (the basic private ranges, a 600 KB body, a tampered or
stale webhook) is not repeated; these are the forms they miss, end to end.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import socket
import time
import urllib.error
import urllib.request
from typing import Any

import pytest

from herald.domain.limits import BODY_TOO_LARGE
from tests.faults.conftest import ONECODEX_SECRET
from tests.faults.support import Dev

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("faults-secured")]

CHANNELS = "/api/notificationChannels"


def _raw(
    dev: Dev, method: str, path: str, body: bytes, headers: dict[str, str] | None = None
) -> tuple[int, Any]:
    req = urllib.request.Request(dev.url + path, data=body, method=method)
    for key, value in (headers or {"X-API-Key": dev.key}).items():
        req.add_header(key, value)
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            return resp.status, json.loads(resp.read() or b"null")
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read() or b"null")


def _error(status: int, code: str, message: str, field: str | None = None) -> tuple[int, dict[str, Any]]:
    error: dict[str, Any] = {"code": code, "message": message}
    if field:
        error["field"] = field
    return status, {"error": error}


def _events(dev: Dev, project: str) -> list[dict[str, Any]]:
    status, listed = dev.call("GET", f"/v1/events?project={project}")
    assert status == 200, listed
    return listed["items"]


# --- SSRF: channel addresses that reach private, loopback or metadata addresses -------------------
NON_PUBLIC = (
    "a private, loopback, link-local or otherwise non-public address; Herald only delivers to "
    "public addresses (HERALD_ALLOW_PRIVATE_TARGETS=1 lifts this)"
)
# address → (host as Herald names it, the address it resolves to)
SSRF = {
    "http://2130706433/hook": ("2130706433", "127.0.0.1"),  # loopback as one decimal number
    "http://0x7f000001/hook": ("0x7f000001", "127.0.0.1"),  # ... in hex
    "http://017700000001/hook": ("017700000001", "127.0.0.1"),  # ... in octal
    "http://127.1/hook": ("127.1", "127.0.0.1"),  # ... shortened
    "http://0/hook": ("0", "0.0.0.0"),
    "http://localhost:8080/hook": ("localhost", "127.0.0.1"),  # a name, resolved when saved
    "HTTP://127.0.0.1/hook": ("127.0.0.1", "127.0.0.1"),  # scheme in capitals
    "http://[::ffff:169.254.169.254]/latest/meta-data/": ("::ffff:169.254.169.254", "::ffff:a9fe:a9fe"),
    "http://[0:0:0:0:0:ffff:7f00:1]/hook": ("0:0:0:0:0:ffff:7f00:1", "::ffff:7f00:1"),
    "http://[fd00:ec2::254]/latest/meta-data/": ("fd00:ec2::254", "fd00:ec2::254"),  # IMDS over IPv6
    "http://169.254.170.2/v2/credentials": ("169.254.170.2", "169.254.170.2"),  # ECS task credentials
    "http://100.100.100.200/latest/meta-data/": ("100.100.100.200", "100.100.100.200"),  # Alibaba
    "http://[::]/hook": ("::", "::"),
}
OTHER_REFUSALS = {
    "gopher://127.0.0.1:70/_": "address: must be an http(s) URL, got 'gopher://127.0.0.1:70/_'",
    "file:///etc/passwd": "address: must be an http(s) URL, got 'file:///etc/passwd'",
    "http://127.0.0.1:80@8.8.8.8/": "address: address must not carry credentials (user:password@)",
}


@pytest.mark.parametrize("address", list(SSRF))
def test_a_channel_to_a_non_public_address_is_400_naming_address(secured: Dev, address: str) -> None:
    host, ip = SSRF[address]
    expected = _error(400, "invalid_request", f"address: {host} resolves to {ip}, {NON_PUBLIC}", "address")

    assert secured.call("POST", CHANNELS, {"type": "HTTP", "address": address}) == expected
    # Changing a harmless channel's address to it is refused the same way (PATCH and PUT). The
    # harmless channel is never subscribed: nothing is ever sent to it.
    harmless = secured.channel("https://8.8.8.8/never-used")
    assert secured.call("PATCH", f"{CHANNELS}/{harmless['id']}", {"address": address}) == expected
    assert (
        secured.call("PUT", f"{CHANNELS}/{harmless['id']}", {"type": "HTTP", "address": address}) == expected
    )
    status, kept = secured.call("GET", f"{CHANNELS}/{harmless['id']}")
    assert (status, kept["address"]) == (200, "https://8.8.8.8/never-used")


@pytest.mark.parametrize("address", list(OTHER_REFUSALS))
def test_a_channel_with_another_scheme_or_credentials_is_400_naming_address(
    secured: Dev, address: str
) -> None:
    expected = _error(400, "invalid_request", OTHER_REFUSALS[address], "address")
    assert secured.call("POST", CHANNELS, {"type": "HTTP", "address": address}) == expected


# --- malformed and oversized bodies --------------------------------------------------------------
def test_a_body_over_api_gateways_10_mb_is_413_before_it_is_read(secured: Dev) -> None:
    """Announced with Content-Length and never sent: the answer comes without reading it."""
    port = int(secured.url.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        head = (
            "POST /api/projects/p/events HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            f"X-API-Key: {secured.key}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {11 * 1024 * 1024}\r\n\r\n"
        )
        sock.sendall(head.encode())
        data = b""
        while b"\r\n\r\n" not in data or not data.endswith(b"}}"):
            chunk = sock.recv(65536)
            if not chunk:
                break
            data += chunk
    status_line, _, rest = data.partition(b"\r\n")
    body = rest.split(b"\r\n\r\n", 1)[1]
    assert status_line.split(b" ")[1] == b"413"
    assert json.loads(body) == {"error": {"code": "payload_too_large", "message": BODY_TOO_LARGE}}


def test_a_payload_over_256_kib_in_a_body_under_512_kib_is_413_naming_payload(
    secured: Dev, project: str
) -> None:
    body = {"eventCode": "ICA_EXEC_002", "payload": {"blob": "x" * 300_000}}
    size = len(json.dumps(body["payload"], separators=(",", ":")))
    assert secured.call("POST", f"/api/projects/{project}/events", body) == _error(
        413, "payload_too_large", f"payload: payload is {size} bytes; the limit is 262144", "payload"
    )
    assert _events(secured, project) == []


NOT_JSON = "the request body is not valid JSON"
HOSTILE_JSON = {
    "nan": b'{"eventCode": "ICA_EXEC_002", "payload": {"x": NaN}}',
    "infinity": b'{"eventCode": "ICA_EXEC_002", "payload": {"x": 1e400}}',
    "5000-digit-integer": b'{"eventCode": "ICA_EXEC_002", "payload": {"x": ' + b"9" * 5000 + b"}}",
    "lone-surrogate": b'{"eventCode": "ICA_EXEC_002", "payload": {"x": "\\ud800"}}',
    "nested-3000-deep": b'{"eventCode": "ICA_EXEC_002", "payload": ' + b'{"a": ' * 3000 + b"1" + b"}" * 3001,
}


@pytest.mark.parametrize(
    "case",
    [c for c in HOSTILE_JSON],
)
def test_json_no_receiver_could_parse_is_400_and_stores_nothing(
    secured: Dev, project: str, case: str
) -> None:
    status, body = _raw(secured, "POST", f"/api/projects/{project}/events", HOSTILE_JSON[case])
    assert status == 400, body
    assert body["error"]["code"] == "invalid_request"
    assert body["error"]["message"].startswith(NOT_JSON)
    assert _events(secured, project) == []


# --- One Codex webhooks: forged, replayed, oversized ------------------------------------------------
def _sign(body: bytes, ts: int | None = None, secret: str = ONECODEX_SECRET) -> str:
    ts = int(time.time()) if ts is None else ts
    return f"t={ts},v1=" + hmac.new(secret.encode(), f"{ts}.".encode() + body, hashlib.sha256).hexdigest()


_WITH_SECRET: set[str] = set()


def _webhook(dev: Dev, project: str, body: bytes, signature: str | None) -> tuple[int, Any]:
    if project not in _WITH_SECRET:  # the project's own secret, as One Codex issued it to the user
        status, created = dev.call(
            "POST",
            f"/api/projects/{project}/inboundWebhooks",
            {"source": "onecodex", "secret": ONECODEX_SECRET},
        )
        assert status == 201, created
        _WITH_SECRET.add(project)
    headers = {"Content-Type": "application/json"}
    if signature is not None:
        headers["X-OneCodex-Signature"] = signature
    return _raw(dev, "POST", f"/webhooks/onecodex?project={project}", body, headers)


def _onecodex_body(uri: str = "/api/v1/samples/s1", **object_fields: Any) -> bytes:
    return json.dumps(
        {
            "api_version": "v1",
            "event_type": "sample.uploaded",
            "object_type": "sample",
            "object": {"$uri": uri, **object_fields},
            "triggered_at": "2026-11-20T10:00:00Z",
        }
    ).encode()


def _forgeries(body: bytes) -> dict[str, tuple[str | None, str]]:
    now = int(time.time())
    genuine = _sign(body, now)
    other = _onecodex_body("/api/v1/samples/other")
    return {
        "no-header": (None, "missing X-OneCodex-Signature header"),
        "no-timestamp": (
            genuine.split(",", 1)[1],
            "X-OneCodex-Signature must carry t=<unix time> and v1=<hex signature>",
        ),
        "timestamp-not-a-number": (
            "t=yesterday," + genuine.split(",", 1)[1],
            "the signature timestamp is not a Unix time",
        ),
        "from-the-future": (
            _sign(body, now + 600),
            "the signature timestamp is more than 300 s from now (replay?)",
        ),
        "replayed-with-a-fresh-timestamp": (
            f"t={now + 5}," + genuine.split(",", 1)[1],
            "the signature does not match the configured secret",
        ),
        "signature-of-another-body": (
            _sign(other, now),
            "the signature does not match the configured secret",
        ),
        "signed-with-another-secret": (
            _sign(body, now, "not-the-secret"),
            "the signature does not match the configured secret",
        ),
    }


FORGERIES = list(_forgeries(b"{}"))


@pytest.mark.parametrize("forgery", FORGERIES)
def test_a_forged_onecodex_webhook_is_401_with_the_reason_and_stores_nothing(
    secured: Dev, project: str, forgery: str
) -> None:
    body = _onecodex_body()
    signature, message = _forgeries(body)[forgery]

    assert _webhook(secured, project, body, signature) == _error(401, "invalid_signature", message)
    assert _events(secured, project) == []


def test_a_replayed_onecodex_webhook_is_one_event(secured: Dev, project: str) -> None:
    body = _onecodex_body("/api/v1/samples/replayed")
    signature = _sign(body)

    first = _webhook(secured, project, body, signature)
    replay = _webhook(secured, project, body, signature)  # the same request, byte for byte

    assert first[0] == replay[0] == 202
    assert (replay[1]["id"], first[1]["created"], replay[1]["created"]) == (first[1]["id"], True, False)
    assert [e["id"] for e in _events(secured, project)] == [first[1]["id"]]


def test_a_onecodex_webhook_signed_for_one_project_is_refused_for_another(secured: Dev, project: str) -> None:
    """The probe's replay: a validly signed request sent again, within the tolerance, to a victim."""
    body = _onecodex_body("/api/v1/samples/for-one-project")
    signature = _sign(body)
    assert _webhook(secured, project, body, signature)[0] == 202
    victim = f"{project}-victim"
    secured.call("POST", f"/api/projects/{victim}/inboundWebhooks", {"source": "onecodex"})  # its own secret

    assert _raw(
        secured, "POST", f"/webhooks/onecodex?project={victim}", body, {"X-OneCodex-Signature": signature}
    ) == (_error(401, "invalid_signature", "the signature does not match the configured secret"))
    assert _events(secured, victim) == []


def test_a_signed_onecodex_webhook_over_the_payload_limit_is_413(secured: Dev, project: str) -> None:
    body = _onecodex_body("/api/v1/samples/big", blob="x" * 300_000)
    status, error = _webhook(secured, project, body, _sign(body))
    assert (status, error["error"]["code"]) == (413, "payload_too_large"), error
    assert _events(secured, project) == []


def test_a_signed_onecodex_webhook_reusing_an_identity_with_other_content_is_409(
    secured: Dev, project: str
) -> None:
    first = _onecodex_body("/api/v1/samples/s9", size=1)
    again = _onecodex_body("/api/v1/samples/s9", size=2)
    assert _webhook(secured, project, first, _sign(first))[0] == 202
    status, error = _webhook(secured, project, again, _sign(again))
    assert (status, error["error"]["code"]) == (409, "conflict"), error
