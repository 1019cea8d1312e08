"""Channel health and rate-limit state in Herald's table, shared by every deliver invocation.

Items (in the single table, next to the channel's own `CHANNEL#<id>` / `CHANNEL` item):
- `CHANNEL#<id>` / `HEALTH`: the circuit breaker's counters and state (`ChannelHealth`);
- `CHANNEL#<id>` / `RATE#<epoch second>`: how many sends were granted in that second (expires in
  two minutes).

Every change is a single conditional or atomic UpdateItem, so concurrent deliver functions agree
on who opens a circuit, who probes and who disables a channel: exactly one wins each transition.
"""

from __future__ import annotations

from typing import Any

from herald.adapters import aws
from herald.dal.store import CHANNEL_SK, _from_ddb, _to_ddb, conditional_write
from herald.domain.circuit import ChannelHealth, CircuitState
from herald.names import TABLE_PARTITION_KEY as PK
from herald.names import TABLE_SORT_KEY as SK
from herald.names import TABLE_TTL_ATTRIBUTE

HEALTH_SK = "HEALTH"
RATE_WINDOW_TTL_SECONDS = 120


class HealthStore:
    def __init__(self, table_name: str, retention_seconds: int, ddb: Any | None = None) -> None:
        self.table = table_name
        self.retention_seconds = retention_seconds
        self.ddb = ddb if ddb is not None else aws.client("dynamodb")

    def _key(self, channel_id: str, sk: str = HEALTH_SK) -> dict[str, Any]:
        return _to_ddb({PK: f"CHANNEL#{channel_id}", SK: sk})

    def _update(self, channel_id: str, expression: str, values: dict[str, Any], **kwargs: Any) -> Any:
        return self.ddb.update_item(
            TableName=self.table,
            Key=self._key(channel_id, kwargs.pop("sk", HEALTH_SK)),
            UpdateExpression=expression,
            ExpressionAttributeValues=_to_ddb(values),
            **kwargs,
        )

    # --- circuit --------------------------------------------------------------------------------
    def get(self, channel_id: str, consistent: bool = False) -> ChannelHealth | None:
        item = self.ddb.get_item(
            TableName=self.table, Key=self._key(channel_id), ConsistentRead=consistent
        ).get("Item")
        return ChannelHealth.model_validate(_from_ddb(item)) if item else None

    def record(
        self, channel_id: str, success: bool, now: float, error: str | None, new_window: bool
    ) -> ChannelHealth:
        """Count one attempt atomically; returns the health after it."""
        sets = ["channelId = :cid", f"{TABLE_TTL_ATTRIBUTE} = :exp"]
        adds: list[str] = []
        removes: list[str] = []
        values: dict[str, Any] = {
            ":cid": channel_id,
            ":exp": int(now) + self.retention_seconds,
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
        resp = self._update(channel_id, expression, values, ReturnValues="ALL_NEW")
        return ChannelHealth.model_validate(_from_ddb(resp["Attributes"]))

    def pause(self, channel_id: str, until: float, now: float) -> None:
        """Hold the channel's deliveries until `until` (never shortens a longer pause)."""
        conditional_write(
            lambda: self._update(
                channel_id,
                f"SET pausedUntil = :u, channelId = :cid, {TABLE_TTL_ATTRIBUTE} = :exp",
                {":u": until, ":cid": channel_id, ":exp": int(now) + self.retention_seconds},
                ConditionExpression="attribute_not_exists(pausedUntil) OR pausedUntil < :u",
            )
        )

    def open_circuit(self, channel_id: str, now: float, from_state: CircuitState) -> bool:
        """closed → open (True for the one invocation that did it), or half-open → open."""
        condition = "#st = :from"
        if from_state is CircuitState.CLOSED:
            condition = "attribute_not_exists(#st) OR #st = :from"
        return conditional_write(
            lambda: self._update(
                channel_id,
                "SET #st = :open, openedAt = :now REMOVE probeUntil",
                {":open": CircuitState.OPEN.value, ":now": now, ":from": from_state.value},
                ConditionExpression=condition,
                ExpressionAttributeNames={"#st": "state"},
            )
        )

    def take_probe(self, channel_id: str, seen: ChannelHealth, now: float, lease: float) -> bool:
        """Let exactly one delivery probe an open circuit (or one whose probe lease ran out)."""
        if seen.state is CircuitState.OPEN:
            condition, values = "#st = :open AND openedAt = :opened", {":opened": seen.openedAt}
        else:
            condition, values = "#st = :half AND probeUntil = :lease", {":lease": seen.probeUntil}
        values.update(
            {":open": CircuitState.OPEN.value, ":half": CircuitState.HALF_OPEN.value, ":until": now + lease}
        )
        return conditional_write(
            lambda: self._update(
                channel_id,
                "SET #st = :half, probeUntil = :until",
                values,
                ConditionExpression=condition,
                ExpressionAttributeNames={"#st": "state"},
            )
        )

    def close_circuit(self, channel_id: str, now: float) -> bool:
        """open/half-open → closed with a fresh window (True for the invocation that did it)."""
        return conditional_write(
            lambda: self._update(
                channel_id,
                "SET #st = :closed, windowStart = :now, windowAttempts = :zero, windowFailures = :zero "
                "REMOVE openedAt, probeUntil",
                {":closed": CircuitState.CLOSED.value, ":now": now, ":zero": 0},
                ConditionExpression="#st <> :closed",
                ExpressionAttributeNames={"#st": "state"},
            )
        )

    def reset(self, channel_id: str) -> None:
        """Forget the channel's health (it was re-enabled, or deleted)."""
        self.ddb.delete_item(TableName=self.table, Key=self._key(channel_id))

    # --- disabling ------------------------------------------------------------------------------
    def disable_channel(self, channel_id: str, reason: str, at_iso: str) -> bool:
        """Disable an enabled channel; True for the one invocation that did it."""
        return conditional_write(
            lambda: self._update(
                channel_id,
                "SET enabled = :off, disabledReason = :why, disabledAt = :at",
                {":off": False, ":on": True, ":why": reason, ":at": at_iso},
                sk=CHANNEL_SK,
                ConditionExpression=f"attribute_exists({PK}) AND enabled = :on",
            )
        )

    # --- rate limit -----------------------------------------------------------------------------
    def take_rate_slot(self, channel_id: str, second: int) -> int:
        """Count one more send in `second`; returns its rank (1 = the first)."""
        resp = self._update(
            channel_id,
            f"ADD granted :one SET {TABLE_TTL_ATTRIBUTE} = :exp",
            {":one": 1, ":exp": second + RATE_WINDOW_TTL_SECONDS},
            sk=f"RATE#{second}",
            ReturnValues="UPDATED_NEW",
        )
        return int(resp["Attributes"]["granted"]["N"])

    def jump_rate_slot(self, channel_id: str, second: int, rank: int) -> bool:
        """Take rank `rank` in `second` if the count is still below it (skipping stale ranks)."""
        return conditional_write(
            lambda: self._update(
                channel_id,
                f"SET granted = :rank, {TABLE_TTL_ATTRIBUTE} = :exp",
                {":rank": rank, ":exp": second + RATE_WINDOW_TTL_SECONDS},
                sk=f"RATE#{second}",
                ConditionExpression="attribute_not_exists(granted) OR granted < :rank",
            )
        )
