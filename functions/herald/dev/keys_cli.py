"""`herald keys create|list|revoke`: manage API keys through the HTTP API, or directly in DynamoDB.

Through the API (the default) against a running `herald dev` or a deployment:

    herald keys create --project P --project Q --name ci     # prints the new key once (JSON)
    herald keys list
    herald keys revoke <keyId>

Where and as whom, as every client subcommand finds Herald (herald.dev.client_config): `--url`, else
HERALD_URL, else HERALD_PORT (`http://127.0.0.1:<port>`, as `herald dev` reads it), else the URL
`herald dev` wrote to `.herald/dev-url`, else http://127.0.0.1:8000; `--api-key`, else
HERALD_API_KEY, else `.herald/dev-api-key`. The key must be an admin key.

`--direct --table <name>` bootstraps a fresh deployment that has no admin key yet: it writes the
key straight into Herald's DynamoDB table with the caller's AWS credentials (region and profile
from the usual AWS configuration), e.g. `herald keys create --admin --direct --table <TableName>`.
"""

from __future__ import annotations

import argparse
import json
import sys
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

from herald import names
from herald.dev import client_config

ENV_URL = client_config.ENV_URL
ENV_API_KEY = names.ENV_API_KEY
DEV_KEY_FILE = client_config.DEV_KEY_FILE
DEV_URL_FILE = client_config.DEV_URL_FILE
TIMEOUT_SECONDS = 30


class KeysCliError(Exception):
    """A failure to report on stderr (exit status 1)."""


def register(subparsers: Any) -> None:
    """Add the `keys` command group to the `herald` parser's subcommands."""
    keys = subparsers.add_parser("keys", help="API keys: create, list, revoke (admin)")
    commands = keys.add_subparsers(dest="keys_command", required=True)

    def target(direct_help: str) -> argparse.ArgumentParser:
        """The options every keys command shares; only what --direct does differs."""
        common = argparse.ArgumentParser(add_help=False)
        common.add_argument(
            "--url",
            default=None,
            help=f"Herald's API (else {ENV_URL}, else {names.ENV_PORT} on 127.0.0.1, else the URL "
            f"`herald dev` wrote to {DEV_URL_FILE}, else {client_config.DEFAULT_URL})",
        )
        common.add_argument(
            "--api-key", default=None, help=f"an admin key (else {ENV_API_KEY}, else {DEV_KEY_FILE})"
        )
        common.add_argument("--direct", action="store_true", help=direct_help)
        common.add_argument("--table", help="with --direct: the name of Herald's DynamoDB table")
        return common

    create = commands.add_parser(
        "create",
        parents=[
            target("write the key into the DynamoDB table itself with your AWS credentials (bootstrap)")
        ],
        help="create a key and print it (once)",
    )
    create.add_argument(
        "--project", action="append", default=[], dest="projects", help="a project the key may use (repeat)"
    )
    create.add_argument("--admin", action="store_true", help="an admin key: every project, and keys")
    create.add_argument("--name", default="", help="a label to recognise the key by")
    create.set_defaults(func=run_create)

    lister = commands.add_parser(
        "list",
        parents=[target("read the DynamoDB table itself with your AWS credentials")],
        help="list keys (never the keys themselves)",
    )
    lister.set_defaults(func=run_list)

    revoke = commands.add_parser(
        "revoke",
        parents=[target("delete the key from the DynamoDB table itself with your AWS credentials")],
        help="revoke a key by its keyId",
    )
    revoke.add_argument("key_id", help="the keyId shown by create and list")
    revoke.set_defaults(func=run_revoke)


# --- commands -----------------------------------------------------------------------------------
def run_create(args: argparse.Namespace) -> int:
    body = {"projects": args.projects, "admin": args.admin, "name": args.name}
    return _run(
        args, lambda: _direct_create(args, body) if args.direct else call_api(args, "POST", "/api/keys", body)
    )


def run_list(args: argparse.Namespace) -> int:
    return _run(args, lambda: _direct_list(args) if args.direct else _list_all(args))


def run_revoke(args: argparse.Namespace) -> int:
    def revoke() -> dict[str, Any]:
        if args.direct:
            return _direct_revoke(args)
        call_api(args, "DELETE", f"/api/keys/{urllib.parse.quote(args.key_id, safe='')}")
        return {"revoked": args.key_id}

    return _run(args, revoke)


