"""Property-based: no request, however malformed, makes the API answer 5xx or break its spec.

Schemathesis generates requests from the OpenAPI document (valid and invalid ones) and sends them
through the real handler (moto in-process). Each answer must be a documented status with a
documented content type and a body matching its schema, never a server error; invalid input must
be refused (4xx) and an undeclared method must be 405. `HERALD_FUZZ_EXAMPLES` (default 12) sets
the examples per operation; `make fuzz` runs the same checks against `herald dev` over HTTP.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from moto import mock_aws
from schemathesis import APIOperation, GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
    unsupported_method,
)

from herald import names
from herald.adapters import aws
from herald.api import auth
from herald.dev.local.resources import create_resources
from herald.domain.settings import Settings, reset_settings
from herald.logic import custom_events
from herald.logic.services import get_services, reset_services
from tests.unit.api.support import ADMIN, wsgi_app

pytestmark = pytest.mark.xdist_group("api-fuzz")
EXAMPLES = int(os.environ.get("HERALD_FUZZ_EXAMPLES", "12"))
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    negative_data_rejection,
    unsupported_method,
    response_headers_conformance,
]

schema = schemathesis.openapi.from_wsgi("/openapi.json", wsgi_app)
# One test per operation, each with its own node id (xdist runs every one of them).
OPERATIONS = [result.ok() for result in schema.get_all_operations()]


@pytest.fixture(scope="module")
def fuzz_env() -> Iterator[None]:
    """One moto world for every generated request: the table, the queues and an admin key."""
    saved = dict(os.environ)
    with mock_aws():
        res = create_resources(aws.client("dynamodb"), aws.client("sqs"), Settings(retry_schedule=(0, 0)))
        os.environ.update(
            {
                names.ENV_TABLE_NAME: res.table_name,
                names.ENV_EVENTS_QUEUE_URL: res.events_queue_url,
                names.ENV_DELIVERIES_QUEUE_URL: res.deliveries_queue_url,
                names.ENV_ALLOW_PRIVATE_TARGETS: "1",  # no DNS lookups of generated host names
            }
        )
        reset_settings()
        reset_services()
        auth.clear_cache()
        custom_events.forget_known_codes()
        auth.register_key(get_services().api_keys, ADMIN, projects=[], admin=True)
        yield
    os.environ.clear()
    os.environ.update(saved)
    reset_settings()
    reset_services()
    auth.clear_cache()


@pytest.mark.parametrize("operation", OPERATIONS, ids=lambda operation: operation.label)
def test_no_request_makes_the_api_fail_or_break_its_spec(operation: APIOperation, fuzz_env: None) -> None:
    valid = operation.as_strategy(GenerationMode.POSITIVE, headers={"X-API-Key": ADMIN})
    invalid = operation.as_strategy(GenerationMode.NEGATIVE, headers={"X-API-Key": ADMIN})

    @given(case=valid | invalid)
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    )
    def answer_is_documented_and_not_an_error(case: schemathesis.Case) -> None:
        response = case.call()
        case.validate_response(response, checks=CHECKS)

    answer_is_documented_and_not_an_error()
