"""Protecting receivers and the other channels from one bad endpoint, around each send.

`before_send` asks the channel's circuit (herald.domain.circuit) and rate limit (herald.logic.rate_limit)
whether a delivery may go now; `after_attempt` counts its outcome, opens, closes or pauses the
circuit, disables the channel when it has failed for too long or answered 410 Gone, and emits the
operational events. Both run on a worker thread (blocking boto3).

The health item is read at most once a second per channel and process (a cache), and written
only when there is something to remember: a healthy channel's successes cost no write.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from aws_lambda_powertools import Logger

from herald.dal.channel_health import HealthStore
from herald.domain import circuit, clock
from herald.domain.circuit import ChannelHealth, CircuitPolicy, CircuitState, Gate
from herald.domain.models import Channel, Notification
from herald.logic import operational, rate_limit
from herald.logic.services import Services

if TYPE_CHECKING:  # an annotation only: importing herald.targets loads aiohttp (~120 ms) in the API
    from herald.targets.base import Outcome

logger = Logger(child=True)

CACHE_SECONDS = 1.0
# How long a delivery waits in the queue when another one is probing the channel.
PROBE_BUSY_WAIT_SECONDS = 5.0
# When the rate limit's seconds are booked up, come back after about this long.
RATE_BOOKED_WAIT_SECONDS = 1.0
GONE = 410
THROTTLED = (429, 503)

_cache: dict[str, tuple[float, ChannelHealth | None]] = {}


def _read(store: HealthStore, channel_id: str) -> ChannelHealth | None:
    cached = _cache.get(channel_id)
    if cached and time.monotonic() - cached[0] < CACHE_SECONDS:
        return cached[1]
    health = store.get(channel_id)
    _remember(channel_id, health)
    return health


def _remember(channel_id: str, health: ChannelHealth | None) -> None:
    _cache[channel_id] = (time.monotonic(), health)


def seed(channel_id: str, health: ChannelHealth | None, read_at: float) -> None:
    """A channel's health read elsewhere (a batch's reads, at `read_at`, time.monotonic()): kept
    as the cached value unless the cache holds a newer one."""
    cached = _cache.get(channel_id)
    if cached is None or cached[0] < read_at:
        _cache[channel_id] = (read_at, health)


def forget(channel_id: str | None = None) -> None:
    """Drop cached health (one channel's, or all: tests and re-enabling)."""
    if channel_id is None:
        _cache.clear()
    else:
        _cache.pop(channel_id, None)


def before_send(services: Services, channel: Channel, now: float) -> tuple[Gate, ChannelHealth | None]:
    """May this delivery go now? Returns the gate and the health it was decided on."""
    store = services.channel_health
    policy = CircuitPolicy.from_settings(services.settings)
    health = _read(store, channel.id)
    gate = circuit.gate(health, now, policy)
    if not gate.go:
        return gate, health
    if gate.probe:
        assert health is not None
        taken = store.take_probe(channel.id, health, now, policy.probe_lease_seconds)
        forget(channel.id)
        if not taken:
            wait = min(PROBE_BUSY_WAIT_SECONDS, policy.cooldown_seconds)
            return Gate(False, wait, "another delivery is probing the channel"), health
        logger.info("probing a channel whose circuit is open", channel=channel.id)
        return gate, health
    if channel.rateLimitPerSecond:
        slot = rate_limit.reserve(store, channel.id, channel.rateLimitPerSecond, now)
        if slot is None:
            return Gate(False, RATE_BOOKED_WAIT_SECONDS, "the channel's rate limit"), health
        return Gate(True, wait=slot), health
    return gate, health


def after_attempt(
    services: Services,
    channel: Channel,
    notification: Notification,
    outcome: Outcome,
    seen: ChannelHealth | None,
    probe: bool,
    now: float,
) -> None:
    """Count the attempt's outcome towards the channel's health and act on what it shows."""
    store = services.channel_health
    policy = CircuitPolicy.from_settings(services.settings)
    if outcome.http_status == GONE:
        disable(services, channel, notification.projectId, "the receiver answered 410 Gone", now)
        return
    if outcome.http_status in THROTTLED and outcome.retry_after:
        store.pause(channel.id, now + outcome.retry_after, now)
        forget(channel.id)
        logger.info(
            "channel paused at the receiver's request", channel=channel.id, seconds=outcome.retry_after
        )
        return
    if outcome.success and not probe and (seen is None or seen.is_clean()):
        return  # nothing to remember: no write
    error = outcome.error or (f"HTTP {outcome.http_status}" if outcome.http_status else None)
    health = store.record(channel.id, outcome.success, now, error, circuit.window_expired(seen, now, policy))
    _remember(channel.id, health)
    projects = operational.channel_projects(channel, notification.projectId)
    if outcome.success:
        if health.state is not CircuitState.CLOSED and store.close_circuit(channel.id, now):
            forget(channel.id)
            logger.info("channel recovered: circuit closed", channel=channel.id)
            operational.channel_recovered(services, channel, projects, clock.utc_iso(now))
        return
    if health.state is CircuitState.HALF_OPEN:
        store.open_circuit(channel.id, now, CircuitState.HALF_OPEN)  # the probe failed: cool down again
        forget(channel.id)
    elif circuit.should_open(health, policy) and store.open_circuit(channel.id, now, CircuitState.CLOSED):
        forget(channel.id)
        logger.warning(
            "channel failing: circuit opened",
            channel=channel.id,
            failure_rate=round(health.failure_rate(), 3),
            consecutive_failures=health.consecutiveFailures,
        )
        operational.channel_failing(
            services,
            channel,
            projects,
            clock.utc_iso(now),
            failureRate=round(health.failure_rate(), 3),
            consecutiveFailures=health.consecutiveFailures,
            failingSince=clock.utc_iso(health.failingSince or now),
            lastError=health.lastError,
        )
    if circuit.should_disable(health, now, policy):
        days = policy.disable_after_seconds / 86400
        disable(
            services,
            channel,
            notification.projectId,
            f"every delivery failed since {clock.utc_iso(health.failingSince or now)} ({days:g} days or more)",
            now,
        )


def disable(services: Services, channel: Channel, fallback_project: str, reason: str, now: float) -> bool:
    """Disable the channel (once, whoever gets there first) and say so."""
    at = clock.utc_iso(now)
    if not services.channels.disable(channel.id, reason, at):
        return False
    logger.warning("channel disabled", channel=channel.id, reason=reason)
    operational.channel_disabled(
        services, channel, operational.channel_projects(channel, fallback_project), reason, at
    )
    return True
