"""Hostile subscription filters: a catastrophic regex on a long value, a path that explodes over a
wide payload, a comparison that cannot be evaluated. Each costs only its own subscription: its
match fails with the reason logged (filter evaluation failed, subscription id, error), and the
event's other subscriptions still deliver.

End to end on `herald dev` (the reason is read from its log), plus one in-process measurement of
what many such filters cost one event.
"""

from __future__ import annotations

import time
from typing import Any

import pytest

from herald import ingest, routing
from herald.filters import REGEX_TIMEOUT_SECONDS
from tests.faults.conftest import World
from tests.faults.support import Dev, FaultReceiver
from tests.unit.builders import channel, subscription

CATASTROPHIC = "[?($.a =~ /(a+)+$/)]"
EXPLODING = "[?($..a..a..a)]"
UNCOMPARABLE = "[?('x' in $.tags)]"


def _chain(depth: int) -> Any:
    """{"a": {"a": … 1}}: 701 bytes at depth 100, and more than 200,000 nodes for `$..a..a..a`."""
    node: Any = 1
    for _ in range(depth):
        node = {"a": node}
    return node


PAYLOAD: dict[str, Any] = {"a": "a" * 5000 + "b", "tree": _chain(100), "tags": [{"name": "x"}]}
REASONS = {
    CATASTROPHIC: "regex /(a+)+$/ timed out after 50 ms on a 5001-character value",
    EXPLODING: "the filter's paths visited more than 200,000 nodes",
    UNCOMPARABLE: "cannot compare an array element of type object (Jayway: could not determine value type)",
}


@pytest.mark.e2e
@pytest.mark.xdist_group("faults-dev")
def test_hostile_filters_fail_their_own_match_with_a_logged_reason_and_the_others_deliver(
    dev: Dev, project: str, faulty: FaultReceiver
) -> None:
    hostile = {}
    for expression in REASONS:
        created = dev.subscribe(project, dev.channel(faulty.url)["id"], filterExpression=expression)
        hostile[created["id"]] = expression
    plain = dev.subscribe(project, dev.channel(faulty.url)["id"])
    benign = dev.subscribe(
        project, dev.channel(faulty.url)["id"], filterExpression="[?($.status == 'SUCCEEDED')]"
    )

    started = time.monotonic()
    event = dev.event_settled(dev.post_event(project, {**PAYLOAD, "status": "SUCCEEDED"}))
    elapsed = time.monotonic() - started

    assert event["status"] == "success"
    assert sorted(n["subscriptionId"] for n in event["notifications"]) == sorted([plain["id"], benign["id"]])
    assert len(faulty.requests) == 2
    assert elapsed < 10
    logged = {
        r.get("subscription"): r.get("error")
        for r in dev.log_lines()
        if r.get("message") == "filter evaluation failed" and r.get("subscription") in hostile
    }
    assert logged == {sub_id: REASONS[expression] for sub_id, expression in hostile.items()}


@pytest.mark.e2e
@pytest.mark.xdist_group("faults-dev")
def test_the_catastrophic_regex_still_matches_a_harmless_value(
    dev: Dev, project: str, faulty: FaultReceiver
) -> None:
    dev.subscribe(project, dev.channel(faulty.url)["id"], filterExpression=CATASTROPHIC)
    event = dev.event_settled(dev.post_event(project, {"id": "harmless", "status": "SUCCEEDED", "a": "aaaa"}))
    assert event["status"] == "success" and len(event["notifications"]) == 1
    assert len(faulty.requests) == 1


HOSTILE_SUBSCRIPTIONS = 40
EVENT_BUDGET_SECONDS = 1.0


@pytest.mark.xfail(
    strict=True,
    reason="Each filter evaluation is bounded (50 ms regex timeout, 200,000 path nodes) but an "
    "event's routing is not: K timing-out subscriptions cost K x 50 ms, all in the filter "
    "function's sequential batch. ~1,200 such subscriptions on one project's code (or ~120 with "
    "10 events to a batch) exceed the function's 60 s timeout, so the whole batch fails and is "
    "retried until the DLQ, other projects' events included. Fix: a per-event (or per-invocation) "
    "budget for failing evaluations, disabling (and reporting) a subscription whose filter keeps "
    "timing out, and a cap on subscriptions per (project, code).",
)
def test_many_hostile_filters_cost_one_event_a_bounded_time(world: World) -> None:
    store = world.services.store
    ch = channel(store, "http://127.0.0.1:9/never-matched")
    for _ in range(HOSTILE_SUBSCRIPTIONS):
        subscription(store, ch.id, project="p-evil", code="*", filterExpression=CATASTROPHIC)
    event, _ = ingest.accept_event(world.services, "p-evil", "ICA_EXEC_002", PAYLOAD)

    started = time.monotonic()
    assert routing.route_event(world.services, event.id) == 0
    elapsed = time.monotonic() - started

    assert elapsed < EVENT_BUDGET_SECONDS, (
        f"{HOSTILE_SUBSCRIPTIONS} hostile filters took {elapsed:.2f} s "
        f"(each bounded at {REGEX_TIMEOUT_SECONDS * 1000:.0f} ms)"
    )
