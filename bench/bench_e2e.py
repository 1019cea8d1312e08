"""End to end on the embedded runtime: events per second and latency from ingest to receipt.

Run: ``python bench/bench_e2e.py [events] [--ten-events N] [--paced RATE:EVENTS,...]`` (defaults:
500 events with 1 subscription, 100 with 10 — 1,000 deliveries —, paced runs 5:50 and 20:300;
about 4 minutes on 2 cores today, and sizes that still last 10-20 s at issue 18's target rates).
Each scenario starts its own `herald dev` (moto server + API + pollers, as `make run` does) on free
ports, with every boto3 call Herald makes counted, and a loopback aiohttp receiver in its own
process that notes when each delivery arrives. Events are posted through the API by 2 client
threads; latency is from the API's 202 to the delivery's arrival. Paced runs post on a fixed
schedule (event i at i/rate s): 5 events/s is a quiet system, 20 events/s half of the 40 events/s
target, where the target's p99 should still hold. Every run is bounded in time
(BENCH_E2E_DEADLINE, 600 s). At the end, issue 18's targets beside the figures, met or not.

moto's server answers ~100-250 AWS calls per second on these machines and is the bottleneck:
the AWS calls per delivered event are reported with the rates, as they explain them.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from _common import (
    CountedDev,
    LoopbackReceiver,
    Target,
    child_pids,
    cpu_seconds,
    diff,
    machine,
    table,
    targets_table,
)

DEADLINE = float(os.environ.get("BENCH_E2E_DEADLINE", "600"))
# Issue 18's targets on herald dev (2 cores).
EVENTS_PER_SECOND_TARGET = 40.0  # 1 subscription, as fast as 2 clients can post
DELIVERIES_PER_SECOND_TARGET = 60.0  # 10 subscriptions, as fast as 2 clients can post
PACED_P99_MS_TARGET = 150.0
CALLS_TARGET = {1: 8.0, 10: 30.0}  # AWS calls per delivered event
FURTHER_NOTIFICATION_CALLS_TARGET = 2.5
PAYLOAD = {
    "status": "SUCCEEDED",
    "pipeline": {"code": "CopyToolDev", "pipelineTags": {"technicalTags": ["Demo"]}},
    "userReference": "bench",
}


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


def scenario(label: str, events: int, subscribers: int, paced_rate: float | None = None) -> dict[str, Any]:
    workdir = Path(tempfile.mkdtemp(prefix="herald-bench-e2e-"))
    receiver = LoopbackReceiver()
    dev = CountedDev(workdir)
    try:
        status, channel = dev.call(
            "POST", "/api/notificationChannels", {"type": "HTTP", "address": receiver.url}
        )
        assert status == 201, channel
        for _ in range(subscribers):
            status, sub = dev.call(
                "POST",
                "/api/projects/bench/notificationSubscriptions",
                {
                    "eventCode": "ICA_EXEC_002",
                    "notificationChannelId": channel["id"],
                    "filterExpression": "[?($.status == 'SUCCEEDED')]",
                },
            )
            assert status == 201, sub
        time.sleep(1.0)  # let the pollers settle into their idle rhythm
        before = dev.counts()
        # CPU used by each process while the scenario runs (moto's server is herald dev's child).
        pids = {
            "moto": child_pids(dev.process.pid),
            "herald": [dev.process.pid],
            "receiver": [receiver.proc.pid],
        }
        cpu_before = {name: sum(cpu_seconds(p) for p in ps) for name, ps in pids.items()}
        cpu_before["clients"] = time.process_time()
        accepted: dict[str, float] = {}
        lock = threading.Lock()
        started = time.time()

        def post(indices: range) -> None:
            for i in indices:
                if paced_rate:
                    delay = started + i / paced_rate - time.time()
                    if delay > 0:
                        time.sleep(delay)
                code, body = dev.call(
                    "POST",
                    "/api/projects/bench/events",
                    {"eventCode": "ICA_EXEC_002", "payload": {**PAYLOAD, "id": f"analysis-{i}"}},
                )
                assert code == 202, body
                with lock:
                    accepted[body["id"]] = time.time()

        clients = 2  # paced too: the schedule, not one client's round trips, sets the rate
        threads = [threading.Thread(target=post, args=(range(c, events, clients),)) for c in range(clients)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=DEADLINE)
        ingested = time.time()
        expected = events * subscribers
        deadline = started + DEADLINE
        receipts: list[tuple[str, str, float]] = []
        while time.time() < deadline:
            receipts = [r for r in receiver.receipts() if r[1] in accepted]
            if len(receipts) >= expected:
                break
            time.sleep(0.5)
        cpu = {name: sum(cpu_seconds(p) for p in ps) - cpu_before[name] for name, ps in pids.items()}
        cpu["clients"] = time.process_time() - cpu_before["clients"]
        after = dev.counts()
        calls = diff(after, before)
        latencies = [(at - accepted[correlation]) * 1000 for _, correlation, at in receipts]
        last = max((r[2] for r in receipts), default=time.time())
        delivered_events = len({r[1] for r in receipts})
        total_calls = sum(calls["calls"].values())
        busy_calls = total_calls - calls["empty_receives"]
        return {
            "label": label,
            "events": events,
            "subs": subscribers,
            "deliveries": len(receipts),
            "expected": expected,
            "ingest_rate": events / max(ingested - started, 1e-9),
            "event_rate": delivered_events / max(last - started, 1e-9),
            "delivery_rate": len(receipts) / max(last - started, 1e-9),
            "p50": statistics.median(latencies) if latencies else float("nan"),
            "p99": percentile(latencies, 99) if latencies else float("nan"),
            "max": max(latencies, default=float("nan")),
            "calls_per_event": busy_calls / max(delivered_events, 1),
            "calls_per_second": total_calls / max(last - started, 1e-9),
            "empty": calls["empty_receives"],
            "by_op": sorted(calls["calls"].items(), key=lambda kv: -kv[1]),
            "cpu": cpu,
            "wall": max(last - started, 1e-9),
            "cpu_ms_per_call": cpu["moto"] * 1000 / max(total_calls, 1),
        }
    finally:
        dev.stop()
        receiver.stop()


def parse_paced(text: str) -> list[tuple[float, int]]:
    """ "5:50,20:300" → [(5.0, 50), (20.0, 300)]: (events/s, events) per paced run."""
    runs = []
    for part in filter(None, (p.strip() for p in text.split(","))):
        rate, _, count = part.partition(":")
        runs.append((float(rate), int(count)))
    return runs


def targets(results: list[dict[str, Any]]) -> list[Target]:
    """Issue 18's targets beside this run's figures."""
    one, ten = results[0], results[1]
    further = (ten["calls_per_event"] - one["calls_per_event"]) / (ten["subs"] - one["subs"])
    rows = [
        Target(
            "events/s, 1 subscription, as fast as possible",
            one["event_rate"],
            EVENTS_PER_SECOND_TARGET,
            False,
        ),
        Target(
            "deliveries/s, 10 subscriptions, as fast as possible",
            ten["delivery_rate"],
            DELIVERIES_PER_SECOND_TARGET,
            False,
        ),
    ]
    rows += [
        Target(f"p99 latency ms, {r['label']}", r["p99"], PACED_P99_MS_TARGET, fmt="{:.0f}")
        for r in results[2:]
    ]
    rows += [
        Target("AWS calls per delivered event, 1 subscription", one["calls_per_event"], CALLS_TARGET[1]),
        Target("AWS calls per delivered event, 10 subscriptions", ten["calls_per_event"], CALLS_TARGET[10]),
        Target(
            "AWS calls per further notification ((10 subs - 1 sub) / 9)",
            further,
            FURTHER_NOTIFICATION_CALLS_TARGET,
            fmt="{:.2f}",
        ),
        Target("p50 latency ms at saturation, 1 subscription", one["p50"], fmt="{:.0f}"),
    ]
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("events", nargs="?", type=int, default=500, help="events with 1 subscription")
    parser.add_argument("--ten-events", type=int, help="events with 10 subscriptions (default: events / 5)")
    parser.add_argument("--paced", default="5:50,20:300", help="paced runs, RATE:EVENTS,...")
    args = parser.parse_args()
    events = args.events
    ten_events = args.ten_events or max(10, events // 5)
    print(f"End to end on herald dev ({machine()}), {time.strftime('%Y-%m-%d')}\n")
    results = [
        scenario("1 subscription, 2 clients as fast as they can", events, 1),
        scenario("10 subscriptions, 2 clients as fast as they can", ten_events, 10),
    ]
    results += [
        scenario(f"1 subscription, paced at {rate:g} events/s", count, 1, paced_rate=rate)
        for rate, count in parse_paced(args.paced)
    ]
    rows = [
        [
            r["label"],
            r["events"],
            f"{r['deliveries']}/{r['expected']}",
            round(r["ingest_rate"], 1),
            round(r["event_rate"], 1),
            round(r["delivery_rate"], 1),
            round(r["p50"]),
            round(r["p99"]),
            round(r["calls_per_event"], 1),
            round(r["calls_per_second"]),
        ]
        for r in results
    ]
    print(
        table(
            [
                "scenario",
                "events",
                "delivered",
                "API 202/s",
                "events/s",
                "deliveries/s",
                "p50 ms",
                "p99 ms",
                "AWS calls/event",
                "AWS calls/s",
            ],
            rows,
            "lrlrrrrrrr",
        )
    )
    print(
        "\n   events/s and deliveries/s: from the first post to the last arrival; latency: API 202 → "
        "arrival at the receiver, per delivery; AWS calls/event: every call Herald made meanwhile "
        "(idle polls excluded) per delivered event; AWS calls/s includes the pollers' idle polls.\n"
    )
    for r in results:
        ops = ", ".join(f"{k} {v / max(r['events'], 1):.1f}" for k, v in r["by_op"][:12])
        print(f"   {r['label']}: per event {ops} (idle polls {r['empty']})")
    print("\n== Where the 2 cores went: CPU ms per delivered event, by process (share of one core)\n")
    names = ["moto", "herald", "receiver", "clients"]
    cpu_rows = []
    for r in results:
        n = max(r["deliveries"] // max(r["subs"], 1), 1)
        per = {k: r["cpu"][k] * 1000 / n for k in names}
        total = sum(per.values())
        cpu_rows.append(
            [r["label"]]
            + [f"{per[k]:.1f} ({r['cpu'][k] / r['wall']:.0%})" for k in names]
            + [round(total, 1), round(r["cpu_ms_per_call"], 2), round(1000 / max(per["moto"], 1e-9), 1)]
        )
    print(
        table(
            [
                "scenario",
                "moto server",
                "herald dev",
                "receiver",
                "2 clients",
                "total ms/event",
                "moto ms/call",
                "events/s moto's core allows",
            ],
            cpu_rows,
            "lrrrrrrr",
        )
    )
    print(
        "\n   moto's server answers on one core (one Python process, its lock): at its CPU per event it "
        "cannot answer more than the last column, whatever Herald does; the 2 cores together allow "
        "2000 / total ms/event.\n"
    )
    short = [r for r in results if r["deliveries"] < r["expected"]]
    if short:
        print(f"\n   NOT all delivered within {DEADLINE:.0f} s: " + ", ".join(r["label"] for r in short))
    print("\n== Issue 18's targets (herald dev, 2 clients posting through the API)\n")
    print(targets_table(targets(results)))


if __name__ == "__main__":
    main()
