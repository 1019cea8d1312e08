"""Cold start: import time of each Lambda handler module, and the size of the Lambda bundle.

Run: ``python bench/bench_coldstart.py [--runs N] [--no-first-request] [--no-bundle]``.

1. Each ``herald.handlers.<name>`` is imported in a fresh interpreter with ``-X importtime``, N
   times (the first run, which may compile .pyc files, is dropped). Reported: the module's
   cumulative import time (median, and the fastest run), the process's wall time minus a bare
   interpreter's, and the 5 imports with the most self time. Target: ≤ 350 ms per handler module.
2. First requests: a fresh interpreter imports the api (or deliver) handler and serves two
   requests against a moto server in another process (api: POST an event, then list channels;
   deliver: a batch of one notification to a loopback receiver, twice), N times. Reported
   (medians): the import, the first request, both together, the second request. What an import
   leaves for later (a lazy import, a client built on first use) shows here as a slower first
   request.
3. ``python app.py`` synthesizes the stack into a temporary directory (CDK_OUTDIR; the repo's
   cdk.out is left alone), bundling the functions' code as a deploy would (pip, manylinux
   aarch64 wheels); reported: the code asset's size on disk, zipped (deflate, as CDK uploads
   it), and its largest top-level packages.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from collections import defaultdict
from pathlib import Path
from typing import Any

from _common import ROOT, LoopbackReceiver, free_port, machine, table

HANDLERS = ("api", "route", "deliver", "reprocess", "bridge", "scheduled")
TARGET_MS = 350.0
_LINE = re.compile(r"^import time:\s+(\d+)\s+\|\s+(\d+)\s+\|(\s*)(\S+)$")


# What every handler imports from outside Herald: the floor no Herald change can go below.
FLOOR = "botocore.session, pydantic, aws_lambda_powertools.logging, aws_lambda_powertools.metrics"
# Handlers renamed by issue 16, for --compare against an older checkout.
OLD_NAMES = {"route": "filter", "bridge": "ingest"}


def _env(functions: Path | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "PYTHON"))}
    env.update(
        {
            "PYTHONPATH": str(functions or ROOT / "functions"),
            "AWS_DEFAULT_REGION": "us-east-1",
            "POWERTOOLS_SERVICE_NAME": "herald",
            "POWERTOOLS_METRICS_NAMESPACE": "Herald",
        }
    )
    return env


def _wall(code: str, importtime: bool, functions: Path | None = None) -> tuple[float, str]:
    args = [sys.executable, *(["-X", "importtime"] if importtime else []), "-c", code]
    start = time.perf_counter()
    done = subprocess.run(args, env=_env(functions), capture_output=True, text=True, check=True, timeout=120)
    return time.perf_counter() - start, done.stderr


def _top_level_us(log: str) -> int:
    """The cumulative import time of every top-level import in an ``-X importtime`` log."""
    total = 0
    for line in log.splitlines():
        match = _LINE.match(line)
        if match and len(match.group(3)) == 1:
            total += int(match.group(2))
    return total


def floor_ms(runs: int) -> float:
    """Median import time of the third-party packages every handler needs (FLOOR)."""
    _wall(f"import {FLOOR}", False)
    samples = [_top_level_us(_wall(f"import {FLOOR}", True)[1]) for _ in range(runs)]
    return statistics.median(samples) / 1000


def _cumulative_us(module: str, functions: Path | None) -> int:
    log = _wall(f"import {module}", True, functions)[1]
    for line in log.splitlines():
        match = _LINE.match(line)
        if match and match.group(4) == module:
            return int(match.group(2))
    raise RuntimeError(f"{module} not in the import log")


def compare(name: str, other: Path, runs: int) -> tuple[float, float]:
    """Medians (ms) of this tree's and another checkout's handler, runs interleaved so that a
    noisy machine weighs on both alike."""
    theirs = f"herald.handlers.{name}"
    if not (other / "herald" / "handlers" / f"{name}.py").exists():
        theirs = f"herald.handlers.{OLD_NAMES.get(name, name)}"
    ours = f"herald.handlers.{name}"
    _wall(f"import {theirs}", False, other)
    _wall(f"import {ours}", False)
    mine, old = [], []
    for _ in range(runs):
        old.append(_cumulative_us(theirs, other))
        mine.append(_cumulative_us(ours, None))
    return statistics.median(mine) / 1000, statistics.median(old) / 1000


def measure(module: str, runs: int) -> dict[str, object]:
    _wall(f"import {module}", False)  # compile .pyc files, warm the disk cache
    baseline = statistics.median(_wall("pass", False)[0] for _ in range(runs))
    walls, cumulative = [], []
    selfs: dict[str, list[int]] = defaultdict(list)
    for _ in range(runs):
        wall, log = _wall(f"import {module}", True)
        walls.append(wall - baseline)
        for line in log.splitlines():
            match = _LINE.match(line)
            if not match:
                continue
            own, total, _, name = match.groups()
            selfs[name].append(int(own))
            if name == module:
                cumulative.append(int(total))
    top = sorted(((statistics.median(v), k) for k, v in selfs.items()), reverse=True)[:5]
    return {
        "import_ms": statistics.median(cumulative) / 1000,
        "min_ms": min(cumulative) / 1000,
        "wall_ms": statistics.median(walls) * 1000,
        "top": [(name, us / 1000) for us, name in top],
    }


# --- import + first requests, against a moto server -------------------------------------------------
_SERVE = r"""
import json, sys, time
start = time.perf_counter()
import importlib
module = importlib.import_module(sys.argv[1])
imported = time.perf_counter()
from herald.dev.local.lambda_context import LocalContext
took = []
for event in json.loads(sys.stdin.read()):
    began = time.perf_counter()
    result = module.handler(event, LocalContext("bench"))
    took.append((time.perf_counter() - began) * 1000)
    if result.get("statusCode", 200) >= 300 or result.get("batchItemFailures"):
        sys.exit(f"not served: {result}")
