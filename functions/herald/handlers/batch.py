"""SQS batches, for every SQS-triggered function: Powertools' batch utility, and the one place a
delivery message's disposition (herald.logic.lifecycle) is applied to SQS.

Every batch reports its failures item by item (partial batch response, `ReportBatchItemFailures`
on the event source mapping): a failing record is never a function error, and an all-failed batch
is reported record by record too (`raise_on_entire_batch_failure=False`) rather than raised.

- `process`: route, bridge and reprocess. A record fails if its handler raises; after the queue's
  maxReceiveCount it waits in the queue's dead-letter queue.
- `process_deliveries`: deliver. Each record's handler returns a `Disposition`, applied here: the
  standard queue's batch concurrently (Powertools' AsyncBatchProcessor), the FIFO queue's in order
  with a failure skipping the rest of its message group only (SqsFifoPartialProcessor).

A processor, and what this module notes about a batch, lives for one invocation: `herald dev` runs
several functions' pollers (and a function's two event sources) on threads of one process.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from aws_lambda_powertools.utilities.batch import (
    AsyncBatchProcessor,
    BatchProcessor,
    EventType,
    SqsFifoPartialProcessor,
    async_process_partial_response,
    process_partial_response,
)
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from herald.adapters.queues import Queues
from herald.logic.lifecycle import Action, Disposition
from herald.names import SQS_MAX_DELAY_SECONDS

RecordHandler = Callable[[SQSRecord], None]
DeliveryHandler = Callable[[SQSRecord], Awaitable[Disposition]]


def process(
    event: dict[str, Any],
    context: Any,
    record_handler: RecordHandler,
    later: Callable[[dict[str, Any]], bool] | None = None,
) -> PartialItemFailureResponse:
    """Each record through `record_handler`, in the batch's order; a record for which `later`
    says True when its turn comes waits until the others are done (then in its order)."""
    processor = (
        BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)
        if later is None
        else LaterLastBatchProcessor(later)
    )
    return process_partial_response(
        event=event, record_handler=record_handler, processor=processor, context=context
    )


class LaterLastBatchProcessor(BatchProcessor):
    """Powertools' SQS batch processor, processing last the records `later` puts off.

    Hand-written because Powertools' processors only take the batch's order; `process` is the
    processor's own loop over its records (`_process_record` is its documented per-record step).
    """

    def __init__(self, later: Callable[[dict[str, Any]], bool]) -> None:
        super().__init__(event_type=EventType.SQS, raise_on_entire_batch_failure=False)
        self.later = later

    def process(self) -> list[tuple[Any, ...]]:
        results, put_off = [], []
        for record in self.records:
            if self.later(record):
                put_off.append(record)
                continue
            results.append(self._process_record(record))
        return results + [self._process_record(record) for record in put_off]


def from_fifo_queue(event: dict[str, Any]) -> bool:
    """True for a batch from a FIFO queue (all of a batch's records come from one queue)."""
    records = event.get("Records") or []
    return bool(records) and str(records[0].get("eventSourceARN", "")).endswith(".fifo")


class Rescheduled(Exception):
    """Fails a record whose message SQS was told to return later (a retry, or the dead-letter queue)."""


def process_deliveries(
    event: dict[str, Any],
    context: Any,
    record_handler: DeliveryHandler,
    queues: Queues,
    queue_url: str,
) -> PartialItemFailureResponse:
    """Each record's disposition, from `record_handler`, applied to the message on `queue_url`."""
    applier = _Dispositions(queues, queue_url)
    if not from_fifo_queue(event):

        async def handle(record: SQSRecord) -> None:
            disposition = await record_handler(record)
            await asyncio.to_thread(applier.apply, record, disposition)

        return async_process_partial_response(
            event=event, record_handler=handle, processor=_concurrent(), context=context
        )

    def handle_in_order(record: SQSRecord) -> None:
        # The FIFO processor is synchronous: each record runs on the loop the concurrent path uses
        # (the HTTP sessions live on it).
        applier.apply(record, _event_loop().run_until_complete(record_handler(record)))

    response = process_partial_response(
        event=event, record_handler=handle_in_order, processor=_in_order(), context=context
    )
    applier.release_held_back(event["Records"], response)
    return response


class _Dispositions:
    """One batch's dispositions applied to SQS, and which messages were given a visibility."""

    def __init__(self, queues: Queues, queue_url: str) -> None:
        self.queues, self.queue_url = queues, queue_url
        self.rescheduled: set[str] = set()

    def apply(self, record: SQSRecord, disposition: Disposition) -> None:
        action = disposition.action
        if action is Action.DONE:
            return  # the record succeeds: Lambda deletes the message
        if action is Action.RESEND:
            # A copy comes back after the delay; the original's record succeeds and is deleted.
            delay = min(disposition.seconds, SQS_MAX_DELAY_SECONDS)
            self.queues.resend(self.queue_url, record.body, delay)
            return
        # RETRY: back after the backoff. DEAD_LETTER: visible at once, and the next receive is
        # past maxReceiveCount, so SQS moves it to the dead-letter queue.
        seconds = disposition.seconds if action is Action.RETRY else 0
        self.queues.change_visibility(self.queue_url, record.receipt_handle, seconds)
        self.rescheduled.add(record.message_id)
        raise Rescheduled(f"{action.value} in {seconds} s: {disposition.reason}")

    def release_held_back(self, records: list[dict[str, Any]], response: PartialItemFailureResponse) -> None:
        """Make the messages held back behind a rescheduled one (same group) visible again at
        once: FIFO keeps them behind it anyway, and left invisible they would delay its retry
        until their own visibility timeout ran out."""
        failed = {f["itemIdentifier"] for f in response.get("batchItemFailures", [])}
        for r in records:
            if r["messageId"] in failed - self.rescheduled:
                self.queues.change_visibility(self.queue_url, r["receiptHandle"], 0)


def _concurrent() -> AsyncBatchProcessor:
    return AsyncBatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)


def _in_order() -> SqsFifoPartialProcessor:
    # A failure skips the rest of its message group only; other groups go on.
    processor = SqsFifoPartialProcessor(skip_group_on_error=True)
    # Its constructor does not take the option; the attribute is the base class's.
    processor.raise_on_entire_batch_failure = False
    return processor


def _event_loop() -> asyncio.AbstractEventLoop:
    try:
        loop = asyncio.get_event_loop()
    except RuntimeError:  # a thread without a loop (the local pollers)
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
    if loop.is_closed():
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
    return loop
