"""Logger and metrics shared by the handlers (Powertools; service/namespace from `herald.names`).

No Tracer: it imports the X-Ray SDK (~380 ms of cold start); Lambda's active tracing still
records each invocation.
"""

from __future__ import annotations

from aws_lambda_powertools import Logger, Metrics

from herald import names

logger = Logger(service=names.SERVICE_NAME)
metrics = Metrics(namespace=names.METRICS_NAMESPACE, service=names.SERVICE_NAME)
