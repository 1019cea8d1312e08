"""Endpoint health (issue 9): one dead endpoint among 20 healthy ones, and rate-limit accuracy.

Run: ``python bench/bench_health.py [--events E] [--rates 10,20] [--no-refused] [--quick]``.
Herald runs in this process on moto (a fresh table and queues per scenario). Notifications are
routed first (`accept.accept_event` + `routing.route_event`), then the real deliver handler
(`herald.handlers.deliver.handler`) drains the deliveries queue in batches of 10 through
`SqsPoller.poll_once`, as Lambda's event source mapping does, on 2 threads (each its own event
loop and HTTP pool: two concurrent deliver invocations). The receivers run in their own processes:
one aiohttp process answering 200 on 20 ports (a channel per port), and a dead endpoint that
accepts the connection, reads the request and never answers (each attempt costs the whole HTTP
timeout, HERALD_HTTP_TIMEOUT_SECONDS=2). The "refused" endpoint is a port nobody listens on.

1. Dead endpoint: 21 channels, one subscription each to the same code; E events (21 notifications
   each); timed until every healthy notification arrived. Retry schedule "600": a failed attempt
   does not come back during the run. Scenarios: no dead endpoint (baseline); a dead endpoint
   with the breaker at its defaults except 3 consecutive failures to open; the breaker
   effectively off (consecutive failures and minimum attempts 10^9).
2. Rate limit: one channel with `rateLimitPerSecond` N (10 and 20 by default), a backlog of
   max(10 N, 200) notifications (10 subscriptions on the channel); arrival times recorded by the
   receiver, and when each send was booked for and started. Then the same channel without a limit:
   the most this harness delivers to one channel (a limit above it cannot bind here).

Two threads in one process are not two Lambda invocations in two processes: moto is not
thread-safe where DynamoDB and SQS are atomic per request, so each moto backend's operations are serialized (`_moto_like_aws`). The two
threads still share the process's caches (channel health for 1 s, opened secrets), where two
invocations would each have theirs. No Herald file is changed: three of its functions are wrapped
to count decisions and note when sends were booked for and when they left.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import multiprocessing
import os
import socket
import threading
import time
import urllib.request
import warnings
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from _common import in_process, machine

os.environ.setdefault("BENCH_LOG_LEVEL", "ERROR")  # the circuit opening logs a warning per scenario
# Metrics are disabled here; Powertools still warns once when an invocation had none to flush.
warnings.filterwarnings("ignore", message="No application metrics to publish")

HTTP_TIMEOUT_SECONDS = 2
CODE = "ICA_EXEC_002"
HEALTHY = 20
LOOPS = 2
SCENARIO_DEADLINE = float(os.environ.get("BENCH_HEALTH_DEADLINE", "240"))
OFF = str(10**9)


# --- receivers, each in its own process -----------------------------------------------------------------
def _listening_socket() -> socket.socket:
    """Bound by the process that serves on it, on a port the kernel picks (no race for the port)."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(1024)
    return sock


def _serve_ok(n: int, counter: Any, conn: Any) -> None:
    from aiohttp import web

    arrivals: list[tuple[str, str, float]] = []

    async def hook(request: web.Request) -> web.Response:
        at = time.time()
        await request.read()
        arrivals.append((request.path, request.headers.get("webhook-id", ""), at))
        with counter.get_lock():
            counter.value += 1
        return web.Response(text="ok")

    async def receipts(request: web.Request) -> web.Response:
        start = int(request.query.get("from", "0"))
        return web.json_response(arrivals[start:])

    async def main() -> None:
        app = web.Application()
        app.router.add_get("/receipts", receipts)
        app.router.add_post("/{tail:.*}", hook)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        socks = [_listening_socket() for _ in range(n)]
        for sock in socks:
            await web.SockSite(runner, sock).start()
        conn.send([sock.getsockname()[1] for sock in socks])
        await asyncio.Event().wait()

    asyncio.run(main())


