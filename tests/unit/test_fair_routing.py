"""Fair routing: one project's hostile filters cannot hold up another project's events.

A batch of the events queue (the filter function's input) mixes projects. Each project's filters
share one budget per batch; a filter that keeps hitting its bounds is quarantined (disabled, with
its reason, and a herald.subscription.disabled event); a budget failure names who spent it.
Evaluation costs are set on a fake clock (no timing in assertions), except in the one test that
runs the real catastrophic regex.
"""

from __future__ import annotations

import json
import re
import uuid
from typing import Any

import pytest

from herald import names
from herald.dev.local.lambda_context import LocalContext
from herald.domain import clock
from herald.domain.models import NotificationStatus
from herald.domain.settings import get_settings, reset_settings
from herald.filters import MatchResult
from herald.handlers import route as route_handler
from herald.logic import accept, routing
from herald.logic.services import Services, build_services
from tests.unit.builders import ANALYSIS, channel, subscription

HOSTILE = "[?($.a =~ /(a+)+$/)]"
SLOW = "[?($.slow == 'bound')]"  # on the fake clock: 1 s, and a bound hit
SLUGGISH = "[?($.slow == 'sluggish')]"  # 0.3 s, no error: slow all the same
CHEAP = "[?($.status == 'SUCCEEDED')]"  # no time at all


