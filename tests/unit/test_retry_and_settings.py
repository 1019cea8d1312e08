"""The retry schedule and the configuration that carries it."""

from __future__ import annotations

import pytest

from herald import names
from herald.domain import retry
from herald.domain.settings import SettingsError, settings_from_env


@pytest.mark.parametrize(
    ("attempts_made", "expected"),
    [(1, 5), (2, 300), (7, 36000), (8, None)],
    ids=["after-first-5s", "after-second-300s", "after-seventh-last-delay", "after-eighth-exhausted"],
)
def test_default_schedule_delays(attempts_made: int, expected: int | None) -> None:
    assert retry.next_delay(names.DEFAULT_RETRY_SCHEDULE, attempts_made) == expected


def test_empty_schedule_means_a_single_attempt() -> None:
    assert retry.next_delay((), 1) is None


def test_max_receive_count_is_one_per_attempt() -> None:
    assert names.max_receive_count(names.DEFAULT_RETRY_SCHEDULE) == 8


def test_retry_schedule_is_read_from_the_environment() -> None:
    settings = settings_from_env({names.ENV_RETRY_SCHEDULE: "1, 2,3"})
    assert settings.retry_schedule == (1, 2, 3)
    assert settings.max_attempts == 4


def test_malformed_retry_schedule_names_the_variable() -> None:
    with pytest.raises(SettingsError, match="HERALD_RETRY_SCHEDULE must be comma-separated"):
        settings_from_env({names.ENV_RETRY_SCHEDULE: "5,soon"})


def test_delay_beyond_sqs_visibility_limit_is_rejected() -> None:
    with pytest.raises(SettingsError, match=r"HERALD_RETRY_SCHEDULE: .*43200"):
        settings_from_env({names.ENV_RETRY_SCHEDULE: "50000"})


def test_bad_retention_names_the_variable() -> None:
    with pytest.raises(SettingsError, match="HERALD_RETENTION_DAYS"):
        settings_from_env({names.ENV_RETENTION_DAYS: "0"})
