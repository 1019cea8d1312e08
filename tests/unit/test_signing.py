"""Signatures a receiver can trust: Standard Webhooks and the One Codex scheme."""

from __future__ import annotations

import time

import pytest
from standardwebhooks import Webhook, WebhookVerificationError

from herald import signing

BODY = b'{"eventCode":"ICA_EXEC_002","payload":{"status":"SUCCEEDED"}}'


def test_generated_secret_is_whsec_with_at_least_32_random_bytes() -> None:
    secret = signing.generate_secret()
    assert secret.startswith("whsec_")
    assert len(signing._key(secret)) >= 32
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


def test_onecodex_style_header_is_hex_hmac_of_timestamp_dot_body() -> None:
    import hashlib
    import hmac

    secret = signing.generate_secret()
    headers = signing.sign("ntf_1", BODY, [secret], timestamp=1700000000)
    expected = hmac.new(signing._key(secret), b"1700000000." + BODY, hashlib.sha256).hexdigest()
    assert headers["X-Herald-Signature"] == f"t=1700000000 v1={expected}"


def test_verify_accepts_each_scheme_alone() -> None:
    secret = signing.generate_secret()
    headers = signing.sign("ntf_1", BODY, [secret])
    standard = {k: v for k, v in headers.items() if k.startswith("webhook-")}
    onecodex = {"X-Herald-Signature": headers["X-Herald-Signature"]}
    assert signing.verify(BODY, standard, secret) == "standard-webhooks"
    assert signing.verify(BODY, onecodex, secret) == "x-herald-signature"


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
