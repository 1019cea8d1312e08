"""Unit fixtures: moto in-process with Herald's real table and queues."""

from __future__ import annotations

from collections.abc import Iterator

import boto3
import pytest
from moto import mock_aws

from herald import aws, names
from herald.api import auth
from herald.local.resources import LocalResources, create_resources
from herald.services import Services, build_services, reset_services
from herald.settings import Settings, reset_settings

SCHEDULE = "0,0"  # three attempts, no waiting


@pytest.fixture
def aws_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    with mock_aws():
        aws.reset_clients()
        yield
    aws.reset_clients()


@pytest.fixture
def resources(aws_env: None, monkeypatch: pytest.MonkeyPatch) -> LocalResources:
    settings = Settings(retry_schedule=(0, 0))
    res = create_resources(boto3.client("dynamodb"), boto3.client("sqs"), settings)
    for var, value in {
        names.ENV_TABLE_NAME: res.table_name,
        names.ENV_EVENTS_QUEUE_URL: res.events_queue_url,
        names.ENV_DELIVERIES_QUEUE_URL: res.deliveries_queue_url,
        names.ENV_RETRY_SCHEDULE: SCHEDULE,
        names.ENV_HTTP_TIMEOUT_SECONDS: "2",
        # The loopback receivers of these tests are private addresses.
        names.ENV_ALLOW_PRIVATE_TARGETS: "1",
    }.items():
        monkeypatch.setenv(var, value)
    reset_settings()
    reset_services()
    auth.clear_cache()
    return res


@pytest.fixture
def services(resources: LocalResources) -> Services:
    from herald.settings import get_settings

    return build_services(get_settings())
