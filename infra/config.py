"""Deployment configuration: the `herald:*` context keys, parsed and validated in one place.

Values come from `cdk.json` (defaults) and `-c key=value` (overrides). The CDK CLI hands `-c`
values over as strings, so every parser accepts both the JSON type and its string spelling.
A bad value raises `ValueError` naming the context key, before any resource is built.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from herald import names

PREFIX = "herald:"
KEY_STAGE = "herald:stage"
KEY_RETENTION_DAYS = "herald:retentionDays"
KEY_RETRY_SCHEDULE = "herald:retrySchedule"
KEY_SES_SENDER = "herald:sesSender"
KEY_PRODUCER_ACCOUNT_IDS = "herald:producerAccountIds"
KEY_CONSUMER_ACCOUNT_IDS = "herald:consumerAccountIds"
KEY_API_THROTTLE_RATE = "herald:apiThrottleRate"
KEY_API_THROTTLE_BURST = "herald:apiThrottleBurst"
KEY_DELIVER_MAX_CONCURRENCY = "herald:deliverMaxConcurrency"
KEY_STALL_AFTER_SECONDS = "herald:stallAfterSeconds"
KEY_ALARM_EMAIL = "herald:alarmEmail"
KEY_INGEST_ENCRYPTION = "herald:ingestEncryption"
KEY_INGEST_DEFAULT_PROJECT = "herald:ingestDefaultProject"
KEY_ONECODEX_PROJECT = "herald:onecodexProject"
KEY_LOG_LEVEL = "herald:logLevel"
# Endpoint health (optional: empty means the runtime's default in herald.names).
KEY_CIRCUIT_FAILURE_RATE = "herald:circuitFailureRate"
KEY_CIRCUIT_MIN_ATTEMPTS = "herald:circuitMinAttempts"
KEY_CIRCUIT_CONSECUTIVE_FAILURES = "herald:circuitConsecutiveFailures"
KEY_CIRCUIT_WINDOW_SECONDS = "herald:circuitWindowSeconds"
KEY_CIRCUIT_COOLDOWN_SECONDS = "herald:circuitCooldownSeconds"
KEY_DISABLE_AFTER_SECONDS = "herald:disableAfterSeconds"
# Routing (the filter function).
KEY_BROADCAST = "herald:broadcast"
KEY_ROUTING_BUDGET_SECONDS = "herald:routingBudgetSeconds"
# The event store's capacity: on demand, or provisioned with auto scaling (table and both indexes).
KEY_TABLE_BILLING_MODE = "herald:tableBillingMode"
KEY_TABLE_MIN_READ_CAPACITY = "herald:tableMinReadCapacity"
KEY_TABLE_MAX_READ_CAPACITY = "herald:tableMaxReadCapacity"
KEY_TABLE_MIN_WRITE_CAPACITY = "herald:tableMinWriteCapacity"
KEY_TABLE_MAX_WRITE_CAPACITY = "herald:tableMaxWriteCapacity"

PROD_STAGE = "prod"
# The deliveries queue keeps a message at most this long (SQS maximum, 14 days); the whole retry
# schedule must fit well inside it or the last retries would silently expire.
QUEUE_RETENTION_SECONDS = 14 * 24 * 3600
_STAGE_RE = re.compile(r"^[a-z][a-z0-9-]{0,19}$")
_ACCOUNT_RE = re.compile(r"^\d{12}$")
_EMAIL_RE = re.compile(r"^[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+$")
_PROJECT_RE = re.compile(names.PROJECT_ID_PATTERN)

# How the ingest queue, its DLQ and the ingest topic are encrypted at rest.
# - "kms": a dedicated customer-managed key whose policy lets the producer accounts use it through
#   SQS/SNS. AWS also requires each producer's own IAM policy to allow kms:GenerateDataKey* and
#   kms:Decrypt on that key (cross-account KMS needs both sides).
# - "sqs-managed": SSE-SQS on the queues (nothing for producers to grant) and no KMS on the ingest
#   topic, for producers that cannot add KMS permissions on their side.
INGEST_ENCRYPTION_KMS = "kms"
INGEST_ENCRYPTION_SQS_MANAGED = "sqs-managed"
INGEST_ENCRYPTIONS = (INGEST_ENCRYPTION_KMS, INGEST_ENCRYPTION_SQS_MANAGED)
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")
# The stall detector runs once a minute; a shorter threshold could not be honoured.
MIN_STALL_AFTER_SECONDS = 60
# A filter batch is names.EVENTS_BATCH_SIZE events, each allowed this much filter time: 10 x 5 s
# leaves 10 s of the filter function's 60 s timeout for the store and queue calls. (The runtime
# accepts up to 60 s; a batch that outlives its timeout is retried whole, then dead-lettered.)
MAX_ROUTING_BUDGET_SECONDS = 5.0

# The event store's billing (herald:tableBillingMode).
BILLING_ON_DEMAND = "onDemand"
BILLING_PROVISIONED = "provisioned"
BILLING_MODES = (BILLING_ON_DEMAND, BILLING_PROVISIONED)
DEFAULT_MIN_CAPACITY = 5
DEFAULT_MAX_CAPACITY = 1000
# DynamoDB's default quota of provisioned units per table (and per index), reads and writes each.
MAX_TABLE_CAPACITY = 40000


class ContextReader(Protocol):
    """What `from_context` needs of a construct node (`constructs.Node` satisfies it)."""

    def get_all_context(self, defaults: Mapping[str, Any] | None = None) -> Any: ...


def _int(key: str, value: Any, *, minimum: int, maximum: int | None = None) -> int:
    # bool is an int subclass; `true` is never a meaningful count.
    if isinstance(value, bool):
        raise ValueError(f"{key}: expected an integer, got {value!r}")
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, str):
        try:
            value = int(value.strip())
        except ValueError:
            raise ValueError(f"{key}: expected an integer, got {value!r}") from None
    if not isinstance(value, int):
        raise ValueError(f"{key}: expected an integer, got {value!r}")
    if value < minimum or (maximum is not None and value > maximum):
        bound = f"between {minimum} and {maximum}" if maximum is not None else f">= {minimum}"
        raise ValueError(f"{key}: must be {bound}, got {value}")
    return value


def _positive_float(key: str, value: Any) -> float:
    if isinstance(value, bool):
        raise ValueError(f"{key}: expected a number, got {value!r}")
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{key}: expected a number, got {value!r}") from None
    if not number > 0:
        raise ValueError(f"{key}: must be > 0, got {value!r}")
    return number


def _routing_budget(key: str, value: Any) -> float:
    budget = _positive_float(key, value)
    if budget > MAX_ROUTING_BUDGET_SECONDS:
        raise ValueError(
            f"{key}: at most {MAX_ROUTING_BUDGET_SECONDS:g} s ({names.EVENTS_BATCH_SIZE} events to a "
            f"filter batch must fit the filter function's timeout), got {value!r}"
        )
    return budget


def _bool(key: str, value: Any) -> bool:
    """JSON true/false, or its `-c` spelling (`true`/`false`, `1`/`0`, any case)."""
    if isinstance(value, bool):
        return value
    text = value.strip().lower() if isinstance(value, str) else value
    if text in ("true", "1"):
        return True
    if text in ("false", "0"):
        return False
    raise ValueError(f"{key}: expected true or false, got {value!r}")


def _failure_rate(key: str, value: Any) -> float:
    rate = _positive_float(key, value)
    if rate > 1:
        raise ValueError(f"{key}: a failure rate is at most 1, got {value!r}")
    return rate


def _optional(parse: Callable[[str, Any], Any]) -> Callable[[str, Any], Any]:
    """An optional setting: empty (or only spaces) means "not set", the runtime's default."""

    def parse_optional(key: str, value: Any) -> Any:
        if isinstance(value, str) and not value.strip():
            return None
        return parse(key, value)

    return parse_optional


