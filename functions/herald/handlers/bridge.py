"""Ingest function: the bridge's queue (ICA's envelopes, directly or through the ingest topic)."""

from __future__ import annotations

from typing import Any

from herald.handlers.coldstart import frozen_imports

with frozen_imports():  # the cold start's imports, without garbage collections (see coldstart)
    from aws_lambda_powertools.metrics import MetricUnit
    from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
    from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

    from herald.handlers.observability import logger, metrics
    from herald.logic import bridge
    from herald.logic.services import get_services

# Report an all-failed batch item by item too: one bad message is not a function error.
processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)


def record_handler(record: SQSRecord) -> None:
    try:
        accepted = bridge.ingest_message(get_services(), record.body)
    except bridge.BridgeError as exc:
        # Fails the record: after the queue's maxReceiveCount it waits in the ingest DLQ.
        logger.error("bridged message refused", reason=str(exc), message_id=record.message_id)
        raise
    logger.set_correlation_id(accepted.event.id)
    if accepted.duplicate is not None:
        # No one to answer on a queue: the log says which event it was and why.
        logger.info(
            "bridged message recognised as an existing event",
            event_id=accepted.event.id,
            rule=accepted.duplicate.rule.value,
            matched=accepted.duplicate.matched,
            reason=accepted.duplicate.message,
            message_id=record.message_id,
        )
    metrics.add_metric(
        name="EventsIngested" if accepted.created else "EventsDeduplicated", unit=MetricUnit.Count, value=1
    )


@metrics.log_metrics
@logger.inject_lambda_context
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return process_partial_response(
        event=event, record_handler=record_handler, processor=processor, context=context
    )
