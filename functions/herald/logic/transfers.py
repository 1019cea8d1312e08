"""Data transfers: progress tracking, stall detection (ICA_DATA_025) and success (ICA_DATA_002).

A platform reports a transfer's progress with `HERALD_TRANSFER` events whose payload is the
DataTransfer (`id`, `bytesTransferred` — or `bytesDone` —, `status`). Herald keeps one small item
per transfer; while the transfer is active it sits in an index ordered by the time of its last
progress. Every minute (EventBridge in AWS, `herald dev`'s scheduler locally) the stalled scan
emits ICA_DATA_025 for each active transfer that has not progressed for `HERALD_STALL_AFTER_SECONDS`
(2 minutes, the seed's definition): once per stall, re-armed when progress resumes, never for a
finished transfer. A transfer reported SUCCEEDED emits ICA_DATA_002.

The items, and the conditional writes that make concurrent reports and scans agree, are
`herald.dal.transfers`'.
"""

from __future__ import annotations

import json
from typing import Any

from aws_lambda_powertools import Logger

from herald.dal.transfers import ActiveTransfer
from herald.domain import catalog, clock
from herald.domain.models import Event
from herald.logic import emit
from herald.logic.services import Services

logger = Logger(child=True)

SUCCESS_STATES = frozenset({"SUCCEEDED", "COMPLETED"})
FINAL_STATES = SUCCESS_STATES | frozenset({"FAILED", "ABORTED", "CANCELLED", "CANCELED"})
STALLED_CODE = "ICA_DATA_025"
SUCCESS_CODE = "ICA_DATA_002"


def _progress(payload: dict[str, Any]) -> tuple[str, int | None, str] | None:
    transfer_id = payload.get("id")
    if not isinstance(transfer_id, str) or not transfer_id:
        return None
    raw = payload.get("bytesTransferred", payload.get("bytesDone"))
    done = raw if isinstance(raw, int) and not isinstance(raw, bool) else None
    status = str(payload.get("status") or payload.get("state") or "IN_PROGRESS").upper()
    return transfer_id, done, status


def observe(services: Services, event: Event) -> None:
    """Record what a transfer event says about its transfer."""
    if event.eventCode not in (catalog.TRANSFER_PROGRESS_CODE, SUCCESS_CODE):
        return
    progress = _progress(event.payload)
    if progress is None:
        logger.warning("transfer event without a transfer id", event_id=event.id)
        return
    transfer_id, done, status = progress
    transfers, now = services.transfers, clock.now()
    payload_json = json.dumps(event.payload, separators=(",", ":"), ensure_ascii=False)
    if status in FINAL_STATES or event.eventCode == SUCCESS_CODE:
        transfers.finish(event.projectId, transfer_id, status, payload_json, now)
        if status in SUCCESS_STATES and event.eventCode != SUCCESS_CODE:
            emit.emit(
                services,
                event.projectId,
                SUCCESS_CODE,
                event.payload,
                key=f"transfer-succeeded:{transfer_id}",
                description="Data transfer success",
                timestamp=event.timestamp,
            )
        return
    # Progress only when the byte count grew (or the transfer is new): a report repeating the
    # same count is exactly what a stalled transfer looks like.
    transfers.progress(event.projectId, transfer_id, status, done, payload_json, now)


def report_stalled(services: Services) -> int:
    """Emit ICA_DATA_025 for every active transfer without progress for the stall period."""
    transfers, now = services.transfers, clock.now()
    emitted = 0
    for transfer in transfers.without_progress_since(now - services.settings.stall_after_seconds):
        # Claimed first, so that concurrent scans (and a retried one) report each stall once.
        if not transfer.stall_reported and transfers.claim_stall(transfer, now):
            _emit_stalled(services, transfer)
            emitted += 1
    return emitted


def _emit_stalled(services: Services, transfer: ActiveTransfer) -> None:
    emit.emit(
        services,
        transfer.project_id,
        STALLED_CODE,
        json.loads(transfer.last_payload),
        # One event per stall: the stall is identified by the progress it stalled after.
        key=f"transfer-stalled:{transfer.transfer_id}:{transfer.last_progress_at}",
        description="Data transfer stalled",
    )
    logger.info("transfer stalled", project=transfer.project_id, transfer=transfer.transfer_id)
