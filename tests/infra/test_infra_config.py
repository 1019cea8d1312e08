"""Context parsing: defaults, `-c` string spellings, and errors that name the key."""

from __future__ import annotations

from pathlib import Path

import aws_cdk as cdk
import pytest

from herald import names
from infra import config as cfg
from infra.config import HeraldConfig, cdk_json_context


def test_cdk_json_defaults_match_the_dataclass_defaults(repo_root: Path) -> None:
    # `python app.py` and tests read cdk.json; a bare HeraldConfig() must mean the same thing.
    assert HeraldConfig.from_mapping(cdk_json_context(repo_root / "cdk.json")) == HeraldConfig()


def test_defaults() -> None:
    config = HeraldConfig()
    assert config.stage == "dev"
    assert not config.is_prod
    assert config.retention_days == names.DEFAULT_RETENTION_DAYS == 30
    assert config.retry_schedule == names.DEFAULT_RETRY_SCHEDULE
    assert config.retry_schedule_env == "5,300,1800,7200,18000,36000,36000"
    assert config.deliveries_max_receive_count == names.max_receive_count(names.DEFAULT_RETRY_SCHEDULE)
    assert config.ses_sender == ""
    assert config.producer_account_ids == config.consumer_account_ids == ()
    assert config.stall_after_seconds == names.DEFAULT_STALL_AFTER_SECONDS == 120
    assert config.alarm_email == ""
    assert config.ingest_encryption == "kms" and config.ingest_uses_kms
    assert config.ingest_default_project == ""
    assert config.log_level == "INFO"
    # Endpoint health: not set, so the runtime's defaults (names.DEFAULT_*) apply.
    assert config.circuit_failure_rate is None and config.circuit_min_attempts is None
    assert config.circuit_consecutive_failures is None and config.circuit_window_seconds is None
    assert config.circuit_cooldown_seconds is None and config.disable_after_seconds is None
    assert config.circuit_env == {}
    assert config.effective_disable_after_seconds == names.DEFAULT_DISABLE_AFTER_SECONDS
    # Routing: broadcast on and the runtime's filter budget, so the filter gets neither variable.
    assert config.broadcast is True and config.routing_budget_seconds is None
    assert config.routing_env == {}
    # The table stays on demand; the capacity bounds apply only to a provisioned table.
    assert config.table_billing_mode == cfg.BILLING_ON_DEMAND == "onDemand"
    assert config.table_capacity is None
    assert (config.table_min_read_capacity, config.table_max_read_capacity) == (5, 1000)
    assert (config.table_min_write_capacity, config.table_max_write_capacity) == (5, 1000)


def test_cli_strings_are_parsed() -> None:
    # `cdk synth -c key=value` delivers strings.
    config = HeraldConfig.from_mapping(
        {
            cfg.KEY_STAGE: "prod",
            cfg.KEY_RETENTION_DAYS: "7",
            cfg.KEY_RETRY_SCHEDULE: " 1, 2 ,3",
            cfg.KEY_SES_SENDER: "Herald <noreply@example.org>",
            cfg.KEY_PRODUCER_ACCOUNT_IDS: "111111111111,222222222222",
            cfg.KEY_CONSUMER_ACCOUNT_IDS: '["333333333333"]',
            cfg.KEY_API_THROTTLE_RATE: "12.5",
            cfg.KEY_API_THROTTLE_BURST: "25",
            cfg.KEY_DELIVER_MAX_CONCURRENCY: "5",
            cfg.KEY_STALL_AFTER_SECONDS: "300",
            cfg.KEY_ALARM_EMAIL: " ops@example.org ",
            cfg.KEY_INGEST_ENCRYPTION: "sqs-managed",
            cfg.KEY_INGEST_DEFAULT_PROJECT: "proj.1",
            cfg.KEY_LOG_LEVEL: "debug",
            cfg.KEY_CIRCUIT_FAILURE_RATE: "0.5",
            cfg.KEY_CIRCUIT_MIN_ATTEMPTS: "20",
            cfg.KEY_CIRCUIT_CONSECUTIVE_FAILURES: "5",
            cfg.KEY_CIRCUIT_WINDOW_SECONDS: "600",
            cfg.KEY_CIRCUIT_COOLDOWN_SECONDS: "900",
            cfg.KEY_DISABLE_AFTER_SECONDS: "86400",
            cfg.KEY_BROADCAST: "False",
            cfg.KEY_ROUTING_BUDGET_SECONDS: " 2.5 ",
            cfg.KEY_TABLE_BILLING_MODE: " provisioned ",
            cfg.KEY_TABLE_MIN_READ_CAPACITY: "1",
            cfg.KEY_TABLE_MAX_READ_CAPACITY: "100",
            cfg.KEY_TABLE_MIN_WRITE_CAPACITY: "10",
            cfg.KEY_TABLE_MAX_WRITE_CAPACITY: "40000",
        }
    )
    assert config == HeraldConfig(
        stage="prod",
        retention_days=7,
        retry_schedule=(1, 2, 3),
        ses_sender="Herald <noreply@example.org>",
        producer_account_ids=("111111111111", "222222222222"),
        consumer_account_ids=("333333333333",),
        api_throttle_rate=12.5,
        api_throttle_burst=25,
        deliver_max_concurrency=5,
        stall_after_seconds=300,
        alarm_email="ops@example.org",
        ingest_encryption="sqs-managed",
        ingest_default_project="proj.1",
        log_level="DEBUG",
        circuit_failure_rate=0.5,
        circuit_min_attempts=20,
        circuit_consecutive_failures=5,
        circuit_window_seconds=600,
        circuit_cooldown_seconds=900,
        disable_after_seconds=86400,
        broadcast=False,
        routing_budget_seconds=2.5,
        table_billing_mode="provisioned",
        table_min_read_capacity=1,
        table_max_read_capacity=100,
        table_min_write_capacity=10,
        table_max_write_capacity=40000,
    )
    assert config.table_capacity == cfg.TableCapacity(min_read=1, max_read=100, min_write=10, max_write=40000)
    assert config.is_prod
    assert not config.ingest_uses_kms
    assert config.deliveries_max_receive_count == 4


