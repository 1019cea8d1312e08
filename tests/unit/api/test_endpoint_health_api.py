"""Endpoint health in the API: rate limits, the health view, re-enabling, ordered subscriptions,
and Herald's operational event codes (subscribable, never posted)."""

from __future__ import annotations

import pytest

from herald.domain import clock
from herald.domain.circuit import CircuitState
from herald.logic.services import Services
from tests.unit.api.support import Client, channel, subscription

CHANNELS = "/api/notificationChannels"


def test_a_channel_s_rate_limit_is_set_shown_and_changed(admin: Client) -> None:
    created = channel(admin, rateLimitPerSecond=25)
    assert created["rateLimitPerSecond"] == 25

    status, patched = admin.call("PATCH", f"{CHANNELS}/{created['id']}", {"rateLimitPerSecond": None})

    assert (status, patched["rateLimitPerSecond"]) == (200, None)


@pytest.mark.parametrize("value", [0, -1, 10001, 2.5, "fast"])
def test_a_bad_rate_limit_is_400_naming_it(admin: Client, value: object) -> None:
    status, body = admin.call(
        "POST", CHANNELS, {"type": "HTTP", "address": "http://x/h", "rateLimitPerSecond": value}
    )
    assert status == 400
    assert body["error"]["field"] == "rateLimitPerSecond"


def test_a_new_channel_is_healthy(admin: Client) -> None:
    created = channel(admin)

    status, health = admin.call("GET", f"{CHANNELS}/{created['id']}/health")

    assert status == 200
    assert (health["state"], health["failureRate"], health["consecutiveFailures"]) == ("closed", 0.0, 0)
    assert (health["enabled"], health["openedAt"], health["nextProbeAt"]) == (True, None, None)


def test_an_open_circuit_shows_its_failure_rate_and_next_probe(admin: Client, keys: Services) -> None:
    created = channel(admin)
    store = keys.channel_health
    now = clock.now()
    for i in range(4):
        store.record(created["id"], success=i == 0, now=now, error="HTTP 500", new_window=i == 0)
    store.open_circuit(created["id"], now, CircuitState.CLOSED)

    _, health = admin.call("GET", f"{CHANNELS}/{created['id']}/health")

    assert (health["state"], health["failureRate"], health["windowAttempts"]) == ("open", 0.75, 4)
    assert (health["consecutiveFailures"], health["lastError"]) == (3, "HTTP 500")
    assert health["nextProbeAt"] == clock.utc_iso(now + keys.settings.circuit_cooldown_seconds)


def test_a_healthy_channel_shows_its_uncounted_attempts_as_unknown_not_as_zero(admin: Client) -> None:
    # A healthy channel's successes write nothing: there is no count and no last success to show.
    created = channel(admin)

    _, health = admin.call("GET", f"{CHANNELS}/{created['id']}/health")

    assert health["counting"] is False
    assert (health["windowAttempts"], health["windowStart"], health["lastSuccessAt"]) == (None, None, None)
    assert (health["windowFailures"], health["failureRate"]) == (0, 0.0)


def test_a_failing_channel_counts_every_attempt_and_shows_its_last_success(
    admin: Client, keys: Services
) -> None:
    created = channel(admin)
    store = keys.channel_health
    now = clock.now()
    store.record(created["id"], success=False, now=now - 3, error="HTTP 500", new_window=True)
    store.record(created["id"], success=True, now=now - 2, error=None, new_window=False)
    store.record(created["id"], success=False, now=now - 1, error="HTTP 502", new_window=False)

    _, health = admin.call("GET", f"{CHANNELS}/{created['id']}/health")

    assert health["counting"] is True
    assert (health["windowAttempts"], health["windowFailures"], health["failureRate"]) == (3, 2, 0.6667)
    assert health["windowStart"] == clock.utc_iso(now - 3)
    assert health["lastSuccessAt"] == clock.utc_iso(now - 2)
    assert (health["lastFailureAt"], health["lastError"]) == (clock.utc_iso(now - 1), "HTTP 502")