def _serve_hanging(connections: Any, requests: Any, conn: Any) -> None:
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with connections.get_lock():
            connections.value += 1
        try:
            while data := await reader.read(65536):
                if seen := data.count(b"POST /"):
                    with requests.get_lock():
                        requests.value += seen
        except ConnectionError:
            pass
        finally:
            writer.close()

    async def main() -> None:
        sock = _listening_socket()
        server = await asyncio.start_server(handle, sock=sock)
        conn.send(sock.getsockname()[1])
        await server.serve_forever()

    asyncio.run(main())


class OkReceivers:
    """One process answering 200 on `n` ports; records (path, webhook-id, arrival time)."""

    def __init__(self, n: int) -> None:
        self.counter: Any = multiprocessing.Value("q", 0)
        parent, child = multiprocessing.Pipe()
        self.proc = multiprocessing.Process(target=_serve_ok, args=(n, self.counter, child), daemon=True)
        self.proc.start()
        if not parent.poll(30):
            raise RuntimeError("the receivers did not start")
        self.ports: list[int] = parent.recv()

    def url(self, i: int) -> str:
        return f"http://127.0.0.1:{self.ports[i % len(self.ports)]}/hook/{i}"

    def count(self) -> int:
        return int(self.counter.value)

    def receipts(self, start: int = 0) -> list[tuple[str, str, float]]:
        url = f"http://127.0.0.1:{self.ports[0]}/receipts?from={start}"
        with urllib.request.urlopen(url, timeout=30) as resp:
            return [tuple(r) for r in json.loads(resp.read())]  # type: ignore[misc]

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.join(timeout=10)


class HangingEndpoint:
    """Accepts connections, reads what is sent, never answers."""

    def __init__(self) -> None:
        self.connections: Any = multiprocessing.Value("q", 0)
        self.requests: Any = multiprocessing.Value("q", 0)
        parent, child = multiprocessing.Pipe()
        self.proc = multiprocessing.Process(
            target=_serve_hanging, args=(self.connections, self.requests, child), daemon=True
        )
        self.proc.start()
        if not parent.poll(30):
            raise RuntimeError("the hanging endpoint did not start")
        self.port: int = parent.recv()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.join(timeout=10)


# --- moto as atomic as AWS ---------------------------------------------------------------------------------
def _serialize(cls: Any, names: tuple[str, ...], lock: Any) -> None:
    for name in names:
        original = getattr(cls, name)
        if getattr(original, "_bench_locked", False):
            continue

        def locked(self: Any, *args: Any, _original: Any = original, **kwargs: Any) -> Any:
            with lock:
                return _original(self, *args, **kwargs)

        locked._bench_locked = True  # type: ignore[attr-defined]
        setattr(cls, name, locked)


def _moto_like_aws() -> None:
    """moto's backends are not thread-safe, where DynamoDB and SQS are atomic per request: with
    two deliver threads, moto could hand one message to both (a duplicate delivery), lose a
    message sent while another was deleted (it rebuilds the queue's list), or interleave two
    counter updates. Each backend's operations are serialized with a lock here. And moto checks
    a message's retention on receive by computing every attribute of its queue, per message (an
    O(messages) scan each: most of a receive's time with a backlog); that check is done directly."""
    from moto.dynamodb.models import DynamoDBBackend
    from moto.sqs.models import SQSBackend

    _serialize(
        DynamoDBBackend,
        ("put_item", "update_item", "delete_item", "transact_write_items", "get_item", "query"),
        threading.RLock(),
    )
    _serialize(
        SQSBackend,
        (
            "send_message",
            "send_message_batch",
            "receive_message",
            "delete_message",
            "delete_message_batch",
            "change_message_visibility",
            "change_message_visibility_batch",
        ),
        threading.RLock(),
    )

    def retained(self: Any, queue_name: str, message: Any) -> bool:
        queue = self.get_queue(queue_name)
        return int(queue.message_retention_period) + message.sent_timestamp / 1000 > time.time()

    SQSBackend.is_message_valid_based_on_retention_period = retained  # type: ignore[method-assign]


