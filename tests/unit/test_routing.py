"""Routing: an event becomes one notification per matching, enabled subscription."""

from __future__ import annotations

import json
from typing import Any

import pytest

from herald import names
from herald.domain import clock
from herald.domain.models import Attempt, NotificationStatus
from herald.domain.settings import get_settings, reset_settings
from herald.filters import MatchResult
from herald.logic import accept, routing
from herald.logic.services import Services, build_services
from tests.unit.builders import ANALYSIS, channel, subscription


def _deliveries(services: Services) -> list[dict]:
    msgs = services.queues.sqs.receive_message(
        QueueUrl=services.queues.deliveries_url, MaxNumberOfMessages=10
    ).get("Messages", [])
    return [json.loads(m["Body"]) for m in msgs]


def test_event_reaches_code_wildcard_and_filtered_subscriptions(services: Services) -> None:
    ch = channel(services, "http://127.0.0.1:9/hook")
    by_code = subscription(services, ch.id)
    wildcard = subscription(services, ch.id, code="*")
    filtered = subscription(services, ch.id, filterExpression="[?($.status == 'SUCCEEDED')]")
    subscription(services, ch.id, filterExpression="[?($.status == 'FAILED')]")
    subscription(services, ch.id, code="ICA_EXEC_001")
    subscription(services, ch.id, project="p2")
    subscription(services, ch.id, enabled=False)
    event, _ = accept.accept_event(services, "p1", "ICA_EXEC_002", ANALYSIS)

    assert routing.route_event(services, event.id) == 3

    sent = {m["subscriptionId"] for m in _deliveries(services)}
    assert sent == {by_code.id, wildcard.id, filtered.id}


def test_routing_twice_creates_no_second_notification(services: Services) -> None:
    ch = channel(services, "http://127.0.0.1:9/hook")
    subscription(services, ch.id)
    event, _ = accept.accept_event(services, "p1", "ICA_EXEC_002", ANALYSIS)
    routing.route_event(services, event.id)
    routing.route_event(services, event.id)
    _, notifications = services.events.get_with_notifications(event.id)
    assert len(notifications) == 1


def test_event_without_subscribers_is_settled_as_success(services: Services) -> None:
    event, _ = accept.accept_event(services, "p1", "ICA_EXEC_002", ANALYSIS)
    assert routing.route_event(services, event.id) == 0
    stored = services.events.get(event.id)
    assert stored is not None and stored.routed and stored.status == "success"


def test_routed_event_with_notifications_is_pending(services: Services) -> None:
    ch = channel(services, "http://127.0.0.1:9/hook")
    subscription(services, ch.id)
    event, _ = accept.accept_event(services, "p1", "ICA_EXEC_002", ANALYSIS)
    routing.route_event(services, event.id)
    stored = services.events.get(event.id)
    assert stored is not None and stored.status == "pending"


def test_routed_event_is_broadcast_once_with_its_code_as_attribute(
    services: Services, broadcast_consumer: str
) -> None:
    sqs, queue = services.queues.sqs, broadcast_consumer
    svc = build_services(get_settings())
    event, _ = accept.accept_event(svc, "p1", "ICA_EXEC_002", ANALYSIS)
    routing.route_event(svc, event.id)
    routing.route_event(svc, event.id)  # a redelivery publishes nothing more

    messages = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10)["Messages"]
    assert (
        len(messages) == 1
    )  # though no subscription matched it: every routed event, not only delivered ones
    notification = json.loads(messages[0]["Body"])
    envelope = json.loads(notification["Message"])
    assert (envelope["correlationId"], envelope["payloadVersion"]) == (event.correlationId, "V4")
    assert notification["MessageAttributes"]["eventCode"]["Value"] == "ICA_EXEC_002"


