"""Request and response bodies, validated by pydantic at the edge (a bad field → 400 naming it).

The response models are what the OpenAPI document shows; routes return them, so the spec and
the answers cannot drift apart.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    Strict,
    StrictBool,
    StringConstraints,
    ValidationInfo,
    field_validator,
    model_validator,
)

from herald.domain.models import (
    EVENT_CODE_PATTERN,
    Attempt,
    ChannelType,
    DeliveryCycle,
    DuplicateRule,
    InboundSource,
    NotificationStatus,
    PayloadFormat,
)
from herald.names import PROJECT_ID_PATTERN

# Event codes, custom ones included: 1 to 20 characters of A-Z a-z 0-9 _ . - starting with a letter
# or digit. Covers ICA's (ICA_EXEC_002, ICA_CUSTOM_123) and One Codex's (analysis.failed).
# Ids Herald hands out (UUIDs, ntf_…, key ids); anything else cannot name a resource.
ID_PATTERN = r"^[A-Za-z0-9_\-]{1,128}$"
MAX_FILTER_LENGTH = 2000
MAX_KEY_PROJECTS = 100

# Herald's operational events (herald.channel.failing, …) may be subscribed to, never posted.
RESERVED_CODE_PREFIX = "herald."


def _not_reserved(code: str) -> str:
    if code.lower().startswith(RESERVED_CODE_PREFIX):
        raise ValueError(f"codes starting with {RESERVED_CODE_PREFIX!r} are reserved for Herald's own events")
    return code


EventCode = Annotated[str, StringConstraints(pattern=EVENT_CODE_PATTERN), AfterValidator(_not_reserved)]
# Longer than posted codes: the operational codes (herald.notification.exhausted) are 29 long.
SubscriptionEventCode = Annotated[str, StringConstraints(pattern=r"^(\*|[A-Za-z0-9][A-Za-z0-9_.\-]{0,39})$")]
# Request bodies take JSON's own types: `0` is not `false` and `"5"` not 5 (the spec says so).
RateLimit = Annotated[
    int,
    Strict(),
    Field(ge=1, le=10000, description="Deliveries per second Herald never exceeds for this channel."),
]
ProjectIdStr = Annotated[str, StringConstraints(pattern=PROJECT_ID_PATTERN)]
# From 1 ms: a number DynamoDB can store (its smallest is 1E-130; 5e-324 made the write fail).
TimeoutSeconds = Annotated[
    float,
    Strict(),
    Field(ge=0.001, le=60, description="Per-attempt timeout of HTTP deliveries, 0.001 to 60 s."),
]
# ICA's payload versions (seed: V3 and V4); a delivery's envelope says which it carries.
PayloadVersion = Annotated[
    Literal["V3", "V4"],
    Field(description="V3 (V3's analysis states only) or V4 (every state); none: V4."),
]
FilterExpression = Annotated[str, StringConstraints(max_length=MAX_FILTER_LENGTH)]
_REGION = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d+$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_SNS_ARN = re.compile(r"^arn:aws[a-z\-]*:sns:[a-z0-9\-]+:\d{12}:[A-Za-z0-9_\-]{1,256}(\.fifo)?$")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


# --- requests ------------------------------------------------------------------------------------
class ChannelIn(_Strict):
    """A channel as created (POST) or replaced (PUT)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"type": "HTTP", "address": "https://hooks.example.com/herald"}]},
    )

    type: ChannelType
    address: str = Field(min_length=1, max_length=2048)
    awsRegion: str | None = None
    enabled: StrictBool = True
    timeoutSeconds: TimeoutSeconds | None = None
    format: PayloadFormat | None = None
    rateLimitPerSecond: RateLimit | None = None
    projects: list[ProjectIdStr] | None = Field(
        default=None,
        max_length=MAX_KEY_PROJECTS,
        description="Projects whose keys may see and use the channel. Default: the creating key's "
        "projects (none for an admin key: visible to admin keys only).",
    )

    @field_validator("awsRegion")
    @classmethod
    def _region(cls, value: str | None) -> str | None:
        if value is not None and not _REGION.match(value):
            raise ValueError("must be an AWS region name such as eu-west-1")
        return value

    @field_validator("address")
    @classmethod
    def _address_fits_type(cls, value: str, info: ValidationInfo) -> str:
        kind = info.data.get("type")
        address = value.strip()
        if kind in (ChannelType.HTTP, ChannelType.SQS):
            try:
                parts = urlsplit(address)
                scheme, host = parts.scheme, parts.hostname
                parts.port  # noqa: B018 -- raises on a malformed port
            except ValueError:  # e.g. an unclosed IPv6 bracket
                scheme, host = "", None
            if scheme not in ("http", "https") or not host:
                what = "an http(s) URL" if kind is ChannelType.HTTP else "an SQS queue URL"
                raise ValueError(f"must be {what}, got {address!r}")
        elif kind is ChannelType.SNS and not _SNS_ARN.match(address):
            raise ValueError("must be an SNS topic ARN (arn:aws:sns:<region>:<account>:<name>)")
        elif kind is ChannelType.MAIL and not _EMAIL.match(address):
            raise ValueError("must be an e-mail address")
        return address


