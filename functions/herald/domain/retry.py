"""The retry policy: when the next attempt happens, and when attempts are exhausted."""

from __future__ import annotations

from collections.abc import Sequence


def next_delay(schedule: Sequence[int], attempts_made: int) -> int | None:
    """Seconds to wait after `attempts_made` failed attempts, or None when none remain.

    The first attempt is immediate; `schedule[i]` is the wait before attempt i + 2.
    """
    if attempts_made < 1:
        return 0
    if attempts_made > len(schedule):
        return None
    return schedule[attempts_made - 1]
