"""What one delivered event costs in AWS: requests per event, counted, turned into dollars.

Run: ``python bench/bench_cost.py [events]``. Herald runs in this process on moto, through its real
handlers: the api function accepts (``POST /api/projects/p/events``, warm key cache) or the bridge
function takes the event from the ingest queue, the route and deliver functions are fed in full
batches as Lambda's event source mappings feed them, and a loopback receiver (its own process)
answers 200. Every boto3 call is counted through botocore's events, and labelled with what it does
(reading the event, recording the attempt, …) — the event source mappings' ReceiveMessage and
DeleteMessageBatch included, amortised over their batches (only empty polls are left out: they
are a fixed monthly cost, see "idle").

At the end: issue 18's targets, each figure beside its target, met or not; and the idle monthly
cost (what a deployment pays with no traffic at all).

DynamoDB capacity is computed from item sizes, not from moto's ConsumedCapacity: the item is read
(with a separate, uncounted client) before and after each write, and a write costs 1 WRU per KB
of the larger of the two, plus the same again for each global secondary index whose entry is put
or changed (both are projection ALL; an event's index keys are on its small list entry, not on
the event item) and for each entry deleted; a read costs 1 RRU per 4 KB
(strongly consistent) or half of it (eventually consistent; index queries always are), a query
counting the total size of what it returned. Item size: attribute names plus values (strings as
UTF-8, numbers about one byte per two digits, +3 bytes per list or map and +1 per element).

Prices: us-east-1, on-demand (see PRICES), written down on 2026-11-23 from AWS's published prices;
DynamoDB's on-demand throughput prices are those since AWS halved them on 2024-11-01. No machine
here reaches AWS: check them against the pricing pages before relying on the dollars.
Storage: the event and its notification kept 30 days (their TTL), with the indexes' copies.
Lambda duration is an estimate, not a measurement (see LATENCY_MS): the handlers' own time here
plus a typical in-region latency per AWS call on each invocation's critical path.
"""

from __future__ import annotations

import json
import logging
import math
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from _common import CallCounter, LoopbackReceiver, Pump, Target, in_process, machine, table, targets_table

PRICES_DATE = "2026-11-23"
PRICES = {
    # On-demand throughput, halved by AWS on 2024-11-01 (was $1.25 / $0.25 per million).
    "ddb_wru": 0.625 / 1e6,  # per write request unit (1 KB)
    "ddb_rru": 0.125 / 1e6,  # per read request unit (4 KB strongly consistent; eventual = 0.5)
    "ddb_storage_gb_month": 0.25,
    "sqs_request": 0.40 / 1e6,  # standard queue, per request (each 64 KB chunk)
    "sns_publish": 0.50 / 1e6,  # per request (64 KB chunk)
    "lambda_request": 0.20 / 1e6,
    "lambda_gb_second_arm": 0.0000133334,
    "kms_request": 0.03 / 1e4,
    "apigw_rest_request": 3.50 / 1e6,  # REST API, first 333 M requests/month
    "cw_logs_ingest_gb": 0.50,
    "xray_trace": 5.00 / 1e6,  # traces recorded, beyond the free tier
    "eventbridge_event": 1.00 / 1e6,  # custom events put (comparison)
}
# Provisioned capacity (for comparison): per WCU-hour (1 write/s of 1 KB), per RCU-hour.
PROVISIONED = {"wcu_hour": 0.00065, "rcu_hour": 0.00013}
# Assumed in-region latency of one call (ms) and the HTTP answer of a receiver, for Lambda duration.
LATENCY_MS = {"dynamodb": 5.0, "sqs": 8.0, "sns": 15.0, "kms": 5.0, "receiver": 100.0}
# infra/functions.py's memory sizes, by function (the stack's FunctionSpecs).
MEMORY_MB = {"api": 1024, "bridge": 512, "route": 512, "deliver": 512, "reprocess": 512, "scheduled": 512}
# The function each of tests/support's event source mappings feeds (its names predate the renames).
FUNCTION_OF_MAPPING = {"ingest": "bridge", "filter": "route", "deliver": "deliver"}
# Lambda's START/END/REPORT lines per invocation, and API Gateway's access log line per request.
LAMBDA_LOG_BYTES_PER_INVOCATION = 350
ACCESS_LOG_BYTES = 400
RETENTION_DAYS = 30
REFERENCES = {"naive design (issue #8)": 3.16, "EventBridge, no persistence (issue #8)": 1.20}
# Issue 18's targets (they replaced issue 8's $1.50 per million): AWS calls per delivered event,
# DynamoDB units per event and core $ per million events on demand, through the API.
CALLS_TARGET = {1: 8.0, 10: 30.0}
FURTHER_NOTIFICATION_CALLS_TARGET = 2.5
WRU_TARGET, RRU_TARGET = 6.0, 2.0  # with 1 subscription
DOLLARS_TARGET = {1: 6.00, 10: 20.00}
IDLE = "SQS ReceiveMessage, empty (idle polling)"

