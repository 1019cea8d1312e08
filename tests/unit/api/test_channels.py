"""Channels: create (secret once), list, get, update, delete (guarded), rotate the secret."""

from __future__ import annotations

import json

import pytest

from herald.dal import layout
from herald.domain import clock
from herald.logic.services import Services
from tests.unit.api.support import Client, channel, subscription

CHANNELS = "/api/notificationChannels"


def test_created_channel_shows_its_secret_once(admin: Client) -> None:
    created = channel(admin)
    assert set(created) >= {"id", "type", "address", "awsRegion", "enabled", "secret", "createdAt"}
    assert created["secret"].startswith("whsec_")
    status, fetched = admin.call("GET", f"{CHANNELS}/{created['id']}")
    assert status == 200 and "secret" not in fetched
    _, listed = admin.call("GET", CHANNELS)
    assert all("secret" not in c for c in listed["items"])


@pytest.mark.parametrize(
    ("body", "field", "fragment"),
    [
        ({"type": "HTTP", "address": "ftp://x"}, "address", "must be an http(s) URL"),
        ({"type": "SMS", "address": "x"}, "type", "Input should be"),
        ({"type": "SNS", "address": "not-an-arn"}, "address", "SNS topic ARN"),
        ({"type": "MAIL", "address": "nobody"}, "address", "e-mail address"),
        ({"type": "SQS", "address": "http://[::1"}, "address", "SQS queue URL"),
        ({"type": "SQS", "address": "https://q", "awsRegion": "Mars"}, "awsRegion", "AWS region"),
        ({"address": "http://x"}, "type", "is required"),
        ({"type": "HTTP", "address": "http://x", "colour": "red"}, "colour", "not a recognised field"),
        ({"type": "HTTP", "address": "http://x", "timeoutSeconds": 61}, "timeoutSeconds", "less than"),
    ],
    ids=[
        "http-scheme",
        "unknown-type",
        "sns-arn",
        "mail-address",
        "malformed-url",
        "region",
        "missing-type",
        "unknown-field",
        "timeout-over-60",
    ],
)
def test_bad_channel_is_400_naming_the_field(admin: Client, body: dict, field: str, fragment: str) -> None:
    status, resp = admin.call("POST", CHANNELS, body)
    assert status == 400
    assert resp["error"]["field"] == field
    assert fragment in resp["error"]["message"]


def test_channels_are_listed_a_page_at_a_time(admin: Client) -> None:
    ids = [channel(admin, f"http://x/{i}")["id"] for i in range(5)]
    seen, cursor, pages = [], None, 0
    while True:
        _, page = admin.call("GET", f"{CHANNELS}?limit=2" + (f"&cursor={cursor}" if cursor else ""))
        seen += [c["id"] for c in page["items"]]
        pages += 1
        cursor = page["nextCursor"]
        if not cursor:
            break
    assert seen == ids  # oldest first, each once
    assert pages == 3


def test_patch_changes_only_the_fields_sent(admin: Client) -> None:
    ch = channel(admin, timeoutSeconds=5)
    status, patched = admin.call(
        "PATCH", f"{CHANNELS}/{ch['id']}", {"address": "https://example.org/new", "enabled": False}
    )
    assert status == 200
    assert (patched["address"], patched["enabled"], patched["timeoutSeconds"]) == (
        "https://example.org/new",
        False,
        5,
    )
    assert admin.call("GET", f"{CHANNELS}/{ch['id']}")[1] == patched


def test_patch_null_resets_an_optional_setting(admin: Client) -> None:
    ch = channel(admin, timeoutSeconds=5, format="onecodex")
    _, patched = admin.call("PATCH", f"{CHANNELS}/{ch['id']}", {"timeoutSeconds": None, "format": None})
    assert (patched["timeoutSeconds"], patched["format"]) == (None, None)


def test_patch_checks_the_address_against_the_type(admin: Client) -> None:
    ch = channel(admin)
    status, resp = admin.call("PATCH", f"{CHANNELS}/{ch['id']}", {"type": "MAIL"})
    assert (status, resp["error"]["field"]) == (400, "address")
    status, moved = admin.call(
        "PATCH", f"{CHANNELS}/{ch['id']}", {"type": "MAIL", "address": "ops@example.org"}
    )
    assert (status, moved["type"], moved["address"]) == (200, "MAIL", "ops@example.org")


