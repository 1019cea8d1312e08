"""Ids Herald makes: random ones, and deterministic ones so a retried write names the same item."""

from __future__ import annotations

import secrets
import uuid

# A fixed namespace so a client-supplied idempotency id maps to the same event id forever.
_EVENT_NAMESPACE = uuid.UUID("6f3b4d0e-6b0f-4f43-9a55-5f0f1e8a7c21")


def new_id() -> str:
    return str(uuid.uuid4())


def event_id_for(project_id: str, client_id: str) -> str:
    return str(uuid.uuid5(_EVENT_NAMESPACE, f"{project_id}\x00{client_id}"))


def notification_id_for(event_id: str, subscription_id: str) -> str:
    """Deterministic, so routing the same event twice never creates two notifications."""
    return "ntf_" + uuid.uuid5(_EVENT_NAMESPACE, f"{event_id}\x00{subscription_id}").hex


def random_token(nbytes: int = 32) -> str:
    return secrets.token_urlsafe(nbytes)