# --- idle: what the stack costs a month with no traffic ------------------------------------------------
# Prices written down on 2026-12-03 (us-east-1), beside PRICES: check them before relying on them.
IDLE_PRICES_DATE = "2026-12-03"
IDLE_PRICES = {
    "kms_key_month": 1.00,  # per customer-managed key; a rotated key adds $1 at its 1st and 2nd rotation
    "alarm_metric_month": 0.10,  # standard resolution, per metric an alarm evaluates (a math alarm: each)
    "dashboard_month": 3.00,  # beyond the account's first 3 (free) dashboards
    "secret_month": 0.40,  # Secrets Manager, per secret
}
# What the stack creates, counted in infra/ (and checked against a synthesized Herald-dev template
# at commit 9180c36). Recount when infra/ adds or removes any of them:
# - event source mappings: functions.py — bridge (ingest queue), route (events queue), deliver
#   (deliveries + ordered deliveries FIFO queue), reprocess (the 4 DLQs) = 8;
# - KMS keys: storage.py's data key, secrets.py's channel secrets key, ingest.py's bridge key
#   (the default herald:ingestEncryption "kms"; 2 keys with "sqs-managed") = 3;
# - alarms: observability.py's Errors and Throttles per function (6 functions) = 12 of 1 metric;
#   messaging.py's per queue pair (events, deliveries, ordered deliveries, bridge ingest) oldest
#   message (1 metric) and DLQ depth (a math alarm, visible + in flight: 2 metrics) = 4 + 4;
# - dashboards: observability.py = 1; secrets: secrets.py's One Codex webhook secret = 1;
# - the scheduled function, every minute (functions.py's STALL_SCHEDULE).
EVENT_SOURCE_MAPPINGS = 8
KMS_KEYS = 3
ALARM_METRICS = 12 * 1 + 4 * 1 + 4 * 2
ALARMS = 12 + 4 + 4
DASHBOARDS = 1
SECRETS = 1
MINUTES_PER_MONTH = 43_800
SCHEDULED_RUNS_PER_MONTH = MINUTES_PER_MONTH
# Lambda's SQS event source mapping keeps about 5 long polls (20 s) going per queue when idle:
# 5 x 3 requests a minute x 43,800 minutes a month, for each mapping.
IDLE_POLLS_PER_MONTH = 5 * 3 * MINUTES_PER_MONTH * EVENT_SOURCE_MAPPINGS
SEED_PAYLOAD = json.loads(
    (Path(__file__).resolve().parent.parent / "tests/unit/filters/seed_analysis.json").read_text()
)
GSIS = (("gsi1", "gsi1pk", "gsi1sk"), ("gsi2", "gsi2pk", "gsi2sk"))


# --- DynamoDB sizes -------------------------------------------------------------------------------------
def value_size(value: dict[str, Any]) -> int:
    ((kind, v),) = value.items()
    if kind == "S":
        return len(v.encode())
    if kind == "N":
        digits = len(v.lstrip("-").replace(".", "").lstrip("0")) or 1
        return math.ceil(digits / 2) + 1
    if kind == "B":
        return len(v)
    if kind in ("BOOL", "NULL"):
        return 1
    if kind == "L":
        return 3 + sum(value_size(x) + 1 for x in v)
    if kind == "M":
        return 3 + sum(len(k.encode()) + value_size(x) + 1 for k, x in v.items())
    if kind in ("SS", "NS", "BS"):
        return sum(value_size({kind[0]: x}) for x in v)
    raise ValueError(kind)


def item_size(item: dict[str, Any] | None) -> int:
    if not item:
        return 0
    return sum(len(k.encode()) + value_size(v) for k, v in item.items())


def _units(size: int, unit: int) -> int:
    return max(1, math.ceil(size / unit))


def storage_dollars(stored_bytes: float) -> float:
    """Dollars for keeping this many bytes RETENTION_DAYS in DynamoDB."""
    return stored_bytes / 2**30 * RETENTION_DAYS / 30.4 * PRICES["ddb_storage_gb_month"]


def provisioned_dollars(wru: float, rru: float) -> float:
    """Dollars for these request units bought as provisioned capacity, auto scaled at 70 %
    utilisation (a WCU/RCU-hour serves 3,600 units at 100 %)."""
    return (wru * PROVISIONED["wcu_hour"] + rru * PROVISIONED["rcu_hour"]) / 3600 / 0.7


# --- the meter -------------------------------------------------------------------------------------------
@dataclass
class Line:
    calls: int = 0
    wru: float = 0.0
    rru: float = 0.0
    requests: float = 0.0  # SQS / SNS billed requests (64 KB chunks), KMS requests
    index_wru: float = 0.0  # the part of `wru` spent on the global secondary indexes
    per_call_base_wru: list[int] = field(default_factory=list)


