"""Benchmark of the subscription filter engine on ICA's Analysis payload.

Run: ``python bench/bench_filters.py``. Prints, per documented ICA filter: evaluations per second of
the compiled filter, its compile time, and the same filter through jsonpath-ng -- compiled once, and
re-parsed per event -- with the speed-up over each. Numbers are the best of several runs on one core.
"""

from __future__ import annotations

import json
import sys
import timeit
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "functions"))

from jsonpath_ng.ext import parse as jsonpath_ng_parse  # noqa: E402

from herald.filters import compile_filter  # noqa: E402
from herald.filters.compiler import compile_uncached  # noqa: E402

PAYLOAD: dict[str, Any] = json.loads((ROOT / "tests/unit/filters/seed_analysis.json").read_text())

# (label, ICA filter, jsonpath-ng equivalent over [payload] or None when it has no equivalent)
CASES: list[tuple[str, str, str | None]] = [
    ("status ==", "[?($.status == 'SUCCEEDED')]", "$[?(@.status == 'SUCCEEDED')]"),
    (
        "regex && status",
        "[?(($.pipeline.code =~ /Copy.*/) && $.status == 'SUCCEEDED')]",
        "$[?(@.pipeline.code =~ 'Copy.*' & @.status == 'SUCCEEDED')]",
    ),
    ("regex", "[?($.pipeline.code =~ /Copy.*/)]", "$[?(@.pipeline.code =~ 'Copy.*')]"),
    (
        "'Demo' in tags",
        "[?('Demo' in $.pipeline.pipelineTags.technicalTags)]",
        "$[?(@.pipeline.pipelineTags.technicalTags[*] == 'Demo')]",
    ),
    (
        "missing path",
        "[?($.details.owningProjectName == 'my_project_name')]",
        "$[?(@.details.owningProjectName == 'my_project_name')]",
    ),
]


def per_second(function: Callable[[], Any], repeat: int = 5) -> float:
    """Calls per second: best of ``repeat`` runs of at least ~0.2 s each."""
    timer = timeit.Timer(function)
    number, _ = timer.autorange()
    number = max(number, 1)
    best = min(timer.repeat(repeat=repeat, number=number))
    return number / best


def compile_microseconds(expression: str) -> float:
    # Bypass the filter cache so the real parse + closure construction is measured.
    return 1e6 / per_second(lambda: compile_uncached(expression), repeat=3)


def main() -> None:
    warnings.simplefilter("ignore", DeprecationWarning)  # jsonpath-ng's '&'
    rows = []
    for label, expression, ng_expression in CASES:
        compiled = compile_filter(expression)
        assert compiled.matches(PAYLOAD) in (True, False)
        ours = per_second(lambda compiled=compiled: compiled.matches(PAYLOAD))
        compile_us = compile_microseconds(expression)
        ng_compiled = ng_reparsed = None
        if ng_expression is not None:
            document = [PAYLOAD]
            ng_filter = jsonpath_ng_parse(ng_expression)
            ng_compiled = per_second(
                lambda ng_filter=ng_filter, document=document: bool(ng_filter.find(document))
            )
            ng_reparsed = per_second(
                lambda ng_expression=ng_expression, document=document: bool(
                    jsonpath_ng_parse(ng_expression).find(document)
                ),
                repeat=3,
            )
        rows.append((label, ours, compile_us, ng_compiled, ng_reparsed))

    header = (
        f"{'filter':<18} {'evals/s':>12} {'µs/eval':>8} {'compile µs':>11} "
        f"{'ng compiled/s':>14} {'vs ng':>7} {'ng reparse/s':>13} {'vs reparse':>10}"
    )
    print(f"Python {sys.version.split()[0]}, payload {len(json.dumps(PAYLOAD))} bytes, one core\n")
    print(header)
    print("-" * len(header))
    for label, ours, compile_us, ng_compiled, ng_reparsed in rows:
        ng_text = (
            f"{ng_compiled:>14,.0f} {ours / ng_compiled:>6.0f}x" if ng_compiled else f"{'n/a':>14} {'':>7}"
        )
        re_text = (
            f"{ng_reparsed:>13,.0f} {ours / ng_reparsed:>9.0f}x" if ng_reparsed else f"{'n/a':>13} {'':>10}"
        )
        print(f"{label:<18} {ours:>12,.0f} {1e6 / ours:>8.2f} {compile_us:>11.1f} {ng_text} {re_text}")
    target = 300_000
    slowest = min(ours for _, ours, *_ in rows[:2])
    print(
        f"\ntarget ≥ {target:,} evals/s for the first two filters: {'met' if slowest >= target else 'NOT met'}"
    )


if __name__ == "__main__":
    main()
