"""A delivery message's life: what becomes of it after each receive, decided here and nowhere else.

Routing sends one message per notification to a deliveries queue (the standard one, or the FIFO
one for ordered subscriptions). Each receive, herald.logic.delivery makes at most one attempt and
asks this module for the message's `Disposition`; herald.handlers.batch applies it to SQS.

    what happened                                  standard queue          ordered (FIFO) queue
    nothing to do (settled, gone, channel off)     DONE                    DONE
    delivered                                      DONE                    DONE
    failed, attempts left                          RETRY after backoff     RETRY after backoff
    failed, retrying cannot help (410, too large)  DONE                    DONE
    failed, the last attempt                       DEAD_LETTER             DONE
    held back (open circuit, rate limit, pause)    RESEND after the wait   RETRY after the wait

- DONE: the record succeeds and Lambda deletes the message.
- RETRY n: the message's visibility timeout becomes n s and its record fails, so SQS itself holds
  the retry: nothing sleeps, and a retrying notification never blocks the others.
- RESEND n: a copy is sent with a delay of n s (at most SQS's 900) and the original's record
  succeeds: a deferral makes no attempt, so it must not count as a receive towards the redrive.
- DEAD_LETTER: visibility 0 and the record fails: the next receive is past the queue's
  maxReceiveCount (`names.max_receive_count`, one receive per attempt; it lives in names because
  the infrastructure sets it) and SQS moves the message to the dead-letter queue. There the
  reprocess function (herald.logic.dead_letters) confirms the failure, or marks failed a
  notification whose every try crashed before an attempt could be recorded.

On the FIFO queue (one message group per subscription) a message keeps its place: a retry or a
deferral changes its visibility instead of re-sending it, and the rest of its group in the batch is
held back behind it. A notification that failed for good leaves its group at once (DONE): the
dead-letter queue's consumer has nothing to add, and the group's next message should not wait.

Attempts are the notification's own count (`Notification.attempts`), not SQS's receive count: a
deferral, or a crash before the send, uses none. The schedule is herald.domain.retry's.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Sequence
from dataclasses import dataclass
from http import HTTPStatus
from typing import TYPE_CHECKING

from herald.domain import retry
from herald.domain.models import NotificationStatus

if TYPE_CHECKING:  # an annotation only: importing herald.targets loads aiohttp
    from herald.targets.base import Outcome


class Action(enum.Enum):
    DONE = "done"
    RETRY = "retry"
    RESEND = "resend"
    DEAD_LETTER = "dead-letter"


@dataclass(frozen=True)
class Disposition:
    """What becomes of one message: `seconds` is the visibility (RETRY) or the delay (RESEND)."""

    action: Action
    seconds: int = 0
    reason: str = ""


def done(reason: str) -> Disposition:
    return Disposition(Action.DONE, reason=reason)


def retry_after(seconds: int, reason: str) -> Disposition:
    return Disposition(Action.RETRY, seconds, reason)


def resend_after(seconds: int, reason: str) -> Disposition:
    return Disposition(Action.RESEND, seconds, reason)


def dead_letter(reason: str) -> Disposition:
    return Disposition(Action.DEAD_LETTER, reason=reason)


@dataclass(frozen=True)
class Verdict:
    """What one attempt means: the notification's new status and its message's disposition."""

    status: NotificationStatus
    disposition: Disposition


def after_attempt(outcome: Outcome, attempts_before: int, schedule: Sequence[int], ordered: bool) -> Verdict:
    """The attempt numbered `attempts_before + 1` ended with `outcome`."""
    if outcome.success:
        return Verdict(NotificationStatus.SUCCESS, done("delivered"))
    why = outcome.error or f"HTTP {outcome.http_status}"
    # 410 Gone: the receiver says the endpoint is gone for good (Standard Webhooks); the channel
    # is disabled (herald.logic.endpoint_health) and retrying cannot help.
    if not outcome.retryable or outcome.http_status == HTTPStatus.GONE:
        return Verdict(NotificationStatus.FAILED, done(f"failed, not retryable: {why}"))
    delay = retry.next_delay(schedule, attempts_before + 1)
    if delay is None:
        if ordered:
            return Verdict(NotificationStatus.FAILED, done(f"attempts exhausted, leaves its group: {why}"))
        return Verdict(NotificationStatus.FAILED, dead_letter(f"attempts exhausted: {why}"))
    if outcome.retry_after is not None:
        # Honour the receiver's Retry-After, within the schedule's longest delay.
        delay = min(max(delay, outcome.retry_after), max(schedule))
    return Verdict(NotificationStatus.RETRYABLE, retry_after(delay, why))


def held_back(wait: float, reason: str, ordered: bool) -> Disposition:
    """The channel's circuit or rate limit held the delivery back for `wait` s: no send, no attempt."""
    seconds = max(1, math.ceil(wait))
    return retry_after(seconds, reason) if ordered else resend_after(seconds, reason)