@dataclass
class Meter:
    """Labels each call with its purpose and accumulates its billed units."""

    raw: Any  # an uncounted DynamoDB client, to read items around writes
    table: str
    queues: dict[str, str]
    whose: Callable[[], str]  # who makes the call now: a function, "mapping" or "producer"
    lines: dict[str, Line] = field(default_factory=lambda: defaultdict(Line))
    by_function: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    pending: dict[int, Any] = field(default_factory=dict)

    def attach(self, client: Any) -> None:
        client.meta.events.register("before-call", self.before)
        client.meta.events.register("after-call", self.after)

    def _get(self, key: dict[str, Any]) -> dict[str, Any] | None:
        return self.raw.get_item(TableName=self.table, Key=key, ConsistentRead=True).get("Item")

    def before(self, model: Any, params: Any, context: Any, **_: Any) -> None:
        if model.service_model.service_id.hyphenize() == "dynamodb" and model.name in (
            "PutItem",
            "UpdateItem",
            "DeleteItem",
        ):
            body = params["body"] if isinstance(params["body"], dict) else json.loads(params["body"])
            key = body.get("Key") or {k: body["Item"][k] for k in ("pk", "sk")}
            context["bench_before"] = (key, self._get(key))
        context["bench_body"] = params.get("body")

    def after(self, model: Any, parsed: Any, context: Any, **_: Any) -> None:
        service, op = model.service_model.service_id.hyphenize(), model.name
        if not (service == "sqs" and op == "ReceiveMessage" and not (parsed or {}).get("Messages")):
            self.by_function[self.whose()][service] += 1
        body = context.get("bench_body")
        request = body if isinstance(body, dict) else json.loads(body) if body else {}
        if service == "dynamodb":
            self._dynamodb(op, request, parsed, context)
        elif service == "sqs":
            self._sqs(op, request, parsed)
        elif service == "sns":
            line = self.lines["SNS PublishBatch (broadcast topic)"]
            line.calls += 1
            line.requests += _units(len(json.dumps(request)), 64 * 1024)
        elif service == "kms":
            line = self.lines[f"KMS {op}"]
            line.calls += 1
            line.requests += 1

    def _dynamodb(self, op: str, request: dict[str, Any], parsed: Any, context: Any) -> None:
        if op in ("PutItem", "UpdateItem", "DeleteItem"):
            key, old = context["bench_before"]
            new = self._get(key)
            label = _write_label(op, key, request)
            line = self.lines[label]
            line.calls += 1
            before, after = item_size(old), item_size(new)
            failed = "Error" in (parsed or {})
            base = _units(max(before, after), 1024)
            line.wru += base
            line.per_call_base_wru.append(base)
            if not failed:
                for _, pk, sk in GSIS:
                    was = bool(old) and pk in old and sk in old
                    now = bool(new) and pk in new and sk in new
                    index = 0
                    if was and (not now or (old[pk], old[sk]) != (new[pk], new[sk])):
                        index += _units(before, 1024)  # the old index entry deleted
                    if now and (not was or (old[pk], old[sk]) != (new[pk], new[sk]) or old != new):
                        index += _units(after, 1024)  # the index entry put or rewritten
                    line.wru += index
                    line.index_wru += index
            return
        consistent = bool(request.get("ConsistentRead")) and "IndexName" not in request
        factor = 1.0 if consistent else 0.5
        if op == "GetItem":
            line = self.lines[_read_label(request, consistent)]
            line.calls += 1
            line.rru += _units(item_size((parsed or {}).get("Item")), 4096) * factor
        elif op == "Query":
            items = (parsed or {}).get("Items", [])
            line = self.lines[_query_label(request, consistent)]
            line.calls += 1
            line.rru += _units(sum(item_size(i) for i in items), 4096) * factor
        elif op == "BatchGetItem":
            # Billed per item read, each rounded up to 4 KB (half for eventually consistent).
            (table_request,) = request["RequestItems"].values()
            factor = 1.0 if table_request.get("ConsistentRead") else 0.5
            items = [i for found in (parsed or {}).get("Responses", {}).values() for i in found]
            kinds = sorted({_kind(i["sk"]["S"]) for i in items}) or ["nothing"]
            line = self.lines[
                f"DynamoDB BatchGetItem {', '.join(kinds)} ({'consistent' if factor == 1.0 else 'eventual'})"
            ]
            line.calls += 1
            line.rru += sum(_units(item_size(i), 4096) for i in items) * factor
        else:
            self.lines[f"DynamoDB {op}"].calls += 1

    def _sqs(self, op: str, request: dict[str, Any], parsed: Any) -> None:
        queue = next((name for name, url in self.queues.items() if url == request.get("QueueUrl")), "?")
        if op == "ReceiveMessage" and not (parsed or {}).get("Messages"):
            # An empty poll: Lambda's event source mapping polls idle queues whatever the volume,
            # a fixed cost per queue and month (see the summary), not a cost per event.
            self.lines[IDLE].calls += 1
            return
        line = self.lines[f"SQS {op} ({queue})"]
        line.calls += 1
        size = sum(len(e.get("MessageBody", "")) for e in request.get("Entries", [])) or 1
        line.requests += _units(size, 64 * 1024)


def _write_label(op: str, key: dict[str, Any], request: dict[str, Any]) -> str:
    sk = key["sk"]["S"]
    expr = request.get("UpdateExpression", "")
    if sk == "EVENT":
        if op == "PutItem":
            return "DynamoDB PutItem event (accept)"
        if "routed" in expr:
            return "DynamoDB UpdateItem event routed (route)"
        return "DynamoDB UpdateItem event status (events.refresh_status)"
    if _is_list_entry(key["pk"]["S"], sk):
        return f"DynamoDB {op} event list entry (accept)"
    if sk.startswith("NOTIFICATION#"):
        if op == "PutItem":
            return "DynamoDB PutItem notification (route)"
        return "DynamoDB UpdateItem notification attempt (record_attempt)"
    if sk.startswith("STATS#"):
        return f"DynamoDB {op} channel stats, per minute (deliver)"
    return f"DynamoDB {op} {sk.split('#')[0].lower()}"


def _is_list_entry(pk: str, sk: str) -> bool:
    """An event's list entry: in a project's list shard (PROJECT#{p}#EVENTS#{shard}), or in the
    legacy layout (EVENT#{id}, LISTING)."""
    return sk == "LISTING" or (pk.startswith("PROJECT#") and "#EVENTS#" in pk)


def _kind(sk: str) -> str:
    return {"EVENT": "events", "CHANNEL": "channels"}.get(sk) or sk.split("#")[0].lower() + "s"


def _read_label(request: dict[str, Any], consistent: bool) -> str:
    sk = request["Key"]["sk"]["S"]
    what = {"EVENT": "event", "CHANNEL": "channel", "APIKEY": "API key"}.get(sk)
    if what is None:
        what = sk.split("#")[0].lower()
    return f"DynamoDB GetItem {what} ({'consistent' if consistent else 'eventual'})"


def _query_label(request: dict[str, Any], consistent: bool) -> str:
    if request.get("IndexName") == "gsi1":
        return "DynamoDB Query subscriptions by (project, code) (gsi1)"
    value = next(iter(request.get("ExpressionAttributeValues", {}).values()), {}).get("S", "")
    if value.startswith("EVENT#"):
        return f"DynamoDB Query event + notifications ({'consistent' if consistent else 'eventual'})"
    return f"DynamoDB Query {request.get('IndexName', 'table')}"


class CountingStream:
    def __init__(self) -> None:
        self.bytes = 0

    def write(self, text: str) -> int:
        self.bytes += len(text.encode())
        return len(text)

    def flush(self) -> None:
        pass


