"""Small builders for stored configuration, so tests state only what they are about."""

from __future__ import annotations

from typing import Any

from herald import signing
from herald.domain import clock, ids
from herald.domain.models import Channel, ChannelType, Subscription
from herald.logic.services import Services

ANALYSIS = {"id": "0c2ed19d", "status": "SUCCEEDED", "pipeline": {"code": "CopyToolDev"}}


def channel(services: Services, address: str, type_: ChannelType = ChannelType.HTTP, **extra: Any) -> Channel:
    ch = Channel(
        id=ids.new_id(),
        type=type_,
        address=address,
        secret=signing.generate_secret(),
        createdAt=clock.utc_iso(),
        **extra,
    )
    services.channels.put(ch)
    return ch


def subscription(
    services: Services, channel_id: str, project: str = "p1", code: str = "ICA_EXEC_002", **extra: Any
) -> Subscription:
    sub = Subscription(
        id=ids.new_id(),
        projectId=project,
        eventCode=code,
        notificationChannelId=channel_id,
        createdAt=clock.utc_iso(),
        **extra,
    )
    services.subscriptions.put(sub)
    return sub
