"""Webhook signatures: Standard Webhooks, plus the One Codex scheme in `X-Herald-Signature`.

Standard Webhooks (https://www.standardwebhooks.com): `webhook-id`, `webhook-timestamp` and
`webhook-signature: v1,<base64 HMAC-SHA256 of "id.timestamp.body">`, keyed with the bytes of a
`whsec_<base64>` secret. One Codex signs `t.body` and sends `t=<unix> v1=<hex>`. Carrying both lets
a receiver written for either platform verify Herald unchanged.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
from collections.abc import Mapping

SECRET_PREFIX = "whsec_"
DEFAULT_TOLERANCE_SECONDS = 300


class SignatureError(ValueError):
    """The delivery's signature headers are missing, stale, or match no secret."""


def generate_secret() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


def _key(secret: str) -> bytes:
    raw = secret[len(SECRET_PREFIX) :] if secret.startswith(SECRET_PREFIX) else secret
    try:
        return base64.b64decode(raw + "=" * (-len(raw) % 4), validate=True)
    except ValueError:
        raise SignatureError("the secret is not a whsec_<base64> signing secret") from None


def _standard_signature(key: bytes, msg_id: str, timestamp: int, body: bytes) -> str:
    digest = hmac.new(key, f"{msg_id}.{timestamp}.".encode() + body, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def _onecodex_signature(key: bytes, timestamp: int, body: bytes) -> str:
    return hmac.new(key, f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


def sign(msg_id: str, body: bytes, secrets_: list[str], timestamp: int | None = None) -> dict[str, str]:
    """Headers for one delivery; several secrets (during a rotation) give several signatures."""
    ts = int(time.time()) if timestamp is None else timestamp
    keys = [_key(s) for s in secrets_]
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(ts),
        "webhook-signature": " ".join(_standard_signature(k, msg_id, ts, body) for k in keys),
        "X-Herald-Signature": f"t={ts} " + " ".join(f"v1={_onecodex_signature(k, ts, body)}" for k in keys),
    }


def verify(
    body: bytes,
    headers: Mapping[str, str],
    secret: str,
    tolerance_seconds: int = DEFAULT_TOLERANCE_SECONDS,
    now: float | None = None,
) -> str:
    """Verify a delivery for a receiver; returns the scheme that matched or raises SignatureError.

    Checks the Standard Webhooks headers when present, otherwise `X-Herald-Signature`.
    """
    lower = {k.lower(): v for k, v in headers.items()}
    key = _key(secret)
    current = time.time() if now is None else now
    if "webhook-signature" in lower:
        msg_id, ts_text = lower.get("webhook-id", ""), lower.get("webhook-timestamp", "")
        ts = _timestamp(ts_text, current, tolerance_seconds)
        expected = _standard_signature(key, msg_id, ts, body)
        for candidate in lower["webhook-signature"].split():
            if hmac.compare_digest(candidate, expected):
                return "standard-webhooks"
        raise SignatureError("no webhook-signature matches this secret")
    if "x-herald-signature" in lower:
        parts = [p.split("=", 1) for p in lower["x-herald-signature"].split() if "=" in p]
        ts = _timestamp(next((v for k, v in parts if k == "t"), ""), current, tolerance_seconds)
        expected = _onecodex_signature(key, ts, body)
        if any(k == "v1" and hmac.compare_digest(v, expected) for k, v in parts):
            return "x-herald-signature"
        raise SignatureError("no X-Herald-Signature v1 value matches this secret")
    raise SignatureError("no signature headers (webhook-signature or X-Herald-Signature)")


def _timestamp(text: str, now: float, tolerance: int) -> int:
    try:
        ts = int(text)
    except ValueError:
        raise SignatureError("the signature timestamp is missing or not a Unix time") from None
    if abs(now - ts) > tolerance:
        raise SignatureError(f"the signature timestamp is more than {tolerance} s away from now (replay?)")
    return ts
