"""Reprocess function: consumes both dead-letter queues and makes every failure visible."""

from __future__ import annotations

from typing import Any

from herald.handlers.coldstart import frozen_imports

with frozen_imports():  # the cold start's imports, without garbage collections (see coldstart)
    from aws_lambda_powertools.metrics import MetricUnit
    from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
    from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

    from herald.handlers.observability import logger, metrics
    from herald.logic import dead_letters
    from herald.logic.services import get_services

# Report an all-failed batch item by item too: a failing receiver is not a function error.
processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)


def record_handler(record: SQSRecord) -> None:
    result = dead_letters.settle(get_services(), record.body)
    metrics.add_metric(name="DeadLetters", unit=MetricUnit.Count, value=1)
    logger.info("dead letter settled", result=result, message_id=record.message_id)


@metrics.log_metrics
@logger.inject_lambda_context
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return process_partial_response(
        event=event, record_handler=record_handler, processor=processor, context=context
    )
