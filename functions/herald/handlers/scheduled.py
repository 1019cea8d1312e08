"""Scheduled function (EventBridge, every minute): stalled data transfers → ICA_DATA_025, and
events that were stored but could not be queued → queued for routing."""

from __future__ import annotations

from typing import Any

from herald.handlers.coldstart import frozen_imports

with frozen_imports():  # the cold start's imports, without garbage collections (see coldstart)
    from aws_lambda_powertools.metrics import MetricUnit

    from herald.handlers.observability import logger, metrics
    from herald.logic import accept, transfers
    from herald.logic.services import Services, get_services


@metrics.log_metrics
@logger.inject_lambda_context
def handler(event: dict[str, Any], context: Any, services: Services | None = None) -> dict[str, int]:
    services = services or get_services()
    stalled = transfers.report_stalled(services)
    metrics.add_metric(name="TransfersStalled", unit=MetricUnit.Count, value=stalled)
    requeued = accept.requeue_unqueued(services)  # logged when there were any
    if requeued:
        metrics.add_metric(name="UnqueuedEventsRequeued", unit=MetricUnit.Count, value=requeued)
    return {"stalled": stalled, "requeued": requeued}
