"""Fair routing: how long one project's hostile filters delay another project's events.

Run: ``python bench/bench_fair_routing.py``. The filter function (the real Lambda handler, on moto
in this process) routes batches that mix two projects, as Lambda hands it the events queue:

- project ``evil``: 60 subscriptions with the filter ``[?($.a =~ /(a+)+$/)]`` (catastrophic
  backtracking, each evaluation stopped by the 50 ms regex timeout) and events whose ``a`` is a
  100 KB ``aaa…b``, the probe of issue #15;
- project ``good``: 3 ordinary subscriptions (no filter, a status test, a regex) and ordinary events.

Each batch holds 10 events, the evil project's 5 first (the worst order for the good ones). For
each batch it reports how long the good project's events waited for routing (from the batch's
start until their own routing finished), how long the batch took, how many of the evil
project's notifications failed because its routing budget was spent, and how many of its
subscriptions are quarantined (disabled by Herald) afterwards. The baseline is a batch of 10 good
events alone.

Before/after: set ``HERALD_BENCH_FUNCTIONS`` to another checkout's ``functions`` folder to measure
that code with this same script, e.g. the commit before fair routing::

    git archive 803372b functions | tar -x -C /tmp/before
    HERALD_BENCH_FUNCTIONS=/tmp/before/functions .venv/bin/python bench/bench_fair_routing.py
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import time
import uuid
from typing import Any

from _common import in_process, machine, table

if os.environ.get("HERALD_BENCH_FUNCTIONS"):
    sys.path.insert(0, os.environ["HERALD_BENCH_FUNCTIONS"])
# A warning per failed filter, and the handler's metrics, would drown the numbers.
os.environ["POWERTOOLS_LOG_LEVEL"] = "ERROR"
os.environ["POWERTOOLS_METRICS_DISABLED"] = "true"

HOSTILE_SUBSCRIPTIONS = 60
HOSTILE_FILTER = "[?($.a =~ /(a+)+$/)]"
HOSTILE_PAYLOAD = {"id": "evil", "status": "SUCCEEDED", "a": "a" * 100_000 + "b"}
GOOD_FILTERS = (None, "[?($.status == 'SUCCEEDED')]", "[?($.pipeline.code =~ /Copy.*/)]")
BATCHES = 12
PER_PROJECT = 5


def _record(event_id: str, project: str) -> dict[str, Any]:
    return {
        "messageId": str(uuid.uuid4()),
        "receiptHandle": str(uuid.uuid4()),
        "body": json.dumps({"eventId": event_id, "projectId": project}),
        "attributes": {"ApproximateReceiveCount": "1", "SentTimestamp": str(int(time.time() * 1000))},
        "messageAttributes": {},
        "md5OfBody": "",
        "eventSource": "aws:sqs",
        "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:herald-events",
        "awsRegion": "us-east-1",
    }


def main() -> None:
    print(machine())
    from herald.logic import routing

    print(f"herald from: {routing.__file__}")
    with in_process() as (services, _):
        from herald.dev.local.lambda_context import LocalContext
        from herald.domain import clock, ids
        from herald.domain.models import Channel, ChannelType, Subscription
        from herald.handlers import route as route_handler
        from herald.logic import accept

        channel = Channel(
            id=ids.new_id(),
            type=ChannelType.HTTP,
            address="http://127.0.0.1:9/never-called",
            secret="whsec_x",
            createdAt=clock.utc_iso(),
        )
        services.channels.put(channel)

        def subscribe(project: str, expression: str | None) -> None:
            services.subscriptions.put(
                Subscription(
                    id=ids.new_id(),
                    projectId=project,
                    eventCode="*",
                    notificationChannelId=channel.id,
                    filterExpression=expression,
                    createdAt=clock.utc_iso(),
                )
            )

        for _ in range(HOSTILE_SUBSCRIPTIONS):
            subscribe("evil", HOSTILE_FILTER)
        for expression in GOOD_FILTERS:
            subscribe("good", expression)

        finished: dict[str, float] = {}
        real_route = routing.route_event

        def timed_route(*args: Any, **kwargs: Any) -> int:
            routed = real_route(*args, **kwargs)
            finished[args[1]] = time.perf_counter()
            return routed

        routing.route_event = timed_route  # the handler calls routing.route_event per record

        def good_payload(n: int) -> dict[str, Any]:
            return {"id": f"g{n}", "status": "SUCCEEDED", "pipeline": {"code": "CopyToolDev"}}

        def run_batch(events: list[tuple[str, str]]) -> tuple[float, dict[str, float]]:
            records = [_record(event_id, project) for event_id, project in events]
            started = time.perf_counter()
            route_handler.handler({"Records": records}, LocalContext("herald-filter", timeout_seconds=60))
            took = time.perf_counter() - started
            return took, {event_id: finished[event_id] - started for event_id, _ in events}

        counter = iter(range(10**6))

        def post(project: str) -> str:
            n = next(counter)
            payload = {**HOSTILE_PAYLOAD, "id": f"e{n}"} if project == "evil" else good_payload(n)
            event, _ = accept.accept_event(services, project, "ICA_EXEC_002", payload)
            return event.id

        baseline_events = [(post("good"), "good") for _ in range(2 * PER_PROJECT)]
        baseline_took, baseline_delays = run_batch(baseline_events)
        baseline = max(baseline_delays.values())

        rows = []
        good_waits: list[float] = []
        for batch in range(1, BATCHES + 1):
            evil = [(post("evil"), "evil") for _ in range(PER_PROJECT)]
            good = [(post("good"), "good") for _ in range(PER_PROJECT)]
            took, delays = run_batch(evil + good)
            good_wait = max(delays[e] for e, _ in good)
            good_waits.append(good_wait)
            evil_each = statistics.mean(
                delays[e] - (delays[evil[i - 1][0]] if i else 0) for i, (e, _) in enumerate(evil)
            )
            budget_failed = 0
            for event_id, _ in evil:
                _, notifications = services.events.get_with_notifications(event_id)
                budget_failed += sum(1 for n in notifications if "budget" in (n.lastError or ""))
            quarantined = sum(1 for s in services.subscriptions.list_all("evil") if not s.enabled)
            rows.append(
                [
                    batch,
                    f"{took:.2f}",
                    f"{evil_each:.2f}",
                    f"{good_wait:.2f}",
                    f"{good_wait / baseline:.0f}x",
                    budget_failed,
                    quarantined,
                ]
            )
        routing.route_event = real_route

    print(
        f"\nbaseline: a batch of {2 * PER_PROJECT} good events alone routes in {baseline_took:.3f} s "
        f"(the last waits {baseline:.3f} s)\n"
    )
    print(
        table(
            [
                "batch",
                "batch s",
                "evil event s",
                "good waits s",
                "vs baseline",
                "evil budget-failed",
                "evil quarantined",
            ],
            rows,
            "rrrrrrr",
        )
    )
    print(
        f"\ngood project's wait: first batch {good_waits[0]:.2f} s, worst {max(good_waits):.2f} s, "
        f"last batch {good_waits[-1]:.2f} s (baseline {baseline:.3f} s)"
    )


if __name__ == "__main__":
    main()