# --- one scenario ----------------------------------------------------------------------------------------
@dataclass
class Result:
    label: str
    events: int
    deliveries: int
    lines: dict[str, Line]
    invocations: Counter[str]
    own_seconds: Counter[str]
    aws_by_function: dict[str, Counter[str]]
    storage_bytes: float
    event_item_bytes: float
    log_bytes: int
    api_requests: int


def run(
    label: str, events: int, subscribers: int, door: str, receiver: LoopbackReceiver, broadcast: bool = True
) -> Result:
    """One scenario; `broadcast` False runs it as a deployment with HERALD_BROADCAST=0."""
    import os

    from herald import names

    os.environ[names.ENV_BROADCAST] = "1" if broadcast else "0"
    try:
        return _run(label, events, subscribers, door, receiver)
    finally:
        os.environ.pop(names.ENV_BROADCAST, None)


def _run(label: str, events: int, subscribers: int, door: str, receiver: LoopbackReceiver) -> Result:
    import boto3

    from herald import signing
    from herald.adapters import aws
    from herald.api import auth
    from herald.dev.local.api_server import proxy_event
    from herald.dev.local.lambda_context import LocalContext
    from herald.domain import clock, ids
    from herald.domain.models import Channel, ChannelType, Subscription
    from herald.handlers import api

    with in_process("5,300,1800") as (services, res):
        key = "bench-key"
        auth.register_key(services.api_keys, key, projects=[], admin=True, name="bench")
        channel_id = ids.new_id()
        channel = Channel(
            id=channel_id,
            type=ChannelType.HTTP,
            address=receiver.url,
            secret=services.secrets.seal(signing.generate_secret(), channel_id),  # as the API stores it
            createdAt=clock.utc_iso(),
        )
        services.channels.put(channel)
        for _ in range(subscribers):
            services.subscriptions.put(
                Subscription(
                    id=ids.new_id(),
                    projectId="p",
                    eventCode="ICA_EXEC_002",
                    notificationChannelId=channel.id,
                    filterExpression="[?($.status == 'SUCCEEDED')]",
                    createdAt=clock.utc_iso(),
                )
            )
        pump = Pump(services.queues.sqs, res)

        def ingest(i: int) -> None:
            # ICA's documented analysis payload (1.4 KB), one analysis per event.
            payload = {
                **SEED_PAYLOAD,
                "id": f"analysis-{i:06d}",
                "userReference": f"run-{i}",
                "status": "SUCCEEDED",
            }
            if door == "api":
                body = json.dumps(
                    {"eventCode": "ICA_EXEC_002", "payload": payload, "description": "Analysis success"}
                )
                proxy = proxy_event(
                    "POST",
                    "/api/projects/p/events",
                    {"X-API-Key": key, "Content-Type": "application/json"},
                    body.encode(),
                )
                result = api.handler(proxy, LocalContext("api"))
                assert result["statusCode"] == 202, result
            else:
                envelope = {
                    "correlationId": ids.new_id(),
                    "timestamp": clock.utc_iso(),
                    "eventCode": "ICA_EXEC_002",
                    "description": "Analysis success",
                    "projectId": "p",
                    "payload": payload,
                }
                services.queues.sqs.send_message(
                    QueueUrl=res.ingest_queue_url, MessageBody=json.dumps(envelope)
                )

        # Warm up (key cache, secret cache, compiled filter, clients), then measure.
        ingest(-1)
        pump.drain()
        raw = boto3.client("dynamodb", region_name="us-east-1")
        # Outside any function: the API door's calls are the api function's; the bridge door's
        # SendMessage is the producer's; while the queues drain, the event source mappings'.
        outside = ["api" if door == "api" else "producer"]

        def whose() -> str:
            if pump.current is None:
                return outside[0]
            return FUNCTION_OF_MAPPING.get(pump.current, "reprocess")

        meter = Meter(
            raw,
            services.table.name,
            {
                "events queue": res.events_queue_url,
                "deliveries queue": res.deliveries_queue_url,
                "ingest queue": res.ingest_queue_url,
                "events DLQ": res.events_dlq_url,
                "deliveries DLQ": res.deliveries_dlq_url,
                "ingest DLQ": res.ingest_dlq_url,
            },
            whose,
        )
        counter = CallCounter()
        clients = [aws.client(s) for s in ("dynamodb", "sqs", "sns", "kms")]
        for client in clients:
            meter.attach(client)
            counter.attach(client)
        logs = CountingStream()
        handlers = logging.getLogger("herald").handlers
        streams = [h.setStream(logs) for h in handlers if isinstance(h, logging.StreamHandler)]  # type: ignore[arg-type]
        already = len(receiver.receipts())
        pump.invocations.clear()
        pump.seconds.clear()
        pump.own_seconds.clear()  # the warm-up's imports are a cold start, not per-event work
        pump.aws_clock = counter.aws_seconds

        api_own = 0.0
        for i in range(events):
            if door == "api":
                in_aws = counter.aws_seconds()
                start = time.perf_counter()
                ingest(i)
                api_own += time.perf_counter() - start - (counter.aws_seconds() - in_aws)
            else:
                ingest(i)
        # Full batches, as under load: every queue drained 10 records at a time.
        outside[0] = "mapping"
        pump.drain()
        for handler, stream in zip(handlers, streams, strict=False):
            if stream is not None:
                handler.setStream(stream)

        deliveries = len(receiver.receipts()) - already
        assert deliveries == events * subscribers, (deliveries, events, subscribers)
        invocations = Counter({"api": events if door == "api" else 0})
        own = Counter({"api": api_own})
        for name, count in pump.invocations.items():
            invocations[FUNCTION_OF_MAPPING.get(name, "reprocess")] += count
        for name, seconds in pump.own_seconds.items():
            own[FUNCTION_OF_MAPPING.get(name, "reprocess")] += seconds
        # Storage: what stays for 30 days, per event (measured on the last event).
        stored, event_bytes, stored_events = _stored_bytes(raw, services.table.name)
        storage = stored / stored_events
        for client in clients:
            client.meta.events.unregister("before-call", meter.before)
            client.meta.events.unregister("after-call", meter.after)
            counter.detach(client)
        aws_by_function = dict(meter.by_function)
        return Result(
            label,
            events,
            deliveries,
            dict(meter.lines),
            invocations,
            own,
            aws_by_function,
            storage,
            event_bytes / stored_events,
            logs.bytes,
            events if door == "api" else 0,
        )