def _run(args: argparse.Namespace, action: Any) -> int:
    try:
        result = action()
    except KeysCliError as exc:
        print(f"herald keys: {exc}", file=sys.stderr)
        return 1
    print(json.dumps(result, indent=2))
    if args.keys_command == "create":
        print("The key is shown only now; Herald keeps only its hash.", file=sys.stderr)
    return 0


# --- through the HTTP API -----------------------------------------------------------------------
def _target(args: argparse.Namespace) -> client_config.Target:
    try:
        return client_config.api_target(args.url)
    except client_config.ClientConfigError as exc:
        raise KeysCliError(str(exc)) from None


def admin_key(args: argparse.Namespace) -> str:
    key = client_config.api_key(args.api_key)
    if key:
        return key
    raise KeysCliError(
        f"no API key: pass --api-key, set {ENV_API_KEY}, or run where `herald dev` wrote {DEV_KEY_FILE}"
    )


def call_api(args: argparse.Namespace, method: str, path: str, body: Any = None) -> Any:
    target = _target(args)
    url = target.url + path
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method)
    request.add_header("Content-Type", "application/json")
    request.add_header("X-API-Key", admin_key(args))
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:
            raw = response.read()
    except urllib.error.HTTPError as err:
        raise KeysCliError(f"{method} {url}: HTTP {err.code}: {_error_message(err.read())}") from None
    except urllib.error.URLError as err:
        raise KeysCliError(
            f"{method} {url}: {err.reason} (is Herald running there? The URL came from {target.source}; "
            f"--url, {ENV_URL} or {names.ENV_PORT} choose another)"
        ) from None
    return json.loads(raw) if raw else None


def _error_message(raw: bytes) -> str:
    try:
        error = json.loads(raw)["error"]
        return str(error["message"])
    except (ValueError, KeyError, TypeError):
        return raw.decode(errors="replace")[:500]


def _list_all(args: argparse.Namespace) -> dict[str, Any]:
    items: list[Any] = []
    cursor: str | None = None
    while True:
        query = "?limit=100" + (f"&cursor={urllib.parse.quote(cursor)}" if cursor else "")
        page = call_api(args, "GET", f"/api/keys{query}")
        items.extend(page["items"])
        cursor = page.get("nextCursor")
        if not cursor:
            return {"items": items}


# --- directly in DynamoDB (bootstrap) -----------------------------------------------------------
def _store(args: argparse.Namespace) -> Any:
    if not args.table:
        raise KeysCliError("--direct needs --table <Herald's DynamoDB table name>")
    from herald.dal.apikeys import ApiKeyStore
    from herald.dal.codec import Table

    # Retention does not apply to keys; the table wants a value.
    return ApiKeyStore(Table(args.table, retention_seconds=86400))


def _direct_create(args: argparse.Namespace, body: dict[str, Any]) -> dict[str, Any]:
    from pydantic import ValidationError

    from herald.api.schemas import KeyIn
    from herald.logic import apikeys

    try:
        valid = KeyIn.model_validate(body)
    except ValidationError as exc:
        raise KeysCliError(
            "; ".join(str(e["msg"]).removeprefix("Value error, ") for e in exc.errors())
        ) from None
    store = _store(args)
    secret, record = _aws(lambda: apikeys.create(store, valid.projects, valid.admin, valid.name))
    return {**_public(record), "key": secret}


def _direct_list(args: argparse.Namespace) -> dict[str, Any]:
    store = _store(args)
    items: list[dict[str, Any]] = []
    cursor = None
    while True:
        page = _aws(lambda after=cursor: store.list_page(100, after))
        items.extend(_public(k) for k in page.items)
        cursor = page.cursor
        if not cursor:
            return {"items": items}


def _direct_revoke(args: argparse.Namespace) -> dict[str, Any]:
    from herald.logic import apikeys

    store = _store(args)
    record = _aws(lambda: apikeys.revoke(store, args.key_id))
    if record is None:
        raise KeysCliError(f"no key with id {args.key_id}")
    return {"revoked": args.key_id}


def _aws(call: Any) -> Any:
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        return call()
    except (BotoCoreError, ClientError) as exc:
        raise KeysCliError(f"DynamoDB: {exc}") from None


def _public(record: Any) -> dict[str, Any]:
    return {
        "keyId": record.keyId,
        "name": record.name,
        "projects": record.projects,
        "admin": record.admin,
        "createdAt": record.createdAt,
    }


def main(argv: list[str] | None = None) -> int:
    """`python -m herald.dev.keys_cli create …`: the same commands before `herald keys` is wired in."""
    parser = argparse.ArgumentParser(prog="herald")
    register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["keys", *(sys.argv[1:] if argv is None else argv)])
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())
