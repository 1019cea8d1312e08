"""Names shared by the runtime and the CDK infrastructure.

This module is the single place where table keys, index names, queue names and environment
variable names are spelled. It imports nothing, so `infra/` can read it without pulling in any
runtime dependency, and the two can never drift apart.
"""

from __future__ import annotations

SERVICE_NAME = "herald"
METRICS_NAMESPACE = "Herald"

# --- DynamoDB: one table, overloaded keys -------------------------------------------------------
TABLE_PARTITION_KEY = "pk"
TABLE_SORT_KEY = "sk"
TABLE_TTL_ATTRIBUTE = "expiresAt"
# GSI1: subscriptions by (project, event code); events by project (newest first).
GSI1_NAME = "gsi1"
GSI1_PARTITION_KEY = "gsi1pk"
GSI1_SORT_KEY = "gsi1sk"
# GSI2: events by day bucket (global newest-first listing); open notifications by subscription.
GSI2_NAME = "gsi2"
GSI2_PARTITION_KEY = "gsi2pk"
GSI2_SORT_KEY = "gsi2sk"
# The table's schema as data, the one definition that `infra/storage.py` (CDK), the local runtime
# and the tests' fixtures (`herald.dev.local.resources.create_table`) build the table from: the
# key (partition, sort), each global secondary index (name, partition, sort; every key a string,
# every index projecting ALL) and the TTL attribute.
TABLE_KEY = (TABLE_PARTITION_KEY, TABLE_SORT_KEY)
TABLE_INDEXES = (
    (GSI1_NAME, GSI1_PARTITION_KEY, GSI1_SORT_KEY),
    (GSI2_NAME, GSI2_PARTITION_KEY, GSI2_SORT_KEY),
)
TABLE_KEY_ATTRIBUTES = (*TABLE_KEY, *(key for _, pk, sk in TABLE_INDEXES for key in (pk, sk)))

# --- Logical resource names (the local runtime uses them verbatim; CDK lets CloudFormation name
# the real resources and passes them to the functions through the environment variables below).
TABLE_NAME = "herald"
EVENTS_QUEUE_NAME = "herald-events"
EVENTS_DLQ_NAME = "herald-events-dlq"
DELIVERIES_QUEUE_NAME = "herald-deliveries"
DELIVERIES_DLQ_NAME = "herald-deliveries-dlq"
# Subscriptions with `ordered: true`: a FIFO queue, one message group per subscription.
ORDERED_DELIVERIES_QUEUE_NAME = "herald-deliveries-ordered.fifo"
ORDERED_DELIVERIES_DLQ_NAME = "herald-deliveries-ordered-dlq.fifo"
# The bridge in: producers (ICA, cross-account) send to the ingest queue, or publish to the ingest
# topic, which is subscribed to the ingest queue; the ingest function consumes the queue.
INGEST_QUEUE_NAME = "herald-ingest"
INGEST_DLQ_NAME = "herald-ingest-dlq"
INGEST_TOPIC_NAME = "herald-ingest"
# Every routed event (matched by a subscription or not), for consumer accounts that prefer SNS
# fan-out (eventCode and projectId attributes).
BROADCAST_TOPIC_NAME = "herald-broadcast"

# --- HTTP paths outside the API's own prefix ------------------------------------------------------
# Where One Codex posts its signed webhooks: served by the API, printed by the stack as the URL
# to enter in One Codex.
ONECODEX_WEBHOOK_PATH = "/webhooks/onecodex"

# --- Environment variables read by `herald.domain.settings` and set by CDK / `herald dev` ---------------
ENV_TABLE_NAME = "HERALD_TABLE_NAME"
ENV_EVENTS_QUEUE_URL = "HERALD_EVENTS_QUEUE_URL"
ENV_DELIVERIES_QUEUE_URL = "HERALD_DELIVERIES_QUEUE_URL"
ENV_ORDERED_DELIVERIES_QUEUE_URL = "HERALD_ORDERED_DELIVERIES_QUEUE_URL"
ENV_RETRY_SCHEDULE = "HERALD_RETRY_SCHEDULE"
ENV_RETENTION_DAYS = "HERALD_RETENTION_DAYS"
ENV_API_BASE_URL = "HERALD_API_BASE_URL"
ENV_ALLOW_PRIVATE_TARGETS = "HERALD_ALLOW_PRIVATE_TARGETS"
ENV_HTTP_TIMEOUT_SECONDS = "HERALD_HTTP_TIMEOUT_SECONDS"
ENV_API_KEY = "HERALD_API_KEY"
ENV_PORT = "HERALD_PORT"
ENV_MOTO_PORT = "HERALD_MOTO_PORT"
ENV_SES_SENDER = "HERALD_SES_SENDER"
ENV_BROADCAST_TOPIC_ARN = "HERALD_BROADCAST_TOPIC_ARN"
# Whether routing publishes every event to the broadcast topic (on by default; off saves one SNS
# publish per event in a deployment with no broadcast subscribers).
ENV_BROADCAST = "HERALD_BROADCAST"
# Seconds of filter evaluation one event may spend in routing (see herald.logic.routing).
ENV_ROUTING_BUDGET_SECONDS = "HERALD_ROUTING_BUDGET_SECONDS"
# KMS key that encrypts channel signing secrets inside their items (envelope, per secret).
ENV_SECRETS_KEY_ID = "HERALD_SECRETS_KEY_ID"
ENV_ONECODEX_SECRET = "HERALD_ONECODEX_SECRET"  # local: the One Codex webhook secret itself
ENV_ONECODEX_SECRET_ARN = "HERALD_ONECODEX_SECRET_ARN"  # deployed: a Secrets Manager secret
# The one project that secret may write to (default: HERALD_INGEST_DEFAULT_PROJECT, else
# "onecodex"); other projects' webhooks are verified with their own inbound webhook secrets.
ENV_ONECODEX_PROJECT = "HERALD_ONECODEX_PROJECT"
ENV_STALL_AFTER_SECONDS = "HERALD_STALL_AFTER_SECONDS"
# Endpoint health (herald.domain.circuit): when a channel's circuit opens, and when it is disabled.
ENV_CIRCUIT_FAILURE_RATE = "HERALD_CIRCUIT_FAILURE_RATE"
ENV_CIRCUIT_MIN_ATTEMPTS = "HERALD_CIRCUIT_MIN_ATTEMPTS"
ENV_CIRCUIT_CONSECUTIVE_FAILURES = "HERALD_CIRCUIT_CONSECUTIVE_FAILURES"
ENV_CIRCUIT_WINDOW_SECONDS = "HERALD_CIRCUIT_WINDOW_SECONDS"
ENV_CIRCUIT_COOLDOWN_SECONDS = "HERALD_CIRCUIT_COOLDOWN_SECONDS"
ENV_DISABLE_AFTER_SECONDS = "HERALD_DISABLE_AFTER_SECONDS"
# Project for bridged ICA events whose payload names none (see the ingest function).
ENV_INGEST_DEFAULT_PROJECT = "HERALD_INGEST_DEFAULT_PROJECT"