def _stored_bytes(raw: Any, table_name: str) -> tuple[float, float, int]:
    """Bytes billed as storage for every event and notification in the table (base + index copies,
    100 bytes of overhead per item and per index entry); the event items' own bytes; events."""
    total = event_bytes = 0.0
    events = 0
    kwargs: dict[str, Any] = {"TableName": table_name}
    while True:
        page = raw.scan(**kwargs)
        for item in page["Items"]:
            sk = item["sk"]["S"]
            if (
                sk != "EVENT"
                and not _is_list_entry(item["pk"]["S"], sk)
                and not sk.startswith("NOTIFICATION#")
            ):
                continue
            size = item_size(item) + 100
            total += size
            if sk == "EVENT":
                events += 1
                event_bytes += size
            for _, pk, sk_attr in GSIS:
                if pk in item and sk_attr in item:
                    total += size
        if "LastEvaluatedKey" not in page:
            return total, event_bytes, events
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


# --- dollars ---------------------------------------------------------------------------------------------
def dollars(result: Result) -> tuple[list[list[Any]], dict[str, float]]:
    """Rows (component, calls/event, units/event, $/M events) and subtotals."""
    per = 1 / result.events
    rows: list[list[Any]] = []
    sub: dict[str, float] = defaultdict(float)
    for label, line in sorted(result.lines.items()):
        if label == IDLE:
            continue
        if label.startswith("DynamoDB"):
            cost = line.wru * PRICES["ddb_wru"] + line.rru * PRICES["ddb_rru"]
            units = f"{line.wru * per:.2f} WRU" if line.wru else f"{line.rru * per:.2f} RRU"
            if line.wru and line.rru:
                units = f"{line.wru * per:.2f} WRU + {line.rru * per:.2f} RRU"
            group = "DynamoDB requests"
        elif label.startswith("SQS"):
            cost = line.requests * PRICES["sqs_request"]
            units = f"{line.requests * per:.2f} req"
            group = "SQS requests"
        elif label.startswith("SNS"):
            cost = line.requests * PRICES["sns_publish"]
            units = f"{line.requests * per:.2f} req"
            group = "SNS publish"
        else:
            cost = line.requests * PRICES["kms_request"]
            units = f"{line.requests * per:.2f} req"
            group = "KMS"
        sub[group] += cost * per * 1e6
        rows.append([label, round(line.calls * per, 2), units, round(cost * per * 1e6, 4)])
    # Lambda: requests, and GB-seconds from the estimated duration of each invocation.
    lambda_requests = sum(result.invocations.values()) * PRICES["lambda_request"]
    gb_seconds = 0.0
    for function, count in result.invocations.items():
        if not count:
            continue
        calls = result.aws_by_function.get(function, Counter())
        latency = sum(LATENCY_MS.get(service, 5.0) * n for service, n in calls.items()) / 1000
        if function == "deliver":
            # A batch's sends and store calls run concurrently: one notification's share of the
            # calls is on the critical path, plus the receiver's answer.
            batch = max(1, result.deliveries / count)
            latency = latency / batch + LATENCY_MS["receiver"] / 1000 * count
        own = result.own_seconds.get(function, 0.0)
        gb_seconds += (latency + own) * MEMORY_MB[function] / 1024
    lambda_compute = gb_seconds * PRICES["lambda_gb_second_arm"]
    rows.append(
        [
            "Lambda invocations",
            round(sum(result.invocations.values()) * per, 2),
            ", ".join(f"{k} {v * per:.2f}" for k, v in sorted(result.invocations.items()) if v),
            round(lambda_requests * per * 1e6, 4),
        ]
    )
    rows.append(
        [
            "Lambda GB-s (estimated, arm64)",
            "",
            f"{gb_seconds * per:.4f} GB-s",
            round(lambda_compute * per * 1e6, 4),
        ]
    )
    sub["Lambda"] = (lambda_requests + lambda_compute) * per * 1e6
    storage = storage_dollars(result.storage_bytes) * 1e6
    rows.append(["DynamoDB storage, 30 days", "", f"{result.storage_bytes:,.0f} bytes", round(storage, 4)])
    sub["DynamoDB storage (30 days)"] = storage
    return rows, dict(sub)


N_PUT = "DynamoDB PutItem notification (route)"
N_ATTEMPT = "DynamoDB UpdateItem notification attempt (record_attempt)"
SNS_LINE = "SNS PublishBatch (broadcast topic)"