# --- instruments around Herald's functions (wrapped, not changed) -----------------------------------------
class Instruments:
    """Counts the deliver function's decisions, and notes each rate-limit slot granted (the time
    the send was booked for) and each send's start: `herald.logic.delivery.deliver`,
    `herald.logic.rate_limit.reserve` and `herald.targets.send` are looked up at call time by their
    callers, so wrapping the module attributes is enough."""

    def __init__(self) -> None:
        from herald import targets
        from herald.logic import delivery, rate_limit

        self.counts: Counter[str] = Counter()
        self.slots: list[float] = []
        self.booking_ms: list[float] = []  # from the `now` a booking was computed for to its answer
        self.sends: list[float] = []
        self.attempts: Counter[tuple[str, bool]] = Counter()  # (address, success)
        self.errors: Counter[str] = Counter()
        self.held: Counter[str] = Counter()  # seconds spent in failed sends, per address
        self.lock = threading.Lock()
        self._originals = [
            (delivery, "deliver", delivery.deliver),
            (rate_limit, "reserve", rate_limit.reserve),
            (targets, "send", targets.send),
        ]
        deliver, reserve, send = (original for _, _, original in self._originals)

        async def counted(services: Any, message: Any, receive_count: int, **kwargs: Any) -> Any:
            decision = await deliver(services, message, receive_count, **kwargs)
            with self.lock:
                self.counts[decision.outcome] += 1
            return decision

        def booked(store: Any, channel_id: str, per_second: int, now: float) -> float | None:
            wait = reserve(store, channel_id, per_second, now)
            if wait is not None:
                with self.lock:
                    self.slots.append(now + wait)
                    self.booking_ms.append((time.time() - now) * 1000)
            return wait

        async def sent(channel: Any, *args: Any, **kwargs: Any) -> Any:
            at = time.time()
            with self.lock:
                self.sends.append(at)
            outcome = await send(channel, *args, **kwargs)
            with self.lock:
                self.attempts[channel.address, outcome.success] += 1
                if not outcome.success:
                    self.errors[outcome.error or f"HTTP {outcome.http_status}"] += 1
                    self.held[channel.address] += time.time() - at
            return outcome

        delivery.deliver = counted  # type: ignore[assignment]
        rate_limit.reserve = booked  # type: ignore[assignment]
        targets.send = sent  # type: ignore[assignment]

    def reset(self) -> None:
        with self.lock:
            self.counts.clear()
            self.slots.clear()
            self.booking_ms.clear()
            self.sends.clear()
            self.attempts.clear()
            self.errors.clear()
            self.held.clear()

    def failed(self, addresses: set[str] | None = None) -> int:
        """Failed attempts (to `addresses`, or to any)."""
        with self.lock:
            return sum(
                n
                for (address, success), n in self.attempts.items()
                if not success and (addresses is None or address in addresses)
            )

    def restore(self) -> None:
        for module, name, original in self._originals:
            setattr(module, name, original)


# --- setup and driving -------------------------------------------------------------------------------------
def make_channel(services: Any, url: str, rate: int | None = None) -> Any:
    from herald import signing
    from herald.domain import clock, ids
    from herald.domain.models import Channel, ChannelType

    channel_id = ids.new_id()
    channel = Channel(
        id=channel_id,
        type=ChannelType.HTTP,
        address=url,
        secret=services.secrets.seal(signing.generate_secret(), channel_id),  # as the API stores it
        createdAt=clock.utc_iso(),
        rateLimitPerSecond=rate,
    )
    services.channels.put(channel)
    return channel


def subscribe(services: Any, channel_id: str) -> None:
    from herald.domain import clock, ids
    from herald.domain.models import Subscription

    services.subscriptions.put(
        Subscription(
            id=ids.new_id(),
            projectId="p",
            eventCode=CODE,
            notificationChannelId=channel_id,
            createdAt=clock.utc_iso(),
        )
    )


def post_events(services: Any, n: int) -> int:
    """Accept and route `n` events; returns the notifications queued."""
    from herald.logic import accept, routing

    queued = 0
    for i in range(n):
        payload = {"id": f"analysis-{i:05d}-{time.time_ns()}", "status": "SUCCEEDED", "pad": "x" * 400}
        event, _ = accept.accept_event(services, "p", CODE, payload)
        queued += routing.route_event(services, event.id)
    return queued


