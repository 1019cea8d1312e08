"""Bridge (ingest) function: the ingest queue (ICA's envelopes, directly or through the ingest topic)."""

from __future__ import annotations

import functools
from typing import Any

from herald.handlers.coldstart import frozen_imports

with frozen_imports():  # the cold start's imports, without garbage collections (see coldstart)
    from aws_lambda_powertools.metrics import MetricUnit
    from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
    from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

    from herald.handlers import batch
    from herald.handlers.observability import logger, metrics
    from herald.logic import bridge
    from herald.logic.services import Services, get_services


def record_handler(record: SQSRecord, services: Services) -> None:
    try:
        accepted = bridge.ingest_message(services, record.body)
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
def handler(
    event: dict[str, Any], context: Any, services: Services | None = None
) -> PartialItemFailureResponse:
    services = services or get_services()
    return batch.process(event, context, functools.partial(record_handler, services=services))
