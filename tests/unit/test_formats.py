"""Payload formats (ICA envelope, One Codex webhook) and payload versions (V3, V4)."""

from __future__ import annotations

import json
from datetime import datetime

import pytest

from herald.domain import formats, versions
from herald.domain.models import Channel, ChannelType, Event, PayloadFormat, Subscription
from herald.logic import accept, routing
from herald.logic.services import Services
from tests.unit.builders import channel, subscription


def _event(code: str = "ICA_EXEC_002", payload: dict | None = None) -> Event:
    return Event(
        id="e1",
        projectId="p1",
        eventCode=code,
        description="Analysis success",
        payload=payload or {"status": "SUCCEEDED"},
        correlationId="c1",
        timestamp="2025-10-17T00:08:00.128Z",
        createdAt=0.0,
    )


def _sub(**extra: object) -> Subscription:
    return Subscription(
        id="s1", projectId="p1", eventCode="*", notificationChannelId="c", createdAt="t", **extra
    )


def _channel(**extra: object) -> Channel:
    return Channel(
        id="c", type=ChannelType.HTTP, address="http://x", secret="whsec_AA==", createdAt="t", **extra
    )


def test_onecodex_format_has_its_five_fields() -> None:
    body = json.loads(formats.render(_event(), _sub(format=PayloadFormat.ONECODEX)))
    assert body == {
        "api_version": "v1",
        "event_type": "ICA_EXEC_002",
        "object": {"status": "SUCCEEDED"},
        "object_type": "analysis",
        "triggered_at": "2025-10-17T00:08:00.128Z",
    }
    datetime.fromisoformat(body["triggered_at"])  # RFC 3339


@pytest.mark.parametrize(
    ("code", "object_type"),
    [
        ("analysis.failed", "analysis"),
        ("sample.uploaded", "sample"),
        ("ICA_SMP_002", "sample"),
        ("ICA_DATA_108", "data"),
        ("ICA_CUSTOM_123", "custom"),
    ],
)
def test_object_type_comes_from_the_catalog(code: str, object_type: str) -> None:
    body = json.loads(formats.render(_event(code), _sub(format=PayloadFormat.ONECODEX)))
    assert body["object_type"] == object_type


def test_channel_default_format_applies_unless_the_subscription_chooses() -> None:
    onecodex_channel = _channel(format=PayloadFormat.ONECODEX)
    assert "api_version" in json.loads(formats.render(_event(), _sub(), onecodex_channel))
    assert "correlationId" in json.loads(
        formats.render(_event(), _sub(format=PayloadFormat.ICA), onecodex_channel)
    )


def test_ica_is_the_default_format() -> None:
    assert set(json.loads(formats.render(_event(), _sub()))) == {
        "correlationId",
        "timestamp",
        "eventCode",
        "description",
        "projectId",
        "payloadVersion",
        "payload",
    }


@pytest.mark.parametrize(
    ("subscription_version", "event_version", "delivered"),
    [(None, None, "V4"), ("V3", None, "V3"), (None, "V3", "V3"), ("V4", "V3", "V4")],
    ids=["neither: V4, what is stored", "the subscriber's", "the producer's", "the subscriber's first"],
)
def test_the_envelope_says_which_payload_version_it_carries(
    subscription_version: str | None, event_version: str | None, delivered: str
) -> None:
    event = _event().model_copy(update={"payloadVersion": event_version})
    body = json.loads(formats.render(event, _sub(payloadVersion=subscription_version)))
    assert body["payloadVersion"] == delivered


@pytest.mark.parametrize("status", ["QUEUED", "INITIALIZING", "PREPARING_INPUTS", "GENERATING_OUTPUTS"])
def test_v4_only_analysis_states_are_not_shown_to_v3(status: str) -> None:
    assert versions.view("ICA_EXEC_028", {"status": status}, "V3") is None
    assert versions.view("ICA_EXEC_028", {"status": status}, "V4") == {"status": status}


@pytest.mark.parametrize(
    "status", ["REQUESTED", "IN_PROGRESS", "SUCCEEDED", "FAILED", "FAILED_FINAL", "ABORTED"]
)
def test_v3_states_reach_v3_subscribers(status: str) -> None:
    assert versions.view("ICA_EXEC_028", {"status": status}, "V3") == {"status": status}


def test_versions_only_concern_analysis_events() -> None:
    assert versions.view("ICA_JOB_001", {"status": "QUEUED"}, "V3") == {"status": "QUEUED"}


def test_v3_status_change_subscriber_is_not_notified_of_a_v4_only_state(services: Services) -> None:
    ch = channel(services, "http://127.0.0.1:9/h")
    v3 = subscription(services, ch.id, code="ICA_EXEC_028", payloadVersion="V3")
    v4 = subscription(services, ch.id, code="ICA_EXEC_028", payloadVersion="V4")
    event, _ = accept.accept_event(services, "p1", "ICA_EXEC_028", {"status": "PREPARING_INPUTS"})
    routing.route_event(services, event.id)
    _, notifications = services.events.get_with_notifications(event.id)
    assert {n.subscriptionId for n in notifications} == {v4.id}
    assert v3.id not in {n.subscriptionId for n in notifications}


@pytest.mark.parametrize(
    ("typo", "suggested"),
    [
        ("ICA_EXEC_02", ["ICA_EXEC_002", "ICA_EXEC_027", "ICA_EXEC_028"]),
        ("ica_smp_002", ["ICA_SMP_002"]),
        ("analysis.fail", ["analysis.failed"]),
        ("nothing-like-it", []),
    ],
)
def test_catalog_suggests_the_nearest_codes(typo: str, suggested: list[str]) -> None:
    from herald.domain import catalog

    assert catalog.nearest(typo)[: len(suggested)] == suggested
    if not suggested:
        assert catalog.nearest(typo) == []
