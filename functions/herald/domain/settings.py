"""Runtime settings, parsed once from the environment.

CDK sets these variables on every function; `herald dev` sets them for the local runtime. They
are read lazily (on first use, never at import time) so tests can set the environment first.
"""

from __future__ import annotations

import os
from functools import lru_cache

from pydantic import BaseModel, Field, ValidationError, field_validator

from herald import names


class SettingsError(ValueError):
    """A configuration value is missing or malformed; the message names the variable."""


class Settings(BaseModel):
    table_name: str = names.TABLE_NAME
    events_queue_url: str = ""
    deliveries_queue_url: str = ""
    ordered_deliveries_queue_url: str = ""
    retry_schedule: tuple[int, ...] = names.DEFAULT_RETRY_SCHEDULE
    retention_days: int = Field(
        default=names.DEFAULT_RETENTION_DAYS, ge=names.MIN_RETENTION_DAYS, le=names.MAX_RETENTION_DAYS
    )
    api_base_url: str = ""
    allow_private_targets: bool = False
    http_timeout_seconds: float = Field(default=names.DEFAULT_HTTP_TIMEOUT_SECONDS, gt=0, le=900)
    ses_sender: str = ""
    secrets_key_id: str = ""
    broadcast_topic_arn: str = ""
    broadcast: bool = True
    routing_budget_seconds: float = Field(default=names.DEFAULT_ROUTING_BUDGET_SECONDS, gt=0, le=60)
    onecodex_secret: str = Field(default="", repr=False)
    onecodex_secret_arn: str = ""
    onecodex_project: str = ""
    stall_after_seconds: int = Field(
        default=names.DEFAULT_STALL_AFTER_SECONDS, ge=1, le=names.MAX_STALL_AFTER_SECONDS
    )
    ingest_default_project: str = ""
    circuit_failure_rate: float = Field(default=names.DEFAULT_CIRCUIT_FAILURE_RATE, gt=0, le=1)
    circuit_min_attempts: int = Field(default=names.DEFAULT_CIRCUIT_MIN_ATTEMPTS, ge=1)
    circuit_consecutive_failures: int = Field(default=names.DEFAULT_CIRCUIT_CONSECUTIVE_FAILURES, ge=1)
    circuit_window_seconds: int = Field(default=names.DEFAULT_CIRCUIT_WINDOW_SECONDS, ge=1)
    circuit_cooldown_seconds: int = Field(
        default=names.DEFAULT_CIRCUIT_COOLDOWN_SECONDS, ge=1, le=names.SQS_MAX_DELAY_SECONDS
    )
    disable_after_seconds: int = Field(default=names.DEFAULT_DISABLE_AFTER_SECONDS, ge=1)

    @field_validator("retry_schedule")
    @classmethod
    def _schedule_fits_sqs(cls, value: tuple[int, ...]) -> tuple[int, ...]:
        for delay in value:
            if delay < 0 or delay > names.SQS_MAX_VISIBILITY_SECONDS:
                raise ValueError(
                    f"each delay must be between 0 and {names.SQS_MAX_VISIBILITY_SECONDS} seconds "
                    f"(SQS's longest visibility timeout), got {delay}"
                )
        return value

    @property
    def retention_seconds(self) -> int:
        return self.retention_days * 86400

    @property
    def max_attempts(self) -> int:
        return names.max_receive_count(self.retry_schedule)


_ENV_FIELDS = {
    "table_name": names.ENV_TABLE_NAME,
    "events_queue_url": names.ENV_EVENTS_QUEUE_URL,
    "deliveries_queue_url": names.ENV_DELIVERIES_QUEUE_URL,
    "ordered_deliveries_queue_url": names.ENV_ORDERED_DELIVERIES_QUEUE_URL,
    "retry_schedule": names.ENV_RETRY_SCHEDULE,
    "retention_days": names.ENV_RETENTION_DAYS,
    "api_base_url": names.ENV_API_BASE_URL,
    "allow_private_targets": names.ENV_ALLOW_PRIVATE_TARGETS,
    "http_timeout_seconds": names.ENV_HTTP_TIMEOUT_SECONDS,
    "ses_sender": names.ENV_SES_SENDER,
    "secrets_key_id": names.ENV_SECRETS_KEY_ID,
    "broadcast_topic_arn": names.ENV_BROADCAST_TOPIC_ARN,
    "broadcast": names.ENV_BROADCAST,
    "routing_budget_seconds": names.ENV_ROUTING_BUDGET_SECONDS,
    "onecodex_secret": names.ENV_ONECODEX_SECRET,
    "onecodex_secret_arn": names.ENV_ONECODEX_SECRET_ARN,
    "onecodex_project": names.ENV_ONECODEX_PROJECT,
    "stall_after_seconds": names.ENV_STALL_AFTER_SECONDS,
    "ingest_default_project": names.ENV_INGEST_DEFAULT_PROJECT,
    "circuit_failure_rate": names.ENV_CIRCUIT_FAILURE_RATE,
    "circuit_min_attempts": names.ENV_CIRCUIT_MIN_ATTEMPTS,
    "circuit_consecutive_failures": names.ENV_CIRCUIT_CONSECUTIVE_FAILURES,
    "circuit_window_seconds": names.ENV_CIRCUIT_WINDOW_SECONDS,
    "circuit_cooldown_seconds": names.ENV_CIRCUIT_COOLDOWN_SECONDS,
    "disable_after_seconds": names.ENV_DISABLE_AFTER_SECONDS,
}


def parse_retry_schedule(text: str) -> tuple[int, ...]:
    """`"5,300,1800"` → `(5, 300, 1800)`; an empty string means no retries."""
    text = text.strip()
    if not text:
        return ()
    try:
        return tuple(int(part) for part in text.split(","))
    except ValueError:
        raise SettingsError(
            f"{names.ENV_RETRY_SCHEDULE} must be comma-separated whole seconds, e.g. '5,300,1800'; "
            f"got {text!r}"
        ) from None


def settings_from_env(environ: dict[str, str] | os._Environ[str] | None = None) -> Settings:
    env = os.environ if environ is None else environ
    raw: dict[str, object] = {}
    for field, variable in _ENV_FIELDS.items():
        if variable in env:
            raw[field] = env[variable]
    if isinstance(raw.get("retry_schedule"), str):
        raw["retry_schedule"] = parse_retry_schedule(str(raw["retry_schedule"]))
    try:
        return Settings.model_validate(raw)
    except ValidationError as exc:
        problems = "; ".join(
            f"{_ENV_FIELDS.get(str(err['loc'][0]), err['loc'][0])}: {err['msg']}" for err in exc.errors()
        )
        raise SettingsError(f"invalid Herald configuration: {problems}") from None


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return settings_from_env()


def reset_settings() -> None:
    """Forget the parsed settings (tests and the local runtime change the environment)."""
    get_settings.cache_clear()