def _list(key: str, value: Any) -> list[Any]:
    """A list from JSON (`[...]`), a JSON string, or a comma-separated string."""
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("["):
            try:
                value = json.loads(text)
            except json.JSONDecodeError as exc:
                raise ValueError(f"{key}: not a valid JSON list: {exc}") from None
        else:
            value = [part.strip() for part in text.split(",") if part.strip()]
    if not isinstance(value, list | tuple):
        raise ValueError(f"{key}: expected a list, got {value!r}")
    return list(value)


def parse_retry_schedule(value: Any, key: str = KEY_RETRY_SCHEDULE) -> tuple[int, ...]:
    """Seconds between delivery attempts; each delay becomes one SQS visibility timeout."""
    entries = _list(key, value)
    if not entries:
        raise ValueError(f"{key}: the retry schedule needs at least one delay")
    schedule = tuple(
        _int(f"{key}[{index}]", entry, minimum=0, maximum=names.SQS_MAX_VISIBILITY_SECONDS)
        for index, entry in enumerate(entries)
    )
    if sum(schedule) >= QUEUE_RETENTION_SECONDS:
        raise ValueError(
            f"{key}: the delays sum to {sum(schedule)} s, beyond the queue retention "
            f"of {QUEUE_RETENTION_SECONDS} s"
        )
    return schedule


