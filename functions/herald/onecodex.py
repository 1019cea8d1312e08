"""The bridge in from One Codex: its signed webhooks become Herald events.

One Codex signs each POST with `X-OneCodex-Signature: t=<unix>,v1=<hex>` where v1 is
HMAC-SHA256 over `"<t>.<raw body>"` keyed with the webhook secret (commas or spaces separate
the parts; several v1 values are accepted, as during a secret change). A bad, missing or stale
(> 5 minutes) signature is refused before anything is stored. The payload (`api_version`,
`event_type`, `object`, `object_type`, `triggered_at`) becomes an event whose code is the
`event_type` and whose payload is the `object`. One Codex retries a delivery with the same
`triggered_at`, so (event type, object, triggered_at) identifies it; a re-fired
`analysis.failed` (new `triggered_at`) is a new event, as One Codex documents.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from herald import catalog, ingest, jsontext
from herald.models import Event
from herald.services import Services

SIGNATURE_HEADER = "X-OneCodex-Signature"
TOLERANCE_SECONDS = 300
DEFAULT_PROJECT = "onecodex"


class WebhookRejected(ValueError):
    """Signature missing, wrong or stale: answer 401 and store nothing."""


class WebhookInvalid(ValueError):
    """Signed correctly but not a One Codex event payload: answer 400."""


class OneCodexPayload(BaseModel):
    model_config = ConfigDict(extra="ignore")

    api_version: str = Field(min_length=1, max_length=16)
    event_type: str = Field(pattern=r"^[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*$", max_length=20)
    object: dict[str, Any]
    object_type: str = Field(min_length=1, max_length=64)
    triggered_at: str = Field(min_length=1, max_length=64)


def verify_signature(body: bytes, header: str | None, secret: str, now: float | None = None) -> None:
    if not secret:
        raise WebhookRejected("no One Codex webhook secret is configured")
    if not header:
        raise WebhookRejected(f"missing {SIGNATURE_HEADER} header")
    parts = [p.strip().split("=", 1) for p in header.replace(",", " ").split() if "=" in p]
    timestamps = [v for k, v in parts if k == "t"]
    signatures = [v for k, v in parts if k == "v1"]
    if len(timestamps) != 1 or not signatures:
        raise WebhookRejected(f"{SIGNATURE_HEADER} must carry t=<unix time> and v1=<hex signature>")
    try:
        ts = int(timestamps[0])
    except ValueError:
        raise WebhookRejected("the signature timestamp is not a Unix time") from None
    current = time.time() if now is None else now
    if abs(current - ts) > TOLERANCE_SECONDS:
        raise WebhookRejected(
            f"the signature timestamp is more than {TOLERANCE_SECONDS} s from now (replay?)"
        )
    expected = hmac.new(secret.encode(), f"{ts}.".encode() + body, hashlib.sha256).hexdigest()
    if not any(hmac.compare_digest(expected, s) for s in signatures):
        raise WebhookRejected("the signature does not match the configured secret")


def accept_webhook(
    services: Services, body: bytes, header: str | None, project: str | None
) -> tuple[Event, bool]:
    verify_signature(body, header, webhook_secret(services))
    try:  # only now, signed: parsed as strict, bounded UTF-8 JSON
        payload = OneCodexPayload.model_validate(jsontext.loads(body))
    except jsontext.JsonTooComplex as exc:
        raise WebhookInvalid(f"the webhook body is {exc}") from None
    except (ValueError, ValidationError) as exc:
        raise WebhookInvalid(f"not a One Codex webhook payload: {exc}") from None
    identity = f"{payload.event_type}|{payload.object.get('$uri') or payload.object.get('id')}|{payload.triggered_at}"
    known = catalog.lookup(payload.event_type)
    return ingest.accept_event(
        services,
        project or services.settings.ingest_default_project or DEFAULT_PROJECT,
        payload.event_type,
        payload.object,
        client_id="onecodex:" + hashlib.sha256(identity.encode()).hexdigest(),
        description=known.description if known else payload.event_type,
        timestamp=payload.triggered_at,
    )


def webhook_secret(services: Services) -> str:
    settings = services.settings
    if settings.onecodex_secret:
        return settings.onecodex_secret
    if settings.onecodex_secret_arn:
        return _secret_from_secrets_manager(settings.onecodex_secret_arn)
    return ""


def _secret_from_secrets_manager(arn: str) -> str:
    # Powertools' parameters utility caches it (5 minutes by default) across invocations.
    from aws_lambda_powertools.utilities import parameters

    return str(parameters.get_secret(arn, max_age=300))
