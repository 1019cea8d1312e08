"""Helpers the benchmarks share (not a benchmark itself: `make bench` runs bench_*.py only).

- `in_process()`: Herald's table, queues and topics in moto, in this process, with the
  environment the handlers read (tests/support's, as the unit tests build it); `Pump` drives the
  queues like Lambda's event source mappings and times each function.
- `CallCounter`: counts boto3 calls per (service, operation) through botocore's events.
- `start_counted_dev()`: `herald dev` in a subprocess whose boto3 calls are counted (this file run
  as a script wraps `herald.adapters.aws.client`; no Herald file is changed) on free ports.
- `LoopbackReceiver`: an aiohttp receiver in its own process that records when each delivery
  arrived.
- `table()`: the plain-text tables every benchmark prints; `Target` and `targets_table()`: a
  figure beside its target (issue 18's), met or not and by how much.

Everything listens on and talks to 127.0.0.1 only.
"""

from __future__ import annotations

import json
import math
import multiprocessing
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "functions"))
sys.path.insert(0, str(ROOT))  # tests.support: what the benchmarks share with the tests

from tests.support import in_process as herald_on_moto  # noqa: E402
from tests.support.fake_aws import use_fake_aws  # noqa: E402
from tests.support.processes import HeraldProcess, free_port  # noqa: E402


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]], aligns: str | None = None) -> str:
    """A plain-text table; numbers right-aligned, text left-aligned (or `aligns`: 'l'/'r' per column)."""
    cells = [[str(h) for h in headers]] + [[str(c) for c in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    if aligns is None:
        aligns = "".join(
            "r" if rows and isinstance(rows[0][i], int | float) else "l" for i in range(len(headers))
        )
    lines = []
    for n, row in enumerate(cells):
        parts = [c.rjust(w) if a == "r" else c.ljust(w) for c, w, a in zip(row, widths, aligns, strict=True)]
        lines.append("  ".join(parts).rstrip())
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


@dataclass(frozen=True)
class Target:
    """A measured figure and its bound: `at_most` for costs, calls and latencies (≤ bound), not for
    rates (≥ bound); no bound: shown for information. `fmt` formats both numbers."""

    figure: str
    measured: float
    bound: float | None = None
    at_most: bool = True
    fmt: str = "{:.1f}"

    def verdict(self) -> str:
        """ "met", or "NOT met (rx)" where r is how far off: measured/bound for an upper bound,
        bound/measured for a lower one (so 3x means "three times too many" or "a third of it")."""
        if self.bound is None:
            return ""
        if math.isnan(self.measured):
            return "not measured"
        if self.measured <= self.bound if self.at_most else self.measured >= self.bound:
            return "met"
        if self.at_most:
            ratio = self.measured / self.bound if self.bound else math.inf
        else:
            ratio = self.bound / self.measured if self.measured > 0 else math.inf
        return f"NOT met ({ratio:.2f}x)" if math.isfinite(ratio) else "NOT met"

    def row(self) -> list[str]:
        bound = "—" if self.bound is None else f"{'≤' if self.at_most else '≥'} {self.fmt.format(self.bound)}"
        return [self.figure, self.fmt.format(self.measured), bound, self.verdict()]


def targets_table(targets: Sequence[Target]) -> str:
    """The figures beside their targets, and what "NOT met (rx)" means."""
    rows = table(["figure", "measured", "target", "met?"], [t.row() for t in targets], "lrrl")
    return rows + "\n\n   NOT met (rx): r times the target for a ≤ target, 1/r of it for a ≥ target."


def machine() -> str:
    import platform

    return f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"


# --- counting boto3 calls ----------------------------------------------------------------------------
class CallCounter:
    """Counts calls per (service, operation) on every client it is attached to.

    `empty_receives` counts ReceiveMessage calls that returned no message (idle polling).
    """

    def __init__(self) -> None:
        self.calls: Counter[tuple[str, str]] = Counter()
        self.seconds: Counter[tuple[str, str]] = Counter()  # time spent inside each kind of call
        self.empty_receives = 0
        self.lock = threading.Lock()
        self.listeners: list[Any] = []  # callables (service, operation, params) -> None
        self._started = threading.local()

    def attach(self, client: Any) -> Any:
        client.meta.events.register("before-call", self._before)
        client.meta.events.register("after-call", self._after)
        return client

    def detach(self, client: Any) -> None:
        client.meta.events.unregister("before-call", self._before)
        client.meta.events.unregister("after-call", self._after)

    def _before(self, model: Any, params: Any, **_: Any) -> None:
        key = (model.service_model.service_id.hyphenize(), model.name)
        with self.lock:
            self.calls[key] += 1
        for listener in self.listeners:
            listener(key[0], key[1], params)
        self._started.at = time.perf_counter()

    def _after(self, model: Any, parsed: Any, **_: Any) -> None:
        elapsed = time.perf_counter() - getattr(self._started, "at", time.perf_counter())
        key = (model.service_model.service_id.hyphenize(), model.name)
        with self.lock:
            self.seconds[key] += elapsed
            if model.name == "ReceiveMessage" and not (parsed or {}).get("Messages"):
                self.empty_receives += 1

    def aws_seconds(self) -> float:
        with self.lock:
            return sum(self.seconds.values())

    def snapshot(self) -> dict[str, Any]:
        with self.lock:
            return {
                "calls": {f"{s}.{o}": n for (s, o), n in self.calls.items()},
                "empty_receives": self.empty_receives,
            }


def diff(after: dict[str, Any], before: dict[str, Any]) -> dict[str, Any]:
    calls = {k: v - before["calls"].get(k, 0) for k, v in after["calls"].items()}
    return {
        "calls": {k: v for k, v in calls.items() if v},
        "empty_receives": after["empty_receives"] - before["empty_receives"],
    }


# --- Herald in-process on moto -----------------------------------------------------------------------
class Pump(herald_on_moto.Pump):
    """Lambda's SQS event source mappings (tests/support's), timed per function."""

    def __init__(self, sqs: Any, res: Any) -> None:
        self.invocations: Counter[str] = Counter()
        self.records: Counter[str] = Counter()
        self.seconds: Counter[str] = Counter()  # wall time in each function
        self.own_seconds: Counter[str] = Counter()  # ... minus time inside AWS calls (aws_clock)
        self.aws_clock: Any = None  # e.g. CallCounter.aws_seconds
        self.current: str | None = None  # the mapping whose function is running (its calls are its)
        super().__init__(sqs, res, wrap=self._timed)

    def _timed(self, name: str, handler: herald_on_moto.Handler) -> herald_on_moto.Handler:
        def call(event: dict[str, Any], context: Any) -> Any:
            in_aws = self.aws_clock() if self.aws_clock else 0.0
            start = time.perf_counter()
            self.current = name
            try:
                return handler(event, context)
            finally:
                self.current = None
                wall = time.perf_counter() - start
                self.seconds[name] += wall
                aws = (self.aws_clock() - in_aws) if self.aws_clock else 0.0
                # Calls made concurrently (the deliver batch) can add up to more than the wall time.
                self.own_seconds[name] += max(wall - aws, 0.0)
                self.invocations[name] += 1
                # Metrics are disabled here, but Powertools still flushes (prints) a metric that
                # reaches 100 values: keep the buffer empty.
                from herald.handlers.observability import metrics

                metrics.clear_metrics()
                self.records[name] += len(event["Records"])

        return call

    def drain(self, rounds: int = 10_000) -> int:
        return super().drain(rounds)


@contextmanager
def in_process(retry_schedule: str = "0,0") -> Iterator[Any]:
    """Herald on moto in this process; yields (services, resources)."""
    use_fake_aws(os.environ.get("BENCH_LOG_LEVEL", "WARNING"))
    from moto import mock_aws

    with mock_aws():
        from herald import names
        from herald.adapters import aws
        from herald.domain.settings import reset_settings
        from herald.logic.services import get_services, reset_services

        aws.reset_clients()
        res = herald_on_moto.install_herald(aws.client, os.environ.__setitem__, retry_schedule)
        os.environ[names.ENV_BROADCAST_TOPIC_ARN] = res.broadcast_topic_arn
        reset_settings()
        try:
            yield get_services(), res
        finally:
            from herald.handlers import deliver

            deliver.shutdown()
            aws.reset_clients()
            reset_settings()
            reset_services()


# --- CPU time per process (Linux /proc) -----------------------------------------------------------------
TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds a process has used so far (0 if it is gone or not on Linux)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / TICKS  # utime, stime (fields 14 and 15 of stat)


def child_pids(pid: int) -> list[int]:
    """A process's children (every thread's), e.g. the moto server `herald dev` started."""
    pids: list[int] = []
    with suppress(OSError):
        for task in Path(f"/proc/{pid}/task").iterdir():
            pids += [int(c) for c in (task / "children").read_text().split()]
    return pids


# --- a loopback receiver in its own process ------------------------------------------------------------
def _serve_receiver(port: int, conn: Any) -> None:
    import asyncio

    from aiohttp import web

    arrivals: list[tuple[str, str, float]] = []

    async def hook(request: web.Request) -> web.Response:
        body = await request.read()
        try:
            correlation = json.loads(body).get("correlationId", "")
        except ValueError:
            correlation = ""
        arrivals.append((request.headers.get("webhook-id", ""), correlation, time.time()))
        return web.Response(text="ok")

    async def receipts(request: web.Request) -> web.Response:
        return web.json_response(arrivals)

    app = web.Application(client_max_size=4 * 1024 * 1024)
    app.router.add_get("/receipts", receipts)
    app.router.add_post("/{tail:.*}", hook)
    conn.send("ready")
    asyncio.run(_run_app(app, port))


async def _run_app(app: Any, port: int) -> None:
    import asyncio

    from aiohttp import web

    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    while True:
        await asyncio.sleep(3600)


def wait_for_port(port: int, seconds: float = 20.0) -> None:
    """Until something accepts connections on 127.0.0.1:`port` (a receiver process started)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise RuntimeError(f"nothing listens on 127.0.0.1:{port} after {seconds:g} s")


class LoopbackReceiver:
    """Answers 200 to every POST and records (webhook-id, correlationId, arrival time)."""

    def __init__(self) -> None:
        self.port = free_port()
        parent, child = multiprocessing.Pipe()
        self.proc = multiprocessing.Process(target=_serve_receiver, args=(self.port, child), daemon=True)
        self.proc.start()
        parent.recv()
        wait_for_port(self.port)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    def receipts(self) -> list[tuple[str, str, float]]:
        with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/receipts", timeout=30) as resp:
            return [tuple(r) for r in json.loads(resp.read())]  # type: ignore[misc]

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.join(timeout=10)


# --- `herald dev` with its boto3 calls counted --------------------------------------------------------
class CountedDev(HeraldProcess):
    """`herald dev` (this file as a script) with its boto3 calls counted into `counts_file`."""

    def __init__(self, workdir: Path, retry_schedule: str = "0,0") -> None:
        port, moto_port = free_port(), free_port()
        self.counts_file = workdir / "aws-calls.json"
        self.log = workdir / "herald-dev.log"
        key = "bench-admin-key"
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        # This checkout's code in the child and in the moto server it starts (`python -m`): without
        # it the venv's editable install (another checkout, maybe) would answer `import herald`.
        here = os.pathsep.join([str(ROOT / "functions"), str(ROOT)])
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [here, os.environ.get("PYTHONPATH", "")]))
        env.update({"HERALD_API_KEY": key, "PYTHONUNBUFFERED": "1", "HERALD_RETRY_SCHEDULE": retry_schedule})
        script = [sys.executable, str(Path(__file__).resolve()), "--counted-dev"]
        with self.log.open("w") as out:
            process = subprocess.Popen(
                [*script, str(port), str(moto_port), str(self.counts_file)],
                cwd=workdir,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                text=True,
            )
        super().__init__(f"http://127.0.0.1:{port}", key, process)
        self.wait_until_up(output=self.log.read_text)

    def call(
        self, method: str, path: str, body: Any = None, key: str | None = None, timeout: float = 60.0
    ) -> tuple[int, Any]:
        return super().call(method, path, body, key, timeout)  # a loaded benchmark answers slowly

    def counts(self) -> dict[str, Any]:
        """The calls counted so far (the child rewrites the file every 0.2 s)."""
        time.sleep(0.5)
        return dict(json.loads(self.counts_file.read_text()))

    def stop(self) -> None:
        with suppress(subprocess.TimeoutExpired):  # killed: the numbers are already out
            super().stop()


def _counted_dev_main(port: int, moto_port: int, counts_file: Path) -> int:
    """Runs `herald dev` with every boto3 client Herald makes counted (herald.adapters.aws.client wrapped)."""
    import functools

    from herald.adapters import aws
    from herald.dev.local.runtime import DevConfig, run

    counter = CallCounter()
    make = aws.client.__wrapped__

    @functools.cache
    def counted_client(service: str, region: str | None = None) -> Any:
        return counter.attach(make(service, region))

    aws.client = counted_client  # type: ignore[assignment]
    stop = threading.Event()

    def dump() -> None:
        while not stop.wait(0.2):
            tmp = counts_file.with_suffix(".tmp")
            tmp.write_text(json.dumps(counter.snapshot()))
            tmp.replace(counts_file)

    threading.Thread(target=dump, daemon=True).start()
    config = DevConfig(
        port=port,
        moto_port=moto_port,
        api_key=os.environ["HERALD_API_KEY"],
        retry_schedule=os.environ.get("HERALD_RETRY_SCHEDULE"),
    )
    try:
        return run(config)
    finally:
        stop.set()


if __name__ == "__main__":
    if len(sys.argv) == 5 and sys.argv[1] == "--counted-dev":
        raise SystemExit(_counted_dev_main(int(sys.argv[2]), int(sys.argv[3]), Path(sys.argv[4])))
    raise SystemExit("bench/_common.py is a helper module; run the bench_*.py scripts")
