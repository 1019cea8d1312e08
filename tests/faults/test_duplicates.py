"""The same event ingested twice is one event and one delivery, whichever door it came through.

In-process (moto), queues driven like Lambda's event source mappings. The interesting case is a
producer's retry that arrives before the first copy was routed: both copies are then in the
events queue together, as they are when a producer retries within Lambda's batching window.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Callable

import pytest

from herald import names
from herald.api import auth
from herald.dev.local.api_server import proxy_event
from herald.dev.local.lambda_context import LocalContext
from herald.domain.settings import reset_settings
from herald.handlers import api
from herald.logic import accept
from herald.logic.services import reset_services
from tests.faults.conftest import World
from tests.faults.support import FaultReceiver
from tests.unit.api.support import Client
from tests.unit.builders import ANALYSIS, channel, subscription

# A batch whose every record failed publishes no metrics, and Powertools says so.
pytestmark = pytest.mark.filterwarnings("ignore:No application metrics to publish:UserWarning")

ADMIN = "faults-admin"
SECRET = "dup-onecodex-secret"


def _api(world: World, project: str) -> None:
    auth.register_key(world.services.api_keys, ADMIN, projects=[], admin=True, name="admin")
    body = {"eventCode": "ICA_EXEC_002", "payload": ANALYSIS, "id": "run-42"}
    status, accepted = Client(ADMIN).call("POST", f"/api/projects/{project}/events", body)
    assert status == 202, accepted


def _bridge(world: World, project: str) -> None:
    envelope = {
        "correlationId": "c0ffee00-0000-4000-8000-000000000042",
        "timestamp": "2022-10-06T07:51:09.128Z",
        "eventCode": "ICA_EXEC_002",
        "description": "Analysis success",
        "projectId": project,
        "payload": ANALYSIS,
    }
    world.services.queues.sqs.send_message(
        QueueUrl=world.res.ingest_queue_url, MessageBody=json.dumps(envelope)
    )
    assert world.pump.once("ingest") == 1  # each copy ingested on its own, before any routing


def _onecodex(world: World, project: str) -> None:
    """One Codex retrying a webhook: the same body (same `triggered_at`), freshly signed."""
    body = json.dumps(
        {
            "api_version": "v1",
            "event_type": "analysis.failed",
            "object_type": "analysis",
            "object": {"$uri": "/api/v1/analyses/a42", "success": False},
            "triggered_at": "2026-11-20T10:00:00Z",
        }
    ).encode()
    ts = int(time.time())
    signature = hmac.new(SECRET.encode(), f"{ts}.".encode() + body, hashlib.sha256).hexdigest()
    headers = {"Content-Type": "application/json", "X-OneCodex-Signature": f"t={ts},v1={signature}"}
    event = proxy_event("POST", f"/webhooks/onecodex?project={project}", headers, body)
    result = api.handler(event, LocalContext("api"))
    assert result["statusCode"] == 202, result


DOORS: dict[str, tuple[str, Callable[[World, str], None]]] = {
    "api-idempotency-id": ("ICA_EXEC_002", _api),
    "bridge-correlation-id": ("ICA_EXEC_002", _bridge),
    "onecodex-retry": ("analysis.failed", _onecodex),
}


@pytest.fixture
def onecodex_secret(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(names.ENV_ONECODEX_SECRET, SECRET)
    monkeypatch.setenv(names.ENV_ONECODEX_PROJECT, "p1")  # the one project that secret may write to
    reset_settings()
    reset_services()


@pytest.mark.parametrize("door", list(DOORS))
def test_the_same_event_ingested_again_after_routing_is_delivered_once(
    world: World, faulty: FaultReceiver, onecodex_secret: None, door: str
) -> None:
    code, ingest_once = DOORS[door]
    subscription(world.services, channel(world.services, faulty.url).id, code=code)

    ingest_once(world, "p1")
    world.pump.drain()
    ingest_once(world, "p1")
    world.pump.drain()

    assert len(world.services.events.list_page("p1", 10, None, now=time.time()).items) == 1
    assert list(faulty.answered_ok().values()) == [1]


@pytest.mark.parametrize("door", DOORS)
def test_the_same_event_ingested_twice_before_routing_is_delivered_once(
    world: World, faulty: FaultReceiver, onecodex_secret: None, door: str
) -> None:
    code, ingest_once = DOORS[door]
    subscription(world.services, channel(world.services, faulty.url).id, code=code)

    ingest_once(world, "p1")
    ingest_once(world, "p1")
    world.pump.drain()

    [event] = world.services.events.list_page("p1", 10, None, now=time.time()).items
    [notification] = world.services.events.get_with_notifications(event.id)[1]
    assert notification.status == "success"
    assert faulty.answered_ok() == {notification.id: 1}


def test_two_copies_of_one_event_in_the_events_queue_make_one_notification(
    world: World, faulty: FaultReceiver
) -> None:
    """What holds today despite the double routing: one event, one notification, delivered."""
    subscription(world.services, channel(world.services, faulty.url).id)
    first, created = accept.accept_event(world.services, "p1", "ICA_EXEC_002", ANALYSIS, client_id="x-1")
    again, created_again = accept.accept_event(
        world.services, "p1", "ICA_EXEC_002", ANALYSIS, client_id="x-1"
    )
    assert (first.id, created, created_again) == (again.id, True, False)

    world.pump.drain()

    stored, notifications = world.services.events.get_with_notifications(first.id, consistent=True)
    assert stored.status == "success"
    assert len(notifications) == 1 and notifications[0].status == "success"
    assert set(faulty.answered_ok()) == {notifications[0].id}
