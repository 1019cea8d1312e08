"""Filter (routing) function: events queue → notifications on the deliveries queue.

A batch may mix projects. Each project's filters share one routing budget for the batch (see
herald.logic.routing), and the batch is routed fairly: once a project's budget is spent, its remaining
events wait until every other project's events of the batch are routed, so one project's hostile
filters delay another's events by at most one budget, whatever the number of its events.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from typing import Any

from herald.handlers.coldstart import frozen_imports

with frozen_imports():  # the cold start's imports, without garbage collections (see coldstart)
    from aws_lambda_powertools.metrics import MetricUnit
    from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
    from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

    from herald.domain.messages import RouteEvent
    from herald.handlers.observability import logger, metrics
    from herald.logic import routing
    from herald.logic.services import get_services


class FairBatchProcessor(BatchProcessor):
    """Powertools' SQS batch processor, routing the records of projects whose routing budget is
    spent last (in their order) rather than in the batch's order."""

    def __init__(self, budget_left: Callable[[str], bool]) -> None:
        # Report an all-failed batch item by item too: a failing record is not a function error.
        super().__init__(event_type=EventType.SQS, raise_on_entire_batch_failure=False)
        self._budget_left = budget_left

    def process(self) -> list[tuple[Any, ...]]:
        results, deferred = [], []
        for record in self.records:
            project = _project(record)
            if project is not None and not self._budget_left(project):
                deferred.append(record)
                continue
            results.append(self._process_record(record))
        return results + [self._process_record(record) for record in deferred]


def _project(record: dict[str, Any]) -> str | None:
    try:
        project = json.loads(record.get("body") or "").get("projectId")
    except (ValueError, AttributeError):
        return None  # the record handler refuses it, in its turn
    return project if isinstance(project, str) else None


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
    # One subscription lookup and one routing budget per invocation: the batch's events share
    # its index reads, and each project's filters its budget.
    services = get_services()
    lookup = routing.SubscriptionLookup(services)
    response = process_partial_response(
        event=event,
        record_handler=functools.partial(record_handler, lookup=lookup),
        processor=FairBatchProcessor(lookup.budget.left),
        context=context,
    )
    try:  # bookkeeping about filters, after the batch: it must neither delay nor fail its events
        routing.count_strikes(services, lookup)
    except Exception:
        logger.exception("filter strikes could not be counted; the next batch counts its own")
    return response
