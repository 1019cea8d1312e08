"""Which AWS account Herald runs in, asked of STS (`get-caller-identity`) with the current credentials.

Herald's account is the principal of the resource policies its SQS/SNS targets need
(herald.domain.policy): the API's `GET /api/targetPolicy` and `herald policy` without `--account`
ask here.
"""

from __future__ import annotations

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

# Short timeouts and few retries: a person (or a console page) waits for the answer, and without
# credentials the remedy is theirs (`--account`), not more attempts.
_CONFIG = Config(connect_timeout=5, read_timeout=5, retries={"max_attempts": 2})


class CredentialsUnavailable(RuntimeError):
    """No working AWS credentials to ask STS which account Herald runs in."""


def caller_account_id() -> str:
    """The account of the current AWS credentials. Raises CredentialsUnavailable saying why not."""
    try:
        session = boto3.session.Session()
        client = session.client("sts", region_name=session.region_name or "us-east-1", config=_CONFIG)
        return str(client.get_caller_identity()["Account"])
    except (BotoCoreError, ClientError) as exc:
        raise CredentialsUnavailable(str(exc)) from None