# --- Values both sides check: the runtime's models and settings, and infra/config.py's context keys --
# A project id (the API's paths, events' projectId, the ingest and One Codex default projects).
PROJECT_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._:\-]{0,127}$"
# Days an event and its notifications are kept (HERALD_RETENTION_DAYS, herald:retentionDays).
MIN_RETENTION_DAYS = 1
MAX_RETENTION_DAYS = 3650
# A notification not settled this long after its event is reported stalled (at most a day).
MAX_STALL_AFTER_SECONDS = 86400

# --- Defaults ------------------------------------------------------------------------------------
# Seconds between attempts after the immediate first one (Svix-like, ~27.6 h in all).
DEFAULT_RETRY_SCHEDULE = (5, 300, 1800, 7200, 18000, 36000, 36000)
DEFAULT_RETENTION_DAYS = 30
DEFAULT_HTTP_TIMEOUT_SECONDS = 15.0
# SQS: the longest visibility timeout one receive may be given (12 hours).
SQS_MAX_VISIBILITY_SECONDS = 43200
# Lambda batch sizes for the SQS event sources (the local pollers use the same).
EVENTS_BATCH_SIZE = 10
DELIVERIES_BATCH_SIZE = 10
INGEST_BATCH_SIZE = 10
INGEST_MAX_RECEIVE_COUNT = 5
# ICA's platform account (seed: "Amazon Resource Policy Settings"), a documented producer option.
ICA_PLATFORM_ACCOUNT_ID = "079623148045"
DEFAULT_STALL_AFTER_SECONDS = 120
# Ten events to a filter batch, each spending at most this on filters, fit the 60 s timeout.
DEFAULT_ROUTING_BUDGET_SECONDS = 2.0
# Circuit breaking (thresholds as in the issue: >= 70 % of >= 10 attempts, or 10 in a row).
DEFAULT_CIRCUIT_FAILURE_RATE = 0.7
DEFAULT_CIRCUIT_MIN_ATTEMPTS = 10
DEFAULT_CIRCUIT_CONSECUTIVE_FAILURES = 10
DEFAULT_CIRCUIT_WINDOW_SECONDS = 300
DEFAULT_CIRCUIT_COOLDOWN_SECONDS = 60
# A channel failing every attempt for this long is disabled (5 days, as Svix).
DEFAULT_DISABLE_AFTER_SECONDS = 5 * 86400
# SQS's longest DelaySeconds: deferred deliveries come back at most this much later.
SQS_MAX_DELAY_SECONDS = 900
# The ordered (FIFO) queue: a held-back message is received again with its group every time the
# group's head is retried, so its receive count says nothing about attempts. Herald counts
# attempts itself; the redrive only catches a message no deliver function can process.
ORDERED_MAX_RECEIVE_COUNT = 1000
# One message per invocation on the FIFO queue: a group's later messages are then never received
# while its head waits (a retry's backoff, an open circuit), so they use up none of those receives.
ORDERED_DELIVERIES_BATCH_SIZE = 1
# `herald dev`'s stand-in for the EventBridge rule (every minute in AWS).
ENV_SCHEDULER_INTERVAL_SECONDS = "HERALD_SCHEDULER_INTERVAL_SECONDS"
DEFAULT_SCHEDULER_INTERVAL_SECONDS = 60


def max_receive_count(retry_schedule: tuple[int, ...] | list[int]) -> int:
    """Redrive threshold of the deliveries queue: one receive per attempt.

    The first attempt plus one per scheduled retry; the receive after the last failed attempt
    moves the message to the dead-letter queue, where the reprocess function marks the
    notification failed.
    """
    return len(retry_schedule) + 1


# Routing failures (a bug or an outage, not a receiver) get a few quick retries before the
# event is parked in the events DLQ and marked failed.
EVENTS_MAX_RECEIVE_COUNT = 5
