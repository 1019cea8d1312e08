"""Deliver function: deliveries queue → one attempt per notification, the batch sent concurrently.

On a failed attempt the message's visibility timeout is set to the next backoff delay and the
record is reported as a batch item failure, so SQS itself holds the retry: nothing sleeps, and a
retrying notification never blocks the others. The receive after the last attempt moves the
message to the dead-letter queue (redrive maxReceiveCount = attempts).

A delivery the channel's circuit or rate limit holds back (deferred: no send, no attempt) is sent
again with a delay and the original deleted, so its receive count does not run towards the redrive.

Ordered subscriptions' deliveries come from a FIFO queue (one message group per subscription):
a batch is processed in order, and a retrying or deferred message keeps its place (its visibility
is changed, it is not re-sent) and fails the rest of its group in the batch, so nothing overtakes
it; other groups go on. A notification that failed for good leaves the group at once.
"""

from __future__ import annotations

import asyncio
import threading
from typing import Any

from herald.handlers.coldstart import frozen_imports

with frozen_imports():  # the cold start's imports, without garbage collections (see coldstart)
    from aws_lambda_powertools.metrics import MetricUnit
    from aws_lambda_powertools.utilities.batch import (
        AsyncBatchProcessor,
        EventType,
        SqsFifoPartialProcessor,
        async_process_partial_response,
        process_partial_response,
    )
    from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

    from herald.domain.messages import DeliverNotification
    from herald.handlers.observability import logger, metrics
    from herald.logic import delivery
    from herald.logic.services import Services, get_services
    from herald.names import SQS_MAX_DELAY_SECONDS
    from herald.targets import http


def _processor() -> AsyncBatchProcessor:
    # Report an all-failed batch item by item too: a failing receiver is not a function error.
    # One per invocation: a processor holds its batch, and `herald dev` (or a test) may invoke
    # the handler from two threads at once.
    return AsyncBatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)


def _ordered_processor() -> SqsFifoPartialProcessor:
    # Ordered deliveries: a failure skips the rest of its message group only.
    processor = SqsFifoPartialProcessor(skip_group_on_error=True)
    # As above (its constructor does not take the option; the attribute is the base class's).
    processor.raise_on_entire_batch_failure = False
    return processor


class RetryScheduled(Exception):
    """Reported to the batch processor so SQS redelivers the message after the backoff."""


async def record_handler(record: SQSRecord, ordered: bool = False) -> None:
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
    queue_url = _queue_url(services, ordered)
    if decision.deferred and not ordered:
        # Re-sent with a delay: deferrals must not count as receives towards the redrive.
        delay = min(int(decision.retry_in or 1), SQS_MAX_DELAY_SECONDS)
        await asyncio.to_thread(services.queues.send, queue_url, [message], delay_seconds=delay)
        return
    if decision.retry_in is None and not (decision.exhausted and not ordered):
        return  # done; an ordered message that failed for good leaves its group now
    # Visibility 0 after the last attempt: the next receive redrives it to the DLQ at once.
    delay = 0 if decision.exhausted else int(decision.retry_in or 0)
    await asyncio.to_thread(services.queues.change_visibility, queue_url, record.receipt_handle, delay)
    _batch.rescheduled.add(record.message_id)
    raise RetryScheduled(f"{message.notificationId}: next try in {delay} s ({decision.outcome})")


def _queue_url(services: Services, ordered: bool) -> str:
    return services.settings.ordered_deliveries_queue_url if ordered else services.queues.deliveries_url


def _release_held_back(records: list[dict[str, Any]], response: dict[str, Any]) -> None:
    """Make the messages held back behind a retrying one visible again at once: FIFO keeps them
    behind it anyway, and left invisible they would delay its retry until their own timeout."""
    failed = {f["itemIdentifier"] for f in response.get("batchItemFailures", [])}
    held = [r["receiptHandle"] for r in records if r["messageId"] in failed - _batch.rescheduled]
    if held:
        services = get_services()
        for handle in held:
            services.queues.change_visibility(services.settings.ordered_deliveries_queue_url, handle, 0)


def _ordered_record_handler(record: SQSRecord) -> None:
    """The FIFO processor is synchronous: run each record on the loop the async path uses."""
    _event_loop().run_until_complete(record_handler(record, ordered=True))


def _event_loop() -> asyncio.AbstractEventLoop:
    try:
        loop = asyncio.get_event_loop()
    except RuntimeError:  # a thread without a loop (the local pollers)
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
    if loop.is_closed():
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
    return loop


class _BatchState(threading.local):
    """Per invocation. Thread-local because `herald dev` runs the standard and the FIFO event
    sources' pollers on two threads of one process (Lambda runs one invocation per process)."""

    def __init__(self) -> None:
        self.owner: dict[str, str] = {}  # notification id → the batch's first message for it
        # Messages whose visibility this batch set (a retry's backoff); the other failed ones of
        # an ordered batch were only held back behind them.
        self.rescheduled: set[str] = set()


_batch = _BatchState()


def _seen_in_batch(notification_id: str, message_id: str) -> bool:
    """True for a second message of the same notification in the current batch."""
    return _batch.owner.setdefault(notification_id, message_id) != message_id


@metrics.log_metrics
@logger.inject_lambda_context
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    _batch.owner.clear()
    _batch.rescheduled.clear()
    records = event.get("Records") or []
    if records and str(records[0].get("eventSourceARN", "")).endswith(".fifo"):
        response = process_partial_response(
            event=event,
            record_handler=_ordered_record_handler,
            processor=_ordered_processor(),
            context=context,
        )
        _release_held_back(records, response)
        return response
    return async_process_partial_response(
        event=event, record_handler=record_handler, processor=_processor(), context=context
    )


def shutdown() -> None:
    """Close the HTTP pools of this thread's event loop (the worker is stopping)."""
    try:
        loop = asyncio.get_event_loop()
    except RuntimeError:
        return
    if not loop.is_closed() and not loop.is_running():
        loop.run_until_complete(http.close_sessions())
