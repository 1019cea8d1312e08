"""One Codex webhooks in: signature checked first, then the event stored once."""

from __future__ import annotations

import hashlib
import hmac
import json
import time

import pytest

from herald import names
from herald.domain.settings import get_settings, reset_settings
from herald.logic import onecodex
from herald.logic.services import Services, build_services

SECRET = "onecodex-test-secret"
PAYLOAD = {
    "api_version": "v1",
    "event_type": "analysis.failed",
    "object": {"$uri": "/api/v1/analyses/abc123", "success": False},
    "object_type": "analysis",
    "triggered_at": "2026-11-20T10:00:00+00:00",
}


def signed(body: bytes, ts: int | None = None, secret: str = SECRET) -> str:
    ts = int(time.time()) if ts is None else ts
    return f"t={ts},v1=" + hmac.new(secret.encode(), f"{ts}.".encode() + body, hashlib.sha256).hexdigest()


@pytest.fixture
def svc(services: Services, monkeypatch: pytest.MonkeyPatch) -> Services:
    # The deployment-wide secret, configured for the single project it may write to.
    monkeypatch.setenv(names.ENV_ONECODEX_SECRET, SECRET)
    monkeypatch.setenv(names.ENV_ONECODEX_PROJECT, "p1")
    reset_settings()
    return build_services(get_settings())


def test_signed_webhook_becomes_an_event(svc: Services) -> None:
    body = json.dumps(PAYLOAD).encode()
    accepted = onecodex.accept_webhook(svc, body, signed(body), "p1")
    event = accepted.event
    assert accepted.created
    assert (event.eventCode, event.payload, event.timestamp) == (
        "analysis.failed",
        PAYLOAD["object"],
        "2026-11-20T10:00:00+00:00",
    )


def test_space_separated_signature_header_is_accepted(svc: Services) -> None:
    body = json.dumps(PAYLOAD).encode()
    onecodex.accept_webhook(svc, body, signed(body).replace(",", " "), "p1")


def test_retried_delivery_is_one_event_but_a_refired_failure_is_another(svc: Services) -> None:
    body = json.dumps(PAYLOAD).encode()
    first = onecodex.accept_webhook(svc, body, signed(body), "p1").event
    again = onecodex.accept_webhook(svc, body, signed(body), "p1")
    refired = json.dumps({**PAYLOAD, "triggered_at": "2026-11-20T11:00:00+00:00"}).encode()
    later = onecodex.accept_webhook(svc, refired, signed(refired), "p1")
    assert (again.event.id, again.created) == (first.id, False)
    assert later.created and later.event.id != first.id
    assert again.duplicate is not None and again.duplicate.rule == "onecodex_delivery"
    assert again.duplicate.matched == (
        "analysis.failed for /api/v1/analyses/abc123 triggered at 2026-11-20T10:00:00+00:00"
    )


@pytest.mark.parametrize(
    ("header", "message"),
    [
        (None, "missing X-OneCodex-Signature"),
        ("t=123", "must carry t="),
        ("nonsense", "must carry t="),
    ],
    ids=["missing", "no-v1", "garbage"],
)
def test_malformed_signature_header_is_rejected(svc: Services, header: str | None, message: str) -> None:
    with pytest.raises(onecodex.WebhookRejected, match=message):
        onecodex.accept_webhook(svc, b"{}", header, "p1")


def test_tampered_body_is_rejected_and_nothing_stored(svc: Services) -> None:
    body = json.dumps(PAYLOAD).encode()
    header = signed(body)
    with pytest.raises(onecodex.WebhookRejected, match="does not match"):
        onecodex.accept_webhook(svc, body.replace(b"false", b"true"), header, "p1")
    assert svc.events.list_page("p1", 10, None, now=time.time()).items == []


def test_stale_signature_is_rejected(svc: Services) -> None:
    body = json.dumps(PAYLOAD).encode()
    with pytest.raises(onecodex.WebhookRejected, match="more than 300 s"):
        onecodex.accept_webhook(svc, body, signed(body, ts=int(time.time()) - 301), "p1")


def test_wrong_secret_is_rejected(svc: Services) -> None:
    body = json.dumps(PAYLOAD).encode()
    with pytest.raises(onecodex.WebhookRejected):
        onecodex.accept_webhook(svc, body, signed(body, secret="other"), "p1")


def test_no_configured_secret_rejects_everything(services: Services) -> None:
    body = json.dumps(PAYLOAD).encode()
    with pytest.raises(onecodex.WebhookRejected, match="does not match the configured secret"):
        onecodex.accept_webhook(services, body, signed(body), "p1")


def test_signed_but_malformed_payload_is_invalid(svc: Services) -> None:
    body = json.dumps({"event_type": "analysis.failed"}).encode()
    with pytest.raises(onecodex.WebhookInvalid, match="not a One Codex webhook payload"):
        onecodex.accept_webhook(svc, body, signed(body), "p1")
