"""Poison messages: a body no handler can parse, on each of Herald's queues, beside good ones.

The good messages of the batch go through; the poison fails its record on every receive, is
redriven to the queue's dead-letter queue after maxReceiveCount, and the reprocess function keeps
it as a failed event of the project `herald.unroutable` (quarantine), readable by admin keys.
Nothing is dropped and nothing stays in a queue.

In-process (moto), queues driven like Lambda's event source mappings.
"""

from __future__ import annotations

import json
import time

import pytest

from herald import names
from herald.api import auth
from herald.logic import accept, dead_letters
from tests.faults.conftest import World
from tests.faults.support import FaultReceiver
from tests.unit.api.support import Client
from tests.unit.builders import ANALYSIS, channel, subscription

# A batch whose every record failed publishes no metrics, and Powertools says so.
pytestmark = pytest.mark.filterwarnings("ignore:No application metrics to publish:UserWarning")

ADMIN = "faults-admin"
# queue → (poller, its DLQ's poller, receives before the DLQ)
QUEUES = {
    "events": ("filter", "reprocess-events", names.EVENTS_MAX_RECEIVE_COUNT),
    "deliveries": ("deliver", "reprocess-deliveries", 3),  # schedule 0,0: three attempts
    "ingest": ("ingest", "reprocess-ingest", names.INGEST_MAX_RECEIVE_COUNT),
}
POISONS = {
    "not-json": (
        "{not json",
        "the message body is not JSON: Expecting property name enclosed in double quotes",
    ),
    "wrong-shape": (
        '{"kind": "delivery", "eventId": "e-1"}',
        "not an ICA envelope: correlationId: Field required",
    ),
}


def _urls(world: World, queue: str) -> tuple[str, str]:
    res = world.res
    return {
        "events": (res.events_queue_url, res.events_dlq_url),
        "deliveries": (res.deliveries_queue_url, res.deliveries_dlq_url),
        "ingest": (res.ingest_queue_url, res.ingest_dlq_url),
    }[queue]


@pytest.mark.parametrize("poison", list(POISONS))
@pytest.mark.parametrize("queue", list(QUEUES))
def test_a_poison_message_ends_quarantined_and_its_batch_goes_through(
    world: World, faulty: FaultReceiver, queue: str, poison: str
) -> None:
    sqs = world.services.queues.sqs
    subscription(world.services, channel(world.services, faulty.url).id)
    url, dlq = _urls(world, queue)
    function, reprocess, max_receives = QUEUES[queue]
    body, reason = POISONS[poison]

    # A good message in the same queue, in the same batch as the poison.
    if queue == "ingest":
        envelope = {
            "correlationId": "c-1",
            "eventCode": "ICA_EXEC_002",
            "projectId": "p1",
            "payload": ANALYSIS,
        }
        sqs.send_message(QueueUrl=url, MessageBody=json.dumps(envelope))
    else:
        accept.accept_event(world.services, "p1", "ICA_EXEC_002", ANALYSIS)
        if queue == "deliveries":
            assert world.pump.once("filter") == 1
    sqs.send_message(QueueUrl=url, MessageBody=body)

    world.pump.drain()

    failed = [b for batch in world.pump.failures(function) for b in batch]
    assert failed == [body] * max_receives
    [good] = world.services.events.list_page("p1", 10, None, now=time.time()).items
    assert good.status == "success"
    assert len(faulty.answered_ok()) == 1
    [quarantined] = world.services.events.list_page(
        dead_letters.QUARANTINE_PROJECT, 10, None, now=time.time()
    ).items
    assert (quarantined.eventCode, quarantined.status) == ("HERALD_UNROUTABLE", "failed")
    assert quarantined.payload == {"body": body, "truncated": False}
    assert quarantined.routingError == reason
    assert [len(c[1]["Records"]) for c in world.pump.calls if c[0] == reprocess] == [1]
    for queue_url in (url, dlq):
        assert world.queue_depth(queue_url) == 0

    # Visible through the events API to admin keys.
    auth.register_key(world.services.api_keys, ADMIN, projects=[], admin=True, name="admin")
    status, listed = Client(ADMIN).call("GET", f"/v1/events?project={dead_letters.QUARANTINE_PROJECT}")
    assert status == 200
    assert [(e["id"], e["status"], e["error"]) for e in listed["items"]] == [
        (quarantined.id, "failed", reason)
    ]


def test_a_dead_letter_the_reprocess_function_cannot_settle_stays_in_its_dlq(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """If even the quarantine write fails, the dead letter is not deleted: it waits in the DLQ."""
    sqs = world.services.queues.sqs
    sqs.send_message(QueueUrl=world.res.deliveries_dlq_url, MessageBody="{not json")
    world.ddb.fail(
        "PutItem",
        Exception("injected: the table is unavailable"),
        times=100,
        when=lambda p: "herald.unroutable" in json.dumps(p.get("Item", {})),
    )

    assert world.pump.once("reprocess-deliveries") == 1

    assert world.pump.failures("reprocess-deliveries") == [["{not json"]]
    assert world.queue_depth(world.res.deliveries_dlq_url) == 1
