"""`herald policy sqs|sns --arn ARN [--account ID]`: print the resource policy a target queue or
topic needs so Herald may deliver to it (herald.domain.policy renders it).

Without `--account`, Herald's account is the current AWS credentials' (herald.adapters.sts).
Exit codes: 0 printed, 2 bad input or no account to name (the message says which, on stderr).
"""

from __future__ import annotations

import json
import sys
from typing import Any, TextIO, cast

from herald.domain import policy

EXIT_PRINTED = 0
EXIT_REFUSED = 2


def register(subparsers: Any) -> None:
    """Add `policy` to the `herald` parser's subcommands."""
    parser = subparsers.add_parser(
        "policy", help="print the resource policy a target queue/topic needs for Herald"
    )
    parser.add_argument("kind", choices=["sqs", "sns"])
    parser.add_argument("--arn", required=True, help="the target queue's or topic's ARN")
    parser.add_argument("--account", help="Herald's AWS account id (default: the current credentials')")
    parser.set_defaults(func=lambda args: print_policy(args.kind, args.arn, args.account))


def print_policy(
    kind: str, arn: str, account: str | None, out: TextIO | None = None, err: TextIO | None = None
) -> int:
    """Print the policy to `out` (0) or say on `err` why not (2).

    `out`/`err` default to sys.stdout/sys.stderr at call time (so captured streams work).
    """
    out = out if out is not None else sys.stdout
    err = err if err is not None else sys.stderr
    if kind not in policy.TEMPLATES:
        print(f"herald policy: the target kind must be 'sqs' or 'sns', got {kind!r}", file=err)
        return EXIT_REFUSED
    if account is None:
        # Imported here: boto3 is ~0.2 s that every other `herald` command would pay for.
        from herald.adapters import sts

        try:
            account = sts.caller_account_id()
        except sts.CredentialsUnavailable as exc:
            print(
                "herald policy: cannot tell Herald's AWS account from your credentials "
                f"({exc}); pass --account <12-digit id> (the stack's HeraldAccountId output)",
                file=err,
            )
            return EXIT_REFUSED
    try:
        # A Kind: checked against the templates above.
        rendered = policy.render_policy(cast(policy.Kind, kind), arn, account)
    except policy.PolicyInputError as exc:
        print(f"herald policy: {exc}", file=err)
        return EXIT_REFUSED
    json.dump(rendered, out, indent=2)
    out.write("\n")
    return EXIT_PRINTED
