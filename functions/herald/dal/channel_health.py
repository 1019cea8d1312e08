"""Channel health and rate-limit state in Herald's table, shared by every deliver invocation.

Items (beside the channel's own item, keys in `herald.dal.layout`): the circuit breaker's
counters and state (`ChannelHealth`), and per second how many sends were granted in it (expiring
in two minutes).

Every change is a single conditional or atomic UpdateItem, so concurrent deliver functions agree
on who opens a circuit and who probes: exactly one wins each transition (disabling the channel
itself: `herald.dal.channels.ChannelStore.disable`).
"""

from __future__ import annotations

from typing import Any

from herald.dal import layout
from herald.dal.codec import Item, Table
from herald.domain.circuit import ChannelHealth, CircuitState
from herald.names import TABLE_TTL_ATTRIBUTE

RATE_WINDOW_TTL_SECONDS = 120


class HealthStore:
    def __init__(self, table: Table) -> None:
        self.table = table

    def _update(self, channel_id: str, expression: str, values: Item, **kwargs: Any) -> Item:
        return self.table.update(layout.channel_health(channel_id), expression, values, **kwargs)

    def _update_if(self, channel_id: str, expression: str, values: Item, **kwargs: Any) -> bool:
        return self.table.update_if(layout.channel_health(channel_id), expression, values, **kwargs)

    # --- circuit --------------------------------------------------------------------------------
    def get(self, channel_id: str, consistent: bool = False) -> ChannelHealth | None:
        item = self.table.get(layout.channel_health(channel_id), consistent=consistent)
        return ChannelHealth.model_validate(item) if item else None

    def record(
        self, channel_id: str, success: bool, now: float, error: str | None, new_window: bool
    ) -> ChannelHealth:
        """Count one attempt atomically; returns the health after it."""
        sets = ["channelId = :cid", f"{TABLE_TTL_ATTRIBUTE} = :exp"]
        adds: list[str] = []
        removes: list[str] = []
        values: Item = {
            ":cid": channel_id,
            ":exp": self.table.expires_at(now),
            ":one": 1,
            ":now": now,
            ":failed": 0 if success else 1,
        }
        if new_window:
            sets += ["windowStart = :now", "windowAttempts = :one", "windowFailures = :failed"]
        else:
            sets.append("windowStart = if_not_exists(windowStart, :now)")
            adds += ["windowAttempts :one", "windowFailures :failed"]
        if success:
            sets += ["consecutiveFailures = :zero", "lastSuccessAt = :now"]
            values[":zero"] = 0
            removes.append("failingSince")
        else:
            adds.append("consecutiveFailures :one")
            sets += ["failingSince = if_not_exists(failingSince, :now)", "lastFailureAt = :now"]
            sets.append("lastError = :err")
            values[":err"] = (error or "failed")[:300]
        expression = "SET " + ", ".join(sets)
        if adds:
            expression += " ADD " + ", ".join(adds)
        if removes:
            expression += " REMOVE " + ", ".join(removes)
        return ChannelHealth.model_validate(self._update(channel_id, expression, values, returns="ALL_NEW"))

    def pause(self, channel_id: str, until: float, now: float) -> None:
        """Hold the channel's deliveries until `until` (never shortens a longer pause)."""
        self._update_if(
            channel_id,
            f"SET pausedUntil = :u, channelId = :cid, {TABLE_TTL_ATTRIBUTE} = :exp",
            {":u": until, ":cid": channel_id, ":exp": self.table.expires_at(now)},
            condition="attribute_not_exists(pausedUntil) OR pausedUntil < :u",
        )

    def open_circuit(self, channel_id: str, now: float, from_state: CircuitState) -> bool:
        """closed → open (True for the one invocation that did it), or half-open → open."""
        condition = "#st = :from"
        if from_state is CircuitState.CLOSED:
            condition = "attribute_not_exists(#st) OR #st = :from"
        return self._update_if(
            channel_id,
            "SET #st = :open, openedAt = :now REMOVE probeUntil",
            {":open": CircuitState.OPEN.value, ":now": now, ":from": from_state.value},
            condition=condition,
            names={"#st": "state"},
        )

    def take_probe(self, channel_id: str, seen: ChannelHealth, now: float, lease: float) -> bool:
        """Let exactly one delivery probe an open circuit (or one whose probe lease ran out)."""
        values: Item
        if seen.state is CircuitState.OPEN:
            condition, values = "#st = :open AND openedAt = :opened", {":opened": seen.openedAt}
        else:
            condition, values = "#st = :half AND probeUntil = :lease", {":lease": seen.probeUntil}
        values.update(
            {":open": CircuitState.OPEN.value, ":half": CircuitState.HALF_OPEN.value, ":until": now + lease}
        )
        return self._update_if(
            channel_id,
            "SET #st = :half, probeUntil = :until",
            values,
            condition=condition,
            names={"#st": "state"},
        )

    def close_circuit(self, channel_id: str, now: float) -> bool:
        """open/half-open → closed with a fresh window (True for the invocation that did it)."""
        return self._update_if(
            channel_id,
            "SET #st = :closed, windowStart = :now, windowAttempts = :zero, windowFailures = :zero "
            "REMOVE openedAt, probeUntil",
            {":closed": CircuitState.CLOSED.value, ":now": now, ":zero": 0},
            condition="#st <> :closed",
            names={"#st": "state"},
        )

    def reset(self, channel_id: str) -> None:
        """Forget the channel's health (it was re-enabled, or deleted)."""
        self.table.delete(layout.channel_health(channel_id))

    # --- rate limit -----------------------------------------------------------------------------
    def take_rate_slot(self, channel_id: str, second: int) -> int:
        """Count one more send in `second`; returns its rank (1 = the first)."""
        granted = self.table.update(
            layout.channel_rate(channel_id, second),
            f"ADD granted :one SET {TABLE_TTL_ATTRIBUTE} = :exp",
            {":one": 1, ":exp": second + RATE_WINDOW_TTL_SECONDS},
            returns="UPDATED_NEW",
        )
        return int(granted["granted"])

    def jump_rate_slot(self, channel_id: str, second: int, rank: int) -> bool:
        """Take rank `rank` in `second` if the count is still below it (skipping stale ranks)."""
        return self.table.update_if(
            layout.channel_rate(channel_id, second),
            f"SET granted = :rank, {TABLE_TTL_ATTRIBUTE} = :exp",
            {":rank": rank, ":exp": second + RATE_WINDOW_TTL_SECONDS},
            condition="attribute_not_exists(granted) OR granted < :rank",
        )
