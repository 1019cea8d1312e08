"""The bridge in: ICA envelopes from the ingest queue, directly or wrapped by SNS."""

from __future__ import annotations

import json

import pytest

from herald import names
from herald.domain.settings import get_settings, reset_settings
from herald.logic import bridge
from herald.logic.services import Services, build_services
from tests import events

ENVELOPE = {
    "correlationId": "2471d3e2-f3b9-434c-ae83-c7c7d3dcb4e0",
    "timestamp": "2022-10-06T07:51:09.128Z",
    "eventCode": "ICA_DATA_100",
    "description": "Data updates",
    "payload": {"id": "fil.8f6f9511d70e4036c60908daa70ea21c", "projectId": "prj-1"},
}


def test_seed_envelope_becomes_an_event_of_its_project(services: Services) -> None:
    accepted = bridge.ingest_message(services, json.dumps(ENVELOPE))
    event = accepted.event
    assert accepted.created and accepted.duplicate is None
    assert (event.projectId, event.eventCode, event.correlationId, event.timestamp, event.description) == (
        "prj-1",
        "ICA_DATA_100",
        ENVELOPE["correlationId"],
        "2022-10-06T07:51:09.128Z",
        "Data updates",
    )


def test_sns_notification_wrapper_is_unwrapped(services: Services) -> None:
    wrapped = {
        "Type": "Notification",
        "MessageId": "m",
        "TopicArn": "arn:aws:sns:us-east-1:1:t",
        "Message": json.dumps(ENVELOPE),
    }
    event = bridge.ingest_message(services, json.dumps(wrapped)).event
    assert event.payload == ENVELOPE["payload"]


def test_redelivered_envelope_is_one_event_recognised_by_its_correlation_id(services: Services) -> None:
    first = bridge.ingest_message(services, json.dumps(ENVELOPE)).event
    again = bridge.ingest_message(services, json.dumps(ENVELOPE))
    assert (again.event.id, again.created) == (first.id, False)
    assert again.duplicate is not None
    assert (again.duplicate.rule, again.duplicate.matched) == ("correlation_id", ENVELOPE["correlationId"])
    assert f"recognised as event {first.id}" in again.duplicate.message
    assert "(a redelivery)" in again.duplicate.message


@pytest.mark.parametrize(
    ("extra", "payload", "project"),
    [
        ({"projectId": "env-p"}, {"projectId": "pay-p"}, "env-p"),
        ({}, {"project": {"id": "nested-p"}}, "nested-p"),
        ({}, {"details": {"owningProjectId": "owner-p"}}, "owner-p"),
    ],
    ids=["envelope-first", "payload-project-id", "details-owning-project"],
)
def test_project_is_found_in_the_envelope_or_payload(
    services: Services, extra: dict, payload: dict, project: str
) -> None:
    event = bridge.ingest_message(services, json.dumps({**ENVELOPE, **extra, "payload": payload})).event
    assert event.projectId == project


def test_envelope_without_a_project_is_refused_naming_the_fix(services: Services) -> None:
    with pytest.raises(bridge.BridgeError, match="set HERALD_INGEST_DEFAULT_PROJECT"):
        bridge.ingest_message(services, json.dumps({**ENVELOPE, "payload": {"id": "x"}}))


def test_default_project_catches_envelopes_without_one(
    services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(names.ENV_INGEST_DEFAULT_PROJECT, "fallback")
    reset_settings()
    event = bridge.ingest_message(
        build_services(get_settings()), json.dumps({**ENVELOPE, "payload": {}})
    ).event
    assert event.projectId == "fallback"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("not json", "not JSON"),
        (json.dumps({"eventCode": "X", "payload": {}}), "correlationId"),
        (json.dumps({**ENVELOPE, "payload": [1]}), "payload"),
    ],
    ids=["not-json", "no-correlation-id", "payload-not-object"],
)
def test_malformed_message_is_refused(services: Services, body: str, message: str) -> None:
    with pytest.raises(bridge.BridgeError, match=message):
        bridge.ingest_message(services, body)


def test_the_ingest_function_logs_which_event_a_redelivery_was_recognised_as(
    services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    from herald.dev.local.lambda_context import LocalContext
    from herald.handlers import bridge as bridge_handler

    logged: list[tuple[str, dict]] = []
    monkeypatch.setattr(bridge_handler.logger, "info", lambda msg, **kw: logged.append((msg, kw)))
    sample = events.load("sqs_bridge")  # ICA's seed envelope, straight to the ingest queue
    [record] = sample["Records"]
    for _ in range(2):  # SQS delivered the same envelope twice
        bridge_handler.handler(sample, LocalContext("ingest"), services=services)
    [(message, fields)] = [(m, f) for m, f in logged if "recognised" in m]
    assert message == "bridged message recognised as an existing event"
    assert (fields["rule"], fields["matched"], fields["message_id"]) == (
        "correlation_id",
        json.loads(record["body"])["correlationId"],
        record["messageId"],
    )