class ChannelPatch(_Strict):
    """Fields to change; those left out keep their value, `null` resets to the default."""

    type: ChannelType | None = None
    address: str | None = Field(default=None, min_length=1, max_length=2048)
    awsRegion: str | None = None
    enabled: StrictBool | None = None
    timeoutSeconds: TimeoutSeconds | None = None
    format: PayloadFormat | None = None
    rateLimitPerSecond: RateLimit | None = None
    projects: list[ProjectIdStr] | None = Field(default=None, max_length=MAX_KEY_PROJECTS)

    @field_validator("type", "enabled", "address")
    @classmethod
    def _not_null(cls, value: Any) -> Any:
        if value is None:
            raise ValueError("may not be null")
        return value


class SubscriptionIn(_Strict):
    eventCode: SubscriptionEventCode
    notificationChannelId: str = Field(min_length=1, max_length=64)
    filterExpression: FilterExpression | None = None
    payloadVersion: PayloadVersion | None = None
    format: PayloadFormat | None = None
    enabled: StrictBool = True
    ordered: StrictBool = Field(
        default=False,
        description="Deliver in event order (per subscription): a failing delivery holds back the later "
        "ones of this subscription until it succeeds or fails for good.",
    )


# The same, to one of the project's own codes: no wildcard, no reserved prefix. (A comment, not a
# docstring: a docstring would become the schema's description.)
class CustomSubscriptionIn(SubscriptionIn):
    eventCode: EventCode = Field(description="The project's custom event code (no wildcard).")


class SubscriptionPatch(_Strict):
    """Fields to change; those left out keep their value, `null` clears an optional one."""

    filterExpression: FilterExpression | None = None
    payloadVersion: PayloadVersion | None = None
    format: PayloadFormat | None = None
    enabled: StrictBool | None = None
    notificationChannelId: str | None = Field(default=None, min_length=1, max_length=64)
    ordered: StrictBool | None = None

    @field_validator("enabled", "notificationChannelId", "ordered")
    @classmethod
    def _not_null(cls, value: Any) -> Any:
        # Runs only for fields that were sent: an explicit null cannot clear these.
        if value is None:
            raise ValueError("may not be null")
        return value


class EventIn(_Strict):
    eventCode: EventCode
    payload: dict[str, Any]
    id: Annotated[str, StringConstraints(min_length=1, max_length=128)] | None = None
    description: Annotated[str, StringConstraints(max_length=1024)] | None = None
    payloadVersion: PayloadVersion | None = None


class CustomEventIn(_Strict):
    """ICA's custom event: a code of the project's choosing and any JSON object as content."""

    code: EventCode
    content: dict[str, Any]


class ReprocessSinceIn(_Strict):
    since: Annotated[str, StringConstraints(min_length=1, max_length=64)] = Field(
        description="RFC 3339 time: failed notifications routed at or after it are reprocessed.",
        json_schema_extra={"format": "date-time"},
    )