def test_json_types_are_parsed_and_null_keeps_the_default() -> None:
    config = HeraldConfig.from_mapping(
        {cfg.KEY_RETRY_SCHEDULE: [10, 20], cfg.KEY_RETENTION_DAYS: 90, cfg.KEY_SES_SENDER: None}
    )
    assert config.retry_schedule == (10, 20)
    assert config.retention_days == 90
    assert config.ses_sender == ""


def test_endpoint_health_settings_are_optional_and_become_the_runtime_variables() -> None:
    # Empty (cdk.json's spelling of "not set", and `-c key=`) keeps the runtime's default.
    unset = HeraldConfig.from_mapping({key: " " for key in _CIRCUIT_KEYS})
    assert unset == HeraldConfig() and unset.circuit_env == {}
    config = HeraldConfig.from_mapping(
        {
            cfg.KEY_CIRCUIT_FAILURE_RATE: 1,
            cfg.KEY_CIRCUIT_COOLDOWN_SECONDS: 30,
            cfg.KEY_DISABLE_AFTER_SECONDS: "7200",
        }
    )
    assert config.circuit_env == {
        names.ENV_CIRCUIT_FAILURE_RATE: "1.0",
        names.ENV_CIRCUIT_COOLDOWN_SECONDS: "30",
        names.ENV_DISABLE_AFTER_SECONDS: "7200",
    }
    assert config.effective_disable_after_seconds == 7200


def test_endpoint_health_values_are_read_back_by_the_runtime() -> None:
    """What CDK writes, herald.domain.settings accepts and reads back as the configured values."""
    from herald.domain.settings import settings_from_env

    config = HeraldConfig.from_mapping(
        {
            cfg.KEY_CIRCUIT_FAILURE_RATE: "0.25",
            cfg.KEY_CIRCUIT_MIN_ATTEMPTS: 3,
            cfg.KEY_CIRCUIT_CONSECUTIVE_FAILURES: 4,
            cfg.KEY_CIRCUIT_WINDOW_SECONDS: 60,
            cfg.KEY_CIRCUIT_COOLDOWN_SECONDS: names.SQS_MAX_DELAY_SECONDS,
            cfg.KEY_DISABLE_AFTER_SECONDS: 1,
        }
    )
    settings = settings_from_env(config.circuit_env)
    assert settings.circuit_failure_rate == 0.25
    assert (settings.circuit_min_attempts, settings.circuit_consecutive_failures) == (3, 4)
    assert (settings.circuit_window_seconds, settings.circuit_cooldown_seconds) == (60, 900)
    assert settings.disable_after_seconds == 1


@pytest.mark.parametrize(
    ("value", "expected"),
    [(True, True), (False, False), ("true", True), ("FALSE", False), (" 1 ", True), ("0", False)],
)
def test_broadcast_accepts_json_and_cli_booleans(value: object, expected: bool) -> None:
    assert HeraldConfig.from_mapping({cfg.KEY_BROADCAST: value}).broadcast is expected


