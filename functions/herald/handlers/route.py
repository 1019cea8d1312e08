"""Filter (routing) function: events queue → notifications on the deliveries queue.

A batch may mix projects. Each project's filters share one routing budget for the batch (see
herald.logic.routing), and the batch is routed fairly: once a project's budget is spent, its remaining
events wait until every other project's events of the batch are routed, so one project's hostile
filters delay another's events by at most one budget, whatever the number of its events.
"""

from __future__ import annotations

import functools
import json
from typing import Any

from herald.handlers.coldstart import frozen_imports

with frozen_imports():  # the cold start's imports, without garbage collections (see coldstart)
    from aws_lambda_powertools.metrics import MetricUnit
    from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
    from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

    from herald.domain.messages import RouteEvent
    from herald.domain.models import Event
    from herald.handlers import batch
    from herald.handlers.observability import logger, metrics
    from herald.logic import routing
    from herald.logic.services import Services, get_services


def project_of(record: dict[str, Any]) -> str | None:
    try:
        project = json.loads(record.get("body") or "").get("projectId")
    except (ValueError, AttributeError):
        return None  # the record handler refuses it, in its turn
    return project if isinstance(project, str) else None


def _event_ids(event: dict[str, Any]) -> dict[str, str]:
    """Record (message id) → the event it routes."""
    ids = {}
    for record in event.get("Records") or []:
        try:
            ids[record["messageId"]] = RouteEvent.model_validate_json(record.get("body") or "").eventId
        except (ValueError, KeyError):
            continue  # its record handler fails it
    return ids


def record_handler(
    record: SQSRecord,
    services: Services,
    lookup: routing.SubscriptionLookup,
    outbox: routing.Outbox,
    read: dict[str, Event],
) -> None:
    # A malformed body raises: the record fails, and after the queue's maxReceiveCount it is
    # parked in the events DLQ, where the reprocess function logs it.
    message = RouteEvent.model_validate_json(record.body)
    logger.set_correlation_id(message.eventId)
    routed = routing.route_event(services, message.eventId, lookup, outbox, read.get(message.eventId))
    metrics.add_metric(name="NotificationsCreated", unit=MetricUnit.Count, value=routed)


@metrics.log_metrics
@logger.inject_lambda_context
def handler(
    event: dict[str, Any], context: Any, services: Services | None = None
) -> PartialItemFailureResponse:
    services = services or get_services()
    # One subscription lookup and one routing budget per invocation: the batch's events share
    # its index reads, and each project's filters its budget.
    lookup = routing.SubscriptionLookup(services)

    def budget_spent(record: dict[str, Any]) -> bool:
        # Fairness: a project whose budget is spent has its remaining events routed last.
        project = project_of(record)
        return project is not None and not lookup.budget.left(project)

    outbox = routing.Outbox()
    ids = _event_ids(event)
    try:
        # The batch's events in one BatchGetItem (one missing here is read on its own).
        read = services.events.get_many(list(ids.values()))
    except Exception:  # e.g. throttled beyond the SDK's retries: each record reads its own
        logger.exception("the batch's events could not be read together")
        read = {}
    response = batch.process(
        event,
        context,
        functools.partial(record_handler, services=services, lookup=lookup, outbox=outbox, read=read),
        later=budget_spent,
    )
    # Sent together once the batch is routed; an event whose sends were not all accepted fails
    # its record (see herald.logic.routing.Outbox).
    unsent = outbox.flush(services)
    failures = response.get("batchItemFailures", [])
    failing = {f["itemIdentifier"] for f in failures}
    for message_id, event_id in ids.items():
        if event_id in unsent and message_id not in failing:
            failures.append({"itemIdentifier": message_id})
    response["batchItemFailures"] = failures
    try:  # bookkeeping about filters, after the batch: it must neither delay nor fail its events
        routing.count_strikes(services, lookup)
    except Exception:
        logger.exception("filter strikes could not be counted; the next batch counts its own")
    return response
