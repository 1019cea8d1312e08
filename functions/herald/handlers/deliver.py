"""Deliver function: deliveries queue → one attempt per notification, the batch sent concurrently.

On a failed attempt the message's visibility timeout is set to the next backoff delay and the
record is reported as a batch item failure, so SQS itself holds the retry: nothing sleeps, and a
retrying notification never blocks the others. The receive after the last attempt moves the
message to the dead-letter queue (redrive maxReceiveCount = attempts).
"""

from __future__ import annotations

import asyncio
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import (
    AsyncBatchProcessor,
    EventType,
    async_process_partial_response,
)
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from herald import delivery
from herald.handlers.observability import logger, metrics
from herald.messages import DeliverNotification
from herald.services import get_services
from herald.targets import http

# Report an all-failed batch item by item too: a failing receiver is not a function error.
processor = AsyncBatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)


class RetryScheduled(Exception):
    """Reported to the batch processor so SQS redelivers the message after the backoff."""


async def record_handler(record: SQSRecord) -> None:
    services = get_services()
    message = DeliverNotification.model_validate_json(record.body)
    if _seen_in_batch(message.notificationId, record.message_id):
        # Two messages for one notification in one batch (a routing retry): send it once.
        metrics.add_metric(name="Notifications_skipped", unit=MetricUnit.Count, value=1)
        return
    receive_count = int(record.attributes.approximate_receive_count or 1)
    decision = await delivery.deliver(services, message, receive_count)
    metrics.add_metric(name=f"Notifications_{decision.outcome}", unit=MetricUnit.Count, value=1)
    if decision.latency_ms is not None:
        metrics.add_metric(name="DeliveryLatencyMs", unit=MetricUnit.Milliseconds, value=decision.latency_ms)
    if decision.retry_in is None and not decision.exhausted:
        return
    # Visibility 0 after the last attempt: the next receive redrives it to the DLQ at once.
    delay = 0 if decision.exhausted else int(decision.retry_in or 0)
    await asyncio.to_thread(
        services.queues.change_visibility, services.queues.deliveries_url, record.receipt_handle, delay
    )
    raise RetryScheduled(f"{message.notificationId}: next attempt in {delay} s")


_batch_owner: dict[str, str] = {}


def _seen_in_batch(notification_id: str, message_id: str) -> bool:
    """True for a second message of the same notification in the current batch."""
    return _batch_owner.setdefault(notification_id, message_id) != message_id


@metrics.log_metrics
@logger.inject_lambda_context
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    _batch_owner.clear()
    return async_process_partial_response(
        event=event, record_handler=record_handler, processor=processor, context=context
    )


def shutdown() -> None:
    """Close the HTTP pools of this thread's event loop (the worker is stopping)."""
    try:
        loop = asyncio.get_event_loop()
    except RuntimeError:
        return
    if not loop.is_closed() and not loop.is_running():
        loop.run_until_complete(http.close_sessions())
