"""Webhook signatures: Standard Webhooks, and One Codex's scheme in `X-OneCodex-Signature`.

Every HTTP delivery carries both, each keyed exactly as its own documentation tells a receiver to
key it, so a receiver written for either platform verifies Herald unchanged:

- Standard Webhooks (https://www.standardwebhooks.com): `webhook-id`, `webhook-timestamp` and
  `webhook-signature: v1,<base64 HMAC-SHA256 of "id.timestamp.body">`, keyed with the bytes that
  the base64 after `whsec_` decodes to (the specification's rule for `whsec_` secrets).
- One Codex ("Checking Signatures"): `X-OneCodex-Signature: t=<unix time> v1=<hex HMAC-SHA256 of
  "t.body">`, keyed with the webhook secret as the user holds it: the UTF-8 bytes of the whole
  `whsec_…` string, prefix included (One Codex's receivers key the HMAC with the secret they
  were given; they know nothing of `whsec_` or base64).

During a secret rotation both secrets sign: Standard Webhooks lists one `v1,` signature per
secret; One Codex's header one `v1=` per secret, the current secret's first, so a receiver that
reads only the first `v1=` (as One Codex's sample does) verifies with the new secret, and one that
compares every `v1=` verifies with either.

The same One Codex scheme verifies One Codex's own webhooks coming in (herald.logic.onecodex).
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
ONECODEX_HEADER = "X-OneCodex-Signature"
STANDARD_WEBHOOKS = "standard-webhooks"
ONECODEX = "onecodex"


class SignatureError(ValueError):
    """The delivery's signature headers are missing, stale, or match no secret."""


def generate_secret() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


# --- Standard Webhooks ----------------------------------------------------------------------------
def standard_webhooks_key(secret: str) -> bytes:
    """The HMAC key Standard Webhooks derives from a `whsec_<base64>` secret: the decoded bytes."""
    raw = secret[len(SECRET_PREFIX) :] if secret.startswith(SECRET_PREFIX) else secret
    try:
        return base64.b64decode(raw + "=" * (-len(raw) % 4), validate=True)
    except ValueError:
        raise SignatureError("the secret is not a whsec_<base64> signing secret") from None


def _standard_signature(key: bytes, msg_id: str, timestamp: int, body: bytes) -> str:
    digest = hmac.new(key, f"{msg_id}.{timestamp}.".encode() + body, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


# --- One Codex ------------------------------------------------------------------------------------
def onecodex_signature(secret: str, timestamp: int, body: bytes) -> str:
    """One Codex's v1: hex HMAC-SHA256 of "<timestamp>.<raw body>", keyed with the secret's text."""
    return hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


def onecodex_header(secrets_: list[str], timestamp: int, body: bytes) -> str:
    """`t=<unix> v1=<hex>` (space-separated, as One Codex sends it), one v1 per secret."""
    return " ".join([f"t={timestamp}", *(f"v1={onecodex_signature(s, timestamp, body)}" for s in secrets_)])


def parse_onecodex_header(value: str) -> tuple[list[str], list[str]]:
    """The `t` values and `v1` values of an X-OneCodex-Signature header (spaces or commas apart)."""
    parts = [p.strip().split("=", 1) for p in value.replace(",", " ").split() if "=" in p]
    return [v for k, v in parts if k == "t"], [v for k, v in parts if k == "v1"]


# --- signing and verifying ------------------------------------------------------------------------
def sign(msg_id: str, body: bytes, secrets_: list[str], timestamp: int | None = None) -> dict[str, str]:
    """Headers for one delivery; several secrets (during a rotation, current first) give several
    signatures in each scheme."""
    ts = int(time.time()) if timestamp is None else timestamp
    keys = [standard_webhooks_key(s) for s in secrets_]
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(ts),
        "webhook-signature": " ".join(_standard_signature(k, msg_id, ts, body) for k in keys),
        ONECODEX_HEADER: onecodex_header(secrets_, ts, body),
    }


def verify(
    body: bytes,
    headers: Mapping[str, str],
    secret: str,
    tolerance_seconds: int = DEFAULT_TOLERANCE_SECONDS,
    now: float | None = None,
) -> str:
    """Verify a delivery for a receiver: every scheme present must match `secret`.

    Returns the schemes that matched (`standard-webhooks`, `onecodex`, or both, comma-separated)
    or raises SignatureError naming the one that did not.
    """
    lower = {k.lower(): v for k, v in headers.items()}
    current = time.time() if now is None else now
    matched = []
    if "webhook-signature" in lower:
        key = standard_webhooks_key(secret)
        msg_id, ts_text = lower.get("webhook-id", ""), lower.get("webhook-timestamp", "")
        ts = _timestamp(ts_text, current, tolerance_seconds)
        expected = _standard_signature(key, msg_id, ts, body)
        if not any(hmac.compare_digest(c, expected) for c in lower["webhook-signature"].split()):
            raise SignatureError("no webhook-signature matches this secret")
        matched.append(STANDARD_WEBHOOKS)
    if ONECODEX_HEADER.lower() in lower:
        stamps, signatures = parse_onecodex_header(lower[ONECODEX_HEADER.lower()])
        ts = _timestamp(stamps[0] if len(stamps) == 1 else "", current, tolerance_seconds)
        expected = onecodex_signature(secret, ts, body)
        if not any(hmac.compare_digest(s, expected) for s in signatures):
            raise SignatureError(f"no {ONECODEX_HEADER} v1 value matches this secret")
        matched.append(ONECODEX)
    if not matched:
        raise SignatureError(f"no signature headers (webhook-signature or {ONECODEX_HEADER})")
    return ", ".join(matched)


def _timestamp(text: str, now: float, tolerance: int) -> int:
    try:
        ts = int(text)
    except ValueError:
        raise SignatureError("the signature timestamp is missing or not a Unix time") from None
    if abs(now - ts) > tolerance:
        raise SignatureError(f"the signature timestamp is more than {tolerance} s away from now (replay?)")
    return ts
