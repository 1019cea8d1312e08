"""Filter (routing) function: events queue → notifications on the deliveries queue."""

from __future__ import annotations

import functools
from typing import Any

from herald.handlers.coldstart import frozen_imports

with frozen_imports():  # the cold start's imports, without garbage collections (see coldstart)
    from aws_lambda_powertools.metrics import MetricUnit
    from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
    from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

    from herald import routing
    from herald.handlers.observability import logger, metrics
    from herald.messages import RouteEvent
    from herald.services import get_services

# Report an all-failed batch item by item too: a failing receiver is not a function error.
processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)


def record_handler(record: SQSRecord, lookup: routing.SubscriptionLookup | None = None) -> None:
    # A malformed body raises: the record fails, and after the queue's maxReceiveCount it is
    # parked in the events DLQ, where the reprocess function logs it.
    message = RouteEvent.model_validate_json(record.body)
    logger.set_correlation_id(message.eventId)
    routed = routing.route_event(get_services(), message.eventId, lookup)
    metrics.add_metric(name="NotificationsCreated", unit=MetricUnit.Count, value=routed)


@metrics.log_metrics
@logger.inject_lambda_context
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    # One subscription lookup per invocation: the batch's events share its index reads.
    lookup = routing.SubscriptionLookup(get_services())
    return process_partial_response(
        event=event,
        record_handler=functools.partial(record_handler, lookup=lookup),
        processor=processor,
        context=context,
    )
