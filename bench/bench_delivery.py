"""Benchmark of HTTP delivery: Herald's deliver path against a plain pooled HTTP client.

Run: ``python bench/bench_delivery.py [--requests N]``. A loopback aiohttp receiver runs in its own
process (so it does not share our GIL). Measured, each over the same signed body:

1. raw aiohttp, 50 requests in flight, one session: the ceiling for a Python client here;
2. raw urllib3, sequential, one pooled connection;
3. Herald's send path (`herald.targets.send`: Standard Webhooks + One Codex signatures, the
   SSRF-checking aiohttp pool, response excerpt), 10 sends in flight as one deliver batch;
4. the same with 50 in flight, the raw client's concurrency.

Then the effect of one slow target (answers after 2 s) inside each batch of 10 on the other nine.
Store writes are not part of these numbers (they are DynamoDB's latency in AWS, moto's here).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import time
from typing import Any

from _common import free_port, wait_for_port

BODY = json.dumps(
    {"eventCode": "ICA_EXEC_002", "payload": {"status": "SUCCEEDED", "pad": "x" * 800}}
).encode()


def _receiver(port: int, slow_path_delay: float) -> None:
    from aiohttp import web

    async def hook(request: web.Request) -> web.Response:
        await request.read()
        if request.path == "/slow":
            await asyncio.sleep(slow_path_delay)
        return web.Response(text="ok")

    app = web.Application()
    app.router.add_post("/{tail:.*}", hook)
    web.run_app(app, host="127.0.0.1", port=port, print=None, access_log=None)


def raw_aiohttp(url: str, n: int, concurrency: int = 50) -> float:
    import aiohttp

    async def run() -> float:
        connector = aiohttp.TCPConnector(limit=concurrency)
        async with aiohttp.ClientSession(connector=connector) as session:
            sem = asyncio.Semaphore(concurrency)

            async def one() -> None:
                async with (
                    sem,
                    session.post(url, data=BODY, headers={"Content-Type": "application/json"}) as r,
                ):
                    await r.read()

            start = time.perf_counter()
            await asyncio.gather(*(one() for _ in range(n)))
            return n / (time.perf_counter() - start)

    return asyncio.run(run())


def raw_urllib3(url: str, n: int) -> float:
    import urllib3

    pool = urllib3.PoolManager(maxsize=1)
    start = time.perf_counter()
    for _ in range(n):
        _ = pool.request("POST", url, body=BODY, headers={"Content-Type": "application/json"}).data
    return n / (time.perf_counter() - start)


def _herald_fixtures(url: str, timeout: float = 15.0) -> tuple[Any, Any, Any]:
    from herald import signing
    from herald.domain.models import Channel, ChannelType, Event
    from herald.domain.settings import Settings

    settings = Settings(allow_private_targets=True, http_timeout_seconds=timeout)
    channel = Channel(
        id="c", type=ChannelType.HTTP, address=url, secret=signing.generate_secret(), createdAt="t"
    )
    event = Event(
        id="e",
        projectId="p",
        eventCode="ICA_EXEC_002",
        description="d",
        payload={},
        correlationId="c",
        timestamp="t",
        createdAt=0.0,
    )
    return settings, channel, event


def herald_path(url: str, n: int, in_flight: int) -> float:
    """Herald's send path (sign + SSRF-checked pooled POST + outcome) with `in_flight` concurrent sends."""
    from herald import targets
    from herald.targets.http import run

    settings, channel, event = _herald_fixtures(url)

    async def go() -> float:
        sem = asyncio.Semaphore(in_flight)
        failures = 0

        async def one(i: int) -> None:
            nonlocal failures
            async with sem:
                if not (await targets.send(channel, event, BODY, f"ntf_{i}", settings)).success:
                    failures += 1

        await asyncio.gather(*(one(i) for i in range(100)))  # warm the pool
        start = time.perf_counter()
        await asyncio.gather(*(one(i) for i in range(n)))
        rate = n / (time.perf_counter() - start)
        if failures:
            raise RuntimeError(f"{failures} deliveries failed")
        return rate

    return run(go())


def slow_neighbour(base: str, batches: int = 5) -> tuple[float, float]:
    """Per batch of 10 (one slow target): median time until the nine fast ones are done, and the batch."""
    from herald import targets
    from herald.targets.http import run

    settings, _, event = _herald_fixtures(base, timeout=5)
    fast_times, batch_times = [], []

    async def batch() -> tuple[float, float]:
        start = time.perf_counter()
        done: dict[int, float] = {}

        async def one(i: int) -> None:
            _, channel, _ = _herald_fixtures(f"{base}/{'slow' if i == 0 else 'fast'}")
            await targets.send(channel, event, BODY, "n", settings)
            done[i] = time.perf_counter() - start

        await asyncio.gather(*(one(i) for i in range(10)))
        return max(v for k, v in done.items() if k != 0), time.perf_counter() - start

    for _ in range(batches):
        fast, whole = run(batch())
        fast_times.append(fast)
        batch_times.append(whole)
    fast_times.sort()
    batch_times.sort()
    return fast_times[len(fast_times) // 2], batch_times[len(batch_times) // 2]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=int(os.environ.get("BENCH_REQUESTS", "4000")))
    args = parser.parse_args()
    port = free_port()
    proc = multiprocessing.Process(target=_receiver, args=(port, 2.0), daemon=True)
    proc.start()
    try:
        wait_for_port(port)
        url = f"http://127.0.0.1:{port}/hook"
        raw_aiohttp(url, 500)  # warm up
        n = args.requests
        results = {
            "raw aiohttp, 50 in flight": raw_aiohttp(url, n),
            "raw urllib3, sequential": raw_urllib3(url, n),
            "herald send path, 10 in flight (one batch)": herald_path(url, n, 10),
            "herald send path, 50 in flight": herald_path(url, n, 50),
        }
        fast, batch = slow_neighbour(f"http://127.0.0.1:{port}")
    finally:
        proc.terminate()
        proc.join()
    baseline = results["raw aiohttp, 50 in flight"]
    print(f"HTTP delivery to a loopback receiver, {n} POSTs of {len(BODY)} bytes, {os.cpu_count()} cores")
    print(f"{'client':<46} {'req/s':>9} {'vs aiohttp':>11}")
    for name, rate in results.items():
        print(f"{name:<46} {rate:>9,.0f} {rate / baseline:>10.2f}x")
    print(
        f"\nOne target answering after 2 s in each batch of 10: the nine others done after {fast * 1000:.0f} ms "
        f"(median), the batch after {batch * 1000:.0f} ms"
    )


if __name__ == "__main__":
    main()
