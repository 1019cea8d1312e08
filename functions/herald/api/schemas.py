"""Request bodies, validated by pydantic at the edge (a bad field → 400 naming it)."""

from __future__ import annotations

import re
from typing import Annotated, Any
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from herald.models import ChannelType, PayloadFormat

# Event codes: ICA's (ICA_EXEC_002), custom (ICA_CUSTOM_123) and One Codex's (analysis.failed).
EVENT_CODE_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,19}$"
PROJECT_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._:\-]{0,127}$"
MAX_FILTER_LENGTH = 2000

EventCode = Annotated[str, StringConstraints(pattern=EVENT_CODE_PATTERN)]
SubscriptionEventCode = Annotated[str, StringConstraints(pattern=r"^(\*|[A-Za-z0-9][A-Za-z0-9_.\-]{0,19})$")]
_REGION = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d+$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_SNS_ARN = re.compile(r"^arn:aws[a-z\-]*:sns:[a-z0-9\-]+:\d{12}:[A-Za-z0-9_\-]{1,256}(\.fifo)?$")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ChannelIn(_Strict):
    type: ChannelType
    address: str = Field(min_length=1, max_length=2048)
    awsRegion: str | None = None
    enabled: bool = True
    timeoutSeconds: float | None = Field(default=None, gt=0, le=60)
    format: PayloadFormat | None = None

    @model_validator(mode="after")
    def _address_fits_type(self) -> ChannelIn:
        if self.awsRegion is not None and not _REGION.match(self.awsRegion):
            raise ValueError("awsRegion must be an AWS region name such as eu-west-1")
        address = self.address.strip()
        if self.type in (ChannelType.HTTP, ChannelType.SQS):
            parts = urlsplit(address)
            if parts.scheme not in ("http", "https") or not parts.hostname:
                what = "an http(s) URL" if self.type is ChannelType.HTTP else "an SQS queue URL"
                raise ValueError(f"address must be {what}, got {address!r}")
        elif self.type is ChannelType.SNS and not _SNS_ARN.match(address):
            raise ValueError("address must be an SNS topic ARN (arn:aws:sns:<region>:<account>:<name>)")
        elif self.type is ChannelType.MAIL and not _EMAIL.match(address):
            raise ValueError("address must be an e-mail address")
        self.address = address
        return self


class SubscriptionIn(_Strict):
    eventCode: SubscriptionEventCode
    notificationChannelId: str = Field(min_length=1, max_length=64)
    filterExpression: str | None = Field(default=None, max_length=MAX_FILTER_LENGTH)
    payloadVersion: Annotated[str, StringConstraints(pattern=r"^V\d{1,2}$")] | None = None
    format: PayloadFormat | None = None
    enabled: bool = True


class EventIn(_Strict):
    eventCode: EventCode
    payload: dict[str, Any]
    id: Annotated[str, StringConstraints(min_length=1, max_length=128)] | None = None
    description: Annotated[str, StringConstraints(max_length=1024)] | None = None
    payloadVersion: Annotated[str, StringConstraints(pattern=r"^V\d{1,2}$")] | None = None