class KeyIn(_Strict):
    projects: list[ProjectIdStr] = Field(default_factory=list, max_length=MAX_KEY_PROJECTS)
    admin: StrictBool = False
    name: Annotated[str, StringConstraints(max_length=100)] = ""

    @model_validator(mode="after")
    def _scope(self) -> KeyIn:
        if self.admin and self.projects:
            raise ValueError("projects: an admin key reaches every project; leave projects empty")
        if not self.admin and not self.projects:
            raise ValueError("projects: a key that is not admin needs at least one project")
        return self


class InboundWebhookIn(_Strict):
    source: InboundSource = Field(
        default=InboundSource.ONECODEX, description="The platform whose signed webhooks come in."
    )
    name: Annotated[str, StringConstraints(max_length=100)] = ""
    secret: Annotated[str, StringConstraints(min_length=16, max_length=256, pattern=r"^[!-~]+$")] | None = (
        Field(
            default=None,
            description="The signing secret the platform issued for this webhook (One Codex shows one); "
            "leave it out and Herald generates one, shown once in the response.",
        )
    )


# --- responses -----------------------------------------------------------------------------------
class ErrorDetail(BaseModel):
    code: str
    message: str
    field: str | None = None


class ErrorOut(BaseModel):
    error: ErrorDetail


class HealthOut(BaseModel):
    status: str


class ChannelOut(BaseModel):
    id: str
    type: ChannelType
    address: str
    awsRegion: str | None = None
    enabled: bool
    timeoutSeconds: float | None = None
    format: PayloadFormat | None = None
    rateLimitPerSecond: int | None = None
    projects: list[str] = Field(description="Of the projects the channel belongs to, those the key may see.")
    createdAt: str
    previousSecretExpiresAt: str | None = Field(
        default=None, description="During a rotation: until when the previous secret still signs."
    )
    disabledReason: str | None = Field(
        default=None, description="Why Herald disabled the channel (410 Gone, or failing for days)."
    )
    disabledAt: str | None = None


class ChannelHealthOut(BaseModel):
    """The channel's circuit breaker, as the deliver functions see it."""

    channelId: str
    enabled: bool
    disabledReason: str | None = None
    state: str = Field(description="closed (delivering), open (held back), or half-open (one probe out).")
    counting: bool = Field(
        description="Whether Herald is recording this channel's attempts: from a window's first failure, "
        "and while the circuit is not closed. Every failure is always recorded; a healthy channel's "
        "successes are not (they write nothing, for cost), so while false the window's attempt count, "
        "its start and the last success are not known: null."
    )
    failureRate: float = Field(
        description="Failed share of the attempts in the current window; 0 when no attempt failed in it."
    )
    windowAttempts: int | None = Field(description="Attempts in the current window; null: not counting.")
    windowFailures: int = Field(description="Failed attempts in the current window.")
    windowStart: str | None = Field(
        default=None, description="When the current window began (its first failure); null: not counting."
    )
    consecutiveFailures: int
    failingSince: str | None = Field(default=None, description="First failure since the last success.")
    lastSuccessAt: str | None = Field(
        default=None,
        description="The latest successful attempt in the current window; null: none, or not counting.",
    )
    lastFailureAt: str | None = None
    lastError: str | None = None
    openedAt: str | None = None
    nextProbeAt: str | None = Field(default=None, description="Open circuit: when a probe may go out.")
    pausedUntil: str | None = Field(
        default=None, description="A receiver's Retry-After holds deliveries until then."
    )


class ChannelWithSecret(ChannelOut):
    secret: str = Field(description="The signing secret (whsec_…); shown only on create and rotate.")


class ChannelList(BaseModel):
    items: list[ChannelOut]
    nextCursor: str | None = None


class SubscriptionOut(BaseModel):
    id: str
    projectId: str
    eventCode: str
    notificationChannelId: str
    filterExpression: str | None = None
    payloadVersion: str | None = None
    format: PayloadFormat | None = None
    enabled: bool
    custom: bool = False
    ordered: bool = False
    createdAt: str
    updatedAt: str | None = None
    disabledReason: str | None = Field(
        default=None,
        description="Why Herald disabled the subscription (its filter kept hitting its evaluation bounds).",
    )
    disabledAt: str | None = None


