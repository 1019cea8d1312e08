"""Delivery targets: one module per kind, one `send` that picks by the channel's type."""

from __future__ import annotations

import asyncio
import html as html_lib
import json

from herald import signing
from herald.domain import clock
from herald.domain.models import Channel, ChannelType, Event
from herald.domain.settings import Settings
from herald.targets import aws_targets, http
from herald.targets.base import Outcome

__all__ = ["Outcome", "send"]


async def send(
    channel: Channel,
    event: Event,
    body: bytes,
    notification_id: str,
    settings: Settings,
) -> Outcome:
    """One attempt; HTTP on the event loop, the AWS SDK (blocking) on a worker thread."""
    attributes = {"eventCode": event.eventCode, "correlationId": event.correlationId}
    if channel.type is ChannelType.HTTP:
        # During a secret rotation both secrets sign, so receivers can switch at their pace.
        headers = signing.sign(notification_id, body, channel.signing_secrets(clock.now()))
        timeout = channel.timeoutSeconds or settings.http_timeout_seconds
        return await http.post(
            channel.address, body, headers, timeout, allow_private=settings.allow_private_targets
        )
    if channel.type in (ChannelType.SQS, ChannelType.SNS):
        return await asyncio.to_thread(
            aws_targets.send_message,
            channel.type.value.lower(),
            channel.address,
            body,
            attributes,
            event.projectId,
            notification_id,
            channel.awsRegion,
        )
    subject, text, html = mail_parts(event, body)
    return await asyncio.to_thread(
        aws_targets.send_mail, channel.address, settings.ses_sender, subject, text, html, channel.awsRegion
    )


def mail_parts(event: Event, body: bytes) -> tuple[str, str, str]:
    """A mail delivery's subject, plain-text part and HTML part."""
    subject = f"[Herald] {event.eventCode}: {event.description} (project {event.projectId})"
    pretty = json.dumps(json.loads(body), indent=2, ensure_ascii=False)
    fields = [
        ("Event", event.eventCode),
        ("Description", event.description),
        ("Project", event.projectId),
        ("Correlation id", event.correlationId),
        ("Time", event.timestamp),
    ]
    text = "\n".join(f"{k}: {v}" for k, v in fields) + "\n\n" + pretty + "\n"
    rows = "".join(
        f"<tr><th align='left'>{html_lib.escape(k)}</th><td>{html_lib.escape(str(v))}</td></tr>"
        for k, v in fields
    )
    html = f"<table>{rows}</table><pre>{html_lib.escape(pretty)}</pre>"
    return subject, text, html
