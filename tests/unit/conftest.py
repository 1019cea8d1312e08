"""Unit fixtures: moto in-process with Herald's real table and queues."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from herald import names
from herald.adapters import aws
from herald.dev.local.resources import LocalResources
from herald.logic.services import Services, build_services
from tests.support.in_process import install_herald

SCHEDULE = "0,0"  # three attempts, no waiting


@pytest.fixture
def aws_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    with mock_aws():
        aws.reset_clients()
        yield
    aws.reset_clients()


def install_resources(monkeypatch: pytest.MonkeyPatch, client: Callable[[str], Any]) -> LocalResources:
    """Herald's table, queues, topics and secrets key in moto, and the environment naming them
    (undone after the test); a receiver that does not answer within 2 s has failed."""
    return install_herald(
        client, monkeypatch.setenv, SCHEDULE, extra_env={names.ENV_HTTP_TIMEOUT_SECONDS: "2"}
    )


@pytest.fixture
def resources(aws_env: None, monkeypatch: pytest.MonkeyPatch) -> LocalResources:
    return install_resources(monkeypatch, boto3.client)


@pytest.fixture
def services(resources: LocalResources) -> Services:
    from herald.domain.settings import get_settings

    return build_services(get_settings())


@pytest.fixture
def broadcast_consumer(services: Services, monkeypatch: pytest.MonkeyPatch) -> str:
    """A broadcast topic configured for the deployment (settings reset to see it) and a queue
    subscribed to it, as a consumer account's would be; the queue's URL."""
    from herald.domain.settings import reset_settings

    sqs, sns = services.queues.sqs, aws.client("sns")
    topic = sns.create_topic(Name="broadcast")["TopicArn"]
    queue = sqs.create_queue(QueueName="consumer")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn)
    monkeypatch.setenv(names.ENV_BROADCAST_TOPIC_ARN, topic)
    reset_settings()
    return str(queue)
