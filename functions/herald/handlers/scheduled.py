"""Scheduled function (EventBridge, every minute): stalled data transfers → ICA_DATA_025."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit

from herald import transfers
from herald.handlers.observability import logger, metrics
from herald.services import get_services


@metrics.log_metrics
@logger.inject_lambda_context
def handler(event: dict[str, Any], context: Any) -> dict[str, int]:
    stalled = transfers.report_stalled(get_services())
    metrics.add_metric(name="TransfersStalled", unit=MetricUnit.Count, value=stalled)
    return {"stalled": stalled}