def drive(sqs: Any, queue_url: str, done: Callable[[], bool], deadline: float) -> tuple[float, bool]:
    """The deliver handler on `LOOPS` threads until `done()`; returns (start time, finished)."""
    from herald.dev.local.pollers import SqsPoller
    from herald.handlers import deliver
    from herald.handlers.observability import metrics

    stop = threading.Event()
    errors: list[BaseException] = []

    def handler(event: dict[str, Any], context: Any) -> Any:
        try:
            return deliver.handler(event, context)
        finally:
            # Metrics are disabled, but Powertools flushes (prints) a metric reaching 100 values.
            metrics.clear_metrics()

    def loop() -> None:
        poller = SqsPoller(sqs, queue_url, handler, "herald-deliver", 10, wait_seconds=0)
        try:
            while not stop.is_set():
                if poller.poll_once() == 0:
                    stop.wait(0.02)
        except BaseException as exc:  # reported after the run
            errors.append(exc)
        finally:
            deliver.shutdown()  # this thread's event loop's HTTP pools

    threads = [threading.Thread(target=loop, name=f"deliver-{i}", daemon=True) for i in range(LOOPS)]
    start = time.time()
    for thread in threads:
        thread.start()
    finished = False
    while time.time() - start < deadline:
        if done():
            finished = True
            break
        if errors:
            break
        time.sleep(0.02)
    stop.set()
    for thread in threads:
        thread.join(timeout=HTTP_TIMEOUT_SECONDS + 30)
    if errors:
        raise RuntimeError(f"a deliver loop failed: {errors[0]!r}") from errors[0]
    return start, finished


def _circuit_env(breaker: bool) -> None:
    from herald import names

    os.environ[names.ENV_HTTP_TIMEOUT_SECONDS] = str(HTTP_TIMEOUT_SECONDS)
    if breaker:
        os.environ[names.ENV_CIRCUIT_CONSECUTIVE_FAILURES] = "3"
        for var in (names.ENV_CIRCUIT_MIN_ATTEMPTS, names.ENV_CIRCUIT_FAILURE_RATE):
            os.environ.pop(var, None)
    else:
        os.environ[names.ENV_CIRCUIT_CONSECUTIVE_FAILURES] = OFF
        os.environ[names.ENV_CIRCUIT_MIN_ATTEMPTS] = OFF
        os.environ.pop(names.ENV_CIRCUIT_FAILURE_RATE, None)
    os.environ.pop(names.ENV_CIRCUIT_COOLDOWN_SECONDS, None)  # default 60 s


# --- part 1: one dead endpoint -----------------------------------------------------------------------------
@dataclass
class DeadResult:
    label: str
    dead: str | None
    breaker: bool
    healthy: int = 0
    expected: int = 0
    seconds: float = 0.0
    finished: bool = True
    dead_requests: int | None = None
    dead_attempts: int = 0
    dead_held: float = 0.0  # seconds the deliver loops spent in sends to the dead endpoint
    healthy_failed: int = 0  # failed attempts to healthy receivers (a loaded machine's timeouts)
    errors: Counter[str] = field(default_factory=Counter)
    opened_after: float | None = None
    rate_after_open: float | None = None
    outcomes: Counter[str] = field(default_factory=Counter)
    duplicates: int = 0

    @property
    def rate(self) -> float:
        return self.healthy / self.seconds if self.seconds else 0.0


