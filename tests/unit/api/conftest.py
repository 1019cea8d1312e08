"""API fixtures: moto in-process, keys of each kind, and clients holding them."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from moto import mock_aws

from herald.adapters import aws
from herald.api import auth
from herald.dev.local.resources import LocalResources
from herald.logic import custom_events
from herald.logic.services import Services
from tests.unit.api.support import ADMIN, P1_KEY, P2_KEY, P12_KEY, Client
from tests.unit.conftest import install_resources


@pytest.fixture
def aws_env() -> Iterator[None]:
    """moto for one test, keeping the process's boto3 clients (as a warm Lambda does).

    moto intercepts every client made after it was imported, so the clients can outlive one
    mock; building them is most of a test's cost (~90 ms each).
    """
    with mock_aws():
        yield


@pytest.fixture
def resources(aws_env: None, monkeypatch: pytest.MonkeyPatch) -> LocalResources:
    """Herald's resources, made with the process's cached clients."""
    return install_resources(monkeypatch, aws.client)


@pytest.fixture(autouse=True)
def _fresh_process_caches() -> Iterator[None]:
    custom_events.forget_known_codes()
    auth.clear_cache()
    yield
    custom_events.forget_known_codes()
    auth.clear_cache()


@pytest.fixture
def keys(services: Services) -> Services:
    auth.register_key(services.api_keys, ADMIN, projects=[], admin=True, name="admin")
    auth.register_key(services.api_keys, P1_KEY, projects=["p1"], admin=False, name="p1")
    auth.register_key(services.api_keys, P2_KEY, projects=["p2"], admin=False, name="p2")
    auth.register_key(services.api_keys, P12_KEY, projects=["p1", "p2"], admin=False, name="p1+p2")
    return services


@pytest.fixture
def admin(keys: Services) -> Client:
    return Client(ADMIN)


@pytest.fixture
def p1(keys: Services) -> Client:
    return Client(P1_KEY)


@pytest.fixture
def p2(keys: Services) -> Client:
    return Client(P2_KEY)
