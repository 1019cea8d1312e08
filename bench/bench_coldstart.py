"""Cold start: import time of each Lambda handler module, and the size of the Lambda bundle.

Run: ``python bench/bench_coldstart.py [--runs N] [--no-bundle]``.

1. Each ``herald.handlers.<name>`` is imported in a fresh interpreter with ``-X importtime``, N
   times (the first run, which may compile .pyc files, is dropped). Reported: the module's
   cumulative import time (median), the process's wall time minus a bare interpreter's, and the 5
   imports with the most self time. Target: ≤ 350 ms per handler module.
2. ``python app.py`` synthesizes the stack into a temporary directory (CDK_OUTDIR; the repo's
   cdk.out is left alone), bundling the functions' code as a deploy would (pip, manylinux
   aarch64 wheels); reported: the code asset's size on disk, zipped (deflate, as CDK uploads
   it), and its largest top-level packages.
"""

from __future__ import annotations

import argparse
import io
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

from _common import ROOT, machine, table

HANDLERS = ("api", "filter", "deliver", "reprocess", "ingest", "scheduled")
TARGET_MS = 350.0
_LINE = re.compile(r"^import time:\s+(\d+)\s+\|\s+(\d+)\s+\|(\s*)(\S+)$")


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "PYTHON"))}
    env.update(
        {
            "PYTHONPATH": str(ROOT / "functions"),
            "AWS_DEFAULT_REGION": "us-east-1",
            "POWERTOOLS_SERVICE_NAME": "herald",
            "POWERTOOLS_METRICS_NAMESPACE": "Herald",
        }
    )
    return env


def _wall(code: str, importtime: bool) -> tuple[float, str]:
    args = [sys.executable, *(["-X", "importtime"] if importtime else []), "-c", code]
    start = time.perf_counter()
    done = subprocess.run(args, env=_env(), capture_output=True, text=True, check=True, timeout=120)
    return time.perf_counter() - start, done.stderr


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
        "wall_ms": statistics.median(walls) * 1000,
        "top": [(name, us / 1000) for us, name in top],
    }


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
    parser.add_argument("--no-bundle", action="store_true")
    args = parser.parse_args()
    print(
        f"Cold start ({machine()}), {time.strftime('%Y-%m-%d')}; median of {args.runs} fresh interpreters\n"
    )
    rows, tops = [], []
    for name in HANDLERS:
        module = f"herald.handlers.{name}"
        result = measure(module, args.runs)
        gap = result["import_ms"] - TARGET_MS  # type: ignore[operator]
        rows.append(
            [
                module,
                round(result["import_ms"], 1),  # type: ignore[arg-type]
                round(result["wall_ms"], 1),  # type: ignore[arg-type]
                "met" if gap <= 0 else f"NOT met (+{gap:.0f} ms)",
            ]
        )
        tops.append((module, result["top"]))
    print(
        table(
            ["handler module", "import ms", "process ms over bare python", f"target ≤ {TARGET_MS:.0f} ms"],
            rows,
            "lrrl",
        )
    )
    print("\nTop 5 imports by self time (ms, median):\n")
    for module, top in tops:
        print(f"  {module}: " + ", ".join(f"{name} {ms:.1f}" for name, ms in top))  # type: ignore[union-attr]
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
