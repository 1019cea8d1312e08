"""The bridge in: ICA's notifications, delivered to Herald's ingest queue or topic, become events.

ICA sends its envelope (seed: correlationId, timestamp, eventCode, description, payload) to an
SQS queue or an SNS topic. The ingest topic is subscribed to the ingest queue, so a message body
is either the envelope itself (SQS, or SNS with raw message delivery) or SNS's Notification
wrapper around it. The correlation id de-duplicates redeliveries. The project is, in order: the
envelope's `projectId`, the payload's `projectId`, `project.id` or `details.owningProjectId`, or
the configured default project (`HERALD_INGEST_DEFAULT_PROJECT`); a message naming none is
refused and stays in the ingest dead-letter queue for an operator to redrive.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from herald.domain import jsontext
from herald.domain.models import EVENT_CODE_PATTERN, DuplicateRule
from herald.logic import accept
from herald.logic.services import Services
from herald.names import PROJECT_ID_PATTERN


class BridgeError(ValueError):
    """The message is not an ICA envelope Herald can attribute to a project."""


class IcaEnvelope(BaseModel):
    model_config = ConfigDict(extra="ignore")

    correlationId: str = Field(min_length=1, max_length=128)
    eventCode: str = Field(pattern=EVENT_CODE_PATTERN)
    payload: dict[str, Any]
    timestamp: str | None = None
    description: str | None = Field(default=None, max_length=1024)
    projectId: str | None = Field(default=None, pattern=PROJECT_ID_PATTERN)
    payloadVersion: str | None = None


def parse_body(body: str) -> IcaEnvelope:
    try:
        data = jsontext.loads(body)
    except jsontext.JsonTooComplex as exc:
        raise BridgeError(f"the message body is {exc}") from None
    except jsontext.NotJson as exc:
        raise BridgeError(f"the message body is not JSON: {exc}") from None
    if isinstance(data, dict) and data.get("Type") == "Notification" and isinstance(data.get("Message"), str):
        return parse_body(data["Message"])  # SNS without raw message delivery
    try:
        return IcaEnvelope.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"]) or "body"
        raise BridgeError(f"not an ICA envelope: {field}: {first['msg']}") from None


def project_of(envelope: IcaEnvelope, default_project: str) -> str:
    payload = envelope.payload
    candidates: list[Any] = [
        envelope.projectId,
        payload.get("projectId"),
        (payload.get("project") or {}).get("id") if isinstance(payload.get("project"), dict) else None,
        (payload.get("details") or {}).get("owningProjectId")
        if isinstance(payload.get("details"), dict)
        else None,
        default_project or None,
    ]
    for candidate in candidates:
        if isinstance(candidate, str) and candidate:
            return candidate
    raise BridgeError(
        "the envelope names no project (projectId, payload.projectId, payload.project.id or "
        "payload.details.owningProjectId); set HERALD_INGEST_DEFAULT_PROJECT to route such events"
    )


def ingest_message(services: Services, body: str) -> accept.Acceptance:
    """The message as an event; a redelivery (same correlation id) is recognised as the stored one."""
    envelope = parse_body(body)
    project = project_of(envelope, services.settings.ingest_default_project)
    try:
        return accept.accept(
            services,
            project,
            envelope.eventCode,
            envelope.payload,
            client_id=envelope.correlationId,
            description=envelope.description,
            payload_version=envelope.payloadVersion,
            timestamp=envelope.timestamp,
            identity=accept.Identity(DuplicateRule.CORRELATION_ID, envelope.correlationId),
        )
    except accept.PayloadRefusedError as exc:  # too large or too deep: no retry can help
        raise BridgeError(f"payload: {exc}") from None
