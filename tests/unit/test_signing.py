"""Signatures a receiver can trust: Standard Webhooks and One Codex's scheme, each keyed as its own
documentation says."""

from __future__ import annotations

import hashlib
import hmac
import time

import pytest
from standardwebhooks import Webhook, WebhookVerificationError

from herald import signing

BODY = b'{"eventCode":"ICA_EXEC_002","payload":{"status":"SUCCEEDED"}}'


def test_generated_secret_is_whsec_with_at_least_32_random_bytes() -> None:
    secret = signing.generate_secret()
    assert secret.startswith("whsec_")
    assert len(signing.standard_webhooks_key(secret)) >= 32
    assert secret != signing.generate_secret()


def test_standardwebhooks_package_verifies_the_signature() -> None:
    secret = signing.generate_secret()
    headers = signing.sign("ntf_1", BODY, [secret])
    assert Webhook(secret).verify(BODY, headers) == {
        "eventCode": "ICA_EXEC_002",
        "payload": {"status": "SUCCEEDED"},
    }


def test_standardwebhooks_package_rejects_a_tampered_body() -> None:
    secret = signing.generate_secret()
    headers = signing.sign("ntf_1", BODY, [secret])
    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(BODY.replace(b"SUCCEEDED", b"FAILED"), headers)


def test_two_secrets_give_two_signatures_each_verifiable() -> None:
    old, new = signing.generate_secret(), signing.generate_secret()
    headers = signing.sign("ntf_1", BODY, [old, new])
    assert len(headers["webhook-signature"].split()) == 2
    Webhook(old).verify(BODY, headers)
    Webhook(new).verify(BODY, headers)


def test_onecodex_header_is_t_and_v1_hex_hmac_of_timestamp_dot_body_keyed_with_the_secret_as_shown() -> None:
    secret = signing.generate_secret()
    headers = signing.sign("ntf_1", BODY, [secret], timestamp=1700000000)
    # The key is the secret's text, "whsec_" and all: what a One Codex receiver holds.
    expected = hmac.new(secret.encode(), b"1700000000." + BODY, hashlib.sha256).hexdigest()
    assert headers["X-OneCodex-Signature"] == f"t=1700000000 v1={expected}"


def test_no_herald_named_signature_header_is_sent() -> None:
    headers = signing.sign("ntf_1", BODY, [signing.generate_secret()])
    assert set(headers) == {"webhook-id", "webhook-timestamp", "webhook-signature", "X-OneCodex-Signature"}


def test_during_a_rotation_the_onecodex_header_has_the_current_secret_s_v1_first() -> None:
    current, previous = signing.generate_secret(), signing.generate_secret()
    header = signing.sign("ntf_1", BODY, [current, previous], timestamp=1700000000)["X-OneCodex-Signature"]
    t, first, second = header.split(" ")
    assert t == "t=1700000000"
    assert first == "v1=" + signing.onecodex_signature(current, 1700000000, BODY)
    assert second == "v1=" + signing.onecodex_signature(previous, 1700000000, BODY)


def test_verify_checks_every_scheme_present() -> None:
    secret = signing.generate_secret()
    headers = signing.sign("ntf_1", BODY, [secret])
    assert signing.verify(BODY, headers, secret) == "standard-webhooks, onecodex"


def test_verify_accepts_each_scheme_alone() -> None:
    secret = signing.generate_secret()
    headers = signing.sign("ntf_1", BODY, [secret])
    standard = {k: v for k, v in headers.items() if k.startswith("webhook-")}
    onecodex = {"X-OneCodex-Signature": headers["X-OneCodex-Signature"]}
    assert signing.verify(BODY, standard, secret) == "standard-webhooks"
    assert signing.verify(BODY, onecodex, secret) == "onecodex"


def test_verify_rejects_a_forged_onecodex_header_beside_a_valid_standard_one() -> None:
    secret = signing.generate_secret()
    headers = signing.sign("ntf_1", BODY, [secret])
    headers["X-OneCodex-Signature"] = headers["X-OneCodex-Signature"][:-4] + "0000"
    with pytest.raises(signing.SignatureError, match="no X-OneCodex-Signature v1 value matches"):
        signing.verify(BODY, headers, secret)


def test_verify_with_either_secret_during_a_rotation() -> None:
    current, previous = signing.generate_secret(), signing.generate_secret()
    headers = signing.sign("ntf_1", BODY, [current, previous])
    assert signing.verify(BODY, headers, current) == signing.verify(BODY, headers, previous)


def test_the_onecodex_scheme_alone_works_with_a_secret_that_is_not_whsec() -> None:
    # One Codex's own secrets (HERALD_ONECODEX_SECRET for webhooks in) are plain strings.
    header = signing.onecodex_header(["plain-secret"], int(time.time()), BODY)
    assert signing.verify(BODY, {"X-OneCodex-Signature": header}, "plain-secret") == "onecodex"


def test_verify_rejects_a_replayed_old_delivery() -> None:
    secret = signing.generate_secret()
    headers = signing.sign("ntf_1", BODY, [secret], timestamp=int(time.time()) - 301)
    with pytest.raises(signing.SignatureError, match="more than 300 s"):
        signing.verify(BODY, headers, secret)


def test_verify_rejects_another_secret() -> None:
    headers = signing.sign("ntf_1", BODY, [signing.generate_secret()])
    with pytest.raises(signing.SignatureError, match="no webhook-signature matches"):
        signing.verify(BODY, headers, signing.generate_secret())


def test_verify_rejects_missing_headers() -> None:
    with pytest.raises(signing.SignatureError, match="no signature headers"):
        signing.verify(BODY, {}, signing.generate_secret())