def dead_endpoint(
    label: str,
    events: int,
    dead: str | None,
    breaker: bool,
    ok: OkReceivers,
    hanging: HangingEndpoint,
    instruments: Instruments,
) -> DeadResult:
    from herald.logic import endpoint_health

    _circuit_env(breaker)
    result = DeadResult(label, dead, breaker)
    # Bound but not listening: the kernel refuses connections to it (and nobody else can take it).
    refusing = socket.socket()
    refusing.bind(("127.0.0.1", 0))
    with refusing, in_process("600") as (services, res):
        endpoint_health.forget()
        for i in range(HEALTHY):
            subscribe(services, make_channel(services, ok.url(i)).id)
        healthy = {ok.url(i) for i in range(HEALTHY)}
        dead_channel = None
        if dead is not None:
            url = hanging.url if dead == "hangs" else f"http://127.0.0.1:{refusing.getsockname()[1]}/hook"
            dead_channel = make_channel(services, url)
            subscribe(services, dead_channel.id)
        queued = post_events(services, events)
        assert queued == events * (HEALTHY + (dead is not None)), queued
        result.expected = events * HEALTHY
        first = ok.count()
        requests_before = hanging.requests.value
        instruments.reset()
        start, result.finished = drive(
            services.queues.sqs,
            res.deliveries_queue_url,
            # Every healthy notification arrived, or failed (retried only after 600 s).
            lambda: ok.count() - first + instruments.failed(healthy) >= result.expected,
            SCENARIO_DEADLINE,
        )
        arrivals = ok.receipts(first)
        result.outcomes = Counter(instruments.counts)
        result.healthy_failed = instruments.failed(healthy)
        result.errors = Counter(instruments.errors)
        if dead_channel is not None:
            result.dead_attempts = sum(
                n for (address, _), n in instruments.attempts.items() if address == dead_channel.address
            )
            result.dead_held = instruments.held[dead_channel.address]
        if dead == "hangs":
            result.dead_requests = hanging.requests.value - requests_before
        times = sorted(t for _, _, t in arrivals)
        result.healthy = len({(p, w) for p, w, _ in arrivals})
        result.duplicates = len(arrivals) - result.healthy
        result.seconds = (times[-1] - start) if times else 0.0
        if dead_channel is not None:
            health = services.channel_health.get(dead_channel.id, consistent=True)
            if health is not None and health.openedAt is not None:
                result.opened_after = health.openedAt - start
                later = [t for t in times if t > health.openedAt]
                if len(later) > 1:
                    result.rate_after_open = (len(later) - 1) / (later[-1] - later[0])
    return result


# --- part 2: rate limit ------------------------------------------------------------------------------------
@dataclass
class Pace:
    """How a series of times keeps to N per second."""

    count: int
    rate: float  # (count - 1) / (last - first)
    busiest_second: int  # the most in one calendar second
    busiest_window: int  # the most in any [t, t + 1)

    @classmethod
    def of(cls, times: list[float]) -> Pace:
        times = sorted(times)
        rate = (len(times) - 1) / (times[-1] - times[0]) if len(times) > 1 else 0.0
        busiest_second = max(Counter(int(t) for t in times).values(), default=0)
        busiest_window, j = 0, 0
        for i, t in enumerate(times):
            # 1 µs of slack: booked slots are exact multiples of 1/N, and float sums are not.
            while j < len(times) and times[j] < t + 1.0 - 1e-6:
                j += 1
            busiest_window = max(busiest_window, j - i)
        return cls(len(times), rate, busiest_second, busiest_window)


@dataclass
class RateResult:
    limit: int | None
    backlog: int
    seconds: float
    deferred: int
    finished: bool
    arrivals: Pace
    slots: Pace
    sends: Pace
    late_ms: list[float]  # send start minus its booked slot, per send (matched in order)
    booking_ms: list[float]  # how long the booking took after the `now` its wait was computed from
    failed: int = 0
    errors: Counter[str] = field(default_factory=Counter)


def rate_limit(limit: int | None, backlog: int, ok: OkReceivers, instruments: Instruments) -> RateResult:
    from herald.logic import endpoint_health

    _circuit_env(True)
    subscriptions = 10
    events = math.ceil(backlog / subscriptions)
    backlog = events * subscriptions
    with in_process("600") as (services, res):
        endpoint_health.forget()
        channel = make_channel(services, ok.url(0), rate=limit)
        for _ in range(subscriptions):
            subscribe(services, channel.id)
        assert post_events(services, events) == backlog
        first = ok.count()
        instruments.reset()
        start, finished = drive(
            services.queues.sqs,
            res.deliveries_queue_url,
            lambda: ok.count() - first + instruments.failed() >= backlog,
            max(SCENARIO_DEADLINE, 3 * backlog / (limit or 100)),
        )
        failed = instruments.failed()
        with instruments.lock:
            deferred = instruments.counts["deferred"]
            slots, sends = sorted(instruments.slots), sorted(instruments.sends)
            booking = sorted(instruments.booking_ms)
            errors = Counter(instruments.errors)
    times = sorted(t for _, _, t in ok.receipts(first))
    # Slots and sends sorted separately and paired in order: how late sends leave after their slot.
    late = sorted((s - b) * 1000 for s, b in zip(sends, slots, strict=False))
    return RateResult(
        limit,
        backlog,
        times[-1] - start if times else 0.0,
        deferred,
        finished,
        Pace.of(times),
        Pace.of(slots),
        Pace.of(sends),
        late,
        booking,
        failed,
        errors,
    )