def parse_account_ids(value: Any, key: str) -> tuple[str, ...]:
    accounts = []
    for entry in _list(key, value):
        # JSON numbers lose leading zeros, so only strings are accepted.
        account = entry.strip() if isinstance(entry, str) else entry
        if not isinstance(account, str) or not _ACCOUNT_RE.match(account):
            raise ValueError(f"{key}: {entry!r} is not a 12-digit AWS account id (quote it as a string)")
        accounts.append(account)
    return tuple(dict.fromkeys(accounts))


@dataclass(frozen=True)
class TableCapacity:
    """Provisioned capacity units of the table and of each of its indexes (auto scaling bounds)."""

    min_read: int = DEFAULT_MIN_CAPACITY
    max_read: int = DEFAULT_MAX_CAPACITY
    min_write: int = DEFAULT_MIN_CAPACITY
    max_write: int = DEFAULT_MAX_CAPACITY


@dataclass(frozen=True)
class HeraldConfig:
    stage: str = "dev"
    retention_days: int = names.DEFAULT_RETENTION_DAYS
    retry_schedule: tuple[int, ...] = names.DEFAULT_RETRY_SCHEDULE
    ses_sender: str = ""
    producer_account_ids: tuple[str, ...] = ()
    consumer_account_ids: tuple[str, ...] = ()
    api_throttle_rate: float = 100.0
    api_throttle_burst: int = 200
    deliver_max_concurrency: int = 20
    stall_after_seconds: int = names.DEFAULT_STALL_AFTER_SECONDS
    alarm_email: str = ""
    ingest_encryption: str = INGEST_ENCRYPTION_KMS
    ingest_default_project: str = ""
    # The one project the deployment-wide One Codex secret may write to (empty: the ingest default
    # project, else `onecodex`); every other project uses its own inbound webhook secrets.
    onecodex_project: str = ""
    log_level: str = "INFO"
    # None: not set, the deliver function uses names.DEFAULT_* (see circuit_env).
    circuit_failure_rate: float | None = None
    circuit_min_attempts: int | None = None
    circuit_consecutive_failures: int | None = None
    circuit_window_seconds: int | None = None
    circuit_cooldown_seconds: int | None = None
    disable_after_seconds: int | None = None
    broadcast: bool = True
    # None: not set, the filter function uses names.DEFAULT_ROUTING_BUDGET_SECONDS.
    routing_budget_seconds: float | None = None
    table_billing_mode: str = BILLING_ON_DEMAND
    table_min_read_capacity: int = DEFAULT_MIN_CAPACITY
    table_max_read_capacity: int = DEFAULT_MAX_CAPACITY
    table_min_write_capacity: int = DEFAULT_MIN_CAPACITY
    table_max_write_capacity: int = DEFAULT_MAX_CAPACITY

    def __post_init__(self) -> None:
        for low, high, low_key, high_key in (
            (
                self.table_min_read_capacity,
                self.table_max_read_capacity,
                KEY_TABLE_MIN_READ_CAPACITY,
                KEY_TABLE_MAX_READ_CAPACITY,
            ),
            (
                self.table_min_write_capacity,
                self.table_max_write_capacity,
                KEY_TABLE_MIN_WRITE_CAPACITY,
                KEY_TABLE_MAX_WRITE_CAPACITY,
            ),
        ):
            if low > high:
                raise ValueError(f"{low_key} ({low}) must not exceed {high_key} ({high})")

    @property
    def is_prod(self) -> bool:
        return self.stage == PROD_STAGE

    @property
    def ingest_uses_kms(self) -> bool:
        return self.ingest_encryption == INGEST_ENCRYPTION_KMS

    @property
    def deliveries_max_receive_count(self) -> int:
        return names.max_receive_count(self.retry_schedule)

    @property
    def retry_schedule_env(self) -> str:
        """The schedule as the runtime reads it from names.ENV_RETRY_SCHEDULE."""
        return ",".join(str(delay) for delay in self.retry_schedule)

    @property
    def effective_disable_after_seconds(self) -> int:
        if self.disable_after_seconds is None:
            return names.DEFAULT_DISABLE_AFTER_SECONDS
        return self.disable_after_seconds

    @property
    def circuit_env(self) -> dict[str, str]:
        """The endpoint-health settings that are set, as the runtime reads them (herald.domain.settings)."""
        values = {
            names.ENV_CIRCUIT_FAILURE_RATE: self.circuit_failure_rate,
            names.ENV_CIRCUIT_MIN_ATTEMPTS: self.circuit_min_attempts,
            names.ENV_CIRCUIT_CONSECUTIVE_FAILURES: self.circuit_consecutive_failures,
            names.ENV_CIRCUIT_WINDOW_SECONDS: self.circuit_window_seconds,
            names.ENV_CIRCUIT_COOLDOWN_SECONDS: self.circuit_cooldown_seconds,
            names.ENV_DISABLE_AFTER_SECONDS: self.disable_after_seconds,
        }
        return {variable: str(value) for variable, value in values.items() if value is not None}

    @property
    def table_capacity(self) -> TableCapacity | None:
        """The provisioned capacity bounds, or None for an on-demand table."""
        if self.table_billing_mode != BILLING_PROVISIONED:
            return None
        return TableCapacity(
            min_read=self.table_min_read_capacity,
            max_read=self.table_max_read_capacity,
            min_write=self.table_min_write_capacity,
            max_write=self.table_max_write_capacity,
        )

    @property
    def routing_env(self) -> dict[str, str]:
        """The filter function's routing settings that differ from the runtime's defaults."""
        env = {}
        if not self.broadcast:
            env[names.ENV_BROADCAST] = "0"
        if self.routing_budget_seconds is not None:
            env[names.ENV_ROUTING_BUDGET_SECONDS] = str(self.routing_budget_seconds)
        return env

    @property
    def onecodex_env(self) -> dict[str, str]:
        """The api function's One Codex project: the one the deployment-wide secret may write to
        (the runtime's own default order: this key, else the ingest default project, else
        `onecodex`)."""
        project = self.onecodex_project or self.ingest_default_project
        return {names.ENV_ONECODEX_PROJECT: project} if project else {}

    @classmethod
    def from_context(cls, node: ContextReader) -> HeraldConfig:
        # All context, not just the known keys, so a misspelt `-c herald:…` fails loudly.
        return cls.from_mapping(dict(node.get_all_context()))

    @classmethod
    def from_mapping(cls, context: Mapping[str, Any]) -> HeraldConfig:
        """Parse `herald:*` keys; missing or null keys keep their defaults."""
        unknown = sorted(k for k in context if k.startswith(PREFIX) and k not in _PARSERS)
        if unknown:
            raise ValueError(f"unknown context key(s): {', '.join(unknown)}; known: {', '.join(_PARSERS)}")
        values: dict[str, Any] = {}
        for key, (field, parse) in _PARSERS.items():
            raw = context.get(key)
            if raw is not None:
                values[field] = parse(key, raw)
        return cls(**values)


