"""AWS failing under Herald: DynamoDB throttling and SQS errors injected into the boto3 calls the
handlers make. A failed record is retried (batch item failure), and nothing is lost.

In-process (moto). `world.ddb` / `world.sqs` inject errors before botocore's retry loop, i.e.
faults that outlasted the SDK's own retries; one test goes below it to show the SDK absorbing a
short burst of throttling by itself.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from botocore.awsrequest import AWSResponse
from botocore.exceptions import EndpointConnectionError

from herald.api import auth
from herald.dev.local.lambda_context import LocalContext
from herald.domain import clock
from herald.domain.models import NotificationStatus
from herald.handlers import scheduled
from herald.logic import accept
from tests.faults.conftest import World
from tests.faults.support import FaultReceiver, client_error
from tests.unit.api.support import Client
from tests.unit.builders import ANALYSIS, channel, subscription

# A batch whose every record failed publishes no metrics, and Powertools says so.
pytestmark = pytest.mark.filterwarnings("ignore:No application metrics to publish:UserWarning")

THROTTLED = "ProvisionedThroughputExceededException"


def _throttle(operation: str) -> Exception:
    return client_error(
        THROTTLED,
        "The level of configured provisioned throughput for the table was exceeded.",
        operation,
    )


def _sqs_error(operation: str) -> Exception:
    return client_error(
        "InternalError", "We encountered an internal error. Please try again.", operation, 500
    )


def _settled(world: World, event_ids: list[str]) -> dict[str, list[Any]]:
    """Every event and notification ended success or failed, and no queue holds anything."""
    out = {}
    for event_id in event_ids:
        event, notifications = world.services.events.get_with_notifications(event_id, consistent=True)
        assert event is not None
        assert event.status in (NotificationStatus.SUCCESS, NotificationStatus.FAILED), event
        for n in notifications:
            assert n.status in (NotificationStatus.SUCCESS, NotificationStatus.FAILED), n
        out[event_id] = notifications
    res = world.res
    for url in (res.events_queue_url, res.deliveries_queue_url, res.events_dlq_url, res.deliveries_dlq_url):
        assert world.queue_depth(url) == 0, url
    return out


def _subscribed(world: World, url: str, subscribers: int = 1) -> list[Any]:
    return [subscription(world.services, channel(world.services, url).id) for _ in range(subscribers)]


def _report(faulty: FaultReceiver, record_property: Callable[[str, object], None], what: str) -> int:
    """Notes what the receiver saw; the suite prints these notes at the end (conftest)."""
    duplicates = sum(n - 1 for n in faulty.answered_ok().values())
    record_property("faults", f"{what}: {len(faulty.requests)} requests, {duplicates} duplicate deliveries")
    return duplicates


# --- DynamoDB throttling -------------------------------------------------------------------------
def _is_attempt_write(params: dict[str, Any]) -> bool:
    return str(params.get("UpdateExpression", "")).startswith("SET attempts")


def test_throttled_attempt_writes_fail_the_record_which_is_retried_until_recorded(
    world: World, faulty: FaultReceiver, record_property: Callable[[str, object], None]
) -> None:
    _subscribed(world, faulty.url)
    event, _ = accept.accept_event(world.services, "p1", "ICA_EXEC_002", ANALYSIS)
    world.ddb.fail("UpdateItem", _throttle("UpdateItem"), times=2, when=_is_attempt_write)

    world.pump.drain()

    assert world.ddb.injected["UpdateItem"] == 2
    assert [len(b) for b in world.pump.failures("deliver")] == [1, 1, 0]
    [n] = _settled(world, [event.id])[event.id]
    assert n.status == NotificationStatus.SUCCESS
    assert [a.success for a in n.attempts] == [True]  # the two unrecorded sends left no attempt
    assert faulty.answered_ok()[n.id] == 3
    _report(faulty, record_property, "attempt writes throttled twice")


@pytest.mark.parametrize(
    ("operation", "when"),
    [
        ("GetItem", None),  # reading the event
        ("Query", None),  # the subscriptions index
        ("PutItem", None),  # creating the notification
        ("UpdateItem", lambda p: "routed" in str(p.get("UpdateExpression"))),  # marking it routed
    ],
    ids=["get-event", "query-subscriptions", "put-notification", "mark-routed"],
)
def test_throttling_while_routing_fails_the_route_record_and_a_retry_routes_it(
    world: World,
    faulty: FaultReceiver,
    record_property: Callable[[str, object], None],
    operation: str,
    when: Any,
) -> None:
    subs = _subscribed(world, faulty.url, subscribers=2)
    event, _ = accept.accept_event(world.services, "p1", "ICA_EXEC_002", ANALYSIS)
    if operation == "GetItem":  # the batch's read of its events fails, then the event's own read
        world.ddb.fail("BatchGetItem", _throttle("BatchGetItem"), times=1)
    world.ddb.fail(operation, _throttle(operation), times=1, when=when)

    assert world.pump.once("filter") == 1
    assert [len(b) for b in world.pump.failures("filter")] == [1]
    assert world.services.events.get(event.id, consistent=True).status == NotificationStatus.PENDING

    world.pump.drain()

    notifications = _settled(world, [event.id])[event.id]
    assert {n.subscriptionId for n in notifications} == {s.id for s in subs}
    assert all(n.status == NotificationStatus.SUCCESS for n in notifications)
    seen = faulty.answered_ok()
    assert all(seen[n.id] >= 1 for n in notifications)
    duplicates = _report(faulty, record_property, f"routing with {operation} throttled once")
    if operation != "UpdateItem":  # failed before anything was queued: nothing sent twice
        assert duplicates == 0


class _Raw:
    def __init__(self, body: bytes) -> None:
        self.body = body

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self.body


@contextmanager
def _before_send(client: Any, operation: str, hook: Any) -> Iterator[None]:
    """A hook inside botocore's retry loop (`before-send`, called ahead of moto's own)."""
    event = f"before-send.dynamodb.{operation}"
    client.meta.events.register(event, hook)
    try:
        yield
    finally:
        client.meta.events.unregister(event, hook)


def test_a_short_burst_of_transient_errors_is_absorbed_by_the_sdks_retries(
    world: World, faulty: FaultReceiver
) -> None:
    """Inside the retry loop: the attempt write cannot reach DynamoDB twice; botocore (adaptive
    mode, 5 attempts) retries it, and Herald never sees the fault."""
    _subscribed(world, faulty.url)
    event, _ = accept.accept_event(world.services, "p1", "ICA_EXEC_002", ANALYSIS)
    left = {"n": 2}

    def refuse(request: Any, **_: Any) -> None:
        if left["n"] > 0 and b"SET attempts" in (request.body or b""):
            left["n"] -= 1
            raise EndpointConnectionError(endpoint_url=request.url)

    with _before_send(world.services.table.ddb, "UpdateItem", refuse):
        world.pump.drain()

    assert left["n"] == 0
    assert world.pump.failures("deliver") == [[]]
    [n] = _settled(world, [event.id])[event.id]
    assert n.status == NotificationStatus.SUCCESS and len(n.attempts) == 1
    assert faulty.answered_ok()[n.id] == 1


def test_an_attempt_write_applied_but_answered_500_is_recorded_once(
    world: World, faulty: FaultReceiver
) -> None:
    _subscribed(world, faulty.url)
    event, _ = accept.accept_event(world.services, "p1", "ICA_EXEC_002", ANALYSIS)
    left = {"n": 1}

    def lose_the_answer(request: Any, **_: Any) -> AWSResponse | None:
        # moto applies the write in its own before-send hook, after this one; this answer wins.
        if left["n"] <= 0 or b"SET attempts" not in (request.body or b""):
            return None
        left["n"] -= 1
        body = b'{"__type":"com.amazonaws.dynamodb.v20120810#InternalServerError","message":"Internal error"}'
        return AWSResponse(request.url, 500, {"x-amzn-ErrorType": "InternalServerError"}, _Raw(body))

    with _before_send(world.services.table.ddb, "UpdateItem", lose_the_answer):
        world.pump.drain()

    assert left["n"] == 0
    [n] = _settled(world, [event.id])[event.id]
    assert faulty.answered_ok()[n.id] == 1
    assert len(n.attempts) == 1


# --- SQS errors ------------------------------------------------------------------------------------
def test_a_failed_send_to_the_deliveries_queue_fails_the_route_and_the_event_stays_pending(
    world: World, faulty: FaultReceiver
) -> None:
    subs = _subscribed(world, faulty.url, subscribers=3)
    event, _ = accept.accept_event(world.services, "p1", "ICA_EXEC_002", ANALYSIS)
    deliveries = world.res.deliveries_queue_url
    world.sqs.fail(
        "SendMessageBatch", _sqs_error("SendMessageBatch"), when=lambda p: p["QueueUrl"] == deliveries
    )

    assert world.pump.once("filter") == 1

    assert [len(b) for b in world.pump.failures("filter")] == [1]
    stored, notifications = world.services.events.get_with_notifications(event.id, consistent=True)
    assert (stored.status, stored.routed) == (NotificationStatus.PENDING, False)
    assert [(n.status, n.attempts) for n in notifications] == [(NotificationStatus.PENDING, [])] * 3
    assert world.queue_depth(deliveries) == 0

    world.pump.drain()

    notifications = _settled(world, [event.id])[event.id]
    assert sorted(n.subscriptionId for n in notifications) == sorted(s.id for s in subs)
    assert sorted(faulty.answered_ok().values()) == [1, 1, 1]


def test_a_partially_accepted_batch_to_the_deliveries_queue_loses_nothing(
    world: World,
    faulty: FaultReceiver,
    record_property: Callable[[str, object], None],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """12 notifications go out in two SendMessageBatch calls; SQS refuses one entry of the second."""
    _subscribed(world, faulty.url, subscribers=12)
    event, _ = accept.accept_event(world.services, "p1", "ICA_EXEC_002", ANALYSIS)
    sqs = world.services.queues.sqs
    real_send = sqs.send_message_batch
    refused = {"left": 1}

    def send(QueueUrl: str, Entries: list[dict[str, Any]], **kw: Any) -> dict[str, Any]:
        if QueueUrl != world.res.deliveries_queue_url or len(Entries) != 2 or not refused["left"]:
            return real_send(QueueUrl=QueueUrl, Entries=Entries, **kw)
        refused["left"] -= 1
        resp = real_send(QueueUrl=QueueUrl, Entries=Entries[:1], **kw)
        failed = {
            "Id": Entries[1]["Id"],
            "Code": "InternalError",
            "Message": "injected",
            "SenderFault": False,
        }
        return {**resp, "Failed": [failed]}

    monkeypatch.setattr(sqs, "send_message_batch", send)
    world.pump.drain()

    assert refused["left"] == 0
    assert [len(b) for b in world.pump.failures("filter")][:1] == [1]
    notifications = _settled(world, [event.id])[event.id]
    assert len(notifications) == 12
    assert all(n.status == NotificationStatus.SUCCESS for n in notifications)
    seen = faulty.answered_ok()
    assert all(seen[n.id] >= 1 for n in notifications)
    _report(faulty, record_property, "one of 12 deliveries refused by SendMessageBatch")


def test_a_failed_backoff_visibility_change_still_retries_the_attempt(
    world: World, faulty: FaultReceiver
) -> None:
    _subscribed(world, faulty.url)
    faulty.actions = [500]
    event, _ = accept.accept_event(world.services, "p1", "ICA_EXEC_002", ANALYSIS)
    world.sqs.fail("ChangeMessageVisibility", _sqs_error("ChangeMessageVisibility"))

    world.pump.drain()

    assert world.sqs.injected["ChangeMessageVisibility"] == 1
    [n] = _settled(world, [event.id])[event.id]
    assert n.status == NotificationStatus.SUCCESS
    assert [a.httpStatus for a in n.attempts] == [500, 200]
    assert [a.error for a in n.attempts] == ["HTTP 500", None]


def test_a_failed_delete_after_a_delivered_batch_does_not_deliver_again(
    world: World, faulty: FaultReceiver
) -> None:
    """The event source mapping could not delete the delivered messages: SQS hands them out again,
    and the deliver function skips notifications already delivered."""
    _subscribed(world, faulty.url, subscribers=3)
    event, _ = accept.accept_event(world.services, "p1", "ICA_EXEC_002", ANALYSIS)
    deliveries = world.res.deliveries_queue_url
    world.sqs.fail(
        "DeleteMessageBatch", _sqs_error("DeleteMessageBatch"), when=lambda p: p["QueueUrl"] == deliveries
    )

    world.pump.drain()

    assert world.sqs.injected["DeleteMessageBatch"] == 1
    assert [len(call[1]["Records"]) for call in world.pump.calls if call[0] == "deliver"] == [3, 3]
    notifications = _settled(world, [event.id])[event.id]
    assert all(n.status == NotificationStatus.SUCCESS and len(n.attempts) == 1 for n in notifications)
    assert sorted(faulty.answered_ok().values()) == [1, 1, 1]


# --- SQS failing under the API: the event is stored first ---------------------------------------
ADMIN = "faults-admin"


def test_an_event_the_api_could_not_queue_is_queued_by_the_clients_retry_with_its_id(
    world: World, faulty: FaultReceiver
) -> None:
    auth.register_key(world.services.api_keys, ADMIN, projects=[], admin=True, name="admin")
    client = Client(ADMIN)
    _subscribed(world, faulty.url)
    events_queue = world.res.events_queue_url
    world.sqs.fail(
        "SendMessageBatch", _sqs_error("SendMessageBatch"), when=lambda p: p["QueueUrl"] == events_queue
    )
    body = {"eventCode": "ICA_EXEC_002", "payload": ANALYSIS, "id": "run-7"}

    status, first = client.call("POST", "/api/projects/p1/events", body)
    assert (status, first["error"]["code"]) == (503, "unavailable")
    [stored] = world.services.events.list_page("p1", 10, None, now=time.time()).items
    assert stored.status == NotificationStatus.FAILED  # visible meanwhile, never silently pending

    status, second = client.call("POST", "/api/projects/p1/events", body)
    assert status == 202 and second["created"] is False
    world.pump.drain()

    [n] = _settled(world, [second["id"]])[second["id"]]
    assert n.status == NotificationStatus.SUCCESS
    assert list(faulty.answered_ok().values()) == [1]


def test_an_event_stored_but_never_queued_is_eventually_routed(
    world: World, faulty: FaultReceiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    auth.register_key(world.services.api_keys, ADMIN, projects=[], admin=True, name="admin")
    _subscribed(world, faulty.url)
    events_queue = world.res.events_queue_url
    world.sqs.fail(
        "SendMessageBatch", _sqs_error("SendMessageBatch"), when=lambda p: p["QueueUrl"] == events_queue
    )
    status, _ = Client(ADMIN).call(
        "POST", "/api/projects/p1/events", {"eventCode": "ICA_EXEC_002", "payload": ANALYSIS}
    )
    assert status == 503
    [stored] = world.services.events.list_page("p1", 10, None, now=time.time()).items
    assert stored.status == NotificationStatus.FAILED  # posted without an id: no repost will queue it

    later = time.time() + 3600  # an hour on: whatever grace period a sweeper gives has passed
    monkeypatch.setattr(clock, "now", lambda: later)
    scheduled.handler({}, LocalContext("scheduled"))  # the periodic job, as EventBridge would run it
    monkeypatch.undo()
    world.pump.drain()

    [n] = _settled(world, [stored.id])[stored.id]
    assert n.status == NotificationStatus.SUCCESS
    assert list(faulty.answered_ok().values()) == [1]