class SubscriptionList(BaseModel):
    items: list[SubscriptionOut]
    nextCursor: str | None = None


class NotificationOut(BaseModel):
    id: str
    eventId: str
    subscriptionId: str
    projectId: str
    channelId: str
    status: NotificationStatus
    attempts: list[Attempt] = Field(description="Attempts of the current cycle, oldest first.")
    lastError: str | None = None
    createdAt: str
    updatedAt: str
    cycle: int = Field(1, description="1, plus one for each reprocess.")
    previousCycles: list[DeliveryCycle] = Field(
        default_factory=list, description="Cycles before the last reprocess, each with its attempts."
    )


class NotificationList(BaseModel):
    items: list[NotificationOut]
    nextCursor: str | None = None


class ReprocessOut(BaseModel):
    reprocessed: int
    notificationIds: list[str]
    more: bool = Field(description="More failed notifications may remain: call again.")


class DuplicateOut(BaseModel):
    """Why a post was recognised as an event Herald already holds."""

    model_config = ConfigDict(populate_by_name=True)

    id: str = Field(description="The stored event the post was recognised as.")
    uri: str = Field(alias="$uri", description="Its address in the events API.")
    rule: DuplicateRule = Field(
        description="Which rule matched: `idempotency_id` (the same `id` in the project), "
        "`analysis_state` (ICA_EXEC_001/002/027: the same code, analysis id and status, whatever the "
        "`id`), `correlation_id` (the bridge: the same ICA correlationId), `onecodex_delivery` (the "
        "same One Codex event_type, object and triggered_at)."
    )
    matched: str = Field(description="The value the rule matched on.")
    acceptedAt: str = Field(description="When the stored event was accepted (RFC 3339).")
    message: str = Field(description="The same, in a sentence.")


class EventAccepted(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    id: str = Field(description="The event's id: the new event's, or the stored one's it was recognised as.")
    uri: str = Field(alias="$uri")
    status: NotificationStatus
    created: bool = Field(description="false: recognised as an event Herald already holds (see duplicateOf).")
    duplicateOf: DuplicateOut | None = Field(
        None, description="null when the event is new; else which stored event this post is, and why."
    )


class EventOut(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    uri: str = Field(alias="$uri")
    id: str
    status: NotificationStatus
    api_version: str
    event_type: str
    triggered_at: str
    eventCode: str
    projectId: str
    correlationId: str
    description: str
    timestamp: str
    payloadVersion: str | None = Field(
        None, description="The version the payload is in: as posted, else V4 (every state)."
    )
    derivedFrom: str | None = None
    payload: dict[str, Any]
    error: str | None = None
    notifications: list[NotificationOut] | None = None


class EventList(BaseModel):
    items: list[EventOut]
    nextCursor: str | None = None


class CustomEventCodeOut(BaseModel):
    projectId: str
    code: str
    createdAt: str


class CustomEventCodeList(BaseModel):
    items: list[CustomEventCodeOut]
    nextCursor: str | None = None


class KeyOut(BaseModel):
    keyId: str
    name: str
    projects: list[str]
    admin: bool
    createdAt: str


class KeyCreated(KeyOut):
    key: str = Field(description="The API key itself; shown only in this response.")


class KeyList(BaseModel):
    items: list[KeyOut]
    nextCursor: str | None = None


class InboundWebhookOut(BaseModel):
    id: str
    projectId: str
    source: InboundSource
    name: str
    url: str = Field(description="Where the platform posts (relative to the API's base URL).")
    createdAt: str


class InboundWebhookCreated(InboundWebhookOut):
    secret: str | None = Field(
        default=None,
        description="The signing secret Herald generated, shown only in this response (null when the "
        "secret was given).",
    )


class InboundWebhookList(BaseModel):
    items: list[InboundWebhookOut]
    nextCursor: str | None = None
