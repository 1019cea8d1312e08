"""The bridge in from One Codex: its signed webhooks become Herald events.

One Codex signs each POST with `X-OneCodex-Signature: t=<unix> v1=<hex>` where v1 is
HMAC-SHA256 over `"<t>.<raw body>"` keyed with the webhook secret's text (spaces or commas
separate the parts; several v1 values are accepted, as during a secret change). herald.signing
holds the scheme: Herald signs its own deliveries with it too. A bad, missing or stale
(> 5 minutes) signature is refused before anything is stored, and before the body is even decoded.
The secret binds the project: a request for project p is verified with p's own inbound webhook
secrets (`herald.logic.inbound`), or the deployment-wide secret when p is the single project it is
configured for, so a request signed for one project is refused for another. The payload (`api_version`,
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

from aws_lambda_powertools import Logger
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from herald import signing
from herald.domain import catalog, jsontext
from herald.domain.models import DuplicateRule, InboundSource
from herald.logic import accept, inbound
from herald.logic.services import Services

logger = Logger(child=True)
SIGNATURE_HEADER = signing.ONECODEX_HEADER
TOLERANCE_SECONDS = 300
# v1 values one header may carry (several while a secret changes); more is refused unread.
MAX_SIGNATURES = 8
NO_MATCH = "the signature does not match the configured secret"


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


def verify_signature(
    body: bytes, header: str | None, secrets: str | list[str], now: float | None = None
) -> None:
    """Accept the raw body if the header signs it, freshly, with one of `secrets` (else raise
    WebhookRejected). The bytes are never decoded before this."""
    candidates = [secrets] if isinstance(secrets, str) else list(secrets)
    if not header:
        raise WebhookRejected(f"missing {SIGNATURE_HEADER} header")
    timestamps, signatures = signing.parse_onecodex_header(header)
    if len(timestamps) != 1 or not signatures:
        raise WebhookRejected(f"{SIGNATURE_HEADER} must carry t=<unix time> and v1=<hex signature>")
    if len(signatures) > MAX_SIGNATURES:
        raise WebhookRejected(f"{SIGNATURE_HEADER} carries more than {MAX_SIGNATURES} signatures")
    try:
        ts = int(timestamps[0])
    except ValueError:
        raise WebhookRejected("the signature timestamp is not a Unix time") from None
    current = time.time() if now is None else now
    if abs(current - ts) > TOLERANCE_SECONDS:
        raise WebhookRejected(
            f"the signature timestamp is more than {TOLERANCE_SECONDS} s from now (replay?)"
        )
    for secret in candidates:
        expected = signing.onecodex_signature(secret, ts, body)
        # compare_digest refuses non-ASCII text: such a "signature" matches nothing
        if any(s.isascii() and hmac.compare_digest(expected, s) for s in signatures):
            return
    raise WebhookRejected(NO_MATCH)


def accept_webhook(
    services: Services, body: bytes, header: str | None, project: str | None
) -> accept.Acceptance:
    """Verify, then store, a One Codex webhook for `project`: only the project's own secrets (and
    the deployment-wide one, for the single project it is configured for) can sign for it."""
    target = project or inbound.legacy_project(services)
    secrets = inbound.secrets_for(services, InboundSource.ONECODEX, target)
    if not secrets:
        # Answered like a wrong signature: an unauthenticated caller learns nothing about which
        # projects have webhooks; the operator finds the reason here.
        logger.warning("One Codex webhook for a project without a secret", project=target)
    verify_signature(body, header, secrets)
    try:  # only now, signed: parsed as strict, bounded UTF-8 JSON
        payload = OneCodexPayload.model_validate(jsontext.loads(body))
    except jsontext.JsonTooComplex as exc:
        raise WebhookInvalid(f"the webhook body is {exc}") from None
    except (ValueError, ValidationError) as exc:
        raise WebhookInvalid(f"not a One Codex webhook payload: {exc}") from None
    obj = payload.object.get("$uri") or payload.object.get("id")
    identity = f"{payload.event_type}|{obj}|{payload.triggered_at}"
    known = catalog.lookup(payload.event_type)
    return accept.accept(
        services,
        target,
        payload.event_type,
        payload.object,
        client_id="onecodex:" + hashlib.sha256(identity.encode()).hexdigest(),
        description=known.description if known else payload.event_type,
        timestamp=payload.triggered_at,
        identity=accept.Identity(
            DuplicateRule.ONECODEX_DELIVERY,
            f"{payload.event_type} for {obj} triggered at {payload.triggered_at}",
        ),
    )
