"""SQS, SNS and e-mail (SES) targets: real boto3 calls into the user's account and region."""

from __future__ import annotations

import json
import time

from botocore.exceptions import BotoCoreError, ClientError

from herald.adapters import aws
from herald.targets.base import Outcome

# SQS and SNS refuse messages over 256 KiB; fail clearly rather than let AWS truncate nothing.
MAX_MESSAGE_BYTES = 256 * 1024
_POLICY_HINT = (
    "grant Herald's account {action} on the target (see policies/ or `herald policy {kind} --arn ...`)"
)


def region_of_queue(url: str) -> str | None:
    """The region in an SQS queue URL (a queue is addressed in its own region), or None."""
    # https://sqs.eu-west-1.amazonaws.com/123456789012/name
    host = url.split("/")[2] if "://" in url else ""
    parts = host.split(".")
    return parts[1] if len(parts) > 3 and parts[0] == "sqs" else None


def region_of_arn(arn: str) -> str | None:
    """The region field of an ARN, or None."""
    parts = arn.split(":")
    return parts[3] if len(parts) > 5 and parts[3] else None


def _message(
    kind: str, address: str, body: bytes, attributes: dict[str, str], group_id: str, dedup_id: str
) -> dict[str, object]:
    """SendMessage / Publish arguments: the body, String attributes (SNS subscription filter
    policies can use eventCode), and for FIFO targets the group (project) and dedup id."""
    target, body_field = ("QueueUrl", "MessageBody") if kind == "sqs" else ("TopicArn", "Message")
    kwargs: dict[str, object] = {
        target: address,
        body_field: body.decode(),
        "MessageAttributes": {k: {"DataType": "String", "StringValue": v} for k, v in attributes.items()},
    }
    if address.endswith(".fifo"):
        kwargs["MessageGroupId"] = group_id
        kwargs["MessageDeduplicationId"] = dedup_id
    return kwargs


def send_message(
    kind: str,
    address: str,
    body: bytes,
    attributes: dict[str, str],
    group_id: str,
    dedup_id: str,
    region: str | None,
) -> Outcome:
    """SQS SendMessage (`kind` "sqs", a queue URL) or SNS Publish ("sns", a topic ARN), in the
    target's own region."""
    if len(body) > MAX_MESSAGE_BYTES:
        return _too_large(len(body), kind.upper())
    started = time.perf_counter()
    kwargs = _message(kind, address, body, attributes, group_id, dedup_id)
    try:
        if kind == "sqs":
            aws.client("sqs", region_of_queue(address) or region).send_message(**kwargs)
        else:
            aws.client("sns", region_of_arn(address) or region).publish(**kwargs)
    except (ClientError, BotoCoreError) as exc:
        return _aws_failure(exc, started, kind, "sqs:SendMessage" if kind == "sqs" else "sns:Publish")
    return Outcome(success=True, duration_ms=_ms(started))


def send_mail(address: str, sender: str, subject: str, text: str, html: str, region: str | None) -> Outcome:
    if not sender:
        return Outcome(
            success=False,
            duration_ms=0,
            error="no sender configured for e-mail: set HERALD_SES_SENDER (herald:sesSender in cdk.json)",
        )
    started = time.perf_counter()
    try:
        aws.client("ses", region).send_email(
            Source=sender,
            Destination={"ToAddresses": [address]},
            Message={
                "Subject": {"Data": subject, "Charset": "UTF-8"},
                "Body": {
                    "Text": {"Data": text, "Charset": "UTF-8"},
                    "Html": {"Data": html, "Charset": "UTF-8"},
                },
            },
        )
    except (ClientError, BotoCoreError) as exc:
        return _aws_failure(exc, started, "ses", "ses:SendEmail")
    return Outcome(success=True, duration_ms=_ms(started))


def _too_large(size: int, service: str) -> Outcome:
    return Outcome(
        success=False,
        duration_ms=0,
        error=f"payload is {size} bytes; {service} accepts at most {MAX_MESSAGE_BYTES} bytes",
        retryable=False,
    )


def _aws_failure(exc: Exception, started: float, kind: str, action: str) -> Outcome:
    if isinstance(exc, ClientError):
        code = exc.response.get("Error", {}).get("Code", "Error")
        message = exc.response.get("Error", {}).get("Message", "")
        text = f"{code}: {message}".strip()
        if code in {
            "AccessDenied",
            "AccessDeniedException",
            "AuthorizationError",
            "KMS.AccessDeniedException",
        }:
            text += "; " + _POLICY_HINT.format(action=action, kind=kind)
        elif code in {
            "AWS.SimpleQueueService.NonExistentQueue",
            "QueueDoesNotExist",
            "NotFound",
            "NotFoundException",
        }:
            text += f"; check the {kind.upper()} address exists in the given region and account"
    else:
        text = f"{type(exc).__name__}: {exc}"
    return Outcome(success=False, duration_ms=_ms(started), error=text)


def _ms(started: float) -> int:
    return int((time.perf_counter() - started) * 1000)


def dumps(value: object) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False)
