"""A channel's delivery attempts over time: per-minute counters, for the console's chart.

Attempts are recorded on their notifications (in the events' partitions), which no query can
read by channel and time. So attempts also add to one small counter item of their channel and
minute, in one atomic UpdateItem (one write unit). The deliver function counts a batch's attempts
in memory (`Tally`) and writes each channel's minute once per batch, not once per attempt:
`herald.dal.layout.channel_stats` (the channel's partition, by minute): succeeded, failed,
durationMs (the sum), and
a latency histogram (`lat0` … `lat7`, attempts at most 50, 100, 250, 500, 1000, 2500, 5000 ms and
slower), kept `STATS_TTL_SECONDS`. A series is one query of the channel's partition between
two minutes. These counters are bookkeeping: a failure to update them is logged, never failing
(and so repeating) the delivery they describe.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from herald.dal import layout
from herald.dal.codec import SK, Item, Table
from herald.names import TABLE_TTL_ATTRIBUTE

STATS_TTL_SECONDS = 8 * 86400  # a week's chart, and a day to spare
MAX_SERIES_SECONDS = 7 * 86400
LATENCY_BOUNDS_MS = (50, 100, 250, 500, 1000, 2500, 5000)  # then "slower"


def _bucket(duration_ms: int) -> int:
    for i, bound in enumerate(LATENCY_BOUNDS_MS):
        if duration_ms <= bound:
            return i
    return len(LATENCY_BOUNDS_MS)


@dataclass
class Point:
    """One step of a series: attempts that started within [at, at + step)."""

    at: float
    succeeded: int = 0
    failed: int = 0
    duration_ms: int = 0
    histogram: list[int] | None = None

    def add(self, item: Item) -> None:
        self.succeeded += int(item.get("succeeded", 0))
        self.failed += int(item.get("failed", 0))
        self.duration_ms += int(item.get("durationMs", 0))
        hist = self.histogram or [0] * (len(LATENCY_BOUNDS_MS) + 1)
        for i in range(len(hist)):
            hist[i] += int(item.get(f"lat{i}", 0))
        self.histogram = hist

    @property
    def attempts(self) -> int:
        return self.succeeded + self.failed

    def mean_latency_ms(self) -> float | None:
        return round(self.duration_ms / self.attempts, 1) if self.attempts else None

    def p95_latency_ms(self) -> int | None:
        """The upper bound of the histogram bucket holding the 95th percentile (None: slower
        than the last bound, or no attempts)."""
        if not self.attempts or not self.histogram:
            return None
        wanted, seen = 0.95 * self.attempts, 0
        for i, count in enumerate(self.histogram):
            seen += count
            if seen >= wanted:
                return LATENCY_BOUNDS_MS[i] if i < len(LATENCY_BOUNDS_MS) else None
        return None


@dataclass
class Tally:
    """Attempts counted in memory: (channel, epoch minute) → counter → amount."""

    counts: dict[tuple[str, int], Counter[str]] = field(default_factory=dict)

    def add(self, channel_id: str, at: float, success: bool, duration_ms: int) -> None:
        counter = self.counts.setdefault((channel_id, int(at // 60)), Counter())
        counter["succeeded" if success else "failed"] += 1
        counter["durationMs"] += max(0, int(duration_ms))
        counter[f"lat{_bucket(duration_ms)}"] += 1


class ChannelStats:
    def __init__(self, table: Table) -> None:
        self.table = table

    def count(self, channel_id: str, at: float, success: bool, duration_ms: int) -> None:
        """Add one attempt to its minute's counters."""
        tally = Tally()
        tally.add(channel_id, at, success, duration_ms)
        self.flush(tally)

    def flush(self, tally: Tally) -> None:
        """Write a tally: one atomic UpdateItem per channel and minute; the tally is emptied."""
        for (channel_id, minute), counter in list(tally.counts.items()):
            names = sorted(k for k, v in counter.items() if v)
            adds = ", ".join(f"{name} :v{i}" for i, name in enumerate(names))
            values: Item = {f":v{i}": counter[name] for i, name in enumerate(names)}
            values[":exp"] = minute * 60 + STATS_TTL_SECONDS
            self.table.update(
                layout.channel_stats(channel_id, minute),
                f"ADD {adds} SET {TABLE_TTL_ATTRIBUTE} = :exp",
                values,
            )
            del tally.counts[(channel_id, minute)]

    def series(self, channel_id: str, since: float, until: float, step: int) -> list[Point]:
        """Points every `step` seconds (a multiple of 60) from `since` to `until`, empty ones included."""
        first, last = int(since // 60), int(until // 60)
        start = first * 60 - (first * 60) % step
        points = [Point(at=float(t)) for t in range(start, last * 60 + 1, step)]
        items = self.table.partition_all(
            layout.channel_partition(channel_id),
            between=(layout.channel_stats_sk(first), layout.channel_stats_sk(last)),
        )
        for item in items:
            minute = layout.channel_stats_minute(str(item[SK]))
            index = (minute * 60 - start) // step
            if 0 <= index < len(points):
                points[index].add(item)
        return points
