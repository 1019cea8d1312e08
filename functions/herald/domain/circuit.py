"""A channel's health: the circuit breaker's state and the decisions it drives.

Pure functions over `ChannelHealth`; `herald.dal.channel_health` keeps the state in DynamoDB (shared by
every deliver invocation) and `herald.logic.endpoint_health` applies these decisions around a send.

- closed: deliveries go out. It opens when the recent attempts mostly fail (at least
  `min_attempts` in the window and `failure_rate` of them failed) or `consecutive_failures`
  attempts in a row failed.
- open: deliveries are deferred without a send and without using an attempt; after `cooldown`
  one delivery takes the probe lease (half-open) and goes out.
- half-open: the probe's success closes the circuit; its failure opens it again for a cool-down.

Throttling answers (429 or 503 with Retry-After) pause the channel for the time asked instead of
counting towards the circuit: the receiver is asking for a slower pace, not failing.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from pydantic import BaseModel

from herald.domain.settings import Settings


class CircuitState(StrEnum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half-open"


class ChannelHealth(BaseModel):
    channelId: str
    state: CircuitState = CircuitState.CLOSED
    windowStart: float = 0.0
    windowAttempts: int = 0
    windowFailures: int = 0
    consecutiveFailures: int = 0
    failingSince: float | None = None  # the first failure after the last success
    lastSuccessAt: float | None = None
    lastFailureAt: float | None = None
    lastError: str | None = None
    openedAt: float | None = None
    probeUntil: float | None = None  # half-open: the probe's lease
    pausedUntil: float | None = None  # a receiver's Retry-After

    def failure_rate(self) -> float:
        return self.windowFailures / self.windowAttempts if self.windowAttempts else 0.0

    def is_clean(self) -> bool:
        """Nothing to remember: a success changes nothing, so it needs no write."""
        return (
            self.state is CircuitState.CLOSED
            and self.consecutiveFailures == 0
            and self.windowFailures == 0
            and self.failingSince is None
        )


@dataclass(frozen=True)
class CircuitPolicy:
    failure_rate: float
    min_attempts: int
    consecutive_failures: int
    window_seconds: int
    cooldown_seconds: int
    disable_after_seconds: int
    probe_lease_seconds: float

    @classmethod
    def from_settings(cls, settings: Settings) -> CircuitPolicy:
        return cls(
            failure_rate=settings.circuit_failure_rate,
            min_attempts=settings.circuit_min_attempts,
            consecutive_failures=settings.circuit_consecutive_failures,
            window_seconds=settings.circuit_window_seconds,
            cooldown_seconds=settings.circuit_cooldown_seconds,
            disable_after_seconds=settings.disable_after_seconds,
            # A probe that never reports back (its function died) frees the lease after this.
            probe_lease_seconds=settings.http_timeout_seconds + 15,
        )


@dataclass(frozen=True)
class Gate:
    """Before a send: go (`probe` when this send is the half-open circuit's probe), or defer
    for `wait` seconds, saying why."""

    go: bool
    wait: float = 0.0
    reason: str = ""
    probe: bool = False


SEND = Gate(go=True)


def gate(health: ChannelHealth | None, now: float, policy: CircuitPolicy) -> Gate:
    """What the circuit allows now; `probe=True` means: take the probe lease first."""
    if health is None:
        return SEND
    if health.pausedUntil and health.pausedUntil > now:
        return Gate(False, health.pausedUntil - now, "the receiver asked to slow down (Retry-After)")
    if health.state is CircuitState.OPEN:
        reopen_at = (health.openedAt or now) + policy.cooldown_seconds
        if now < reopen_at:
            return Gate(False, held_back_for(health, now, reopen_at), "the channel's circuit is open")
        return Gate(True, probe=True)
    if health.state is CircuitState.HALF_OPEN:
        if health.probeUntil and health.probeUntil > now:
            return Gate(False, health.probeUntil - now, "a probe delivery is in flight")
        return Gate(True, probe=True)  # the previous probe's lease ran out
    return SEND


# A channel down for long keeps its held-back deliveries away longer than one cool-down (a quarter
# of its time down, at most SQS's longest delay): one probe per cool-down is enough to notice its
# recovery, and each return of a held-back delivery costs queue requests and reads.
HELD_BACK_SHARE_OF_DOWNTIME = 0.25
MAX_HELD_BACK_SECONDS = 900


def held_back_for(health: ChannelHealth, now: float, reopen_at: float) -> float:
    down_for = now - (health.failingSince or now)
    return max(reopen_at - now, min(MAX_HELD_BACK_SECONDS, HELD_BACK_SHARE_OF_DOWNTIME * down_for))


def window_expired(health: ChannelHealth | None, now: float, policy: CircuitPolicy) -> bool:
    return health is None or now - health.windowStart >= policy.window_seconds


def should_open(health: ChannelHealth, policy: CircuitPolicy) -> bool:
    if health.state is not CircuitState.CLOSED:
        return False
    if health.consecutiveFailures >= policy.consecutive_failures:
        return True
    return health.windowAttempts >= policy.min_attempts and health.failure_rate() >= policy.failure_rate


def should_disable(health: ChannelHealth, now: float, policy: CircuitPolicy) -> bool:
    """Every attempt has failed for `disable_after_seconds`."""
    return health.failingSince is not None and now - health.failingSince >= policy.disable_after_seconds