# --- report ----------------------------------------------------------------------------------------------
def _fmt(value: float | None, spec: str = ".1f") -> str:
    return "-" if value is None else format(value, spec)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument(
        "--events", type=int, default=None, help="events in part 1 (21 notifications each; default 10)"
    )
    parser.add_argument("--rates", default=None, help="rate limits to measure (default 10,20)")
    parser.add_argument("--no-refused", action="store_true", help="skip the connection-refused scenarios")
    parser.add_argument("--loops", type=int, default=2, help="concurrent deliver loops (default 2)")
    parser.add_argument("--part", choices=("1", "2"), help="run one part only")
    parser.add_argument(
        "--quick",
        action="store_true",
        help="part 1 without the refused scenarios; part 2: N=10 with 100 notifications only",
    )
    args = parser.parse_args()
    events = args.events or 10
    rates = [int(r) for r in (args.rates or ("10" if args.quick else "10,20")).split(",")]
    refused = not (args.no_refused or args.quick)
    capacity = not args.quick
    global LOOPS
    LOOPS = args.loops

    began = time.time()
    _moto_like_aws()
    ok = OkReceivers(HEALTHY)
    hanging = HangingEndpoint()
    instruments: Instruments | None = None
    try:
        with in_process("600"):  # import the handlers once, under moto, before wrapping
            from herald.handlers import deliver  # noqa: F401

            instruments = Instruments()
        plan: list[tuple[str, str | None, bool]] = [
            ("a. 20 healthy (baseline)", None, True),
            ("b. + 1 hanging, breaker on", "hangs", True),
            ("c. + 1 hanging, breaker off", "hangs", False),
        ]
        if refused:
            plan += [
                ("d. + 1 refusing, breaker on", "refused", True),
                ("e. + 1 refusing, breaker off", "refused", False),
            ]
        # The baseline again at the end: how much the machine moved the numbers meanwhile.
        plan.append(("a'. 20 healthy again", None, True))
        if args.part == "2":
            plan = []
        dead_results = [
            dead_endpoint(label, events, dead, breaker, ok, hanging, instruments)
            for label, dead, breaker in plan
        ]
        rate_results = []
        if args.part != "1":
            rate_results = [
                rate_limit(n, 100 if args.quick else max(10 * n, 200), ok, instruments) for n in rates
            ]
            if capacity:
                rate_results.append(rate_limit(None, 200, ok, instruments))
    finally:
        if instruments is not None:
            instruments.restore()
        ok.stop()
        hanging.stop()

    print(f"Endpoint health ({machine()}), {time.strftime('%Y-%m-%d')}, load average {_load()}")
    if dead_results:
        report_dead_endpoint(dead_results, events)
    if rate_results:
        report_rate_limit(rate_results)
    print(f"\nTook {time.time() - began:.0f} s.")


