"""SQS, SNS and e-mail (SES) targets: real boto3 calls into the user's account and region."""

from __future__ import annotations

import json
import time

from botocore.exceptions import BotoCoreError, ClientError

from herald import aws
from herald.targets.base import Outcome

# SQS and SNS refuse messages over 256 KiB; fail clearly rather than let AWS truncate nothing.
MAX_MESSAGE_BYTES = 256 * 1024
_POLICY_HINT = (
    "grant Herald's account {action} on the target (see policies/ or `herald policy {kind} --arn ...`)"
)


def _region_of_queue(url: str) -> str | None:
    # https://sqs.eu-west-1.amazonaws.com/123456789012/name
    host = url.split("/")[2] if "://" in url else ""
    parts = host.split(".")
    return parts[1] if len(parts) > 3 and parts[0] == "sqs" else None


def _region_of_arn(arn: str) -> str | None:
    parts = arn.split(":")
    return parts[3] if len(parts) > 5 and parts[3] else None


def send_sqs(
    queue_url: str, body: bytes, attributes: dict[str, str], group_id: str, dedup_id: str, region: str | None
) -> Outcome:
    if len(body) > MAX_MESSAGE_BYTES:
        return _too_large(len(body), "SQS")
    started = time.perf_counter()
    kwargs: dict[str, object] = {
        "QueueUrl": queue_url,
        "MessageBody": body.decode(),
        "MessageAttributes": {k: {"DataType": "String", "StringValue": v} for k, v in attributes.items()},
    }
    if queue_url.endswith(".fifo"):
        kwargs["MessageGroupId"] = group_id
        kwargs["MessageDeduplicationId"] = dedup_id
    try:
        aws.client("sqs", _region_of_queue(queue_url) or region).send_message(**kwargs)
    except (ClientError, BotoCoreError) as exc:
        return _aws_failure(exc, started, "sqs", "sqs:SendMessage")
    return Outcome(success=True, duration_ms=_ms(started))


def publish_sns(
    topic_arn: str, body: bytes, attributes: dict[str, str], group_id: str, dedup_id: str, region: str | None
) -> Outcome:
    if len(body) > MAX_MESSAGE_BYTES:
        return _too_large(len(body), "SNS")
    started = time.perf_counter()
    kwargs: dict[str, object] = {
        "TopicArn": topic_arn,
        "Message": body.decode(),
        # String attributes let consumers use SNS subscription filter policies on eventCode.
        "MessageAttributes": {k: {"DataType": "String", "StringValue": v} for k, v in attributes.items()},
    }
    if topic_arn.endswith(".fifo"):
        kwargs["MessageGroupId"] = group_id
        kwargs["MessageDeduplicationId"] = dedup_id
    try:
        aws.client("sns", _region_of_arn(topic_arn) or region).publish(**kwargs)
    except (ClientError, BotoCoreError) as exc:
        return _aws_failure(exc, started, "sns", "sns:Publish")
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