print(json.dumps({"import": (imported - start) * 1000, "first": took[0], "second": took[1]}))
"""


class _Herald:
    """A moto server with Herald's resources, an admin key, a loopback channel and subscription."""

    KEY = "bench-coldstart-key"

    def __init__(self) -> None:
        from herald.dev.local.moto_process import MotoServer

        self.saved = dict(os.environ)
        self.moto = MotoServer(free_port())
        self.moto.start()
        try:
            self.receiver = LoopbackReceiver()
        except BaseException:
            self.moto.stop()
            raise
        try:
            self._set_up()
        except BaseException:
            self.close()
            raise

    def _set_up(self) -> None:
        os.environ.update(
            {
                "AWS_ENDPOINT_URL": self.moto.endpoint,
                "AWS_ACCESS_KEY_ID": "testing",
                "AWS_SECRET_ACCESS_KEY": "testing",
                "AWS_DEFAULT_REGION": "us-east-1",
                "POWERTOOLS_METRICS_DISABLED": "true",
                "POWERTOOLS_LOG_LEVEL": "WARNING",
            }
        )
        os.environ.pop("AWS_PROFILE", None)
        from herald import names
        from herald.adapters import aws
        from herald.api import auth
        from herald.dev.local.resources import create_resources
        from herald.domain.settings import Settings, reset_settings
        from herald.logic.services import get_services, reset_services

        aws.reset_clients()
        res = create_resources(
            aws.client("dynamodb"),
            aws.client("sqs"),
            Settings(retry_schedule=(0, 0)),
            sns=aws.client("sns"),
            kms=aws.client("kms"),
        )
        os.environ.update(
            {
                **res.environment(),
                names.ENV_BROADCAST_TOPIC_ARN: res.broadcast_topic_arn,
                names.ENV_RETRY_SCHEDULE: "0,0",
                names.ENV_ALLOW_PRIVATE_TARGETS: "1",  # the loopback receiver
            }
        )
        reset_settings()
        reset_services()
        self.services = get_services()
        auth.register_key(self.services.api_keys, self.KEY, projects=[], admin=True, name="bench")
        channel = self.call(
            "POST", "/api/notificationChannels", {"type": "HTTP", "address": self.receiver.url}
        )
        self.call(
            "POST",
            "/api/projects/p1/notificationSubscriptions",
            {"eventCode": "ICA_EXEC_002", "notificationChannelId": channel["id"]},
        )

    def event(self, method: str, path: str, body: Any = None) -> dict[str, Any]:
        from herald.dev.local.api_server import proxy_event

        headers = {"Content-Type": "application/json", "X-API-Key": self.KEY}
        data = json.dumps(body).encode() if body is not None else b""
        return proxy_event(method, path, headers, data)

    def call(self, method: str, path: str, body: Any = None) -> Any:
        from herald.dev.local.lambda_context import LocalContext
        from herald.handlers import api

        result = api.handler(self.event(method, path, body), LocalContext("bench"))
        if result["statusCode"] >= 300:
            raise RuntimeError(f"{method} {path}: {result['statusCode']} {result.get('body')}")
        return json.loads(result["body"]) if result.get("body") else None

    def delivery_batch(self) -> dict[str, Any]:
        """An SQS event (as Lambda hands it over) carrying one routed notification."""
        from herald.dev.local.pollers import SqsPoller
        from herald.logic import routing

        accepted = self.call(
            "POST",
            "/api/projects/p1/events",
            {"eventCode": "ICA_EXEC_002", "payload": {"id": os.urandom(8).hex(), "status": "SUCCEEDED"}},
        )
        routing.route_event(self.services, accepted["id"])
        caught: list[dict[str, Any]] = []

        def catch(event: dict[str, Any], context: Any) -> dict[str, Any]:
            caught.append(event)
            return {"batchItemFailures": []}

        sqs, url = self.services.queues.sqs, self.services.queues.deliveries_url
        poller = SqsPoller(sqs, url, catch, "bench", batch_size=10, wait_seconds=1)
        for _ in range(20):
            if poller.poll_once():
                break
        if not caught or len(caught[0]["Records"]) != 1:
            raise RuntimeError(f"expected one delivery, got {caught}")
        return caught[0]

    def close(self) -> None:
        self.receiver.stop()
        self.moto.stop()
        os.environ.clear()
        os.environ.update(self.saved)


