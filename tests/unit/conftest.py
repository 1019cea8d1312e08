"""Unit fixtures: moto in-process with Herald's real table and queues."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from herald import names
from herald.adapters import aws
from herald.api import auth
from herald.dev.local.resources import LocalResources, create_resources
from herald.domain.settings import Settings, reset_settings
from herald.logic import endpoint_health
from herald.logic.services import Services, build_services, reset_services

SCHEDULE = "0,0"  # three attempts, no waiting


@pytest.fixture
def aws_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    with mock_aws():
        aws.reset_clients()
        yield
    aws.reset_clients()


def install_resources(monkeypatch: pytest.MonkeyPatch, client: Callable[[str], Any]) -> LocalResources:
    """Herald's table, queues, topics and secrets key in moto, and the environment naming them."""
    res = create_resources(
        client("dynamodb"),
        client("sqs"),
        Settings(retry_schedule=(0, 0)),
        sns=client("sns"),
        kms=client("kms"),
    )
    for var, value in {
        **res.environment(),
        names.ENV_RETRY_SCHEDULE: SCHEDULE,
        names.ENV_HTTP_TIMEOUT_SECONDS: "2",
        # Loopback receivers and made-up hosts: the SSRF check has its own tests.
        names.ENV_ALLOW_PRIVATE_TARGETS: "1",
    }.items():
        monkeypatch.setenv(var, value)
    reset_settings()
    reset_services()
    auth.clear_cache()
    endpoint_health.forget()  # channel health cached by an earlier test's process state
    return res


@pytest.fixture
def resources(aws_env: None, monkeypatch: pytest.MonkeyPatch) -> LocalResources:
    return install_resources(monkeypatch, boto3.client)


@pytest.fixture
def services(resources: LocalResources) -> Services:
    from herald.domain.settings import get_settings

    return build_services(get_settings())
