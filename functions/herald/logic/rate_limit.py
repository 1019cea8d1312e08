"""A per-channel rate limit shared by every deliver invocation: counted sends per second.

Each send takes a rank in the current (or next) second with one atomic DynamoDB counter update;
rank k of a limit of N/s goes at `second + (k - 1) / N`. So no second ever grants more than N,
and sends leave evenly spaced, 1/N apart: a rank whose time has already gone is not used (the
counter jumps to the current slot), so sends that arrive late in a second cannot bunch up with
the next second's. Any sliding one-second window sees at most N + 1 sends. A send that finds both
seconds booked is deferred through the queue (not failed, no attempt used).
"""

from __future__ import annotations

from herald.dal.channel_health import HealthStore

# Seconds probed for a free rank: this one and the next. Further ahead, the delivery waits in the
# queue instead of holding a deliver invocation.
WINDOWS_PROBED = 2


def reserve(store: HealthStore, channel_id: str, per_second: int, now: float) -> float | None:
    """Seconds to wait before sending, or None when the channel is booked up for now."""
    second = int(now)
    for window in range(second, second + WINDOWS_PROBED):
        rank = store.take_rate_slot(channel_id, window)
        current = int((now - window) * per_second) + 1  # the rank whose slot is now (or just gone)
        if rank < current:
            # The slots before now went unused; sending in them now would bunch sends together.
            rank = (
                current
                if store.jump_rate_slot(channel_id, window, current)
                else store.take_rate_slot(channel_id, window)
            )
        if rank <= per_second:
            return max(0.0, window + (rank - 1) / per_second - now)
    return None
