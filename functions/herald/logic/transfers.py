"""Data transfers: progress tracking, stall detection (ICA_DATA_025) and success (ICA_DATA_002).

A platform reports a transfer's progress with `HERALD_TRANSFER` events whose payload is the
DataTransfer (`id`, `bytesTransferred` — or `bytesDone` —, `status`). Herald keeps one small item
per transfer; while the transfer is active it sits in an index ordered by the time of its last
progress. Every minute (EventBridge in AWS, `herald dev`'s scheduler locally) the stalled scan
emits ICA_DATA_025 for each active transfer that has not progressed for `HERALD_STALL_AFTER_SECONDS`
(2 minutes, the seed's definition): once per stall, re-armed when progress resumes, never for a
finished transfer. A transfer reported SUCCEEDED emits ICA_DATA_002.

Items (same table as the rest, see herald.dal.store): pk `TRANSFER#{project}#{id}`, sk `TRANSFER`;
while active, gsi1 `TRANSFERS#ACTIVE` / `{lastProgressAt}#{project}#{id}`.
"""

from __future__ import annotations

import json
from typing import Any

from aws_lambda_powertools import Logger

from herald.dal.store import PK, SK, _from_ddb, _to_ddb, conditional_write
from herald.domain import catalog, clock
from herald.domain.models import Event
from herald.logic import emit
from herald.logic.services import Services
from herald.names import GSI1_NAME, GSI1_PARTITION_KEY, GSI1_SORT_KEY, TABLE_TTL_ATTRIBUTE

logger = Logger(child=True)

ACTIVE = "TRANSFERS#ACTIVE"
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


def _sort_key(at: float, project: str, transfer_id: str) -> str:
    return f"{at:017.6f}#{project}#{transfer_id}"


def observe(services: Services, event: Event) -> None:
    """Record what a transfer event says about its transfer."""
    if event.eventCode not in (catalog.TRANSFER_PROGRESS_CODE, SUCCESS_CODE):
        return
    progress = _progress(event.payload)
    if progress is None:
        logger.warning("transfer event without a transfer id", event_id=event.id)
        return
    transfer_id, done, status = progress
    store, now = services.store, clock.now()
    key = _to_ddb({PK: f"TRANSFER#{event.projectId}#{transfer_id}", SK: "TRANSFER"})
    expires = int(now) + store.retention_seconds
    payload_json = json.dumps(event.payload, separators=(",", ":"), ensure_ascii=False)
    if status in FINAL_STATES or event.eventCode == SUCCESS_CODE:
        # Finished: out of the active index, so it can never be reported stalled.
        store.ddb.update_item(
            TableName=store.table,
            Key=key,
            UpdateExpression=f"SET #s = :s, lastPayload = :p, {TABLE_TTL_ATTRIBUTE} = :x "
            f"REMOVE {GSI1_PARTITION_KEY}, {GSI1_SORT_KEY}, stalledAt",
            ExpressionAttributeNames={"#s": "status"},
            ExpressionAttributeValues=_to_ddb({":s": status, ":p": payload_json, ":x": expires}),
        )
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
    conditional_write(
        lambda: store.ddb.update_item(
            TableName=store.table,
            Key=key,
            UpdateExpression=f"SET #s = :s, bytesDone = :b, lastProgressAt = :now, lastPayload = :p, "
            f"projectId = :proj, transferId = :id, {TABLE_TTL_ATTRIBUTE} = :x, "
            f"{GSI1_PARTITION_KEY} = :active, {GSI1_SORT_KEY} = :sk REMOVE stalledAt",
            ConditionExpression="attribute_not_exists(bytesDone) OR bytesDone < :b",
            ExpressionAttributeNames={"#s": "status"},
            ExpressionAttributeValues=_to_ddb(
                {
                    ":s": status,
                    ":b": done if done is not None else 0,
                    ":now": now,
                    ":p": payload_json,
                    ":proj": event.projectId,
                    ":id": transfer_id,
                    ":x": expires,
                    ":active": ACTIVE,
                    ":sk": _sort_key(now, event.projectId, transfer_id),
                }
            ),
        )
    )


def report_stalled(services: Services) -> int:
    """Emit ICA_DATA_025 for every active transfer without progress for the stall period."""
    store, now = services.store, clock.now()
    cutoff = now - services.settings.stall_after_seconds
    emitted = 0
    cursor: dict[str, Any] | None = None
    while True:
        kwargs: dict[str, Any] = {
            "TableName": store.table,
            "IndexName": GSI1_NAME,
            "KeyConditionExpression": f"{GSI1_PARTITION_KEY} = :a AND {GSI1_SORT_KEY} < :cut",
            "ExpressionAttributeValues": _to_ddb({":a": ACTIVE, ":cut": f"{cutoff:017.6f}"}),
        }
        if cursor:
            kwargs["ExclusiveStartKey"] = cursor
        resp = store.ddb.query(**kwargs)
        for item in map(_from_ddb, resp.get("Items", [])):
            if "stalledAt" not in item and _claim_stall(services, item, now):
                _emit_stalled(services, item)
                emitted += 1
        cursor = resp.get("LastEvaluatedKey")
        if not cursor:
            return emitted


def _claim_stall(services: Services, item: dict[str, Any], now: float) -> bool:
    """Mark the stall reported, unless progress or another scan got there first."""
    store = services.store
    return conditional_write(
        lambda: store.ddb.update_item(
            TableName=store.table,
            Key=_to_ddb({PK: item[PK], SK: item[SK]}),
            UpdateExpression="SET stalledAt = :now",
            ConditionExpression=f"attribute_not_exists(stalledAt) AND lastProgressAt = :seen "
            f"AND attribute_exists({GSI1_PARTITION_KEY})",
            ExpressionAttributeValues=_to_ddb({":now": now, ":seen": item["lastProgressAt"]}),
        )
    )


def _emit_stalled(services: Services, item: dict[str, Any]) -> None:
    payload = json.loads(item["lastPayload"])
    emit.emit(
        services,
        item["projectId"],
        STALLED_CODE,
        payload,
        # One event per stall: the stall is identified by the progress it stalled after.
        key=f"transfer-stalled:{item['transferId']}:{item['lastProgressAt']}",
        description="Data transfer stalled",
    )
    logger.info("transfer stalled", project=item["projectId"], transfer=item["transferId"])