def proposals(result: Result) -> list[list[Any]]:
    """What would bring the cost down further, each change priced from this run's measured lines.

    Cumulative: each row assumes the ones above it. (Issue 8's first changes are in: the event's
    index keys on a small list entry, the payload compressed, routing settling the event in one
    write, conditional status writes, the broadcast switch.)"""
    per = 1 / result.events
    lines = result.lines
    line = lines.get
    wru, rru = PRICES["ddb_wru"] * 1e6, PRICES["ddb_rru"] * 1e6
    rows: list[list[Any]] = []

    def add(
        change: str, saved_wru: float = 0, saved_rru: float = 0, saved_other: float = 0, note: str = ""
    ) -> None:
        dollars_saved = saved_wru * wru + saved_rru * rru + saved_other
        units = ", ".join(
            part
            for part in (
                f"{saved_wru:.2f} WRU" if saved_wru else "",
                f"{saved_rru:.2f} RRU" if saved_rru else "",
                note,
            )
            if part
        )
        rows.append([change, units, round(dollars_saved, 2), saved_wru, saved_rru])

    sns = line(SNS_LINE, Line())
    add(
        "1. a deployment without broadcast subscribers sets HERALD_BROADCAST=0 (available now)",
        saved_other=sns.requests * per * PRICES["sns_publish"] * 1e6,
        note=f"{sns.requests * per:.2f} SNS req",
    )
    n_put, n_attempt = line(N_PUT, Line()), line(N_ATTEMPT, Line())
    add(
        "2. a notification enters the open index (gsi2) only when an attempt fails, not at "
        "creation (the delete guard then needs another way to see pending ones)",
        saved_wru=(n_put.index_wru + n_attempt.index_wru) * per,
    )
    add(
        "3. the notification is written once, by its first attempt (the delivery message carries "
        "what routing knew)",
        saved_wru=(n_put.wru - n_put.index_wru) * per,
    )
    cached = sum(
        lines[k].rru
        for k in lines
        if k.startswith(("DynamoDB GetItem channel", "DynamoDB GetItem subscription"))
    )
    add(
        "4. the deliver function caches channels and subscriptions (60 s, as API keys are)",
        saved_rru=cached * per,
    )
    return rows


@dataclass
class Design:
    """A design's work per event (one subscription, delivered at the first attempt), to be priced
    with the same constants as the measured runs."""

    name: str
    wru: float
    sqs_requests: float
    invocations: float
    gb_seconds: float
    stored_bytes: float


def designs(result: Result) -> list[Design]:
    """Two reference points beside the measurement, computed, not measured.

    Floor: the least any design could pay and still keep the event and its attempt 30 days in
    DynamoDB — the event written once and its attempt written once (1 WRU each: both fit in 1 KB),
    nothing else written (no index entry, no status, no routing record: events could then be read
    by id only) and nothing read (channels and subscriptions cached); routing inline where the
    event arrives; SQS and Lambda batched by 10 wherever the door allows (the API receives one
    event per request); Lambda at 128 MB for 10 ms per event and function; storage: this run's
    event item plus a 300-byte attempt record.

    Naive (issue #8's words: a 3 KB event item, one write per attempt, unbatched): 3 WRU + 1 WRU,
    every SQS message sent, received and deleted alone on the events and deliveries queues, one
    invocation per message, the same Lambda time as the floor, 3 KB + the attempt stored."""
    event_bytes = result.event_item_bytes / result.events
    api = result.api_requests > 0
    gb_s = (2 if api else 1) * 0.010 * 128 / 1024
    return [
        Design(
            "floor of any design (bound, computed)",
            wru=2,
            sqs_requests=(1.0 if api else 0.2) + 0.3,
            invocations=(1.0 if api else 0.1) + 0.1,
            gb_seconds=gb_s,
            stored_bytes=event_bytes + 400,
        ),
        Design(
            "issue #8's naive design, priced here (computed)",
            wru=4,
            sqs_requests=6,
            invocations=3 if api else 2,
            gb_seconds=gb_s,
            stored_bytes=3 * 1024 + 100 + 400,
        ),
    ]


def price(design: Design, provisioned: bool = False) -> float:
    """$ per million events for a design; provisioned: write units bought as provisioned capacity
    at 70 % utilisation instead of on demand."""
    writes = provisioned_dollars(design.wru, 0) if provisioned else design.wru * PRICES["ddb_wru"]
    dollars_per_event = (
        writes
        + design.sqs_requests * PRICES["sqs_request"]
        + design.invocations * PRICES["lambda_request"]
        + design.gb_seconds * PRICES["lambda_gb_second_arm"]
        + storage_dollars(design.stored_bytes)
    )
    return dollars_per_event * 1e6


def also_billed(result: Result) -> list[list[Any]]:
    per = 1 / result.events
    invocations = sum(result.invocations.values()) * per
    log_bytes = result.log_bytes * per + invocations * LAMBDA_LOG_BYTES_PER_INVOCATION
    rows = [
        [
            "CloudWatch Logs (INFO; + Lambda's START/END/REPORT)",
            f"{log_bytes:,.0f} bytes/event",
            round(log_bytes / 2**30 * PRICES["cw_logs_ingest_gb"] * 1e6, 4),
        ],
        [
            "X-Ray (active tracing; default sampling ≈ 5 % of invocations)",
            f"{invocations:.2f} invocations/event",
            round(invocations * 0.05 * PRICES["xray_trace"] * 1e6, 4),
        ],
    ]
    if result.api_requests:
        rows.insert(
            0,
            [
                "API Gateway REST request (+ access log)",
                "1 request/event",
                round(
                    PRICES["apigw_rest_request"] * 1e6
                    + ACCESS_LOG_BYTES / 2**30 * PRICES["cw_logs_ingest_gb"] * 1e6,
                    4,
                ),
            ],
        )
    return rows


@dataclass
class Figures:
    """One scenario's figures for issue 18's targets, per event."""

    label: str
    subscriptions: int
    calls: float  # every AWS call made on the event's behalf (empty polls excepted)
    get_items: float
    wru: float
    rru: float
    core: float  # $/M events, DynamoDB on demand
    provisioned: float  # the same with DynamoDB's request units bought as provisioned capacity


def figures(result: Result, subscriptions: int, core: float) -> Figures:
    per = 1 / result.events
    lines = [line for label, line in result.lines.items() if label != IDLE]
    wru = sum(line.wru for line in lines) * per
    rru = sum(line.rru for line in lines) * per
    requests = (wru * PRICES["ddb_wru"] + rru * PRICES["ddb_rru"]) * 1e6
    return Figures(
        label=result.label,
        subscriptions=subscriptions,
        calls=sum(line.calls for line in lines) * per,
        get_items=sum(line.calls for k, line in result.lines.items() if k.startswith("DynamoDB GetItem"))
        * per,
        wru=wru,
        rru=rru,
        core=core,
        provisioned=core - requests + provisioned_dollars(wru, rru) * 1e6,
    )