def first_requests(runs: int) -> list[list[object]]:
    herald = _Herald()
    try:
        env = {
            **_env(),
            **{k: v for k, v in os.environ.items() if k.startswith(("AWS_", "HERALD_", "POWERTOOLS_"))},
        }
        rows = []
        for name in ("api", "deliver"):
            module = f"herald.handlers.{name}"
            results = []
            for n in range(runs + 1):  # the first run compiles .pyc files: dropped
                if name == "api":
                    events = [
                        herald.event(
                            "POST",
                            "/api/projects/p1/events",
                            {"eventCode": "ICA_EXEC_028", "payload": {"n": n}},
                        ),
                        herald.event("GET", "/api/notificationChannels"),
                    ]
                else:
                    events = [herald.delivery_batch(), herald.delivery_batch()]
                done = subprocess.run(
                    [sys.executable, "-c", _SERVE, module],
                    input=json.dumps(events),
                    env=env,
                    capture_output=True,
                    text=True,
                    timeout=120,
                )
                if done.returncode != 0:
                    raise RuntimeError(f"{module}: {done.stderr[-2000:]}")
                if n:
                    results.append(json.loads(done.stdout.strip().splitlines()[-1]))
            med = {k: statistics.median(r[k] for r in results) for k in ("import", "first", "second")}
            both = statistics.median(r["import"] + r["first"] for r in results)
            what = "POST an event; list channels" if name == "api" else "1 notification, HTTP 200"
            rows.append(
                [module, what, round(med["import"]), round(med["first"]), round(both), round(med["second"])]
            )
        return rows
    finally:
        herald.close()