def test_routing_settings_become_filter_variables_only_when_they_differ_from_the_runtime() -> None:
    assert (
        HeraldConfig.from_mapping({cfg.KEY_BROADCAST: True, cfg.KEY_ROUTING_BUDGET_SECONDS: ""}).routing_env
        == {}
    )
    assert HeraldConfig.from_mapping({cfg.KEY_BROADCAST: "false"}).routing_env == {names.ENV_BROADCAST: "0"}
    assert HeraldConfig.from_mapping({cfg.KEY_ROUTING_BUDGET_SECONDS: 4}).routing_env == {
        names.ENV_ROUTING_BUDGET_SECONDS: "4.0"
    }


def test_routing_values_are_read_back_by_the_runtime() -> None:
    """What CDK writes, herald.domain.settings accepts and reads back as the configured values."""
    from herald.domain.settings import settings_from_env

    config = HeraldConfig.from_mapping({cfg.KEY_BROADCAST: "0", cfg.KEY_ROUTING_BUDGET_SECONDS: "0.25"})
    settings = settings_from_env(config.routing_env)
    assert settings.broadcast is False
    assert settings.routing_budget_seconds == 0.25
    # Unset, the runtime's defaults apply: broadcast on, names.DEFAULT_ROUTING_BUDGET_SECONDS.
    defaults = settings_from_env(HeraldConfig().routing_env)
    assert defaults.broadcast is True
    assert defaults.routing_budget_seconds == names.DEFAULT_ROUTING_BUDGET_SECONDS
    # The largest budget CDK accepts is one the runtime accepts too.
    largest = HeraldConfig.from_mapping({cfg.KEY_ROUTING_BUDGET_SECONDS: cfg.MAX_ROUTING_BUDGET_SECONDS})
    assert settings_from_env(largest.routing_env).routing_budget_seconds == cfg.MAX_ROUTING_BUDGET_SECONDS


def test_the_largest_routing_budget_leaves_a_full_filter_batch_room_in_the_timeout() -> None:
    from infra import functions as fns

    spent = cfg.MAX_ROUTING_BUDGET_SECONDS * names.EVENTS_BATCH_SIZE
    assert spent <= fns.FILTER.timeout_seconds - 10
    # The runtime's default fits as well.
    assert names.DEFAULT_ROUTING_BUDGET_SECONDS <= cfg.MAX_ROUTING_BUDGET_SECONDS


