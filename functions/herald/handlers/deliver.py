"""Deliver function: deliveries queues → one attempt per notification, the batch sent concurrently.

Each record's message gets a disposition from herald.logic.lifecycle (done, retry after a backoff,
re-sent after a deferral, or the dead-letter queue), which herald.handlers.batch applies to SQS.
Ordered subscriptions' deliveries come from the FIFO queue, one message group per subscription:
that batch is processed in order, and a message that must wait keeps its place in its group.
"""

from __future__ import annotations

import asyncio
import functools
from typing import Any

from herald.handlers.coldstart import frozen_imports

with frozen_imports():  # the cold start's imports, without garbage collections (see coldstart)
    from aws_lambda_powertools.metrics import MetricUnit
    from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
    from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

    from herald.domain.messages import DeliverNotification
    from herald.handlers import batch
    from herald.handlers.observability import logger, metrics
    from herald.logic import delivery, lifecycle
    from herald.logic.lifecycle import Disposition
    from herald.logic.services import Services, get_services
    from herald.targets import http


async def record_handler(
    record: SQSRecord,
    services: Services,
    ordered: bool,
    first_message: dict[str, str],
    deliveries: delivery.DeliveryBatch | None = None,
) -> Disposition:
    """`first_message`: notification id → the batch's first message for it (this invocation's);
    `deliveries`: the batch's shared reads and writes."""
    message = DeliverNotification.model_validate_json(record.body)
    if first_message.setdefault(message.notificationId, record.message_id) != record.message_id:
        # Two messages for one notification in one batch (a routing retry): send it once.
        metrics.add_metric(name="Notifications_skipped", unit=MetricUnit.Count, value=1)
        return lifecycle.done("a second message for the notification in this batch")
    receive_count = int(record.attributes.approximate_receive_count or 1)
    decision = await delivery.deliver(services, message, receive_count, ordered=ordered, batch=deliveries)
    metrics.add_metric(name=f"Notifications_{decision.outcome}", unit=MetricUnit.Count, value=1)
    if decision.latency_ms is not None:
        metrics.add_metric(name="DeliveryLatencyMs", unit=MetricUnit.Milliseconds, value=decision.latency_ms)
    return decision.disposition


@metrics.log_metrics
@logger.inject_lambda_context
def handler(
    event: dict[str, Any], context: Any, services: Services | None = None
) -> PartialItemFailureResponse:
    services = services or get_services()
    ordered = batch.from_fifo_queue(event)
    queue_url = services.settings.ordered_deliveries_queue_url if ordered else services.queues.deliveries_url
    # What the batch's deliveries need, read for all of them at once (a malformed body is left to
    # its record handler, which fails that record).
    deliveries = delivery.DeliveryBatch.read(services, _messages(event))
    response = batch.process_deliveries(
        event,
        context,
        functools.partial(
            record_handler, services=services, ordered=ordered, first_message={}, deliveries=deliveries
        ),
        services.queues,
        queue_url,
    )
    deliveries.finish(services)
    return response


def _messages(event: dict[str, Any]) -> list[DeliverNotification]:
    messages = []
    for record in event.get("Records") or []:
        try:
            messages.append(DeliverNotification.model_validate_json(record.get("body") or ""))
        except ValueError:
            continue
    return messages


def shutdown() -> None:
    """Close the HTTP pools of this thread's event loop (the worker is stopping)."""
    try:
        loop = asyncio.get_event_loop()
    except RuntimeError:
        return
    if not loop.is_closed() and not loop.is_running():
        loop.run_until_complete(http.close_sessions())