def test_a_deployment_with_broadcast_off_publishes_nothing(
    services: Services, broadcast_consumer: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    sqs, queue = services.queues.sqs, broadcast_consumer
    monkeypatch.setenv(names.ENV_BROADCAST, "0")
    reset_settings()
    svc = build_services(get_settings())
    event, _ = accept.accept_event(svc, "p1", "ICA_EXEC_002", ANALYSIS)

    routing.route_event(svc, event.id)

    assert sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10).get("Messages", []) == []
    assert svc.events.get(event.id, consistent=True).routed  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("code", "reaches_data_wildcard"),
    [
        ("ICA_DATA_104", True),
        ("ICA_DATA_108", True),
        ("ICA_DATA_114", True),
        ("ICA_DATA_100", True),
        ("ICA_DATA_002", False),
        ("ICA_DATA_025", False),
        ("ICA_EXEC_002", False),
    ],
)
def test_ica_data_100_covers_project_data_status_changes_only(
    services: Services, code: str, reaches_data_wildcard: bool
) -> None:
    ch = channel(services, "http://127.0.0.1:9/hook")
    wildcard = subscription(services, ch.id, code="ICA_DATA_100")
    event, _ = accept.accept_event(services, "p1", code, {"id": "fil.1"})
    routing.route_event(services, event.id)
    _, notifications = services.events.get_with_notifications(event.id)
    assert (wildcard.id in {n.subscriptionId for n in notifications}) is reaches_data_wildcard


def _event_writes(services: Services) -> list[tuple[str, str]]:
    """(operation, sort key) of every DynamoDB write the store makes from now on, and (Query,
    partition) of every query of the table (not of an index)."""
    seen: list[tuple[str, str]] = []

    def record(model, params, **_) -> None:  # type: ignore[no-untyped-def]
        if model.name in ("PutItem", "UpdateItem", "DeleteItem"):
            key = params.get("Key") or params.get("Item") or {}
            seen.append((model.name, key.get("sk", {}).get("S", "")))
        elif model.name == "Query" and "IndexName" not in params:
            seen.append(("Query", params["ExpressionAttributeValues"][":pk"]["S"]))

    services.table.ddb.meta.events.register("before-parameter-build.dynamodb", record)
    return seen


def test_routing_sets_routed_and_the_status_it_knows_in_one_write(services: Services) -> None:
    ch = channel(services, "http://127.0.0.1:9/hook")
    subscription(services, ch.id)
    event, _ = accept.accept_event(services, "p1", "ICA_EXEC_002", ANALYSIS)
    calls = _event_writes(services)

    routing.route_event(services, event.id)

    assert [c for c in calls if c[1] == "EVENT"] == [("UpdateItem", "EVENT")]
    assert [c for c in calls if c[0] == "Query"] == []  # no status recomputed from notifications
    stored = services.events.get(event.id, consistent=True)
    assert stored is not None and stored.routed and stored.status == NotificationStatus.PENDING