def targets(one: Figures, ten: Figures, bridge: Figures) -> list[Target]:
    """Issue 18's targets beside this run's figures; the bridge and the figures without a target
    for information."""
    dollars_fmt = "${:.2f}"
    further = (ten.calls - one.calls) / (ten.subscriptions - one.subscriptions)
    rows = [
        Target("AWS calls per delivered event, 1 subscription", one.calls, CALLS_TARGET[1]),
        Target("AWS calls per delivered event, 10 subscriptions", ten.calls, CALLS_TARGET[10]),
        Target(
            "AWS calls per further notification ((10 subs - 1 sub) / 9)",
            further,
            FURTHER_NOTIFICATION_CALLS_TARGET,
            fmt="{:.2f}",
        ),
        Target("AWS calls per delivered event, bridge, 1 subscription", bridge.calls),
        Target("  of which DynamoDB GetItem, 1 subscription", one.get_items),
        Target("  of which DynamoDB GetItem, 10 subscriptions", ten.get_items),
        Target("DynamoDB WRU per event, 1 subscription", one.wru, WRU_TARGET),
        Target("DynamoDB RRU per event, 1 subscription", one.rru, RRU_TARGET),
        Target("DynamoDB WRU per event, 10 subscriptions", ten.wru),
        Target("DynamoDB RRU per event, 10 subscriptions", ten.rru),
        Target("DynamoDB WRU per event, bridge, 1 subscription", bridge.wru),
        Target("DynamoDB RRU per event, bridge, 1 subscription", bridge.rru),
        Target("core $/M events, on demand, 1 subscription", one.core, DOLLARS_TARGET[1], fmt=dollars_fmt),
        Target("  provisioned DynamoDB (70 % utilised)", one.provisioned, fmt=dollars_fmt),
        Target("core $/M events, on demand, 10 subscriptions", ten.core, DOLLARS_TARGET[10], fmt=dollars_fmt),
        Target("  provisioned DynamoDB (70 % utilised)", ten.provisioned, fmt=dollars_fmt),
        Target("core $/M events, on demand, bridge, 1 subscription", bridge.core, fmt=dollars_fmt),
        Target("  provisioned DynamoDB (70 % utilised)", bridge.provisioned, fmt=dollars_fmt),
    ]
    return rows


@dataclass
class ScheduledRun:
    """The scheduled function's work in one run on an idle deployment (nothing stalled)."""

    calls: dict[str, float]  # per run, by label
    wru: float
    rru: float
    own_seconds: float


def measure_idle_scheduled_run(runs: int = 5) -> ScheduledRun:
    """Runs the scheduled function (every minute in AWS) on an empty deployment, counted."""
    import boto3

    from herald.adapters import aws
    from herald.dev.local.lambda_context import LocalContext
    from herald.handlers import scheduled

    with in_process() as (services, _):
        scheduled.handler({}, LocalContext("scheduled"))  # warm: imports, clients
        meter = Meter(
            boto3.client("dynamodb", region_name="us-east-1"), services.table.name, {}, lambda: "scheduled"
        )
        clients = [aws.client(s) for s in ("dynamodb", "sqs", "sns", "kms")]
        for client in clients:
            meter.attach(client)
        start = time.perf_counter()
        for _ in range(runs):
            scheduled.handler({}, LocalContext("scheduled"))
        wall = time.perf_counter() - start
        for client in clients:
            client.meta.events.unregister("before-call", meter.before)
            client.meta.events.unregister("after-call", meter.after)
    lines = meter.lines
    return ScheduledRun(
        calls={label: line.calls / runs for label, line in lines.items()},
        wru=sum(line.wru for line in lines.values()) / runs,
        rru=sum(line.rru for line in lines.values()) / runs,
        own_seconds=wall / runs,  # on moto: its AWS calls are in it too, an upper bound
    )


def idle_rows(run: ScheduledRun) -> list[list[Any]]:
    """(what, volume a month, $/month) for a deployment that receives nothing."""
    polls = IDLE_POLLS_PER_MONTH
    runs = SCHEDULED_RUNS_PER_MONTH
    calls = sum(run.calls.values())
    latency = calls * LATENCY_MS["dynamodb"] / 1000
    gb_s = runs * (latency + run.own_seconds) * MEMORY_MB["scheduled"] / 1024
    scheduled = (
        runs * (PRICES["lambda_request"] + run.wru * PRICES["ddb_wru"] + run.rru * PRICES["ddb_rru"])
        + gb_s * PRICES["lambda_gb_second_arm"]
    )
    return [
        [
            f"event source mappings' empty polls ({EVENT_SOURCE_MAPPINGS} mappings x 5 pollers x 3/min)",
            f"{polls / 1e6:.2f} M ReceiveMessage",
            round(polls * PRICES["sqs_request"], 2),
        ],
        [f"KMS keys ({KMS_KEYS})", f"{KMS_KEYS} keys", round(KMS_KEYS * IDLE_PRICES["kms_key_month"], 2)],
        [
            f"CloudWatch alarms ({ALARMS}; the DLQ-depth ones are math alarms of 2 metrics)",
            f"{ALARM_METRICS} alarm metrics",
            round(ALARM_METRICS * IDLE_PRICES["alarm_metric_month"], 2),
        ],
        [
            "CloudWatch dashboard",
            f"{DASHBOARDS} dashboard",
            round(DASHBOARDS * IDLE_PRICES["dashboard_month"], 2),
        ],
        [
            "Secrets Manager (One Codex webhook secret)",
            f"{SECRETS} secret",
            round(SECRETS * IDLE_PRICES["secret_month"], 2),
        ],
        [
            "scheduled function, every minute (measured idle run: "
            + (", ".join(f"{k} {v:g}" for k, v in sorted(run.calls.items())) or "no AWS call")
            + ")",
            f"{runs:,} runs, {gb_s:,.0f} GB-s",
            round(scheduled, 2),
        ],
    ]