@pytest.mark.parametrize(
    ("low", "high", "message"),
    [
        (
            cfg.KEY_TABLE_MIN_READ_CAPACITY,
            cfg.KEY_TABLE_MAX_READ_CAPACITY,
            r"herald:tableMinReadCapacity \(50\) must not exceed herald:tableMaxReadCapacity \(10\)",
        ),
        (
            cfg.KEY_TABLE_MIN_WRITE_CAPACITY,
            cfg.KEY_TABLE_MAX_WRITE_CAPACITY,
            r"herald:tableMinWriteCapacity \(50\) must not exceed herald:tableMaxWriteCapacity \(10\)",
        ),
    ],
)
def test_capacity_minimum_above_maximum_is_rejected(low: str, high: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        HeraldConfig.from_mapping({low: "50", high: "10"})
    # Equal bounds are a fixed capacity.
    fixed = HeraldConfig.from_mapping({low: 10, high: 10})
    assert (getattr(fixed, _FIELDS[low]), getattr(fixed, _FIELDS[high])) == (10, 10)


_FIELDS = {key: field for key, (field, _parse) in cfg._PARSERS.items()}
_CIRCUIT_KEYS = (
    cfg.KEY_CIRCUIT_FAILURE_RATE,
    cfg.KEY_CIRCUIT_MIN_ATTEMPTS,
    cfg.KEY_CIRCUIT_CONSECUTIVE_FAILURES,
    cfg.KEY_CIRCUIT_WINDOW_SECONDS,
    cfg.KEY_CIRCUIT_COOLDOWN_SECONDS,
    cfg.KEY_DISABLE_AFTER_SECONDS,
)


def test_from_context_reads_the_construct_tree() -> None:
    app = cdk.App(context={cfg.KEY_STAGE: "qa", cfg.KEY_RETRY_SCHEDULE: "60"})
    config = HeraldConfig.from_context(app.node)
    assert (config.stage, config.retry_schedule) == ("qa", (60,))


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        (cfg.KEY_RETRY_SCHEDULE, "5,abc,30", r"herald:retrySchedule\[1\]: expected an integer, got 'abc'"),
        (cfg.KEY_RETRY_SCHEDULE, [5, 1.5], r"herald:retrySchedule\[1\]: expected an integer"),
        (cfg.KEY_RETRY_SCHEDULE, "5,-1", r"herald:retrySchedule\[1\]: must be between 0 and 43200"),
        (cfg.KEY_RETRY_SCHEDULE, "50000", r"herald:retrySchedule\[0\]: must be between 0 and 43200"),
        (cfg.KEY_RETRY_SCHEDULE, "", r"herald:retrySchedule: the retry schedule needs at least one delay"),
        (cfg.KEY_RETRY_SCHEDULE, ",".join(["43200"] * 28), r"herald:retrySchedule: .*queue retention"),
        (cfg.KEY_RETRY_SCHEDULE, "[1,", r"herald:retrySchedule: not a valid JSON list"),
        (cfg.KEY_RETENTION_DAYS, "thirty", r"herald:retentionDays: expected an integer, got 'thirty'"),
        (cfg.KEY_RETENTION_DAYS, 0, r"herald:retentionDays: must be between 1 and 3650"),
        (cfg.KEY_RETENTION_DAYS, True, r"herald:retentionDays: expected an integer"),
        (cfg.KEY_STAGE, "Prod!", r"herald:stage: expected lower-case"),
        (cfg.KEY_SES_SENDER, "nobody", r"herald:sesSender: 'nobody' is not an e-mail address"),
        (cfg.KEY_PRODUCER_ACCOUNT_IDS, "12345", r"herald:producerAccountIds: '12345' is not a 12-digit"),
        (cfg.KEY_CONSUMER_ACCOUNT_IDS, [123456789012], r"herald:consumerAccountIds: .* 12-digit"),
        (cfg.KEY_API_THROTTLE_RATE, "0", r"herald:apiThrottleRate: must be > 0"),
        (cfg.KEY_API_THROTTLE_RATE, "fast", r"herald:apiThrottleRate: expected a number"),
        (cfg.KEY_API_THROTTLE_BURST, "0", r"herald:apiThrottleBurst: must be >= 1"),
        (cfg.KEY_DELIVER_MAX_CONCURRENCY, 1, r"herald:deliverMaxConcurrency: must be between 2 and 1000"),
        (cfg.KEY_STALL_AFTER_SECONDS, "30", r"herald:stallAfterSeconds: must be between 60 and 86400"),
        (cfg.KEY_ALARM_EMAIL, "ops", r"herald:alarmEmail: 'ops' is not an e-mail address"),
        (cfg.KEY_ALARM_EMAIL, "Ops <ops@example.org>", r"herald:alarmEmail: .* is not an e-mail address"),
        (cfg.KEY_INGEST_ENCRYPTION, "none", r"herald:ingestEncryption: expected one of kms, sqs-managed"),
        (cfg.KEY_INGEST_DEFAULT_PROJECT, "a b", r"herald:ingestDefaultProject: 'a b' is not a project id"),
        (cfg.KEY_ONECODEX_PROJECT, "a/b", r"herald:onecodexProject: 'a/b' is not a project id"),
        (cfg.KEY_LOG_LEVEL, "loud", r"herald:logLevel: expected one of DEBUG, INFO, WARNING, ERROR"),
        (cfg.KEY_CIRCUIT_FAILURE_RATE, "0", r"herald:circuitFailureRate: must be > 0"),
        (cfg.KEY_CIRCUIT_FAILURE_RATE, 1.5, r"herald:circuitFailureRate: a failure rate is at most 1"),
        (cfg.KEY_CIRCUIT_FAILURE_RATE, "most", r"herald:circuitFailureRate: expected a number"),
        (cfg.KEY_CIRCUIT_MIN_ATTEMPTS, 0, r"herald:circuitMinAttempts: must be >= 1"),
        (cfg.KEY_CIRCUIT_CONSECUTIVE_FAILURES, "ten", r"herald:circuitConsecutiveFailures: expected an"),
        (cfg.KEY_CIRCUIT_WINDOW_SECONDS, "0", r"herald:circuitWindowSeconds: must be >= 1"),
        (cfg.KEY_CIRCUIT_COOLDOWN_SECONDS, 901, r"herald:circuitCooldownSeconds: must be between 1 and 900"),
        (cfg.KEY_DISABLE_AFTER_SECONDS, "-5", r"herald:disableAfterSeconds: must be >= 1"),
        (cfg.KEY_BROADCAST, "maybe", r"herald:broadcast: expected true or false, got 'maybe'"),
        (cfg.KEY_BROADCAST, 2, r"herald:broadcast: expected true or false"),
        (cfg.KEY_ROUTING_BUDGET_SECONDS, "0", r"herald:routingBudgetSeconds: must be > 0"),
        (cfg.KEY_ROUTING_BUDGET_SECONDS, "slow", r"herald:routingBudgetSeconds: expected a number"),
        (cfg.KEY_ROUTING_BUDGET_SECONDS, 5.5, r"herald:routingBudgetSeconds: at most 5 s"),
        (
            cfg.KEY_TABLE_BILLING_MODE,
            "PAY_PER_REQUEST",
            r"herald:tableBillingMode: expected one of onDemand, provisioned",
        ),
        (cfg.KEY_TABLE_BILLING_MODE, "ondemand", r"herald:tableBillingMode: expected one of"),
        (cfg.KEY_TABLE_MIN_READ_CAPACITY, "0", r"herald:tableMinReadCapacity: must be between 1 and 40000"),
        (cfg.KEY_TABLE_MAX_READ_CAPACITY, "lots", r"herald:tableMaxReadCapacity: expected an integer"),
        (cfg.KEY_TABLE_MIN_WRITE_CAPACITY, 2.5, r"herald:tableMinWriteCapacity: expected an integer"),
        (
            cfg.KEY_TABLE_MAX_WRITE_CAPACITY,
            40001,
            r"herald:tableMaxWriteCapacity: must be between 1 and 40000",
        ),
    ],
)
def test_bad_values_raise_naming_the_key(key: str, value: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        HeraldConfig.from_mapping({key: value})


def test_unknown_herald_key_is_rejected() -> None:
    with pytest.raises(ValueError, match=r"unknown context key.*herald:retryschedule"):
        HeraldConfig.from_mapping({"herald:retryschedule": "1,2"})


def test_unknown_key_via_construct_tree_is_rejected() -> None:
    app = cdk.App(context={"herald:retentiondays": "7"})
    with pytest.raises(ValueError, match="herald:retentiondays"):
        HeraldConfig.from_context(app.node)


def test_every_context_key_is_in_cdk_json(repo_root: Path) -> None:
    """cdk.json documents every knob (and `-c` can override each)."""
    in_cdk_json = {k for k in cdk_json_context(repo_root / "cdk.json") if k.startswith(cfg.PREFIX)}
    assert in_cdk_json == set(cfg._PARSERS)


def test_every_context_key_is_in_the_deploy_guide(repo_root: Path) -> None:
    guide = (repo_root / "docs" / "deploy.md").read_text()
    for key in cfg._PARSERS:
        assert f"`{key}`" in guide, key


def test_the_one_codex_project_is_the_key_else_the_ingest_default_else_left_to_the_runtime() -> None:
    assert cfg.HeraldConfig.from_mapping({}).onecodex_env == {}
    fallback = cfg.HeraldConfig.from_mapping({cfg.KEY_INGEST_DEFAULT_PROJECT: "lab"})
    assert fallback.onecodex_env == {names.ENV_ONECODEX_PROJECT: "lab"}
    both = cfg.HeraldConfig.from_mapping(
        {cfg.KEY_INGEST_DEFAULT_PROJECT: "lab", cfg.KEY_ONECODEX_PROJECT: "oc"}
    )
    assert both.onecodex_env == {names.ENV_ONECODEX_PROJECT: "oc"}


@pytest.mark.parametrize(
    ("key", "field", "variable", "value"),
    [
        (cfg.KEY_RETENTION_DAYS, "retention_days", names.ENV_RETENTION_DAYS, names.MIN_RETENTION_DAYS),
        (cfg.KEY_RETENTION_DAYS, "retention_days", names.ENV_RETENTION_DAYS, names.MAX_RETENTION_DAYS),
        (
            cfg.KEY_STALL_AFTER_SECONDS,
            "stall_after_seconds",
            names.ENV_STALL_AFTER_SECONDS,
            names.MAX_STALL_AFTER_SECONDS,
        ),
    ],
)
def test_the_bounds_cdk_accepts_are_read_back_by_the_runtime(
    key: str, field: str, variable: str, value: int
) -> None:
    from herald.domain.settings import settings_from_env

    config = HeraldConfig.from_mapping({key: value})
    assert getattr(settings_from_env({variable: str(getattr(config, field))}), field) == value
