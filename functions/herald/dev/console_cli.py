"""`herald console [--project P]`: print a one-time link that opens the web console signed in.

Asks the API (`POST /api/consoleLinks`) with an API key: `--url` (env HERALD_URL, else
`http://127.0.0.1:$HERALD_PORT`, port 8000 by default) and `--api-key` (env HERALD_API_KEY, else
the `.herald/dev-api-key` that `herald dev` writes). The link works once, for 10 minutes
(`--minutes`), and opens a one-hour session with the key's access.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

from herald import names
from herald.dev.keys_cli import ENV_URL, KeysCliError, admin_key, call_api


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("console", help="print a one-time link that opens the web console")
    parser.add_argument("--project", help="the project the console opens")
    parser.add_argument(
        "--url", default=None, help=f"Herald's API ({ENV_URL}; default http://127.0.0.1:$HERALD_PORT)"
    )
    parser.add_argument(
        "--api-key", default=None, help="the key whose access the console gets (HERALD_API_KEY)"
    )
    parser.add_argument(
        "--minutes", type=int, default=10, help="how long the link may be used (1-60, default 10)"
    )
    parser.set_defaults(func=run)


def default_url() -> str:
    return f"http://127.0.0.1:{os.environ.get(names.ENV_PORT) or 8000}"


def run(args: argparse.Namespace) -> int:
    if not 1 <= args.minutes <= 60:
        print("herald console: --minutes must be between 1 and 60", file=sys.stderr)
        return 2
    if args.url is None and not os.environ.get(ENV_URL):
        args.url = default_url()
    body: dict[str, Any] = {"expiresInSeconds": args.minutes * 60}
    if args.project:
        body["project"] = args.project
    try:
        admin_key(args)  # says clearly when there is none
        link = call_api(args, "POST", "/api/consoleLinks", body)
    except KeysCliError as exc:
        print(f"herald console: {exc}", file=sys.stderr)
        return 1
    print(link["url"])
    print(f"Opens the Herald Console once, until {link['expiresAt']}.", file=sys.stderr)
    return 0