def main() -> None:
    events = int(sys.argv[1]) if len(sys.argv) > 1 else 40
    print(
        f"Cost per delivered event ({machine()}), {time.strftime('%Y-%m-%d')}; prices us-east-1 on-demand, {PRICES_DATE}\n"
    )
    receiver = LoopbackReceiver()
    try:
        scenarios = [
            ("API ingest, 1 subscription", 1, "api", True),
            ("API ingest, 1 subscription, HERALD_BROADCAST=0", 1, "api", False),
            ("API ingest, 10 subscriptions", 10, "api", True),
            ("ingest queue (ICA bridge), 1 subscription", 1, "queue", True),
        ]
        results = [
            run(label, events if subs == 1 else max(10, events // 2), subs, door, receiver, broadcast)
            for label, subs, door, broadcast in scenarios
        ]
    finally:
        receiver.stop()
    idle_run = measure_idle_scheduled_run()
    summary = []
    scenario_figures = []
    for result, (_, subs, _door, _broadcast) in zip(results, scenarios, strict=True):
        rows, sub = dollars(result)
        core = sum(sub.values())
        extra = also_billed(result)
        print(f"== {result.label}: {result.events} events, {result.deliveries} deliveries\n")
        print(table(["component", "calls/event", "billed units/event", "$/M events"], rows, "lrlr"))
        print(
            f"\n   core total (DynamoDB + storage + SQS + SNS + Lambda + KMS): ${core:.2f} per million events"
        )
        print()
        print(table(["also billed", "volume", "$/M events"], extra, "llr"))
        print()
        changes = proposals(result)
        saved = sum(r[2] for r in changes)
        print(
            table(
                ["what would bring it down (cumulative)", "saved per event", "$/M saved"],
                [r[:3] for r in changes],
                "llr",
            )
        )
        print(f"\n   projected core total with all of them: ${core - saved:.2f} per million events")
        # The same request units bought as provisioned capacity (auto scaling at 70 % utilisation).
        now = figures(result, subs, core)
        scenario_figures.append(now)
        wru_then = now.wru - sum(r[3] for r in changes)
        rru_then = now.rru - sum(r[4] for r in changes)
        requests_then = (wru_then * PRICES["ddb_wru"] + rru_then * PRICES["ddb_rru"]) * 1e6
        print(
            f"   {now.calls:.1f} AWS calls per event; DynamoDB request units per event: "
            f"{now.wru:.1f} WRU + {now.rru:.1f} RRU now, "
            f"{wru_then:.1f} WRU + {rru_then:.1f} RRU projected; bought as provisioned capacity "
            f"(70 % utilised) the core totals would be ${now.provisioned:.2f} "
            f"now and ${core - saved - requests_then + provisioned_dollars(wru_then, rru_then) * 1e6:.2f} projected\n"
        )
        summary.append(
            [
                result.label,
                round(core, 2),
                round(core + sum(r[2] for r in extra), 2),
                sub,
                round(core - saved, 2),
                round(now.provisioned, 2),
            ]
        )
    print("== Summary, $ per million events delivered (30-day persistence of the event and its attempts)\n")
    rows = [
        [label, core, total, provisioned, projected]
        for label, core, total, _, projected, provisioned in summary
    ]
    rows += [[name, value, "", "", ""] for name, value in REFERENCES.items()]
    print(
        table(
            [
                "scenario",
                "core $ (on demand)",
                "with API GW / logs / X-Ray $",
                "core $, provisioned",
                "projected core $",
            ],
            rows,
            "lrrrr",
        )
    )
    print(
        "\n== Beside it: the floor of any design and issue #8's naive design, priced with the "
        "same constants (computed, not measured; see `designs`)\n"
    )
    rows = []
    for result, (label, core, *_rest) in zip(results, summary, strict=True):
        if result.deliveries != result.events:
            continue  # one subscription only: that is what the floor is about
        floor = price(designs(result)[0])
        for design in designs(result):
            rows.append(
                [
                    f"{label}: {design.name}",
                    f"{design.wru:.0f} WRU, {design.sqs_requests:.1f} SQS req, {design.invocations:.1f} invocations",
                    round(price(design), 2),
                    round(price(design, provisioned=True), 2),
                    f"{price(design) / floor:.2f}",
                ]
            )
        rows.append([f"{label}: Herald as measured", "", core, "", f"{core / floor:.2f}"])
    print(
        table(
            ["design", "work per event", "on-demand $/M", "provisioned $/M", "x floor"],
            rows,
            "llrrr",
        )
    )
    print()
    for label, _core, _total, sub, _projected, _provisioned in summary:
        parts = ", ".join(f"{k} {v:.2f}" for k, v in sorted(sub.items(), key=lambda kv: -kv[1]))
        print(f"   {label}: {parts}")

    idle = idle_rows(idle_run)
    print(
        f"\n== Idle: what the stack costs a month with no traffic (prices {IDLE_PRICES_DATE}; the "
        "account's free tiers — 10 alarm metrics, 3 dashboards, 1 M Lambda requests — not deducted)\n"
    )
    print(table(["fixed cost", "a month", "$/month"], idle, "llr"))
    print(f"\n   idle monthly cost: ${sum(r[2] for r in idle):.2f}")

    by_label = {f.label: f for f in scenario_figures}
    one, ten = by_label["API ingest, 1 subscription"], by_label["API ingest, 10 subscriptions"]
    bridge = by_label["ingest queue (ICA bridge), 1 subscription"]
    print(
        f"\n== Issue 18's targets (API ingest unless named; {one.label}: {results[0].events} events, "
        f"10 subscriptions: {results[2].events} events)\n"
    )
    print(targets_table(targets(one, ten, bridge)))
    print(f"   Idle monthly cost (not to rise): ${sum(r[2] for r in idle):.2f}")


if __name__ == "__main__":
    main()
