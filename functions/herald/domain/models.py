"""Domain models: what Herald stores and what its API shows.

Field names follow ICA's API (camelCase: `notificationChannelId`, `eventCode`, `filterExpression`)
so that ICA users recognise them; the events API follows One Codex (`$uri`, `status`, `payload`).
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

# Event codes: ICA's (ICA_EXEC_002), custom (ICA_CUSTOM_123) and One Codex's (analysis.failed).
EVENT_CODE_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,19}$"


class ChannelType(StrEnum):
    HTTP = "HTTP"
    SQS = "SQS"
    SNS = "SNS"
    MAIL = "MAIL"


class PayloadFormat(StrEnum):
    """How a delivery's body is shaped: ICA's envelope or One Codex's webhook payload."""

    ICA = "ica"
    ONECODEX = "onecodex"


class NotificationStatus(StrEnum):
    """One Codex's four delivery states, used for notifications and (aggregated) for events."""

    PENDING = "pending"  # no attempt made yet
    RETRYABLE = "retryable"  # an attempt failed, retries remain
    SUCCESS = "success"  # delivered
    FAILED = "failed"  # every attempt failed and retries are exhausted


class Channel(BaseModel):
    model_config = ConfigDict(extra="ignore")

    id: str
    type: ChannelType
    address: str
    awsRegion: str | None = None
    enabled: bool = True
    projects: list[str] = Field(default_factory=list)
    secret: str = Field(repr=False)  # never logged, never shown after creation
    # During a rotation the previous secret still signs, until `previousSecretExpiresAt` (epoch s).
    previousSecret: str | None = Field(default=None, repr=False)
    previousSecretExpiresAt: float | None = None
    timeoutSeconds: float | None = None  # HTTP per-attempt timeout; None: the deployment default
    format: PayloadFormat | None = None  # default for its subscriptions; None: ICA's envelope
    # Deliveries per second Herald never exceeds for this channel (None: as fast as it answers).
    rateLimitPerSecond: int | None = None
    # Set when Herald disabled the channel (410 Gone, or failing for days); cleared on re-enable.
    disabledReason: str | None = None
    disabledAt: str | None = None
    createdAt: str

    def signing_secrets(self, now: float) -> list[str]:
        secrets = [self.secret]
        if self.previousSecret and (self.previousSecretExpiresAt or 0) > now:
            secrets.append(self.previousSecret)
        return secrets

    def public(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "type": self.type.value,
            "address": self.address,
            "awsRegion": self.awsRegion,
            "enabled": self.enabled,
            "timeoutSeconds": self.timeoutSeconds,
            "format": self.format.value if self.format else None,
            "rateLimitPerSecond": self.rateLimitPerSecond,
            "disabledReason": self.disabledReason,
            "createdAt": self.createdAt,
        }


class Subscription(BaseModel):
    id: str
    projectId: str
    eventCode: str
    notificationChannelId: str
    filterExpression: str | None = None
    payloadVersion: str | None = None
    format: PayloadFormat | None = None  # None: the channel's default, else ICA's envelope
    enabled: bool = True
    createdAt: str
    # A subscription to one of the project's custom event codes (ICA's customNotificationSubscriptions).
    custom: bool = False
    # Deliveries leave in event order (a FIFO message group per subscription); a failing one holds
    # back the later ones of this subscription only.
    ordered: bool = False
    updatedAt: str | None = None
    # Set when Herald disabled (quarantined) the subscription: its filter kept hitting its
    # evaluation bounds. Cleared when it is enabled again.
    disabledReason: str | None = None
    disabledAt: str | None = None
    # Evaluations in a row that hit a bound or were slow (see herald.logic.routing).
    filterStrikes: int = 0

    def public(self) -> dict[str, Any]:
        return self.model_dump(mode="json")


class DuplicateRule(StrEnum):
    """Why a post is the same event as one already stored (herald.logic.accept)."""

    IDEMPOTENCY_ID = "idempotency_id"  # the API: the same `id` in the project
    ANALYSIS_STATE = "analysis_state"  # ICA_EXEC_001/002/027: the same code, analysis id and status
    CORRELATION_ID = "correlation_id"  # the bridge: the same ICA correlationId (a redelivery)
    ONECODEX_DELIVERY = "onecodex_delivery"  # One Codex: the same event_type, object and triggered_at


class Event(BaseModel):
    id: str
    projectId: str
    eventCode: str
    description: str
    payload: dict[str, Any]
    correlationId: str
    timestamp: str  # ISO 8601, when the event was accepted
    createdAt: float  # epoch seconds, for ordering and TTL
    status: NotificationStatus = NotificationStatus.PENDING
    routed: bool = False
    routingError: str | None = None
    # How many notifications routing created (set with `routed`; None: not known). Lets a batch of
    # deliveries that settled all of them set the event's status without re-reading them.
    notificationCount: int | None = None
    payloadVersion: str | None = None
    derivedFrom: str | None = None  # the event this one was derived from (e.g. ICA_EXEC_028)


class Attempt(BaseModel):
    """One try at delivering a notification."""

    at: str
    durationMs: int
    success: bool
    httpStatus: int | None = None
    error: str | None = None
    responseExcerpt: str | None = None


class DeliveryCycle(BaseModel):
    """A finished cycle of attempts, kept when a failed notification is reprocessed."""

    cycle: int
    status: NotificationStatus
    attempts: list[Attempt] = Field(default_factory=list)
    lastError: str | None = None
    endedAt: str  # when it was reprocessed (the next cycle began)


class Notification(BaseModel):
    """The delivery of one event to one subscription; updated in place on every attempt.

    `attempts` are those of the current cycle; a reprocess (API) moves them, with the cycle's
    outcome, into `previousCycles` and starts cycle `cycle + 1` from pending.
    """

    id: str
    eventId: str
    subscriptionId: str
    projectId: str
    channelId: str
    status: NotificationStatus = NotificationStatus.PENDING
    attempts: list[Attempt] = Field(default_factory=list)
    lastError: str | None = None
    createdAt: str
    updatedAt: str
    cycle: int = 1
    previousCycles: list[DeliveryCycle] = Field(default_factory=list)
    # Whether it is in its subscription's open-notifications index (read from the stored item,
    # never written as an attribute): a notification enters it only once its first delivery
    # does not succeed at once (see herald.dal.notifications).
    openListed: bool = Field(default=False, exclude=True)

    def public(self) -> dict[str, Any]:
        return self.model_dump(mode="json")


class CustomEventCode(BaseModel):
    """A custom event code a project has used (posted or subscribed to), for the catalog."""

    projectId: str
    code: str
    createdAt: str


class ApiKey(BaseModel):
    keyHash: str
    keyId: str
    projects: list[str] = Field(default_factory=list)
    admin: bool = False
    name: str = ""
    createdAt: str

    def can_access(self, project_id: str) -> bool:
        return self.admin or project_id in self.projects


class InboundSource(StrEnum):
    """Platforms whose signed webhooks Herald takes in."""

    ONECODEX = "onecodex"


class InboundWebhook(BaseModel):
    """A project's way in for a platform's signed webhooks: its secret identifies the project.

    A request is verified against the secrets of the project it names only, so one signed for
    another project (or with another project's secret) is refused.
    """

    id: str
    projectId: str
    source: InboundSource = InboundSource.ONECODEX
    name: str = ""
    secret: str = Field(repr=False)  # sealed (herald.adapters.secret_box); never logged, shown once at most
    createdAt: str