def test_patch_cannot_null_a_required_setting(admin: Client) -> None:
    ch = channel(admin)
    status, resp = admin.call("PATCH", f"{CHANNELS}/{ch['id']}", {"enabled": None})
    assert (status, resp["error"]["field"]) == (400, "enabled")


def test_put_replaces_every_setting_but_keeps_id_and_secret(admin: Client, keys: Services) -> None:
    ch = channel(admin, timeoutSeconds=5)
    status, replaced = admin.call(
        "PUT", f"{CHANNELS}/{ch['id']}", {"type": "SQS", "address": "https://sqs.eu-west-1.amazonaws.com/1/q"}
    )
    assert status == 200
    assert (replaced["id"], replaced["type"], replaced["timeoutSeconds"]) == (ch["id"], "SQS", None)
    stored = keys.channels.get(ch["id"])
    assert stored is not None and keys.secrets.open(stored.secret, ch["id"]) == ch["secret"]


def test_secret_is_stored_sealed_with_kms_never_in_plain_text(admin: Client, keys: Services) -> None:
    ch = channel(admin)
    item = keys.table.get(layout.channel(ch["id"]))
    assert item is not None
    assert item["secret"].startswith("kms:v1:")
    assert ch["secret"] not in json.dumps(item)


def test_unused_channel_is_deleted(admin: Client) -> None:
    ch = channel(admin)
    assert admin.call("DELETE", f"{CHANNELS}/{ch['id']}") == (204, None)
    assert admin.call("GET", f"{CHANNELS}/{ch['id']}")[0] == 404


def test_channel_in_use_is_not_deleted(admin: Client) -> None:
    ch = channel(admin)
    subscription(admin, "p1", ch["id"])
    subscription(admin, "p2", ch["id"])
    status, resp = admin.call("DELETE", f"{CHANNELS}/{ch['id']}")
    assert status == 409
    assert "used by 2 subscription(s)" in resp["error"]["message"]
    assert admin.call("GET", f"{CHANNELS}/{ch['id']}")[0] == 200


def test_rotating_shows_a_new_secret_once_and_keeps_the_old_one_for_24_hours(
    admin: Client, keys: Services
) -> None:
    ch = channel(admin)
    status, rotated = admin.call("POST", f"{CHANNELS}/{ch['id']}:rotateSecret")
    assert status == 200
    assert rotated["secret"].startswith("whsec_") and rotated["secret"] != ch["secret"]
    assert rotated["previousSecretExpiresAt"] is not None
    stored = keys.channels.get(ch["id"])
    assert stored is not None

    def opened(sealed: list[str]) -> list[str]:
        return [keys.secrets.open(s, ch["id"]) for s in sealed]

    assert opened([stored.secret, stored.previousSecret or ""]) == [rotated["secret"], ch["secret"]]
    assert stored.previousSecretExpiresAt == pytest.approx(clock.now() + 86400, abs=60)
    assert opened(stored.signing_secrets(clock.now())) == [rotated["secret"], ch["secret"]]
    assert opened(stored.signing_secrets(clock.now() + 86401)) == [rotated["secret"]]
    _, fetched = admin.call("GET", f"{CHANNELS}/{ch['id']}")
    assert (
        "secret" not in fetched and fetched["previousSecretExpiresAt"] == rotated["previousSecretExpiresAt"]
    )


def test_rotating_an_unknown_channel_is_404(admin: Client) -> None:
    assert admin.call("POST", f"{CHANNELS}/nope:rotateSecret")[0] == 404


@pytest.mark.parametrize(
    "address",
    [
        "http://169.254.169.254/latest/meta-data",
        "http://10.0.0.8/hook",
        "https://[::1]/hook",
        "http://u:p@x.org/",
    ],
    ids=["metadata-service", "private-network", "loopback-v6", "credentials"],
)
def test_http_channel_to_a_non_public_address_is_400(
    admin: Client, monkeypatch: pytest.MonkeyPatch, address: str
) -> None:
    monkeypatch.setenv("HERALD_ALLOW_PRIVATE_TARGETS", "0")
    from herald.domain.settings import reset_settings
    from herald.logic.services import reset_services

    reset_settings()
    reset_services()
    status, resp = admin.call("POST", CHANNELS, {"type": "HTTP", "address": address})
    assert (status, resp["error"]["field"]) == (400, "address")
    ch = channel(admin, "https://8.8.8.8/hook")  # a public literal: no DNS lookup
    status, resp = admin.call("PATCH", f"{CHANNELS}/{ch['id']}", {"address": address})
    assert (status, resp["error"]["field"]) == (400, "address")
