"""A per-channel rate limit shared by every deliver invocation: counted sends per second.

Each send takes a rank in the current (or next) second with one atomic DynamoDB counter update;
rank k of a limit of N/s goes at `second + (k - 1) / N`, so a backlog leaves evenly spaced and no
second ever grants more than N. A send that finds both seconds full is deferred through the queue
(not failed, no attempt used). Bursts: up to N sends may leave together after an idle spell, as
with a token bucket of N tokens.
"""

from __future__ import annotations

from herald.health_store import HealthStore

# Seconds probed for a free rank: this one and the next. Further ahead, the delivery waits in the
# queue instead of holding a deliver invocation.
WINDOWS_PROBED = 2


def reserve(store: HealthStore, channel_id: str, per_second: int, now: float) -> float | None:
    """Seconds to wait before sending, or None when the channel is booked up for now."""
    second = int(now)
    for window in range(second, second + WINDOWS_PROBED):
        rank = store.take_rate_slot(channel_id, window)
        if rank <= per_second:
            return max(0.0, window + (rank - 1) / per_second - now)
    return None
