"""``herald filter check '<expr>' [payload.json]``: validate a filter and optionally try it on a payload.

Exit codes: 0 valid (no payload) or match, 1 no match, 2 invalid filter or unusable payload file.
Wired into the ``herald`` command elsewhere; ``python -m herald.dev.filter_cli check ...`` also works.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any, TextIO

from herald.filters.compiler import compile_filter
from herald.filters.errors import FilterSyntaxError

EXIT_MATCH = 0
EXIT_NO_MATCH = 1
EXIT_INVALID = 2


def check(
    expression: str, payload_path: str | None, out: TextIO = sys.stdout, err: TextIO = sys.stderr
) -> int:
    """Print ``valid``/``invalid`` and, given a payload file (``-`` for stdin), ``match``/``no match``."""
    try:
        compiled = compile_filter(expression)
    except FilterSyntaxError as exc:
        print("invalid", file=out)
        print(f"error: {exc}", file=out)
        print(exc.caret(), file=out)
        return EXIT_INVALID
    print("valid", file=out)
    if payload_path is None:
        return EXIT_MATCH
    try:
        payload = _read_payload(payload_path)
    except _PayloadError as exc:
        print(f"error: {exc}", file=err)
        return EXIT_INVALID
    result = compiled.evaluate(payload)
    if result.matched:
        print("match", file=out)
        return EXIT_MATCH
    print("no match", file=out)
    if result.error:
        print(f"reason: {result.error}", file=out)
    return EXIT_NO_MATCH


class _PayloadError(Exception):
    pass


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def _read_payload(payload_path: str) -> Any:
    try:
        text = sys.stdin.read() if payload_path == "-" else Path(payload_path).read_text(encoding="utf-8")
    except OSError as exc:
        raise _PayloadError(f"cannot read the payload file {payload_path}: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise _PayloadError(f"the payload file {payload_path} is not UTF-8 text") from None
    try:
        return json.loads(text, parse_constant=_reject_constant)
    except ValueError as exc:
        raise _PayloadError(f"the payload file {payload_path} is not valid JSON: {exc}") from None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="herald filter", description="Check a Jayway/ICA filter expression."
    )
    commands = parser.add_subparsers(dest="command", required=True)
    check_parser = commands.add_parser("check", help="validate a filter and optionally test it on a payload")
    check_parser.add_argument("expression", help="the filter, e.g. \"[?($.status == 'SUCCEEDED')]\"")
    check_parser.add_argument("payload", nargs="?", help="a JSON payload file ('-' for stdin)")
    args = parser.parse_args(argv)
    return check(args.expression, args.payload, out=sys.stdout, err=sys.stderr)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