def test_a_delivery_that_finishes_before_routing_marks_the_event_routed_still_settles_it(
    services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    ch = channel(services, "http://127.0.0.1:9/hook")
    sub = subscription(services, ch.id)
    event, _ = accept.accept_event(services, "p1", "ICA_EXEC_002", ANALYSIS)

    def delivered_at_once(messages: list, *_: object) -> tuple[list, list]:
        # The deliver function is faster than the rest of route_event (its write refreshes the
        # event's status while the event is not yet routed).
        for message in messages:
            attempt = Attempt(at=clock.utc_iso(), durationMs=3, success=True, httpStatus=200)
            services.notifications.record_attempt(
                message.eventId,
                message.subscriptionId,
                attempt,
                NotificationStatus.SUCCESS,
                clock.utc_iso(),
                0,
            )
        return [], []  # every message accepted

    monkeypatch.setattr(services.queues, "deliveries_not_accepted", delivered_at_once)
    routing.route_event(services, event.id)

    stored, [notification] = services.events.get_with_notifications(event.id, consistent=True)
    assert notification.subscriptionId == sub.id and notification.status == NotificationStatus.SUCCESS
    assert stored is not None and stored.routed and stored.status == NotificationStatus.SUCCESS


def test_a_status_refresh_overtaken_by_a_newer_one_reads_again_instead_of_overwriting_it(
    services: Services,
) -> None:
    ch = channel(services, "http://127.0.0.1:9/hook")
    sub = subscription(services, ch.id)
    event, _ = accept.accept_event(services, "p1", "ICA_EXEC_002", ANALYSIS)
    routing.route_event(services, event.id)
    overtaken: list[str] = []

    def retry_succeeds_meanwhile(model: Any, **_: Any) -> None:
        # Right after the failed attempt's refresh read the partition (the notification still
        # retryable there), the retry succeeds and its own refresh stores "success".
        if model.name != "Query" or overtaken:
            return
        overtaken.append(model.name)
        ok = Attempt(at=clock.utc_iso(), durationMs=3, success=True, httpStatus=200)
        services.notifications.record_attempt(
            event.id, sub.id, ok, NotificationStatus.SUCCESS, clock.utc_iso(), 1
        )

    services.table.ddb.meta.events.register("after-call.dynamodb.Query", retry_succeeds_meanwhile)
    failed = Attempt(at=clock.utc_iso(), durationMs=3, success=False, httpStatus=500)
    services.notifications.record_attempt(
        event.id, sub.id, failed, NotificationStatus.RETRYABLE, clock.utc_iso(), 0
    )
    services.table.ddb.meta.events.unregister("after-call.dynamodb.Query", retry_succeeds_meanwhile)

    assert overtaken
    assert services.events.get(event.id, consistent=True).status == NotificationStatus.SUCCESS  # type: ignore[union-attr]


# --- the routing budget ------------------------------------------------------------------------
class _SlowFilters:
    """Every filter evaluation takes one second of the routing clock, and matches."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.now = 0.0
        self.evaluated = 0
        monkeypatch.setattr(clock, "monotonic", lambda: self.now)
        monkeypatch.setattr(routing, "compile_filter", lambda expression: self)

    def evaluate(self, payload: dict) -> MatchResult:
        self.now += 1.0
        self.evaluated += 1
        return MatchResult(True)


def _budgeted(monkeypatch: pytest.MonkeyPatch, seconds: float) -> Services:
    monkeypatch.setenv(names.ENV_ROUTING_BUDGET_SECONDS, str(seconds))
    reset_settings()
    return build_services(get_settings())


def test_once_the_routing_budget_is_spent_the_remaining_filters_are_not_evaluated(
    services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    svc = _budgeted(monkeypatch, 2.5)
    slow = _SlowFilters(monkeypatch)
    ch = channel(svc, "http://127.0.0.1:9/hook")
    for _ in range(5):
        subscription(svc, ch.id, filterExpression="[?($.status == 'SUCCEEDED')]")
    event, _ = accept.accept_event(svc, "p1", "ICA_EXEC_002", ANALYSIS)

    assert routing.route_event(svc, event.id) == 3

    assert slow.evaluated == 3  # 1 s each: the third ends at 3 s, past the 2.5 s budget
    assert len(_deliveries(svc)) == 3


def test_subscriptions_whose_filters_were_not_evaluated_get_a_failed_notification_saying_why(
    services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    svc = _budgeted(monkeypatch, 1.0)
    _SlowFilters(monkeypatch)
    ch = channel(svc, "http://127.0.0.1:9/hook")
    filtered = [subscription(svc, ch.id, filterExpression="[?($.status == 'SUCCEEDED')]") for _ in range(3)]
    event, _ = accept.accept_event(svc, "p1", "ICA_EXEC_002", ANALYSIS)

    routing.route_event(svc, event.id)

    stored, notifications = svc.events.get_with_notifications(event.id, consistent=True)
    [evaluated] = [n for n in notifications if n.status == NotificationStatus.PENDING]
    cut = [n for n in notifications if n is not evaluated]
    assert {n.subscriptionId for n in notifications} == {s.id for s in filtered}
    # The reason names the subscription whose filter spent the budget.
    spent_by = [(evaluated.subscriptionId, 1.0, 1)]
    assert [(n.status, n.lastError, n.attempts) for n in cut] == [
        (NotificationStatus.FAILED, routing.budget_spent_error(1.0, "p1", spent_by), [])
    ] * 2
    assert f"by subscription {evaluated.subscriptionId}'s filter (1.00 s in 1 evaluation)" in cut[0].lastError
    assert stored is not None and stored.routed and stored.status == NotificationStatus.FAILED
    for n in cut:  # in the subscription's "Delivery failed" list
        assert [f.id for f in svc.notifications.list_failed(n.subscriptionId, 10, None).items] == [n.id]


def test_subscriptions_without_a_filter_are_delivered_after_the_budget_is_spent(
    services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    svc = _budgeted(monkeypatch, 0.5)
    _SlowFilters(monkeypatch)
    ch = channel(svc, "http://127.0.0.1:9/hook")
    subscription(svc, ch.id, filterExpression="[?($.status == 'SUCCEEDED')]")
    subscription(svc, ch.id, filterExpression="[?($.status == 'SUCCEEDED')]")
    plain = subscription(svc, ch.id)
    event, _ = accept.accept_event(svc, "p1", "ICA_EXEC_002", ANALYSIS)

    assert routing.route_event(svc, event.id) == 2

    assert plain.id in {m["subscriptionId"] for m in _deliveries(svc)}
