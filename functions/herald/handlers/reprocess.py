"""Reprocess function: consumes Herald's dead-letter queues and makes every failure visible."""

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
    from herald.logic import dead_letters
    from herald.logic.services import Services, get_services


def record_handler(record: SQSRecord, services: Services) -> None:
    # A record that cannot be settled fails and stays in its dead-letter queue (for an operator).
    result = dead_letters.settle(services, record.body)
    metrics.add_metric(name="DeadLetters", unit=MetricUnit.Count, value=1)
    logger.info("dead letter settled", result=result, message_id=record.message_id)


@metrics.log_metrics
@logger.inject_lambda_context
def handler(
    event: dict[str, Any], context: Any, services: Services | None = None
) -> PartialItemFailureResponse:
    services = services or get_services()
    return batch.process(event, context, functools.partial(record_handler, services=services))
