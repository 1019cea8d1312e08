"""Data transfers' progress, and the concurrency protocol of their stall reports.

One small item per transfer; while the transfer is active it sits in an index ordered by the time
of its last progress, which the stalled scan reads below a cutoff. Progress is recorded only when
the byte count grew (a report repeating the count is what a stalled transfer looks like); a stall
is claimed with a conditional write on the progress it stalled after, so concurrent scans report
it once, and progress since re-arms it.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from herald.dal import layout
from herald.dal.codec import Item, Table
from herald.names import GSI1_NAME, GSI1_PARTITION_KEY, GSI1_SORT_KEY, TABLE_TTL_ATTRIBUTE


@dataclass(frozen=True)
class ActiveTransfer:
    """A transfer in the active index: its last progress, and whether its stall was reported."""

    project_id: str
    transfer_id: str
    last_progress_at: float  # as stored (never converted): the claim compares it exactly
    last_payload: str  # the last progress report's payload, JSON text
    stall_reported: bool


class TransferStore:
    def __init__(self, table: Table) -> None:
        self.table = table

    def finish(self, project_id: str, transfer_id: str, status: str, payload_json: str, now: float) -> None:
        """Finished: out of the active index, so it can never be reported stalled."""
        self.table.update(
            layout.transfer(project_id, transfer_id),
            f"SET #s = :s, lastPayload = :p, {TABLE_TTL_ATTRIBUTE} = :x "
            f"REMOVE {GSI1_PARTITION_KEY}, {GSI1_SORT_KEY}, stalledAt",
            {":s": status, ":p": payload_json, ":x": self.table.expires_at(now)},
            names={"#s": "status"},
        )

    def progress(
        self, project_id: str, transfer_id: str, status: str, done: int | None, payload_json: str, now: float
    ) -> bool:
        """Record progress if the byte count grew (or the transfer is new): active again, its
        stall re-armed. False when it did not grow."""
        index = layout.active_transfer_index(project_id, transfer_id, now)
        return self.table.update_if(
            layout.transfer(project_id, transfer_id),
            f"SET #s = :s, bytesDone = :b, lastProgressAt = :now, lastPayload = :p, "
            f"projectId = :proj, transferId = :id, {TABLE_TTL_ATTRIBUTE} = :x, "
            f"{GSI1_PARTITION_KEY} = :active, {GSI1_SORT_KEY} = :sk REMOVE stalledAt",
            {
                ":s": status,
                ":b": done if done is not None else 0,
                ":now": now,
                ":p": payload_json,
                ":proj": project_id,
                ":id": transfer_id,
                ":x": self.table.expires_at(now),
                ":active": index[GSI1_PARTITION_KEY],
                ":sk": index[GSI1_SORT_KEY],
            },
            condition="attribute_not_exists(bytesDone) OR bytesDone < :b",
            names={"#s": "status"},
        )

    def without_progress_since(self, cutoff: float) -> Iterator[ActiveTransfer]:
        """Active transfers whose last progress is older than `cutoff`, a page at a time."""
        cursor: Item | None = None
        while True:
            items, cursor = self.table.query(
                "#pk = :pk AND #sk < :cut",
                {":pk": layout.ACTIVE_TRANSFERS, ":cut": layout.sort_time(cutoff)},
                index=GSI1_NAME,
                cursor=cursor,
                names={"#pk": GSI1_PARTITION_KEY, "#sk": GSI1_SORT_KEY},
            )
            for item in items:
                yield ActiveTransfer(
                    project_id=item["projectId"],
                    transfer_id=item["transferId"],
                    last_progress_at=item["lastProgressAt"],
                    last_payload=item["lastPayload"],
                    stall_reported="stalledAt" in item,
                )
            if not cursor:
                return

    def claim_stall(self, transfer: ActiveTransfer, now: float) -> bool:
        """Mark the stall reported, unless progress or another scan got there first."""
        return self.table.update_if(
            layout.transfer(transfer.project_id, transfer.transfer_id),
            "SET stalledAt = :now",
            {":now": now, ":seen": transfer.last_progress_at},
            condition=f"attribute_not_exists(stalledAt) AND lastProgressAt = :seen "
            f"AND attribute_exists({GSI1_PARTITION_KEY})",
        )