def _stage(key: str, value: Any) -> str:
    if not isinstance(value, str) or not _STAGE_RE.match(value):
        raise ValueError(f"{key}: expected lower-case letters, digits and '-' (max 20), got {value!r}")
    return value


def _email(key: str, value: Any) -> str:
    """An optional plain address: empty means "not configured"."""
    if not isinstance(value, str):
        raise ValueError(f"{key}: expected an e-mail address string, got {value!r}")
    address = value.strip()
    if address and not _EMAIL_RE.match(address):
        raise ValueError(f"{key}: {value!r} is not an e-mail address")
    return address


def _choice(choices: tuple[str, ...], *, upper: bool = False) -> Callable[[str, Any], str]:
    def parse(key: str, value: Any) -> str:
        text = value.strip() if isinstance(value, str) else value
        if isinstance(text, str) and upper:
            text = text.upper()
        if text not in choices:
            raise ValueError(f"{key}: expected one of {', '.join(choices)}, got {value!r}")
        return text

    return parse


def _project(key: str, value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError(f"{key}: expected a project id string, got {value!r}")
    project = value.strip()
    if project and not _PROJECT_RE.match(project):
        raise ValueError(f"{key}: {value!r} is not a project id (letters, digits, '._:-', max 128)")
    return project


def _ses_sender(key: str, value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError(f"{key}: expected an e-mail address string, got {value!r}")
    sender = value.strip()
    if sender and "@" not in sender:
        raise ValueError(f"{key}: {value!r} is not an e-mail address")
    return sender


def _capacity(key: str, value: Any) -> int:
    return _int(key, value, minimum=1, maximum=MAX_TABLE_CAPACITY)


_PARSERS: dict[str, tuple[str, Callable[[str, Any], Any]]] = {
    KEY_STAGE: ("stage", _stage),
    KEY_RETENTION_DAYS: (
        "retention_days",
        lambda k, v: _int(k, v, minimum=names.MIN_RETENTION_DAYS, maximum=names.MAX_RETENTION_DAYS),
    ),
    KEY_RETRY_SCHEDULE: ("retry_schedule", lambda k, v: parse_retry_schedule(v, k)),
    KEY_SES_SENDER: ("ses_sender", _ses_sender),
    KEY_PRODUCER_ACCOUNT_IDS: ("producer_account_ids", lambda k, v: parse_account_ids(v, k)),
    KEY_CONSUMER_ACCOUNT_IDS: ("consumer_account_ids", lambda k, v: parse_account_ids(v, k)),
    KEY_API_THROTTLE_RATE: ("api_throttle_rate", _positive_float),
    KEY_API_THROTTLE_BURST: ("api_throttle_burst", lambda k, v: _int(k, v, minimum=1)),
    # Lambda's SQS maximum concurrency accepts 2..1000.
    KEY_DELIVER_MAX_CONCURRENCY: (
        "deliver_max_concurrency",
        lambda k, v: _int(k, v, minimum=2, maximum=1000),
    ),
    KEY_STALL_AFTER_SECONDS: (
        "stall_after_seconds",
        lambda k, v: _int(k, v, minimum=MIN_STALL_AFTER_SECONDS, maximum=names.MAX_STALL_AFTER_SECONDS),
    ),
    KEY_ALARM_EMAIL: ("alarm_email", _email),
    KEY_INGEST_ENCRYPTION: ("ingest_encryption", _choice(INGEST_ENCRYPTIONS)),
    KEY_INGEST_DEFAULT_PROJECT: ("ingest_default_project", _project),
    KEY_ONECODEX_PROJECT: ("onecodex_project", _project),
    KEY_LOG_LEVEL: ("log_level", _choice(LOG_LEVELS, upper=True)),
    # The same bounds as herald.domain.settings, so a deployed value is never refused at runtime.
    KEY_CIRCUIT_FAILURE_RATE: ("circuit_failure_rate", _optional(_failure_rate)),
    KEY_CIRCUIT_MIN_ATTEMPTS: ("circuit_min_attempts", _optional(lambda k, v: _int(k, v, minimum=1))),
    KEY_CIRCUIT_CONSECUTIVE_FAILURES: (
        "circuit_consecutive_failures",
        _optional(lambda k, v: _int(k, v, minimum=1)),
    ),
    KEY_CIRCUIT_WINDOW_SECONDS: ("circuit_window_seconds", _optional(lambda k, v: _int(k, v, minimum=1))),
    # A circuit's cooldown is a deferral, and SQS delays a message at most 15 minutes.
    KEY_CIRCUIT_COOLDOWN_SECONDS: (
        "circuit_cooldown_seconds",
        _optional(lambda k, v: _int(k, v, minimum=1, maximum=names.SQS_MAX_DELAY_SECONDS)),
    ),
    KEY_DISABLE_AFTER_SECONDS: ("disable_after_seconds", _optional(lambda k, v: _int(k, v, minimum=1))),
    KEY_BROADCAST: ("broadcast", _bool),
    KEY_ROUTING_BUDGET_SECONDS: ("routing_budget_seconds", _optional(_routing_budget)),
    KEY_TABLE_BILLING_MODE: ("table_billing_mode", _choice(BILLING_MODES)),
    KEY_TABLE_MIN_READ_CAPACITY: ("table_min_read_capacity", _capacity),
    KEY_TABLE_MAX_READ_CAPACITY: ("table_max_read_capacity", _capacity),
    KEY_TABLE_MIN_WRITE_CAPACITY: ("table_min_write_capacity", _capacity),
    KEY_TABLE_MAX_WRITE_CAPACITY: ("table_max_write_capacity", _capacity),
}


def cdk_json_context(path: Path) -> dict[str, Any]:
    """The `context` block of cdk.json, so `python app.py` sees what `cdk synth` sees."""
    return dict(json.loads(path.read_text(encoding="utf-8")).get("context", {}))