class FakeCosts:
    """Filters cost what their text says, on routing's clock."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.now = 0.0
        self.evaluated: list[str] = []
        monkeypatch.setattr(clock, "monotonic", lambda: self.now)
        monkeypatch.setattr(routing, "compile_filter", self.compile)

    def compile(self, expression: str) -> Any:
        costs = self

        class Compiled:
            def evaluate(self, payload: dict[str, Any]) -> MatchResult:
                costs.evaluated.append(expression)
                if expression == SLOW:
                    costs.now += 1.0
                    return MatchResult(False, "regex /x/ timed out after 50 ms", bound_hit=True)
                if expression == SLUGGISH:
                    costs.now += 0.3
                    return MatchResult(False)
                return MatchResult(payload.get("status") == "SUCCEEDED")

        return Compiled()


@pytest.fixture
def svc(services: Services, monkeypatch: pytest.MonkeyPatch) -> Services:
    monkeypatch.setenv(names.ENV_ROUTING_BUDGET_SECONDS, "2")
    reset_settings()
    return build_services(get_settings())


def _record(event_id: str, project: str) -> dict[str, Any]:
    return {
        "messageId": str(uuid.uuid4()),
        "receiptHandle": str(uuid.uuid4()),
        "body": json.dumps({"eventId": event_id, "projectId": project}),
        "attributes": {"ApproximateReceiveCount": "1", "SentTimestamp": "0"},
        "messageAttributes": {},
        "eventSource": "aws:sqs",
        "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:herald-events",
    }


def _batch(svc: Services, events: list[tuple[str, str]]) -> None:
    """The filter function, given one batch of the events queue."""
    result = route_handler.handler(
        {"Records": [_record(e, p) for e, p in events]}, LocalContext("herald-filter", timeout_seconds=60)
    )
    assert result == {"batchItemFailures": []}


def _post(svc: Services, project: str, payload: dict[str, Any] | None = None) -> str:
    event, _ = accept.accept_event(
        svc, project, "ICA_EXEC_002", payload or {**ANALYSIS, "id": str(uuid.uuid4())}
    )
    return event.id


def _hostile_world(svc: Services, n_hostile: int = 10) -> tuple[list[str], list[str]]:
    ch = channel(svc, "http://127.0.0.1:9/never")
    evil = [
        subscription(svc, ch.id, project="evil", code="*", filterExpression=SLOW).id for _ in range(n_hostile)
    ]
    good = [subscription(svc, ch.id, project="good", code="*", filterExpression=CHEAP).id,
            subscription(svc, ch.id, project="good", code="*").id]  # fmt: skip
    return evil, good


# --- a budget per project per batch ----------------------------------------------------------------
def test_a_projects_filters_share_one_budget_for_the_whole_batch(
    svc: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    costs = FakeCosts(monkeypatch)
    _hostile_world(svc)
    evil_events = [(_post(svc, "evil"), "evil") for _ in range(5)]

    _batch(svc, evil_events)

    # 2 s of budget at 1 s an evaluation: 2 evaluations for the batch, not 2 per event (10).
    assert costs.evaluated.count(SLOW) == 2
    for event_id, _ in evil_events:
        stored, notifications = svc.events.get_with_notifications(event_id, consistent=True)
        assert stored is not None and stored.status == NotificationStatus.FAILED
        assert all("routing budget" in (n.lastError or "") for n in notifications)


def test_another_projects_events_in_the_same_batch_are_routed_in_full(
    svc: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    costs = FakeCosts(monkeypatch)
    _, good = _hostile_world(svc)
    evil_events = [(_post(svc, "evil"), "evil") for _ in range(5)]
    good_events = [(_post(svc, "good"), "good") for _ in range(5)]
    started_at: dict[str, float] = {}
    real_route = routing.route_event

    def timed(services: Services, event_id: str, *args: Any, **kwargs: Any) -> int:
        started_at[event_id] = costs.now
        return real_route(services, event_id, *args, **kwargs)

    monkeypatch.setattr(routing, "route_event", timed)

    _batch(svc, evil_events + good_events)  # the worst order: the hostile project's events first

    # The good events waited for at most the hostile project's one budget (2 s of its filters),
    # whatever the number of its events before them: the bound is per project, not per event;
    # and once its budget was spent, the hostile project's other events waited for theirs.
    assert max(started_at[e] for e, _ in good_events) <= 2.0
    order = list(started_at)
    assert order == [evil_events[0][0], *(e for e, _ in good_events), *(e for e, _ in evil_events[1:])]
    assert costs.evaluated.count(CHEAP) == 5
    for event_id, _ in good_events:
        _, notifications = svc.events.get_with_notifications(event_id, consistent=True)
        assert sorted(n.subscriptionId for n in notifications) == sorted(good)
        assert {n.status for n in notifications} == {NotificationStatus.PENDING}


def test_each_event_routed_alone_gets_a_budget_of_its_own(
    svc: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    costs = FakeCosts(monkeypatch)
    _hostile_world(svc)
    for _ in range(3):
        routing.route_event(svc, _post(svc, "evil"))
    assert costs.evaluated.count(SLOW) == 6


def test_the_budget_failure_names_the_filters_that_spent_it(
    svc: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    FakeCosts(monkeypatch)
    monkeypatch.setenv(names.ENV_ROUTING_BUDGET_SECONDS, "4.5")
    reset_settings()
    svc = build_services(get_settings())
    evil, _ = _hostile_world(svc)
    event_id = _post(svc, "evil")

    routing.route_event(svc, event_id)

    _, notifications = svc.events.get_with_notifications(event_id, consistent=True)
    [reason] = {n.lastError for n in notifications}
    # Evaluated until 4.5 s were spent: five filters of one second each; the other five were not.
    spent = set(evil) - {n.subscriptionId for n in notifications}
    assert len(spent) == 5 and reason is not None
    named = set(re.findall(r"subscription ([0-9a-f-]{36})'s filter \(1\.00 s in 1 evaluation\)", reason))
    assert len(named) == routing.SPENDERS_NAMED and named <= spent
    assert reason.count(", 2 other subscription(s); reprocess this notification") == 1


# --- quarantine ------------------------------------------------------------------------------------
def test_a_filter_that_keeps_hitting_its_bounds_is_quarantined_with_a_visible_reason_and_an_event(
    svc: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    costs = FakeCosts(monkeypatch)
    ch = channel(svc, "http://127.0.0.1:9/never")
    hostile = subscription(svc, ch.id, project="evil", code="*", filterExpression=SLOW)
    watcher = subscription(svc, ch.id, project="evil", code="herald.subscription.disabled")

    for batch in range(1, routing.QUARANTINE_AFTER_STRIKES + 2):
        _batch(svc, [(_post(svc, "evil"), "evil")])
        stored = svc.subscriptions.get("evil", hostile.id)
        assert stored is not None
        assert stored.enabled is (batch < routing.QUARANTINE_AFTER_STRIKES), batch

    assert costs.evaluated.count(SLOW) == routing.QUARANTINE_AFTER_STRIKES  # never again after that
    assert stored.disabledReason is not None
    assert stored.disabledReason.startswith(
        "its filter hit an evaluation bound 3 times in a row (last: regex /x/"
    )
    assert stored.disabledAt is not None
    events = svc.events.list_page(
        "evil", 50, None, event_code="herald.subscription.disabled", now=clock.now()
    )
    [disabled] = events.items
    assert disabled.payload["subscriptionId"] == hostile.id
    assert disabled.payload["reason"] == stored.disabledReason
    routing.route_event(svc, disabled.id)  # queued like any event: the project's watcher gets it
    _, notifications = svc.events.get_with_notifications(disabled.id, consistent=True)
    assert [n.subscriptionId for n in notifications] == [watcher.id]


def test_slow_evaluations_without_an_error_count_too(svc: Services, monkeypatch: pytest.MonkeyPatch) -> None:
    FakeCosts(monkeypatch)
    ch = channel(svc, "http://127.0.0.1:9/never")
    sluggish = subscription(svc, ch.id, project="evil", code="*", filterExpression=SLUGGISH)
    for _ in range(routing.QUARANTINE_AFTER_STRIKES):
        _batch(svc, [(_post(svc, "evil"), "evil")])
    stored = svc.subscriptions.get("evil", sluggish.id)
    assert stored is not None and not stored.enabled
    assert "an evaluation took 300 ms" in (stored.disabledReason or "")


def test_a_cheap_evaluation_in_between_starts_the_count_again(
    svc: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    FakeCosts(monkeypatch)
    ch = channel(svc, "http://127.0.0.1:9/never")
    flaky = subscription(svc, ch.id, project="p", code="*", filterExpression=SLOW)
    for _ in range(routing.QUARANTINE_AFTER_STRIKES - 1):
        _batch(svc, [(_post(svc, "p"), "p")])
    svc.subscriptions.replace(flaky.model_copy(update={"filterExpression": CHEAP, "filterStrikes": 2}))
    _batch(svc, [(_post(svc, "p"), "p")])  # cheap now: the count goes back to zero
    assert svc.subscriptions.get("p", flaky.id).filterStrikes == 0  # type: ignore[union-attr]


def test_a_quarantined_subscription_enabled_again_starts_afresh(
    svc: Services, monkeypatch: pytest.MonkeyPatch, admin_client: Any
) -> None:
    FakeCosts(monkeypatch)
    ch = channel(svc, "http://127.0.0.1:9/never", projects=["evil"])
    hostile = subscription(svc, ch.id, project="evil", code="*", filterExpression=SLOW)
    for _ in range(routing.QUARANTINE_AFTER_STRIKES):
        _batch(svc, [(_post(svc, "evil"), "evil")])
    base = f"/api/projects/evil/notificationSubscriptions/{hostile.id}"
    status, shown = admin_client.call("GET", base)
    assert (status, shown["enabled"]) == (200, False) and shown["disabledReason"]

    status, enabled = admin_client.call("POST", f"{base}:enable")

    assert (status, enabled["enabled"], enabled["disabledReason"], enabled["disabledAt"]) == (
        200,
        True,
        None,
        None,
    )
    assert svc.subscriptions.get("evil", hostile.id).filterStrikes == 0  # type: ignore[union-attr]


def test_the_real_catastrophic_regex_is_quarantined_and_then_costs_nothing(svc: Services) -> None:
    """The probe's filter on a 100 KB value: real regex timeouts, three batches, then quarantine."""
    ch = channel(svc, "http://127.0.0.1:9/never")
    hostile = subscription(svc, ch.id, project="evil", code="*", filterExpression=HOSTILE)
    plain = subscription(svc, ch.id, project="evil", code="*")
    payload = {**ANALYSIS, "a": "a" * 100_000 + "b"}
    for _ in range(routing.QUARANTINE_AFTER_STRIKES):
        _batch(svc, [(_post(svc, "evil", {**payload, "id": str(uuid.uuid4())}), "evil")])
    stored = svc.subscriptions.get("evil", hostile.id)
    assert stored is not None and not stored.enabled
    assert "timed out after 50 ms on a 100001-character value" in (stored.disabledReason or "")

    event_id = _post(svc, "evil", {**payload, "id": "after"})
    _batch(svc, [(event_id, "evil")])
    _, notifications = svc.events.get_with_notifications(event_id, consistent=True)
    assert [n.subscriptionId for n in notifications] == [plain.id]


@pytest.fixture
def admin_client(svc: Services) -> Any:
    from herald.api import auth
    from tests.unit.api.support import ADMIN, Client

    auth.register_key(svc.api_keys, ADMIN, projects=[], admin=True)
    return Client(ADMIN)