def bundle() -> dict[str, object] | None:
    out = Path(tempfile.mkdtemp(prefix="herald-cdk-"))
    env = {
        **os.environ,
        "CDK_OUTDIR": str(out),
        "JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION": "1",
        "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20",
    }
    try:
        start = time.perf_counter()
        done = subprocess.run(
            [sys.executable, "app.py"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=900
        )
        seconds = time.perf_counter() - start
        if done.returncode != 0:
            print(f"synth failed ({done.returncode}):\n{done.stderr[-2000:]}")
            return None
        assets = [p for p in out.glob("asset.*") if (p / "herald" / "handlers").is_dir()]
        if not assets:
            print("no function code asset found in the synthesized output")
            return None
        asset = assets[0]
        files = [p for p in asset.rglob("*") if p.is_file()]
        raw = sum(p.stat().st_size for p in files)
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            for p in files:
                archive.write(p, p.relative_to(asset))
        packages: dict[str, int] = defaultdict(int)
        for p in files:
            top = p.relative_to(asset).parts[0]
            top = re.sub(r"-[\d.]+(\.dist-info|\.data)$", "", top)
            packages[top] += p.stat().st_size
        return {
            "asset": asset.name,
            "files": len(files),
            "bytes": raw,
            "zipped": buffer.tell(),
            "top": sorted(packages.items(), key=lambda kv: -kv[1])[:8],
            "seconds": seconds,
        }
    finally:
        shutil.rmtree(out, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--no-first-request", action="store_true")
    parser.add_argument("--no-bundle", action="store_true")
    parser.add_argument(
        "--compare",
        type=Path,
        metavar="FUNCTIONS_DIR",
        help="another checkout's functions/ directory: each handler measured there and here, interleaved",
    )
    args = parser.parse_args()
    print(
        f"Cold start ({machine()}), {time.strftime('%Y-%m-%d')}; median of {args.runs} fresh interpreters\n"
    )
    floor = floor_ms(args.runs)
    rows, tops = [], []
    for name in HANDLERS:
        module = f"herald.handlers.{name}"
        result = measure(module, args.runs)
        gap = result["import_ms"] - TARGET_MS  # type: ignore[operator]
        rows.append(
            [
                module,
                round(result["import_ms"], 1),  # type: ignore[arg-type]
                round(result["min_ms"], 1),  # type: ignore[arg-type]
                round(result["wall_ms"], 1),  # type: ignore[arg-type]
                round(result["import_ms"] - floor, 1),  # type: ignore[operator]
                "met" if gap <= 0 else f"NOT met (+{gap:.0f} ms)",
            ]
        )
        tops.append((module, result["top"]))
    print(
        table(
            [
                "handler module",
                "import ms",
                "fastest run ms",
                "process ms over bare python",
                "over the floor ms",
                f"target ≤ {TARGET_MS:.0f} ms",
            ],
            rows,
            "lrrrrl",
        )
    )
    print(
        f"\nThe floor — `import {FLOOR}`, which every handler needs — took {floor:.0f} ms in the same run;"
        " no change to Herald can take a handler below it on this machine."
    )
    if args.compare:
        print(f"\nAgainst {args.compare} (interleaved, median of {args.runs} each):\n")
        cmp_rows = []
        for name in HANDLERS:
            mine, theirs = compare(name, args.compare.resolve(), args.runs)
            cmp_rows.append([f"herald.handlers.{name}", round(theirs), round(mine), f"{mine / theirs:.2f}"])
        print(table(["handler module", "other ms", "this tree ms", "ratio"], cmp_rows, "lrrr"))
    print("\nTop 5 imports by self time (ms, median):\n")
    for module, top in tops:
        print(f"  {module}: " + ", ".join(f"{name} {ms:.1f}" for name, ms in top))  # type: ignore[union-attr]
    if not args.no_first_request:
        print(
            f"\nImport and first requests (fresh interpreters against a moto server; median of {args.runs}):\n"
        )
        print(
            table(
                [
                    "handler module",
                    "requests",
                    "import ms",
                    "1st request ms",
                    "import + 1st ms",
                    "2nd request ms",
                ],
                first_requests(args.runs),
                "llrrrr",
            )
        )
    if args.no_bundle:
        return
    print("\nLambda bundle (python app.py into a temporary CDK_OUTDIR):\n")
    result = bundle()
    if result is None:
        return
    print(
        table(
            ["asset", "files", "MB on disk", "MB zipped", "synth s"],
            [
                [
                    str(result["asset"])[:22] + "…",
                    result["files"],
                    round(result["bytes"] / 1e6, 2),  # type: ignore[operator]
                    round(result["zipped"] / 1e6, 2),  # type: ignore[operator]
                    round(result["seconds"], 1),  # type: ignore[arg-type]
                ]
            ],
            "lrrrr",
        )
    )
    print(
        "\nLargest top-level entries (MB on disk): "
        + ", ".join(f"{k} {v / 1e6:.2f}" for k, v in result["top"])
    )  # type: ignore[union-attr]
    print("Lambda's limits: 250 MB unzipped, 50 MB zipped for a direct upload.")


if __name__ == "__main__":
    main()
