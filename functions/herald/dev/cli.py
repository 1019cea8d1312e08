"""The `herald` command line."""

from __future__ import annotations

import argparse
import os
import sys

from herald import names
from herald.dev import client_config


def _env_int(name: str, default: int) -> int:
    try:
        return client_config.port_from_env(default, name)
    except client_config.ClientConfigError as exc:
        raise SystemExit(f"herald: {exc}") from None


def _dev(args: argparse.Namespace) -> int:
    from herald.dev.local.runtime import DevConfig, run
    from herald.logic.apikeys import new_key

    key = args.api_key or os.environ.get(names.ENV_API_KEY) or new_key()
    config = DevConfig(
        port=args.port, moto_port=args.moto_port, api_key=key, retry_schedule=args.retry_schedule
    )
    # Written once Herald is up: a second `herald dev` that fails to start (a busy port) must not
    # replace the URL and key of the one that is running.
    return run(config, on_started=lambda url: client_config.write_dev_files(url, key))


def _receive(args: argparse.Namespace) -> int:
    from herald.dev.receiver import serve

    return serve(args.host, args.port, args.secret, args.fail_first, args.status)


def _filter_check(args: argparse.Namespace) -> int:
    from herald.dev.filter_cli import check

    return check(args.expression, args.payload)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="herald", description="Herald event notifications")
    sub = parser.add_subparsers(dest="command", required=True)

    dev = sub.add_parser("dev", help="run the whole service locally (moto server, API, workers)")
    dev.add_argument(
        "--port",
        type=int,
        default=_env_int(names.ENV_PORT, client_config.DEFAULT_PORT),
        help=f"API port (HERALD_PORT; default {client_config.DEFAULT_PORT}); written to "
        f"{client_config.DEV_URL_FILE} for the CLI and the quickstart",
    )
    dev.add_argument(
        "--moto-port",
        type=int,
        default=_env_int(names.ENV_MOTO_PORT, 5000),
        help="moto port, the local AWS endpoint (HERALD_MOTO_PORT; default 5000)",
    )
    dev.add_argument(
        "--api-key",
        help=f"development admin API key (HERALD_API_KEY; random if unset); written to {client_config.DEV_KEY_FILE}",
    )
    dev.add_argument(
        "--retry-schedule", help="seconds between attempts, e.g. 5,300,1800 (HERALD_RETRY_SCHEDULE)"
    )
    dev.set_defaults(func=_dev)

    rec = sub.add_parser("receive", help="a local webhook receiver that prints and verifies deliveries")
    rec.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    rec.add_argument("--port", type=int, default=9000, help="port to listen on (default 9000)")
    rec.add_argument(
        "--secret",
        help="the channel's signing secret (whsec_...), to verify each delivery's signatures "
        "(Standard Webhooks and X-OneCodex-Signature)",
    )
    rec.add_argument("--fail-first", type=int, default=0, help="answer 500 to the first N deliveries")
    rec.add_argument("--status", type=int, default=200, help="HTTP status to answer with (default 200)")
    rec.set_defaults(func=_receive)

    flt = sub.add_parser("filter", help="subscription filters")
    flt_sub = flt.add_subparsers(dest="filter_command", required=True)
    chk = flt_sub.add_parser(
        "check",
        help="validate a filter, and match it against a payload file",
        description="Exit status: 0 valid (no payload given) or a match, 1 no match, 2 an invalid "
        "filter or an unusable payload file.",
    )
    chk.add_argument("expression", help="e.g. \"[?($.status == 'SUCCEEDED')]\"")
    chk.add_argument("payload", nargs="?", help="a JSON file with the event payload")
    chk.set_defaults(func=_filter_check)

    from herald.dev import console_cli, keys_cli, policy_cli

    policy_cli.register(sub)
    keys_cli.register(sub)
    console_cli.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())
