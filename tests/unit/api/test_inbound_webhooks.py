"""Inbound sources are bound to projects: a webhook's secret identifies the project it may write
to; a request signed for one project is refused for another; the deployment-wide secret works for
its one configured project only; and the unauthenticated webhook answers odd bytes with a 4xx.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from typing import Any

import pytest

from herald import names
from herald.adapters import secret_box
from herald.dev.local.api_server import proxy_event
from herald.dev.local.lambda_context import LocalContext
from herald.domain.settings import reset_settings
from herald.handlers import api
from herald.logic import inbound
from herald.logic.services import Services
from tests.unit.api.support import Client

LEGACY_SECRET = "deployment-wide-onecodex-secret"
LEGACY_PROJECT = "onecodex-main"


def body_for(uri: str = "/api/v1/analyses/a1") -> bytes:
    return json.dumps(
        {
            "api_version": "v1",
            "event_type": "analysis.failed",
            "object_type": "analysis",
            "object": {"$uri": uri, "success": False},
            "triggered_at": "2026-11-20T10:00:00Z",
        }
    ).encode()


def sign(body: bytes, secret: str, ts: int | None = None) -> str:
    ts = int(time.time()) if ts is None else ts
    return f"t={ts},v1=" + hmac.new(secret.encode(), f"{ts}.".encode() + body, hashlib.sha256).hexdigest()


def post_webhook(query: str, body: bytes, signature: str | None) -> tuple[int, Any]:
    headers = {"Content-Type": "application/json"}
    if signature is not None:
        headers["X-OneCodex-Signature"] = signature
    result = api.handler(
        proxy_event("POST", f"/webhooks/onecodex{query}", headers, body), LocalContext("api")
    )
    return result["statusCode"], json.loads(result["body"])


@pytest.fixture
def legacy(keys: Services, monkeypatch: pytest.MonkeyPatch) -> Services:
    monkeypatch.setenv(names.ENV_ONECODEX_SECRET, LEGACY_SECRET)
    monkeypatch.setenv(names.ENV_ONECODEX_PROJECT, LEGACY_PROJECT)
    reset_settings()
    inbound.forget()
    return keys


def _events(admin: Client, project: str) -> list[dict[str, Any]]:
    status, listed = admin.call("GET", f"/v1/events?project={project}")
    assert status == 200
    return listed["items"]


def _secret(admin: Client, project: str, **fields: Any) -> dict[str, Any]:
    status, created = admin.call(
        "POST", f"/api/projects/{project}/inboundWebhooks", {"source": "onecodex", **fields}
    )
    assert status == 201, created
    return created


# --- the deployment-wide secret: its one project only --------------------------------------------
def test_a_request_signed_with_the_deployment_secret_is_refused_for_any_other_project(
    legacy: Services, admin: Client
) -> None:
    body = body_for()
    signature = sign(body, LEGACY_SECRET)
    accepted = post_webhook(f"?project={LEGACY_PROJECT}", body, signature)
    assert accepted[0] == 202, accepted

    for victim in ("victim", "p1", "onecodex", "herald.unroutable"):
        status, resp = post_webhook(f"?project={victim}", body, signature)  # the probe's replay
        assert (status, resp["error"]["code"]) == (401, "invalid_signature"), victim
        assert _events(admin, victim) == []


def test_without_a_project_the_deployment_secret_writes_to_its_configured_project(
    legacy: Services, admin: Client
) -> None:
    body = body_for("/api/v1/analyses/no-project")
    status, _ = post_webhook("", body, sign(body, LEGACY_SECRET))
    assert status == 202
    assert [e["event_type"] for e in _events(admin, LEGACY_PROJECT)] == ["analysis.failed"]


# --- per-project secrets, managed through the API ------------------------------------------------
def test_a_projects_generated_secret_is_shown_once_and_stored_sealed(legacy: Services, admin: Client) -> None:
    created = _secret(admin, "pa", name="One Codex production")
    assert len(created["secret"]) == 64 and created["url"] == "/webhooks/onecodex?project=pa"

    status, shown = admin.call("GET", f"/api/projects/pa/inboundWebhooks/{created['id']}")
    assert status == 200 and "secret" not in shown
    assert "secret" not in admin.call("GET", "/api/projects/pa/inboundWebhooks")[1]["items"][0]
    stored = legacy.inbound_webhooks.get("pa", created["id"])
    assert stored is not None and stored.secret.startswith(secret_box.PREFIX)
    assert created["secret"] not in stored.secret


def test_a_request_signed_with_one_projects_secret_is_refused_for_another(
    legacy: Services, admin: Client
) -> None:
    pa, pb = _secret(admin, "pa"), _secret(admin, "pb")
    body = body_for()

    assert post_webhook("?project=pa", body, sign(body, pa["secret"]))[0] == 202
    assert post_webhook("?project=pb", body, sign(body, pa["secret"]))[0] == 401
    assert post_webhook("?project=pc", body, sign(body, pa["secret"]))[0] == 401  # a project without any
    assert post_webhook(f"?project={LEGACY_PROJECT}", body, sign(body, pa["secret"]))[0] == 401
    assert post_webhook("?project=pa", body, sign(body, pb["secret"]))[0] == 401
    assert post_webhook("?project=pa", body, sign(body, LEGACY_SECRET))[0] == 401
    assert post_webhook("?project=pb", body, sign(body, pb["secret"]))[0] == 202
    assert len(_events(admin, "pa")) == len(_events(admin, "pb")) == 1
    assert _events(admin, "pc") == []


def test_a_secret_the_platform_issued_is_accepted_and_never_shown(legacy: Services, admin: Client) -> None:
    issued = "onecodex-issued-" + "x" * 24
    created = _secret(admin, "pa", secret=issued)
    assert created["secret"] is None
    body = body_for()
    assert post_webhook("?project=pa", body, sign(body, issued))[0] == 202


def test_two_secrets_overlap_while_one_replaces_the_other_then_the_old_one_is_refused(
    legacy: Services, admin: Client
) -> None:
    old, new = _secret(admin, "pa"), _secret(admin, "pa")
    body = body_for()
    assert post_webhook("?project=pa", body, sign(body, old["secret"]))[0] == 202
    assert post_webhook("?project=pa", body, sign(body, new["secret"]))[0] == 202

    assert admin.call("DELETE", f"/api/projects/pa/inboundWebhooks/{old['id']}")[0] == 204

    assert post_webhook("?project=pa", body, sign(body, old["secret"]))[0] == 401
    assert post_webhook("?project=pa", body, sign(body, new["secret"]))[0] == 202


def test_a_project_has_at_most_a_bounded_number_of_secrets(legacy: Services, admin: Client) -> None:
    for _ in range(inbound.MAX_PER_PROJECT):
        _secret(admin, "pa")
    status, resp = admin.call("POST", "/api/projects/pa/inboundWebhooks", {})
    assert (status, resp["error"]["code"]) == (409, "conflict")
    assert resp["error"]["message"].endswith(
        f"{inbound.MAX_PER_PROJECT} inbound webhooks, the most a project may have; delete one first"
    )


@pytest.mark.parametrize(
    ("fields", "field"),
    [({"secret": "short"}, "secret"), ({"secret": "has spaces in it, sixteen+"}, "secret"), ({"source": "ica"}, "source")],
)  # fmt: skip
def test_an_unusable_secret_or_source_is_400_naming_it(
    legacy: Services, admin: Client, fields: dict[str, Any], field: str
) -> None:
    status, resp = admin.call("POST", "/api/projects/pa/inboundWebhooks", fields)
    assert (status, resp["error"]["field"]) == (400, field)


# --- odd bytes and odd headers at the unauthenticated door: 4xx, never 5xx ----------------------------
ODD = [
    b"\xff\xfe\xfd",
    b"\xc3\x28",
    b'{"a": "\xed\xa0\x80"}',
    b"\xef\xbb\xbf{}",
    b"\x00" * 8,
    b"\xfe\xff\x00{\x00}",
]


@pytest.mark.parametrize("raw", ODD)
def test_odd_bytes_unsigned_are_401_and_signed_are_400(legacy: Services, admin: Client, raw: bytes) -> None:
    pa = _secret(admin, "pa")
    assert post_webhook("?project=pa", raw, None)[0] == 401
    assert post_webhook("?project=pa", raw, sign(raw, "not-the-secret"))[0] == 401
    status, resp = post_webhook("?project=pa", raw, sign(raw, pa["secret"]))  # checked on the raw bytes
    assert (status, resp["error"]["code"]) == (400, "invalid_request"), resp
    assert _events(admin, "pa") == []


@pytest.mark.parametrize(
    "header",
    [
        "t=1,v1=é",  # not ASCII: hmac.compare_digest would raise
        f"t={int(time.time())},v1=" + "é" * 64,
        f"t={int(time.time())}," + ",".join(["v1=00"] * 50),  # more signatures than allowed
        "t=" + "9" * 5000 + ",v1=00",  # a timestamp too long to be a number
        "t=\u0661\u0662,v1=00",  # Arabic-Indic digits
        "v1=00,v1=11",
        "\x00",
    ],
    ids=["non-ascii-1", "non-ascii-64", "many-signatures", "huge-timestamp", "unicode-digits", "no-t", "nul"],
)
def test_odd_signature_headers_are_401(legacy: Services, header: str) -> None:
    body = body_for()
    status, resp = post_webhook(f"?project={LEGACY_PROJECT}", body, header)
    assert (status, resp["error"]["code"]) == (401, "invalid_signature")