def report_dead_endpoint(dead_results: list[DeadResult], events: int) -> None:
    print(
        f"\n1. One dead endpoint among {HEALTHY} healthy ones: {events} events x {HEALTHY} healthy "
        f"channels (+1 dead), {LOOPS} deliver loop{'s' if LOOPS != 1 else ''}, batches of 10, HTTP timeout {HTTP_TIMEOUT_SECONDS} s, "
        "retry schedule 600 s. Breaker on: 3 consecutive failures open the circuit (other thresholds "
        "at their defaults, 60 s cool-down); off: thresholds 10^9. healthy/s = healthy deliveries / "
        "(last healthy arrival - start); vs a: against the mean of the two baselines (a, a').\n"
    )
    baselines = [r.rate for r in dead_results if r.dead is None]
    base = sum(baselines) / len(baselines)
    rows = [
        [
            r.label,
            f"{r.healthy}/{r.expected}" + ("" if r.finished else " (deadline)"),
            f"{r.seconds:.1f}",
            f"{r.rate:.1f}",
            f"{r.rate / base:.2f}" if base else "-",
            "-" if r.dead is None else r.dead_attempts,
            "-" if r.dead_requests is None else r.dead_requests,
            "-" if r.dead is None else f"{r.dead_held:.1f}",
            r.outcomes["deferred"],
            _fmt(r.opened_after),
            "-" if r.rate_after_open is None else f"{r.rate_after_open:.1f} ({r.rate_after_open / base:.2f})",
        ]
        for r in dead_results
    ]
    print(
        markdown(
            [
                "scenario",
                "healthy delivered",
                "s",
                "healthy/s",
                "vs a",
                "dead attempts",
                "requests at dead endpoint",
                "s in dead sends",
                "deferred",
                "circuit open after s",
                "healthy/s after open (vs a)",
            ],
            rows,
            "lrrrrrrrrrr",
        )
    )
    duplicates = sum(r.duplicates for r in dead_results)
    if duplicates:
        print(f"\n{duplicates} duplicate deliveries (same webhook-id twice) across the scenarios")
    for r in dead_results:
        if r.healthy_failed:
            print(f"\n{r.label}: {r.healthy_failed} attempts to healthy receivers failed: {dict(r.errors)}")


def report_rate_limit(rate_results: list[RateResult]) -> None:
    print(
        f"\n2. Rate limit: one channel with rateLimitPerSecond N, a backlog of notifications, {LOOPS} "
        f"deliver loop{'s' if LOOPS != 1 else ''}. Rate = (count - 1) / (last - first); busiest second: the most in one calendar "
        "second; busiest 1 s: the most in any sliding [t, t + 1). Booked: the times the rate limit "
        "gave the sends; sent: when the sends started; arrived: at the receiver.\n"
    )
    rows = []
    for r in rate_results:
        late = r.late_ms
        rows.append(
            [
                r.limit or "none",
                f"{r.arrivals.count}/{r.backlog}" + ("" if r.finished else " (deadline)"),
                f"{r.seconds:.1f}",
                f"{r.arrivals.rate:.2f}",
                f"{r.arrivals.rate / r.limit:.3f}" if r.limit else "-",
                r.arrivals.busiest_second,
                r.arrivals.busiest_window,
                f"{r.slots.busiest_second} / {r.slots.busiest_window}" if r.limit else "-",
                f"{r.sends.busiest_second} / {r.sends.busiest_window}",
                f"{late[len(late) // 2]:.0f} / {late[-1]:.0f}" if late else "-",
                f"{_median(r.booking_ms):.0f}" if r.booking_ms else "-",
                r.deferred,
            ]
        )
    print(
        markdown(
            [
                "N/s",
                "delivered",
                "s",
                "arrival rate/s",
                "vs N",
                "busiest second (arrived)",
                "busiest 1 s (arrived)",
                "booked: busiest second / 1 s",
                "sent: busiest second / 1 s",
                "sent after booked, ms p50 / max",
                "booking took, ms p50",
                "deferrals",
            ],
            rows,
            "lrrrrrrrrrrr",
        )
    )
    for r in rate_results:
        if r.failed:
            print(f"\nN={r.limit}: {r.failed} attempts failed (not retried within the run): {dict(r.errors)}")


def markdown(headers: list[str], rows: list[list[Any]], aligns: str) -> str:
    lines = ["| " + " | ".join(headers) + " |"]
    lines.append("| " + " | ".join("---:" if a == "r" else "---" for a in aligns) + " |")
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def _median(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[len(ordered) // 2]


def _load() -> str:
    try:
        return " ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "?"


if __name__ == "__main__":
    main()