def test_a_recovered_channel_shows_no_stale_count_or_success_once_its_window_has_passed(
    admin: Client, keys: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    created = channel(admin)
    store = keys.channel_health
    then = clock.now()
    store.record(created["id"], success=False, now=then, error="HTTP 500", new_window=True)
    store.record(created["id"], success=True, now=then + 1, error=None, new_window=False)
    later = then + keys.settings.circuit_window_seconds + 1
    monkeypatch.setattr(clock, "now", lambda: later)

    _, health = admin.call("GET", f"{CHANNELS}/{created['id']}/health")

    assert health["counting"] is False
    assert (health["windowAttempts"], health["lastSuccessAt"], health["failureRate"]) == (None, None, 0.0)
    assert health["lastFailureAt"] == clock.utc_iso(then)  # failures are always recorded


def test_another_project_s_channel_health_is_404(p1: Client, p2: Client) -> None:
    created = channel(p1)

    status, body = p2.call("GET", f"{CHANNELS}/{created['id']}/health")

    assert status == 404
    assert body["error"]["code"] == "not_found"


def test_enabling_a_disabled_channel_clears_the_reason_and_its_health(admin: Client, keys: Services) -> None:
    created = channel(admin)
    store = keys.channel_health
    store.record(created["id"], success=False, now=clock.now(), error="HTTP 410", new_window=True)
    keys.channels.disable(created["id"], "the receiver answered 410 Gone", clock.utc_iso())
    _, shown = admin.call("GET", f"{CHANNELS}/{created['id']}")
    assert (shown["enabled"], shown["disabledReason"]) == (False, "the receiver answered 410 Gone")

    status, enabled = admin.call("PATCH", f"{CHANNELS}/{created['id']}", {"enabled": True})

    assert status == 200
    assert (enabled["enabled"], enabled["disabledReason"], enabled["disabledAt"]) == (True, None, None)
    assert store.get(created["id"], consistent=True) is None


def test_a_subscription_may_ask_for_ordered_delivery(admin: Client) -> None:
    ch = channel(admin)
    sub = subscription(admin, "p1", ch["id"], ordered=True)
    assert sub["ordered"] is True

    status, patched = admin.call(
        "PATCH", f"/api/projects/p1/notificationSubscriptions/{sub['id']}", {"ordered": False}
    )

    assert (status, patched["ordered"]) == (200, False)


def test_subscriptions_are_unordered_by_default(admin: Client) -> None:
    assert subscription(admin, "p1", channel(admin)["id"])["ordered"] is False


@pytest.mark.parametrize(
    "code",
    [
        "herald.notification.exhausted",
        "herald.channel.failing",
        "herald.channel.disabled",
        "herald.channel.recovered",
    ],
)
def test_operational_event_codes_can_be_subscribed_to(admin: Client, code: str) -> None:
    assert subscription(admin, "p1", channel(admin)["id"], code=code)["eventCode"] == code


def test_operational_event_codes_are_listed_in_the_catalog(admin: Client) -> None:
    _, body = admin.call("GET", "/api/eventCodes")
    codes = {c["code"] for c in body["items"]}
    assert {"herald.channel.failing", "herald.notification.exhausted"} <= codes


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/api/projects/p1/events", {"eventCode": "herald.x", "payload": {}}, "eventCode"),
        ("/api/projects/p1/customEvents", {"code": "herald.mine", "content": {}}, "code"),
    ],
    ids=["event", "custom-event"],
)
def test_posting_a_herald_code_is_400_reserved(admin: Client, path: str, body: dict, field: str) -> None:
    status, resp = admin.call("POST", path, body)
    assert status == 400
    assert resp["error"]["field"] == field
    assert "reserved for Herald's own events" in resp["error"]["message"]
